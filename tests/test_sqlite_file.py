"""The embedded SQLite file shared with another program that writes to it.

The bot runs its SQLite statements from the event loop (db/engine.py): a write lock held by
another process makes the whole bot wait for it, up to the busy timeout, and then fail
that one update. Nothing in between is lost.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from support.client_flow import ASK_PHONE, ASK_TEXT, RU, fsm_state, open_form
from support.db_faults import WriteLock
from support.fake_bot_api import FakeBotAPI
from support.running_bot import BOT_TOKEN, RunningBot
from support.telegram_user import TelegramUser
from vizteh_bot.config import Settings
from vizteh_bot.db.engine import SQLITE_BUSY_TIMEOUT_SECONDS, create_database


@pytest.fixture
def database(tmp_path: Path) -> dict[str, Any]:
    """SQLite whatever --backend says: these tests are about the file."""
    return {"sqlite_path": tmp_path / "bot.sqlite3"}


async def test_a_short_write_lock_elsewhere_only_delays_the_answer(
    bot: RunningBot, api: FakeBotAPI, database: dict[str, Any]
) -> None:
    client = TelegramUser(api, 5001, first_name="Анна")
    await open_form(client)

    with WriteLock(database["sqlite_path"], seconds=1.0) as lock:
        ask_phone = await client.send("Анна", timeout=SQLITE_BUSY_TIMEOUT_SECONDS + 10)
        answered_at = time.monotonic()

    assert ask_phone.text == ASK_PHONE
    assert answered_at >= lock.released_at > 0, "the answer came after the lock was released"
    assert await fsm_state(bot, client) == "TicketForm:answering:phone"


async def test_a_lock_held_past_the_busy_timeout_fails_one_step_with_a_clear_answer(
    bot: RunningBot, api: FakeBotAPI, database: dict[str, Any]
) -> None:
    client = TelegramUser(api, 5001, first_name="Анна")
    await open_form(client)

    # Held through two busy timeouts: the bot's own bookkeeping (the polling ledger, the
    # outbox) may meet the lock first and wait out one of them.
    with WriteLock(database["sqlite_path"], seconds=2 * SQLITE_BUSY_TIMEOUT_SECONDS + 1):
        failed = await client.send("Анна", timeout=3 * SQLITE_BUSY_TIMEOUT_SECONDS + 5)

    assert failed.text == RU("error-db-unavailable")
    # The step was not stored, so the question stands; answered again, it goes through.
    assert await fsm_state(bot, client) == "TicketForm:answering:name"
    assert (await client.send("Анна")).text == ASK_PHONE
    assert (await client.send("+7 916 123-45-67")).text == ASK_TEXT


async def test_using_the_database_inside_its_own_transaction_fails_instead_of_hanging(
    database: dict[str, Any],
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, token=BOT_TOKEN, manager_chat_id=-1, **database
    )
    sqlite = create_database(settings)
    try:
        async with sqlite.begin():
            with pytest.raises(RuntimeError, match="already in use by this task"):
                async with sqlite.connect():
                    pass
        # Released afterwards: the next use works.
        async with sqlite.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await sqlite.dispose()
