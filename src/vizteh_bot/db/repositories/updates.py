"""How far polling got: the update ids already handled, so a redelivery is not handled twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from vizteh_bot.db.models import update_ledger

if TYPE_CHECKING:
    from vizteh_bot.db.engine import Connection


@dataclass(frozen=True, slots=True)
class LedgerState:
    # Every update below it is handled; so are those in `done`.
    watermark: int
    done: frozenset[int]
    updated_at: datetime


class UpdateLedgerRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def load(self, bot_id: int) -> LedgerState | None:
        row = (
            await self._connection.execute(
                select(update_ledger).where(update_ledger.c.bot_id == bot_id)
            )
        ).first()
        if row is None:
            return None
        done = frozenset(int(update_id) for update_id in json.loads(row.done))
        return LedgerState(row.watermark, done, row.updated_at)

    async def save(self, bot_id: int, watermark: int, done: frozenset[int]) -> None:
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        values = {
            "bot_id": bot_id,
            "watermark": watermark,
            "done": json.dumps(sorted(done)),
            "updated_at": datetime.now(UTC),
        }
        statement = dialect.insert(update_ledger).values(values)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[update_ledger.c.bot_id],
                set_={
                    "watermark": statement.excluded.watermark,
                    "done": statement.excluded.done,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
