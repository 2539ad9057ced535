"""The FSM storage against a real database, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import text

from support.running_bot import BOT_TOKEN
from vizteh_bot.config import Settings
from vizteh_bot.db.engine import Database, create_database
from vizteh_bot.db.fsm_storage import DatabaseStorage
from vizteh_bot.migrations import apply_migrations

ANNA = StorageKey(bot_id=42, chat_id=5001, user_id=5001)
BORIS = StorageKey(bot_id=42, chat_id=5002, user_id=5002)


@pytest.fixture
async def database(database: dict[str, Any]) -> AsyncIterator[Database]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, token=BOT_TOKEN, manager_chat_id=-1001234567890, **database
    )
    await apply_migrations(settings)
    opened = create_database(settings)
    try:
        yield opened
    finally:
        await opened.dispose()


async def stored(database: Database) -> dict[str, tuple[str | None, str]]:
    async with database.connect() as connection:
        rows = await connection.execute(text("SELECT key, state, data FROM fsm_states"))
        return {row.key: (row.state, row.data) for row in rows}


async def test_a_new_storage_reads_what_the_last_one_wrote(database: Database) -> None:
    before_restart = DatabaseStorage(database)
    await before_restart.set_state(ANNA, "TicketForm:entering_phone")
    await before_restart.set_data(ANNA, {"name": "Анна <b>", "form_id": "f1"})

    after_restart = DatabaseStorage(database)
    assert await after_restart.get_state(ANNA) == "TicketForm:entering_phone"
    assert await after_restart.get_data(ANNA) == {"name": "Анна <b>", "form_id": "f1"}
    assert await after_restart.get_state(BORIS) is None


async def test_writes_held_back_go_out_together_and_clearing_deletes_the_row(
    database: Database,
) -> None:
    storage = DatabaseStorage(database)
    async with storage.deferred_writes():
        await storage.set_state(ANNA, "TicketForm:entering_name")
        await storage.set_data(ANNA, {"form_id": "f1"})
        await storage.set_state(BORIS, "TicketForm:entering_text")
        assert await stored(database) == {}, "nothing is written before the flush"
    rows = await stored(database)
    assert rows == {
        "42:5001:5001": ("TicketForm:entering_name", '{"form_id": "f1"}'),
        "42:5002:5002": ("TicketForm:entering_text", "{}"),
    }

    async with storage.deferred_writes():
        await storage.set_state(ANNA, None)
        await storage.set_data(ANNA, {})
    assert list(await stored(database)) == ["42:5002:5002"]


async def test_a_failed_write_leaves_the_cache_saying_what_is_stored(database: Database) -> None:
    storage = DatabaseStorage(database)
    await storage.set_state(ANNA, "TicketForm:entering_phone")
    async with database.begin() as connection:
        await connection.execute(text("ALTER TABLE fsm_states RENAME TO fsm_states_away"))
    try:
        with pytest.raises(Exception, match="fsm_states"):
            await storage.set_state(ANNA, "TicketForm:entering_text")
    finally:
        async with database.begin() as connection:
            await connection.execute(text("ALTER TABLE fsm_states_away RENAME TO fsm_states"))

    # Not the state that failed to be stored: the one the database has.
    assert await storage.get_state(ANNA) == "TicketForm:entering_phone"
    # And writing that failed state again does store it.
    await storage.set_state(ANNA, "TicketForm:entering_text")
    assert await DatabaseStorage(database).get_state(ANNA) == "TicketForm:entering_text"
