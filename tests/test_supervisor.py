"""Background tasks never die silently: a crash is logged at once and the task restarted;
one that keeps crashing stops the bot, so that its service manager starts it afresh."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from support.delivery_helpers import delivered_cards, submit
from support.fake_bot_api import FakeBotAPI
from support.telegram_user import MANAGER_CHAT_ID
from vizteh_bot.app.application import Application
from vizteh_bot.app.supervisor import Supervisor, TaskKeepsCrashing
from vizteh_bot.config import Settings


class Flaky:
    """A task that crashes `crashes` times, then runs until stopped."""

    def __init__(self, crashes: int) -> None:
        self.crashes = crashes
        self.runs = 0
        self.running = asyncio.Event()
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs <= self.crashes:
            raise RuntimeError(f"crash number {self.runs}")
        self.running.set()
        await self._stop.wait()

    def stop(self) -> None:
        self._stop.set()


async def test_a_crash_is_logged_with_its_traceback_at_once_and_the_task_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(first_delay=0.01)
    task = Flaky(crashes=2)
    supervisor.start("flaky", task.run, stop=task.stop)

    await asyncio.wait_for(task.running.wait(), 5)
    await supervisor.stop()

    crashes = [r for r in caplog.records if r.getMessage() == "Background task 'flaky' crashed"]
    assert len(crashes) == 2
    assert all(record.exc_info is not None for record in crashes), "logged with the traceback"
    assert "crash number 2" in caplog.text
    assert task.runs == 3
    assert supervisor.failed is not None
    assert not supervisor.failed.done()


async def test_a_task_that_keeps_crashing_fails_the_supervisor(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(first_delay=0.01, max_crashes=3)
    task = Flaky(crashes=100)
    supervisor.start("doomed", task.run, stop=task.stop)

    assert supervisor.failed is not None
    failure = await asyncio.wait_for(supervisor.failed, 5)
    await supervisor.stop()

    assert isinstance(failure, TaskKeepsCrashing)
    assert failure.name == "doomed"
    assert task.runs == 3
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)


async def test_a_task_that_returns_by_itself_is_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(first_delay=0.01)
    runs = 0
    again = asyncio.Event()

    async def returns_once() -> None:
        nonlocal runs
        runs += 1
        if runs > 1:
            again.set()
            await asyncio.Event().wait()

    supervisor.start("quitter", returns_once)
    await asyncio.wait_for(again.wait(), 5)
    await supervisor.stop()
    assert "returned while it should run" in caplog.text


async def test_the_bot_stops_with_an_error_when_its_outbox_keeps_crashing(
    make_settings: Callable[..., Settings], api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Application(make_settings(pace_time_scale=50.0))
    app.supervisor = Supervisor(first_delay=0.01, max_crashes=3)
    crashes = 0

    async def crashing() -> None:
        # An injected bug in the outbox loop (not in one message: those are caught there).
        nonlocal crashes
        crashes += 1
        raise KeyError("injected")

    monkeypatch.setattr(app.delivery, "run", crashing)
    with pytest.raises(TaskKeepsCrashing):
        await asyncio.wait_for(app.run(handle_signals=False), 30)
    assert crashes == 3


async def test_the_outbox_restarted_after_a_crash_delivers_what_waited(
    make_settings: Callable[..., Settings], api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Application(make_settings(pace_time_scale=50.0))
    app.supervisor = Supervisor(first_delay=0.01)
    real_run = app.delivery.run
    calls = 0

    async def crash_once() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("injected once")
        await real_run()

    monkeypatch.setattr(app.delivery, "run", crash_once)
    running = asyncio.create_task(app.run(handle_signals=False))
    try:
        await api.wait_for_call(lambda call: call.method == "getUpdates", timeout=30)
        number = await submit(app, 5001)
        await api.wait_for_call(
            lambda call: call.chat_id == MANAGER_CHAT_ID and f"№{number}" in (call.text or "")
        )
    finally:
        await app.stop()
        await running
    assert calls == 2
    assert len(delivered_cards(api, MANAGER_CHAT_ID)) == 1
