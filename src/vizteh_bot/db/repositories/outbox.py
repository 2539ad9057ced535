"""The outbox queue: messages owed to Telegram, claimed by workers with a lease.

Bound to one connection of a unit of work (db/uow.py): a service enqueues in the same
transaction as the change that owes the messages.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    text,
    type_coerce,
    update,
)

from vizteh_bot.db.models import blocked_clients, chat_migrations, outbox
from vizteh_bot.outbox.messages import Audience, OutboxMessage

if TYPE_CHECKING:
    from sqlalchemy.sql.dml import UpdateBase

    from vizteh_bot.db.engine import Connection
    from vizteh_bot.outbox.messages import Outgoing

PENDING = "pending"
SENT = "sent"
FAILED = "failed"  # given up: the client cannot be reached (blocked the bot, say)
QUARANTINED = "quarantined"  # refused for a reason retrying will not fix; kept, shown
ERROR_TEXT_LIMIT = 500
# Any fixed number: the advisory lock all bots on one PostgreSQL database claim under.
CLAIM_LOCK_KEY = 0x7A7E_0B07


@functools.cache
def _claim_statement(limit: int) -> UpdateBase:
    earlier = outbox.alias("earlier")
    now = bindparam("now", type_=outbox.c.next_attempt_at.type)
    held_back = (
        select(earlier.c.id)
        .where(
            earlier.c.chat_id == outbox.c.chat_id,
            earlier.c.priority == outbox.c.priority,
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
            # Within a chat and a priority, messages go in creation order: none overtakes
            # one that waits. New requests' cards are not held back by card refreshes.
            ~held_back,
        )
        .order_by(outbox.c.priority, outbox.c.id)
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
        .returning(*_CLAIMED_COLUMNS)
    )


_CLAIMED_COLUMNS = (
    outbox.c.id,
    outbox.c.kind,
    outbox.c.chat_id,
    outbox.c.audience,
    outbox.c.ticket_id,
    outbox.c.payload,
    outbox.c.attempts,
    outbox.c.created_at,
    outbox.c.priority,
)
# Built once, as the claim is: they run for every message sent.
_INSERT = insert(outbox)
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
_COALESCE = (
    update(outbox)
    .where(
        outbox.c.coalesce_key == bindparam("key"),
        outbox.c.state == PENDING,
        # One a worker holds may be rendering the state before this change.
        outbox.c.locked_until.is_(None),
    )
    .values(created_at=outbox.c.created_at)
)


class OutboxRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def enqueue(self, *messages: Outgoing, now: datetime | None = None) -> None:
        """Write messages to send; one with a pending twin of the same coalesce key (a card
        refresh: it renders the ticket as it is when sent) is already covered."""
        now = now or datetime.now(UTC)
        rows = []
        for message in messages:
            if message.coalesce_key is not None:
                covered = await self._connection.execute(_COALESCE, {"key": message.coalesce_key})
                if covered.rowcount:
                    continue
            rows.append(_row(message, now))
        if rows:
            await self._connection.execute(_INSERT, rows)

    async def claim(self, worker_id: str, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Lease the due messages, by priority then age; rows another worker holds are
        skipped, not waited for. Run it in a transaction.

        On PostgreSQL claims are taken one at a time: a claim in flight has not committed
        its leases yet, so a second one at the same moment would see a chat's first
        messages free and skip them, take the later ones and send them out of order.
        """
        now = datetime.now(UTC)
        if self._connection.dialect.name == "postgresql":
            await self._connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY}
            )
        rows = await self._connection.execute(
            _claim_statement(limit),
            {"now": now, "lease_until": now + lease, "worker_id": worker_id},
        )
        claimed = [
            (
                row.priority,
                OutboxMessage(
                    id=row.id,
                    kind=row.kind,
                    chat_id=row.chat_id,
                    audience=row.audience,
                    ticket_id=row.ticket_id,
                    payload=row.payload,
                    attempts=row.attempts,
                    created_at=row.created_at,
                ),
            )
            for row in rows
        ]
        return [message for _, message in sorted(claimed, key=lambda pair: (pair[0], pair[1].id))]

    async def mark_sent(self, message_ids: list[int], telegram_message_id: int | None) -> None:
        await self._connection.execute(
            _MARK_SENT,
            {"ids": message_ids, "at": datetime.now(UTC), "message": telegram_message_id},
        )

    async def postpone_chat(
        self,
        chat_id: int,
        until: datetime,
        *,
        worker_id: str,
        failed_id: int | None = None,
        error: str = "",
    ) -> None:
        """Hold every pending message of the chat until `until`, keeping their order, and
        let go of those `worker_id` holds (another worker's stay its own).

        Three statements: run it in a transaction."""
        if failed_id is not None:
            await self._connection.execute(
                update(outbox)
                .where(outbox.c.id == failed_id)
                .values(attempts=outbox.c.attempts + 1, last_error=error[:ERROR_TEXT_LIMIT])
            )
        await self._connection.execute(
            update(outbox)
            .where(
                outbox.c.chat_id == chat_id,
                outbox.c.state == PENDING,
                outbox.c.next_attempt_at < until,
            )
            .values(next_attempt_at=until)
        )
        await self._connection.execute(
            update(outbox)
            .where(
                outbox.c.chat_id == chat_id,
                outbox.c.state == PENDING,
                outbox.c.locked_by == worker_id,
            )
            .values(locked_until=None)
        )

    async def hold_chat(self, chat_id: int, until: datetime) -> None:
        """Nothing pending for the chat goes before `until` (what a worker holds already
        goes as it is)."""
        now = datetime.now(UTC)
        await self._connection.execute(
            update(outbox)
            .where(
                outbox.c.chat_id == chat_id,
                outbox.c.state == PENDING,
                outbox.c.next_attempt_at < until,
                or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < now),
            )
            .values(next_attempt_at=until)
        )

    async def release(self, message_ids: list[int]) -> None:
        """Let go of claimed messages not tried in this pass (another pass takes them)."""
        if message_ids:
            await self._connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(message_ids), outbox.c.state == PENDING)
                .values(locked_until=None, locked_by=None)
            )

    async def release_worker(self, worker_id: str) -> None:
        """This process's own leases, at a clean stop."""
        await self._connection.execute(
            update(outbox)
            .where(outbox.c.state == PENDING, outbox.c.locked_by == worker_id)
            .values(locked_until=None, locked_by=None)
        )

    async def finish(self, message_id: int, state: str, error: str) -> None:
        """Take the message out of the queue for good: FAILED or QUARANTINED, with why."""
        await self._connection.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(
                state=state,
                locked_until=None,
                attempts=outbox.c.attempts + 1,
                last_error=error[:ERROR_TEXT_LIMIT],
                sent_at=datetime.now(UTC),
            )
        )

    async def record_blocked_client(self, user_id: int) -> None:
        known = await self._connection.scalar(
            select(blocked_clients.c.user_id).where(blocked_clients.c.user_id == user_id)
        )
        if known is None:
            await self._connection.execute(
                insert(blocked_clients).values(user_id=user_id, blocked_at=datetime.now(UTC))
            )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """Follow a group upgraded to a supergroup: pending messages go to the new id."""
        if old_chat_id == new_chat_id:
            return
        await self._connection.execute(
            update(outbox)
            .where(outbox.c.chat_id == old_chat_id, outbox.c.state == PENDING)
            .values(chat_id=new_chat_id, locked_until=None)
        )
        known = await self._connection.scalar(
            select(chat_migrations.c.new_chat_id).where(
                chat_migrations.c.old_chat_id == old_chat_id
            )
        )
        if known is None:
            await self._connection.execute(
                insert(chat_migrations).values(
                    old_chat_id=old_chat_id, new_chat_id=new_chat_id, migrated_at=datetime.now(UTC)
                )
            )

    async def migrated_chat_id(self, chat_id: int) -> int:
        """The chat's current id after any upgrades."""
        for _ in range(5):
            newer = await self._connection.scalar(
                select(chat_migrations.c.new_chat_id).where(
                    chat_migrations.c.old_chat_id == chat_id
                )
            )
            if newer is None:
                break
            chat_id = newer
        return chat_id

    async def readdress_manager_messages(self, chat_id: int) -> int:
        """Send what waits for managers to `chat_id`, e.g. after MANAGER_CHAT_ID was corrected."""
        result = await self._connection.execute(
            update(outbox)
            .where(
                outbox.c.state == PENDING,
                outbox.c.audience == Audience.MANAGERS.value,
                outbox.c.chat_id != chat_id,
            )
            .values(chat_id=chat_id, next_attempt_at=datetime.now(UTC))
        )
        return int(result.rowcount or 0)

    async def next_due_at(self) -> datetime | None:
        """When the next pending message may be claimed (its lease, if any, ended)."""
        free_at = case(
            (outbox.c.locked_until > outbox.c.next_attempt_at, outbox.c.locked_until),
            else_=outbox.c.next_attempt_at,
        )
        due: datetime | None = await self._connection.scalar(
            select(func.min(type_coerce(free_at, outbox.c.next_attempt_at.type))).where(
                outbox.c.state == PENDING
            )
        )
        return due

    async def count_pending(self) -> int:
        count = await self._connection.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.state == PENDING)
        )
        return int(count or 0)

    async def pending_by_kind(self) -> dict[str, tuple[int, datetime]]:
        """Waiting messages per kind: how many, and when the oldest was written."""
        rows = await self._connection.execute(
            select(
                outbox.c.kind,
                func.count().label("waiting"),
                func.min(outbox.c.created_at).label("oldest"),
            )
            .where(outbox.c.state == PENDING)
            .group_by(outbox.c.kind)
        )
        return {row.kind: (int(row.waiting), _aware(row.oldest)) for row in rows}

    async def finished(self, state: str, limit: int = 20) -> list[dict[str, Any]]:
        """The latest messages in `state` (QUARANTINED, FAILED), newest first."""
        rows = await self._connection.execute(
            select(
                outbox.c.id,
                outbox.c.kind,
                outbox.c.chat_id,
                outbox.c.ticket_id,
                outbox.c.last_error,
                outbox.c.sent_at,
            )
            .where(outbox.c.state == state)
            .order_by(outbox.c.id.desc())
            .limit(limit)
        )
        return [dict(row._mapping) for row in rows]

    async def count_in_state(self, state: str) -> int:
        count = await self._connection.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.state == state)
        )
        return int(count or 0)

    async def last_sent_at(self) -> datetime | None:
        last: datetime | None = await self._connection.scalar(
            select(func.max(outbox.c.sent_at)).where(
                and_(outbox.c.state == SENT, outbox.c.sent_at.is_not(None))
            )
        )
        return last


def _row(message: Outgoing, now: datetime) -> dict[str, Any]:
    return {
        "kind": message.kind.value,
        "chat_id": message.chat_id,
        "ticket_id": message.ticket_id,
        "audience": message.audience.value,
        "priority": int(message.priority),
        "payload": None if message.payload is None else message.payload.model_dump_json(),
        "coalesce_key": message.coalesce_key,
        "state": PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def _aware(moment: datetime) -> datetime:
    # func.min() over a UtcDateTime column comes back without the type's conversion on SQLite.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
