"""Killing the bot mid-load loses no accepted request; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support.bot_process import BotProcess, bot_environment
from support.data import RequestFactory
from support.fake_bot_api import FakeBotAPI
from support.scenarios import (
    accepted_numbers,
    burst,
    crash,
    fill_request,
    make_user,
    press_send_nowait,
    stored_ticket_ids,
    wait_until_shown,
)

SCALE = 10.0


def start_process(api: FakeBotAPI, database: dict[str, Any], workdir: Path) -> BotProcess:
    environment = bot_environment(
        api,
        database,
        PACE_TIME_SCALE=SCALE,
        TELEGRAM_TIMEOUT=2,
        SQLITE_PATH=workdir / "bot.sqlite3",
    )
    return BotProcess(api, environment, workdir / "bot.log")


async def test_sigkill_mid_load_loses_no_accepted_request(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    bot = start_process(api, database, tmp_path)
    await bot.start()
    try:
        result, shown_at_kill = await crash(api, bot, scale=SCALE)
    finally:
        bot.stop_if_running()

    assert result.created >= 50, "the first wave and the parked clients all made requests"
    assert shown_at_kill < result.created, "the kill came after everything was delivered"
    assert result.lost == []
    assert result.delivered == result.created
    assert result.duplicated_messages_ok, f"more than one message repeated: {result.shown_twice}"
    assert result.told_accepted == result.created, "a stored request was never confirmed"
    # The one confirmation in flight at the kill may go out again; no more than that.
    assert all(len(numbers) <= 2 for numbers in accepted_numbers(api).values())


async def test_burst_through_the_real_process_under_telegram_limits(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    bot = start_process(api, database, tmp_path)
    await bot.start()
    try:
        result = await burst(api, bot, clients=200, scale=SCALE)
    finally:
        bot.stop_if_running()

    assert result.created == 200
    assert result.lost == []
    assert result.shown_twice == []
    told = accepted_numbers(api)
    assert len(told) == 200, "a client was never told «принята»"
    assert all(len(numbers) == 1 for numbers in told.values()), "«принята» sent twice"
    assert result.told_accepted == 200
    # How many 429s, messages and seconds it took depends on the machine's speed:
    # benchmarks/bench_flow.py (--limits) and delivery_figures.py print those.


async def test_sigterm_finishes_handlers_and_stops_cleanly(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    bot = start_process(api, database, tmp_path)
    await bot.start()
    try:
        requests = RequestFactory(3).requests(20)
        clients = [make_user(api, 40_000 + i, request) for i, request in enumerate(requests)]
        summaries = await asyncio.gather(
            *(fill_request(c, request) for c, request in zip(clients, requests, strict=True))
        )
        mark = api.mark()
        for client, summary in zip(clients, summaries, strict=True):
            press_send_nowait(client, summary)
        await api.wait_for_call(lambda call: call.method == "answerCallbackQuery", start=mark)
        code = await bot.terminate()
        log = bot.log()
        assert code == 0, log
        assert "Traceback" not in log

        stored = await stored_ticket_ids(bot)
        await bot.start()
        await wait_until_shown(api, stored, timeout=30)
        assert (await bot.terminate()) == 0
    finally:
        bot.stop_if_running()
    answered = [call for call in api.calls_for("answerCallbackQuery") if call.seq >= mark]
    assert len(stored) == len(answered), "a Send was answered but its request not stored"
