"""Killing the bot mid-load loses no accepted request; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from bot_process import BotProcess, bot_environment
from delivery_helpers import TICKET_NUMBER, delivered_cards, ticket_numbers
from fake_bot_api import FakeBotAPI
from fake_faults import RealisticRateLimiter
from form_driver import fill_until_summary, fill_until_text, press_nowait
from telegram_user import MANAGER_CHAT_ID, TelegramUser

SCALE = 10.0
ACCEPTED = "принята"


def accepted_numbers(api: FakeBotAPI) -> dict[int, list[int]]:
    """Ticket numbers each client was told were accepted (by chat)."""
    told: dict[int, list[int]] = {}
    for call in api.calls_for("sendMessage"):
        if call.ok and call.chat_id and call.chat_id > 0 and ACCEPTED in (call.text or ""):
            match = TICKET_NUMBER.search(call.text or "")
            assert match is not None
            told.setdefault(call.chat_id, []).append(int(match.group(1)))
    return told


async def wait_until_shown(api: FakeBotAPI, numbers: set[int], timeout: float) -> None:
    async def shown() -> None:
        while not numbers <= set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID))):
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(shown(), timeout)
    except TimeoutError:
        seen = set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)))
        raise AssertionError(f"never shown to managers: {sorted(numbers - seen)}") from None


async def test_sigkill_mid_load_loses_no_accepted_request(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    environment = bot_environment(
        api, database, PACE_TIME_SCALE=SCALE, TELEGRAM_TIMEOUT=2, SQLITE_PATH=tmp_path / "b.db"
    )
    bot = BotProcess(api, environment, tmp_path / "bot.log")
    await bot.start()
    try:
        clients = [TelegramUser(api, 20_000 + i, first_name=f"C{i}") for i in range(60)]
        parked = [TelegramUser(api, 30_000 + i, first_name=f"P{i}") for i in range(10)]
        summaries = await asyncio.gather(
            *(fill_until_summary(c, f"Клиент {i}", f"Заявка {i}") for i, c in enumerate(clients))
        )
        await asyncio.gather(*(fill_until_text(p, f"Ждущий {i}") for i, p in enumerate(parked)))

        api.rate_limiter = RealisticRateLimiter(time_scale=SCALE)
        first_wave = list(zip(clients[:40], summaries[:40], strict=True))
        await asyncio.gather(*(c.click("✅ Отправить", s, timeout=10) for c, s in first_wave))
        for client, summary in zip(clients[40:], summaries[40:], strict=True):
            press_nowait(client, "✅ Отправить", summary)
        await asyncio.sleep(0.05)
        bot.kill()
        shown_before_kill = len(set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID))))

        await bot.start()
        for i, client in enumerate(parked):
            summary = await client.send(f"После перезапуска {i}", timeout=10)
            assert f"Ждущий {i}" in (summary.text or ""), "the half-filled form was lost"
            await client.click("✅ Отправить", summary, timeout=10)

        stored = {row["id"] for row in await rows(environment, "SELECT id FROM tickets")}
        await wait_until_shown(api, stored, timeout=60)
        told = accepted_numbers(api)
    finally:
        bot.stop_if_running()

    assert len(stored) >= 50, "the first wave and the parked clients all made requests"
    assert shown_before_kill < len(stored), "the kill came after everything was delivered"
    told_numbers = {number for numbers in told.values() for number in numbers}
    assert told_numbers <= stored
    shown = Counter(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)))
    assert set(shown) == stored, "lost or invented requests"
    twice = {number for number, count in shown.items() if count > 1}
    in_one_message = [
        set(ticket_numbers([call])) for call in delivered_cards(api, MANAGER_CHAT_ID)
    ]
    assert not twice or any(twice <= numbers for numbers in in_one_message), (
        f"more than the one message in flight was sent twice: {sorted(twice)}"
    )
    assert all(len(numbers) <= 2 for numbers in told.values())


async def test_sigterm_finishes_handlers_and_stops_cleanly(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    environment = bot_environment(
        api, database, PACE_TIME_SCALE=SCALE, SQLITE_PATH=tmp_path / "b.db"
    )
    bot = BotProcess(api, environment, tmp_path / "bot.log")
    await bot.start()
    try:
        clients = [TelegramUser(api, 40_000 + i, first_name=f"T{i}") for i in range(20)]
        summaries = await asyncio.gather(
            *(fill_until_summary(c, f"Клиент {i}", "Текст") for i, c in enumerate(clients))
        )
        mark = api.mark()
        for client, summary in zip(clients, summaries, strict=True):
            press_nowait(client, "✅ Отправить", summary)
        await api.wait_for_call(lambda call: call.method == "answerCallbackQuery", start=mark)
        code = await bot.terminate()
        log = bot.log()
        assert code == 0, log
        assert "Traceback" not in log

        stored = {row["id"] for row in await rows(environment, "SELECT id FROM tickets")}
        await bot.start()
        await wait_until_shown(api, stored, timeout=30)
        assert (await bot.terminate()) == 0
    finally:
        bot.stop_if_running()
    answered = [c for c in api.calls_for("answerCallbackQuery", None) if c.seq >= mark]
    assert len(stored) == len(answered), "a Send was answered but its request not stored"


async def rows(environment: dict[str, str], sql: str) -> list[dict[str, Any]]:
    """Read the bot process's database through a short-lived engine of our own."""
    from sqlalchemy import text

    from vizteh_bot.config import Settings
    from vizteh_bot.db.engine import create_engine

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{
            key.lower(): value for key, value in environment.items() if key not in ("PATH", "HOME")
        },
    )
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(text(sql))]
    finally:
        await engine.dispose()
