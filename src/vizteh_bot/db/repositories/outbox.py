"""The outbox: messages owed to Telegram, claimed by workers with a lease."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, or_, select, update

from vizteh_bot.db.models import blocked_clients, chat_migrations, outbox, tickets

if TYPE_CHECKING:
    from sqlalchemy.sql.dml import UpdateBase

    from vizteh_bot.db.engine import Database

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
ERROR_TEXT_LIMIT = 500


class OutboxKind(enum.StrEnum):
    TICKET_CARD = "ticket_card"
    CLIENT_CONFIRMATION = "client_confirmation"
    CARD_REFRESH = "card_refresh"

    @property
    def for_managers(self) -> bool:
        """Managers' messages are never given up: the chat will be fixed, the request kept."""
        return self is not OutboxKind.CLIENT_CONFIRMATION


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    kind: OutboxKind
    chat_id: int
    ticket_id: int | None
    attempts: int
    created_at: datetime


def pending_row(
    kind: OutboxKind, chat_id: int, ticket_id: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "chat_id": chat_id,
        "ticket_id": ticket_id,
        "state": PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


@functools.cache
def _claim_statement(limit: int) -> UpdateBase:
    earlier = outbox.alias("earlier")
    now = bindparam("now", type_=outbox.c.next_attempt_at.type)
    held_back = (
        select(earlier.c.id)
        .where(
            earlier.c.chat_id == outbox.c.chat_id,
            earlier.c.state == PENDING,
            earlier.c.id < outbox.c.id,
            or_(earlier.c.next_attempt_at > now, earlier.c.locked_until >= now),
        )
        .exists()
    )
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.state == PENDING,
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < now),
            # A chat's messages go in creation order: none overtakes one that waits.
            ~held_back,
        )
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (
        update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()))
        .values(
            locked_until=bindparam("lease_until", type_=outbox.c.locked_until.type),
            locked_by=bindparam("worker_id"),
        )
        .returning(
            outbox.c.id,
            outbox.c.kind,
            outbox.c.chat_id,
            outbox.c.ticket_id,
            outbox.c.attempts,
            outbox.c.created_at,
        )
    )


# Built once, as the claim is: they run for every message sent.
_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state=SENT,
        sent_at=bindparam("at", type_=outbox.c.sent_at.type),
        message_id=bindparam("message"),
        locked_until=None,
        attempts=outbox.c.attempts + 1,
    )
)
_SHOWN_IN = (
    update(tickets)
    .where(tickets.c.id.in_(bindparam("ticket_ids", expanding=True)))
    .values(manager_chat_id=bindparam("chat"), manager_message_id=bindparam("message"))
)


class OutboxRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def claim(self, worker_id: str, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Lease the oldest due messages; rows another worker holds are skipped, not waited for."""
        now = datetime.now(UTC)
        # One statement: the rows it locks are leased by the time it commits.
        async with self._database.connect() as connection:
            rows = await connection.execute(
                _claim_statement(limit),
                {"now": now, "lease_until": now + lease, "worker_id": worker_id},
            )
            claimed = [
                OutboxMessage(
                    id=row.id,
                    kind=OutboxKind(row.kind),
                    chat_id=row.chat_id,
                    ticket_id=row.ticket_id,
                    attempts=row.attempts,
                    created_at=row.created_at,
                )
                for row in rows
            ]
        return sorted(claimed, key=lambda message: message.id)

    async def mark_sent(self, message_id: int, telegram_message_id: int | None) -> None:
        await self.mark_cards_sent([message_id], telegram_message_id)

    async def mark_cards_sent(
        self,
        message_ids: list[int],
        telegram_message_id: int | None,
        *,
        ticket_ids: list[int] | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Done; for manager cards, also remember where they are so status changes edit them."""
        transaction = self._database.begin() if ticket_ids else self._database.connect()
        async with transaction as connection:
            if ticket_ids:
                await connection.execute(
                    _SHOWN_IN,
                    {"ticket_ids": ticket_ids, "chat": chat_id, "message": telegram_message_id},
                )
            await connection.execute(
                _MARK_SENT,
                {"ids": message_ids, "at": datetime.now(UTC), "message": telegram_message_id},
            )

    async def postpone_chat(
        self, chat_id: int, until: datetime, *, failed_id: int | None = None, error: str = ""
    ) -> None:
        """Hold every pending message of the chat until `until`, keeping their order."""
        async with self._database.begin() as connection:
            if failed_id is not None:
                await connection.execute(
                    update(outbox)
                    .where(outbox.c.id == failed_id)
                    .values(attempts=outbox.c.attempts + 1, last_error=error[:ERROR_TEXT_LIMIT])
                )
            await connection.execute(
                update(outbox)
                .where(
                    outbox.c.chat_id == chat_id,
                    outbox.c.state == PENDING,
                    outbox.c.next_attempt_at < until,
                )
                .values(next_attempt_at=until)
            )
            await connection.execute(
                update(outbox)
                .where(outbox.c.chat_id == chat_id, outbox.c.state == PENDING)
                .values(locked_until=None)
            )

    async def give_up(self, message_id: int, error: str) -> None:
        async with self._database.connect() as connection:
            await connection.execute(
                update(outbox)
                .where(outbox.c.id == message_id)
                .values(
                    state=FAILED,
                    locked_until=None,
                    attempts=outbox.c.attempts + 1,
                    last_error=error[:ERROR_TEXT_LIMIT],
                )
            )

    async def record_blocked_client(self, user_id: int) -> None:
        now = datetime.now(UTC)
        async with self._database.begin() as connection:
            known = await connection.scalar(
                select(blocked_clients.c.user_id).where(blocked_clients.c.user_id == user_id)
            )
            if known is None:
                await connection.execute(
                    insert(blocked_clients).values(user_id=user_id, blocked_at=now)
                )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """Follow a group upgraded to a supergroup: pending messages go to the new id."""
        async with self._database.begin() as connection:
            await connection.execute(
                update(outbox)
                .where(outbox.c.chat_id == old_chat_id, outbox.c.state == PENDING)
                .values(chat_id=new_chat_id, locked_until=None)
            )
            known = await connection.scalar(
                select(chat_migrations.c.new_chat_id).where(
                    chat_migrations.c.old_chat_id == old_chat_id
                )
            )
            if known is None:
                await connection.execute(
                    insert(chat_migrations).values(
                        old_chat_id=old_chat_id,
                        new_chat_id=new_chat_id,
                        migrated_at=datetime.now(UTC),
                    )
                )

    async def migrated_chat_id(self, chat_id: int) -> int:
        """The chat's current id after any upgrades."""
        async with self._database.connect() as connection:
            for _ in range(5):
                newer = await connection.scalar(
                    select(chat_migrations.c.new_chat_id).where(
                        chat_migrations.c.old_chat_id == chat_id
                    )
                )
                if newer is None:
                    break
                chat_id = newer
        return chat_id

    async def release_leases(self, worker_prefix: str) -> None:
        """A restarted instance frees what its previous process had claimed when it died."""
        async with self._database.connect() as connection:
            await connection.execute(
                update(outbox)
                .where(outbox.c.state == PENDING, outbox.c.locked_by.startswith(worker_prefix))
                .values(locked_until=None, locked_by=None)
            )

    async def readdress_manager_messages(self, chat_id: int) -> int:
        """Send what waits for managers to `chat_id`, e.g. after MANAGER_CHAT_ID was corrected."""
        manager_kinds = [kind.value for kind in OutboxKind if kind.for_managers]
        async with self._database.connect() as connection:
            result = await connection.execute(
                update(outbox)
                .where(
                    outbox.c.state == PENDING,
                    outbox.c.kind.in_(manager_kinds),
                    outbox.c.chat_id != chat_id,
                )
                .values(chat_id=chat_id, next_attempt_at=datetime.now(UTC))
            )
        return int(result.rowcount or 0)

    async def next_due_at(self) -> datetime | None:
        async with self._database.connect() as connection:
            due: datetime | None = await connection.scalar(
                select(func.min(outbox.c.next_attempt_at)).where(outbox.c.state == PENDING)
            )
        return due

    async def count_pending(self) -> int:
        async with self._database.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.state == PENDING)
            )
        return int(count or 0)
