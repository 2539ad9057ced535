"""An update in hand survives SIGKILL: the offset Telegram keeps is only moved past an
update once it is handled, and every step is safe to run twice.

Twenty clients press «✅ Отправить» and the bot is killed with the presses in hand, once
before anything was stored (the database holds them up) and once after (Telegram holds
the answers up). Restarted, it makes 20 requests, each once, and tells each client once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from support.bot_process import BotProcess, bot_environment
from support.data import RequestFactory
from support.db_faults import table_locked
from support.delivery_helpers import delivered_cards, ticket_numbers
from support.fake_bot_api import ApiCall, FakeBotAPI
from support.fake_faults import Fault
from support.form_driver import fill_until_text, press_nowait
from support.scenarios import accepted_numbers
from support.telegram_user import MANAGER_CHAT_ID, TelegramUser

CLIENTS = 20


def start_process(api: FakeBotAPI, database: dict[str, Any], workdir: Path) -> BotProcess:
    environment = bot_environment(
        api, database, PACE_TIME_SCALE=10, TELEGRAM_TIMEOUT=2, SQLITE_PATH=workdir / "bot.sqlite3"
    )
    return BotProcess(api, environment, workdir / "bot.log")


async def summaries_of(api: FakeBotAPI) -> list[tuple[TelegramUser, ApiCall]]:
    requests = [r for r in RequestFactory(seed=20).requests(4 * CLIENTS) if r.language == "ru"]
    clients = [TelegramUser(api, 70_000 + i, first_name=f"S{i}") for i in range(CLIENTS)]

    async def fill(client: TelegramUser, index: int) -> tuple[TelegramUser, ApiCall]:
        request = requests[index]
        await fill_until_text(client, request.name, request.phone)
        return client, await client.send(request.text, timeout=20)

    return list(await asyncio.gather(*(fill(c, i) for i, c in enumerate(clients))))


async def press_all_and_wait_until_fetched(
    api: FakeBotAPI, summaries: list[tuple[TelegramUser, ApiCall]]
) -> ApiCall:
    """Press every Send; returns the getUpdates call that brought the last of them."""
    mark = api.mark()
    for client, summary in summaries:
        press_nowait(client, "✅ Отправить", summary)
    presses = {client.user_id for client, _ in summaries}
    seen: set[int] = set()

    def fetched_all(call: ApiCall) -> bool:
        if call.method == "getUpdates":
            seen.update(
                item["callback_query"]["from"]["id"]
                for item in call.result or []
                if str(item.get("callback_query", {}).get("data", "")).startswith("f:send")
            )
        return presses <= seen

    return await api.wait_for_call(fetched_all, start=mark, timeout=30)


def press_ids(api: FakeBotAPI) -> list[int]:
    return [
        item["update_id"]
        for call in api.calls_for("getUpdates")
        for item in call.result or []
        if str(item.get("callback_query", {}).get("data", "")).startswith("f:send")
    ]


def assert_not_acknowledged(api: FakeBotAPI) -> list[int]:
    """No getUpdates offset passed a Send press before the kill; returns the presses."""
    confirmed = max(
        (call.params.get("offset") or 0 for call in api.calls_for("getUpdates")), default=0
    )
    presses = press_ids(api)
    assert min(presses) >= confirmed, "a press in hand was acknowledged to Telegram"
    return presses


async def everything_delivered(api: FakeBotAPI, bot: BotProcess, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        stored = {row["id"] for row in await bot.rows("SELECT id FROM tickets")}
        shown = set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)))
        told = {n for numbers in accepted_numbers(api).values() for n in numbers}
        if len(stored) == CLIENTS and stored <= shown and stored <= told:
            return
        assert time.monotonic() < deadline, f"stored {len(stored)}, shown {shown}, told {told}"
        await asyncio.sleep(0.2)


async def assert_each_once(api: FakeBotAPI, bot: BotProcess) -> None:
    rows = await bot.rows("SELECT client_id, submission_key FROM tickets")
    assert len(rows) == CLIENTS
    assert sorted(Counter(row["client_id"] for row in rows).values()) == [1] * CLIENTS
    told = accepted_numbers(api)
    assert sorted(len(numbers) for numbers in told.values()) == [1] * CLIENTS, told
    shown = Counter(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)))
    assert set(shown.values()) == {1}, f"shown twice: {shown}"


async def test_sigkill_with_sends_in_hand_before_anything_was_stored(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    bot = start_process(api, database, tmp_path)
    await bot.start()
    try:
        summaries = await summaries_of(api)
        # Held until the kill, however long a loaded machine takes to get there.
        async with table_locked(database, "tickets", seconds=30, until_exit=True):
            fetched = await press_all_and_wait_until_fetched(api, summaries)
            if "db_host" in database:
                # The handlers wait for the database, the bot polls on (on SQLite the wait
                # holds the whole process): the next poll must not acknowledge them.
                await api.wait_for_call(
                    lambda call: call.method == "getUpdates" and call.seq > fetched.seq,
                    start=fetched.seq,
                )
            bot.kill()
        assert await bot.rows("SELECT id FROM tickets") == [], "killed after the presses stored"
        assert_not_acknowledged(api)

        await bot.start()
        await everything_delivered(api, bot)
        await assert_each_once(api, bot)
    finally:
        bot.stop_if_running()


async def test_sigkill_with_sends_in_hand_after_their_requests_were_stored(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    bot = start_process(api, database, tmp_path)
    await bot.start()
    try:
        summaries = await summaries_of(api)
        # Telegram holds the presses' answers: the requests are stored and the outbox sends
        # their cards and «принята», but the presses stay in hand.
        injection = api.inject("answerCallbackQuery", times=CLIENTS, error=Fault.timeout(60))
        await press_all_and_wait_until_fetched(api, summaries)
        await everything_delivered(api, bot)
        bot.kill()
        injection.remaining = 0
        presses = assert_not_acknowledged(api)

        mark = api.mark()
        await bot.start()
        await api.wait_confirmed(max(presses), timeout=30)
        await asyncio.sleep(1.0)
        await assert_each_once(api, bot)
        again = [c for c in api.calls_for("answerCallbackQuery") if c.seq >= mark and c.ok]
        assert {c.params.get("text") for c in again} <= {"Эта заявка уже отправлена."}
    finally:
        bot.stop_if_running()


async def test_sigkill_while_the_next_question_waits_asks_it_after_the_restart(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    bot = start_process(api, database, tmp_path)
    await bot.start()
    client = TelegramUser(api, 5001, first_name="Анна")
    try:
        await fill_until_text(client, "Анна Иванова")  # the name and phone are in the form
        request = RequestFactory(seed=3).request()
        # Telegram holds the summary back: the text is stored, the summary not yet sent.
        api.inject("sendMessage", chat_id=client.chat_id, error=Fault.too_many_requests(20))
        mark = api.mark()
        client.send_nowait(request.text)
        await api.wait_for_call(lambda call: call.error == 429, start=mark, timeout=10)
        bot.kill()

        mark = api.mark()
        await bot.start()
        summary = await client.expect(
            "sendMessage",
            timeout=30,
            predicate=lambda call: "Проверьте заявку" in (call.text or ""),
        )
        assert summary.seq >= mark
        state = await bot.rows("SELECT state FROM fsm_states")
        assert state == [{"state": "TicketForm:confirming"}]
    finally:
        bot.stop_if_running()
