"""aiogram FSM storage in our database, so a half-filled form survives a restart.

Reads are served from a bounded in-process cache, and the changes an update makes are
written together (`deferred_writes`) just before its handler's next call to Telegram
(`flush_deferred`) or when it is done: one transaction where a form step needed two, and
still stored before the client sees the answer that follows from them. The cache is
sound because one process polls a bot token at a time (Telegram refuses a second
getUpdates); several instances behind a webhook will need a shared storage such as Redis.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiogram.fsm.storage.base import BaseStorage, StorageKey
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from vizteh_bot.db.models import fsm_states

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from aiogram.fsm.state import State

    from vizteh_bot.db.engine import Database

CACHED_KEYS = 2_000
_Entry = tuple[str | None, dict[str, Any]]
_deferred: ContextVar[dict[str, _Entry] | None] = ContextVar("fsm_deferred", default=None)


class DatabaseStorage(BaseStorage):
    """One row per (bot, chat, user); a row with no state and no data is deleted."""

    def __init__(self, database: Database, cached_keys: int = CACHED_KEYS) -> None:
        self._database = database
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._cached_keys = cached_keys
        # Built once: a statement built per call cost more than running it on SQLite.
        dialect = postgresql if database.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(fsm_states)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[fsm_states.c.key],
            set_={
                "state": insert.excluded.state,
                "data": insert.excluded.data,
                "updated_at": insert.excluded.updated_at,
            },
        )
        self._delete = delete(fsm_states).where(fsm_states.c.key == bindparam("row_key"))
        self._select = select(fsm_states.c.state, fsm_states.c.data).where(
            fsm_states.c.key == bindparam("row_key")
        )

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if state is not None and not isinstance(state, str) else state
        _, data = await self._entry(key)
        await self._write(_key(key), value, data)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._entry(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        state, _ = await self._entry(key)
        await self._write(_key(key), state, dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._entry(key))[1])

    async def close(self) -> None:
        """The database belongs to the application, which disposes of it."""

    @asynccontextmanager
    async def deferred_writes(self) -> AsyncIterator[None]:
        """Hold this task's changes and write them in one transaction at the end."""
        token = _deferred.set({})
        try:
            yield
        finally:
            await self.flush_deferred()
            _deferred.reset(token)

    async def flush_deferred(self) -> None:
        """Write what this task holds back; a no-op outside `deferred_writes`."""
        changes = _deferred.get()
        if changes:
            pending = dict(changes)
            changes.clear()
            await self._persist(pending)

    async def _entry(self, key: StorageKey) -> _Entry:
        row_key = _key(key)
        entry = self._cache.get(row_key)
        if entry is not None:
            self._cache.move_to_end(row_key)
            return entry
        async with self._database.connect() as connection:
            row = (await connection.execute(self._select, {"row_key": row_key})).first()
        entry = (None, {}) if row is None else (row.state, dict(json.loads(row.data)))
        self._remember(row_key, entry)
        return entry

    async def _write(self, row_key: str, state: str | None, data: dict[str, Any]) -> None:
        if self._cache.get(row_key) == (state, data):
            # Stored already (or held back to be): /start's clear() for a new client, say.
            return
        self._remember(row_key, (state, data))
        deferred = _deferred.get()
        if deferred is None:
            await self._persist({row_key: (state, data)})
        else:
            deferred[row_key] = (state, data)

    async def _persist(self, changes: dict[str, _Entry]) -> None:
        now = datetime.now(UTC)
        upserts = [
            {
                "key": row_key,
                "state": state,
                "data": json.dumps(data, ensure_ascii=False),
                "updated_at": now,
            }
            for row_key, (state, data) in changes.items()
            if state is not None or data
        ]
        deletes = [
            {"row_key": row_key}
            for row_key, (state, data) in changes.items()
            if state is None and not data
        ]
        # Almost always one row: then one statement, and no transaction around it.
        several = len(changes) > 1
        transaction = self._database.begin() if several else self._database.connect()
        try:
            async with transaction as connection:
                if upserts:
                    await connection.execute(self._upsert, upserts if several else upserts[0])
                if deletes:
                    await connection.execute(self._delete, deletes if several else deletes[0])
        except BaseException:
            # The cache no longer says what is stored: read these keys again next time.
            for row_key in changes:
                self._cache.pop(row_key, None)
            raise

    def _remember(self, row_key: str, entry: _Entry) -> None:
        self._cache[row_key] = entry
        self._cache.move_to_end(row_key)
        while len(self._cache) > self._cached_keys:
            self._cache.popitem(last=False)


def _key(key: StorageKey) -> str:
    parts = [str(key.bot_id), str(key.chat_id), str(key.user_id)]
    if key.thread_id is not None:
        parts.append(f"t{key.thread_id}")
    if key.business_connection_id is not None:
        parts.append(f"b{key.business_connection_id}")
    if key.destiny != "default":
        parts.append(key.destiny)
    return ":".join(parts)
