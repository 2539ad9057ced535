"""Nothing kills delivery: one message that cannot be sent costs the others nothing.

Each test puts one poisoned message among good ones: a renderer that fails for one
request, a 400 Telegram will repeat, a kind or a status this version does not know, an
answer that cannot be read, a proxy's HTML error page, a muted bot. Every other message
is delivered, the failure is logged and kept, and the managers see every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from support.delivery_helpers import delivered_cards, submit, ticket_numbers
from support.fake_bot_api import FakeBotAPI
from support.fake_faults import Fault
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat
from vizteh_bot.telegram.render import cards
from vizteh_bot.texts import TextError

FAST = {"pace_time_scale": 50.0, "telegram_timeout": 1.0}
FALLBACK = "обычная карточка не отправилась"


def fallbacks(api: FakeBotAPI) -> list[str]:
    return [
        call.text or ""
        for call in api.calls_for("sendMessage", chat_id=MANAGER_CHAT_ID)
        if call.ok and FALLBACK in (call.text or "")
    ]


def usual_cards(api: FakeBotAPI) -> list[int]:
    calls = [c for c in delivered_cards(api, MANAGER_CHAT_ID) if FALLBACK not in (c.text or "")]
    return ticket_numbers(calls)


async def eventually(check: Callable[[], Any], what: str, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.05)


async def states(bot: RunningBot) -> dict[tuple[str, str], int]:
    rows = await bot.rows("SELECT kind, state, COUNT(*) AS n FROM outbox GROUP BY kind, state")
    return {(row["kind"], row["state"]): row["n"] for row in rows}


async def nothing_pending(bot: RunningBot) -> bool:
    return await bot.count_pending() == 0


async def test_a_renderer_failing_for_one_request_costs_the_others_nothing(
    start_bot: Callable[..., Any],
    api: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start_bot(**FAST)
    render = cards.manager_message
    poisoned: set[int] = set()

    def failing_for_one(texts: Any, tickets: Any, zone: Any) -> Any:
        # An injected fault in the renderer (as an edited locale file can cause), for one
        # request only.
        if poisoned & {ticket.id for ticket in tickets}:
            raise TextError("text 'manager-card' in locale 'ru': injected for one request")
        return render(texts, tickets, zone)

    monkeypatch.setattr(cards, "manager_message", failing_for_one)
    api.unreachable_chats.add(MANAGER_CHAT_ID)  # so the cards wait and go as a digest
    numbers = [await submit(bot.app, 5000 + i, f"Заявка {i} <b>&</b>") for i in range(6)]
    poisoned.add(numbers[2])
    await api.wait_for_call(lambda call: call.fault == "unreachable")
    api.unreachable_chats.discard(MANAGER_CHAT_ID)

    await eventually(lambda: nothing_pending(bot), "every message sent or kept")
    assert sorted(usual_cards(api)) == [n for n in numbers if n != numbers[2]]
    [fallback] = fallbacks(api)
    assert f"Заявка №{numbers[2]}" in fallback
    assert "Заявка 2 <b>&</b>" in fallback  # plain text: shown as typed, nothing to break
    assert "injected for one request" in fallback
    kept = await bot.rows("SELECT ticket_id, last_error FROM outbox WHERE state = 'quarantined'")
    assert [row["ticket_id"] for row in kept] == [numbers[2]]
    assert "injected for one request" in kept[0]["last_error"]
    assert f"card of request #{numbers[2]}" in caplog.text
    # Every client was still told «принята».
    told = {c.chat_id for c in api.calls_for("sendMessage") if "принята" in (c.text or "")}
    assert told == {5000 + i for i in range(6)}


async def test_a_400_telegram_will_repeat_puts_one_card_in_quarantine(
    start_bot: Callable[..., Any], api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(**FAST)
    api.inject(
        "sendMessage",
        chat_id=MANAGER_CHAT_ID,
        error=Fault.bad_request("can't parse entities: Unsupported start tag"),
    )
    first = await submit(bot.app, 5001)
    await api.wait_for_call(lambda call: call.chat_id == MANAGER_CHAT_ID and call.error == 400)
    second = await submit(bot.app, 5002)

    await eventually(lambda: nothing_pending(bot), "every message sent or kept")
    assert usual_cards(api) == [second]
    assert len(fallbacks(api)) == 1
    assert f"Заявка №{first}" in fallbacks(api)[0]
    assert (await states(bot))[("card", "quarantined")] == 1
    attempts = [c for c in api.calls_for("sendMessage", chat_id=MANAGER_CHAT_ID) if c.error]
    assert len(attempts) == 1, "a permanent 400 is not retried blindly"
    assert "ERROR" in caplog.text
    assert f"request #{first}" in caplog.text


async def test_a_kind_from_a_newer_version_is_kept_and_the_rest_delivered(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(**FAST)
    now = datetime.now(UTC)
    await bot.rows(
        "INSERT INTO outbox (kind, chat_id, audience, priority, payload, state, attempts,"
        " created_at, next_attempt_at) VALUES ('reminder_v9', :chat, 'managers', 0, '{}',"
        " 'pending', 0, :now, :now) RETURNING id",
        chat=MANAGER_CHAT_ID,
        # As the bot's own column type stores it: naive UTC on SQLite.
        now=now.replace(tzinfo=None) if bot.app.settings.db_host is None else now,
    )
    number = await submit(bot.app, 5001)

    await eventually(lambda: nothing_pending(bot), "every message sent or kept")
    assert usual_cards(api) == [number]
    assert (await states(bot))[("reminder_v9", "quarantined")] == 1
    notices = [
        c.text or "" for c in api.sent_to(MANAGER_CHAT_ID) if "не удалось" in (c.text or "")
    ]
    assert len(notices) == 1
    assert "reminder_v9" in notices[0]


async def test_a_ticket_status_this_version_does_not_know_still_reaches_the_managers(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(**FAST)
    api.unreachable_chats.add(MANAGER_CHAT_ID)
    number = await submit(bot.app, 5001, "Нужен ремонт принтера")
    await bot.execute("UPDATE tickets SET status = 'in_work' WHERE id = :id", id=number)
    other = await submit(bot.app, 5002)
    api.unreachable_chats.discard(MANAGER_CHAT_ID)

    await eventually(lambda: nothing_pending(bot), "every message sent or kept")
    assert usual_cards(api) == [other]
    [fallback] = fallbacks(api)
    assert "Нужен ремонт принтера" in fallback
    assert "in_work" in fallback


async def test_an_answer_that_cannot_be_read_counts_as_sent_and_is_not_repeated(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(**FAST)
    api.inject("sendMessage", chat_id=MANAGER_CHAT_ID, error=Fault.unparseable_result())
    number = await submit(bot.app, 5001)
    await eventually(lambda: nothing_pending(bot), "the card marked sent")
    await bot.stop()
    again = await start_bot(**FAST)
    await asyncio.sleep(0.5)

    assert usual_cards(api) == [number]
    [row] = await again.rows("SELECT manager_message_id FROM tickets")
    assert row["manager_message_id"] == delivered_cards(api, MANAGER_CHAT_ID)[0].message_id


async def test_a_proxys_html_error_page_is_retried_and_the_card_sent_once(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(**FAST)
    api.inject("sendMessage", chat_id=MANAGER_CHAT_ID, times=2, error=Fault.bad_gateway_html())
    number = await submit(bot.app, 5001)

    await eventually(lambda: nothing_pending(bot), "the card sent")
    faults = [c.fault for c in api.calls_for("sendMessage", chat_id=MANAGER_CHAT_ID)]
    assert faults == ["non_json", "non_json", None]
    assert usual_cards(api) == [number]


async def test_a_muted_bot_keeps_the_cards_until_it_may_write_again(
    start_bot: Callable[..., Any], api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(**FAST)
    api.muted_chats.add(MANAGER_CHAT_ID)
    numbers = [await submit(bot.app, 5000 + i) for i in range(3)]

    async def refused_often() -> bool:
        return len([c for c in api.calls if c.fault == "muted"]) >= 7

    await eventually(refused_often, "the bot kept trying while muted")
    assert delivered_cards(api, MANAGER_CHAT_ID) == []
    assert "let it post there (not muted)" in caplog.text
    assert (await states(bot)).get(("card", "quarantined")) is None
    api.muted_chats.discard(MANAGER_CHAT_ID)

    await eventually(lambda: nothing_pending(bot), "the cards sent once the bot may write")
    assert sorted(usual_cards(api)) == numbers


async def test_a_card_left_in_a_group_before_its_upgrade_does_not_hold_up_later_ones(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(**FAST)
    first = await submit(bot.app, 5001)
    card = await api.wait_for_call(lambda c: c.chat_id == MANAGER_CHAT_ID and c.ok)

    async def card_recorded() -> bool:
        ticket = await bot.ticket(first)
        return ticket is not None and ticket.manager_message_id == card.message_id

    # The send is seen here before the bot records it; moving the card before that record
    # would be overwritten by it.
    await eventually(card_recorded, "the card's message id stored")
    # As after the group became a supergroup: the card is in the old group, and Telegram
    # answers an edit there with the id the bot already uses.
    old_group = MANAGER_CHAT_ID - 1
    await bot.execute(
        "UPDATE tickets SET manager_chat_id = :old WHERE id = :id", old=old_group, id=first
    )
    api.inject(
        "editMessageText", chat_id=old_group, times=1000, error=Fault.migrated(MANAGER_CHAT_ID)
    )
    manager = ManagerChat(api, 7001)
    await manager.press_callback(f"t:close:{first}", card.message_id or 0)
    second = await submit(bot.app, 5002)
    card2 = await api.wait_for_call(
        lambda c: c.chat_id == MANAGER_CHAT_ID and c.ok and f"№{second}<" in (c.text or "")
    )
    await manager.press_callback(f"t:close:{second}", card2.message_id or 0)

    await api.wait_for_call(
        lambda c: c.method == "editMessageText" and c.ok and c.message_id == card2.message_id,
        timeout=15,
    )
    futile = [c for c in api.calls_for("editMessageText") if c.chat_id == old_group]
    assert len(futile) == 1, "an edit Telegram cannot make is not tried again"
    assert await bot.rows("SELECT old_chat_id FROM chat_migrations") == []
