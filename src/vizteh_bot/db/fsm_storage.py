"""aiogram FSM storage in our database, so a half-filled form survives a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiogram.fsm.storage.base import BaseStorage, StorageKey
from sqlalchemy import delete, insert, select, update

from vizteh_bot.db.models import fsm_states

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiogram.fsm.state import State
    from sqlalchemy.ext.asyncio import AsyncEngine


class DatabaseStorage(BaseStorage):
    """One row per (bot, chat, user); a row with no state and no data is deleted."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if state is not None and not isinstance(state, str) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._read(key)
        return None if row is None else row[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._read(key)
        return {} if row is None else dict(json.loads(row[1]))

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""

    async def _read(self, key: StorageKey) -> tuple[str | None, str] | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(fsm_states.c.state, fsm_states.c.data).where(
                        fsm_states.c.key == _key(key)
                    )
                )
            ).first()
        return None if row is None else (row.state, row.data)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        row_key = _key(key)
        now = datetime.now(UTC)
        async with self._engine.begin() as connection:
            current = (
                await connection.execute(
                    select(fsm_states.c.state, fsm_states.c.data).where(
                        fsm_states.c.key == row_key
                    )
                )
            ).first()
            state = values.get("state", None if current is None else current.state)
            data = values["data"] if "data" in values else _loads(current)
            if state is None and not data:
                if current is not None:
                    await connection.execute(delete(fsm_states).where(fsm_states.c.key == row_key))
                return
            encoded = json.dumps(data, ensure_ascii=False)
            if current is None:
                await connection.execute(
                    insert(fsm_states).values(
                        key=row_key, state=state, data=encoded, updated_at=now
                    )
                )
            else:
                await connection.execute(
                    update(fsm_states)
                    .where(fsm_states.c.key == row_key)
                    .values(state=state, data=encoded, updated_at=now)
                )


def _key(key: StorageKey) -> str:
    parts = [str(key.bot_id), str(key.chat_id), str(key.user_id)]
    if key.thread_id is not None:
        parts.append(f"t{key.thread_id}")
    if key.business_connection_id is not None:
        parts.append(f"b{key.business_connection_id}")
    if key.destiny != "default":
        parts.append(key.destiny)
    return ":".join(parts)


def _loads(row: Any) -> dict[str, Any]:
    return {} if row is None else dict(json.loads(row.data))
