"""Tickets and their status history: every query about tickets is here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from vizteh_bot.db.models import outbox, ticket_events, tickets
from vizteh_bot.db.repositories.outbox import OutboxKind, pending_row
from vizteh_bot.domain.tickets import Client, NewTicket, Ticket, TicketStatus

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from vizteh_bot.db.engine import Connection, Database


# The hot path's statements, built once: building one per call cost more than running it.
_INSERT_TICKET = insert(tickets).returning(tickets.c.id)
_INSERT_EVENT = insert(ticket_events)
_INSERT_OUTBOX = insert(outbox)
_BY_ID = select(tickets).where(tickets.c.id == bindparam("ticket_id"))
_BY_IDS = (
    select(tickets)
    .where(tickets.c.id.in_(bindparam("ticket_ids", expanding=True)))
    .order_by(tickets.c.id)
)
_BY_KEY = select(tickets).where(tickets.c.submission_key == bindparam("key"))
_RECENT_BY_CLIENT = (
    tickets.c.client_id == bindparam("client_id"),
    tickets.c.created_at >= bindparam("since"),
)
_COUNT_RECENT = select(func.count()).select_from(tickets).where(*_RECENT_BY_CLIENT)
_OLDEST_RECENT = select(func.min(tickets.c.created_at)).where(*_RECENT_BY_CLIENT)


class TicketNotFound(LookupError):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"ticket {ticket_id} not found")
        self.ticket_id = ticket_id


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    name: str


@dataclass(frozen=True, slots=True)
class StatusChange:
    ticket: Ticket
    changed: bool


class TicketRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, new: NewTicket, manager_chat_id: int) -> tuple[Ticket, bool]:
        """Store the ticket and the messages it owes, atomically; a repeated key returns the first.

        Returns the ticket and whether this call created it.
        """
        try:
            return await self._insert(new, manager_chat_id), True
        except IntegrityError:
            # A double tap or a replayed update raced us: the first one's ticket stands.
            async with self._database.connect() as connection:
                existing = await self._get_by_key(connection, new.submission_key)
            if existing is None:
                raise
            return existing, False

    async def _insert(self, new: NewTicket, manager_chat_id: int) -> Ticket:
        now = datetime.now(UTC)
        async with self._database.begin() as connection:
            ticket_id = await connection.scalar(
                _INSERT_TICKET,
                {
                    "submission_key": new.submission_key,
                    "client_id": new.client.user_id,
                    "client_full_name": new.client.full_name,
                    "client_username": new.client.username,
                    "client_language": new.client.language,
                    "name": new.name,
                    "phone": new.phone,
                    "text": new.text,
                    "status": TicketStatus.OPEN.value,
                    "created_at": now,
                },
            )
            assert ticket_id is not None
            await connection.execute(
                _INSERT_EVENT,
                {
                    "ticket_id": ticket_id,
                    "old_status": None,
                    "new_status": TicketStatus.OPEN.value,
                    "actor_id": new.client.user_id,
                    "actor_name": new.client.full_name,
                    "created_at": now,
                },
            )
            await connection.execute(
                _INSERT_OUTBOX,
                [
                    pending_row(OutboxKind.TICKET_CARD, manager_chat_id, ticket_id, now),
                    pending_row(
                        OutboxKind.CLIENT_CONFIRMATION, new.client.user_id, ticket_id, now
                    ),
                ],
            )
        return Ticket(
            id=ticket_id,
            client=new.client,
            name=new.name,
            phone=new.phone,
            text=new.text,
            status=TicketStatus.OPEN,
            created_at=now,
        )

    async def find_by_submission_key(self, key: str) -> Ticket | None:
        async with self._database.connect() as connection:
            return await self._get_by_key(connection, key)

    async def get(self, ticket_id: int) -> Ticket | None:
        async with self._database.connect() as connection:
            return await self._get(connection, ticket_id)

    async def get_many(self, ticket_ids: list[int]) -> list[Ticket]:
        if not ticket_ids:
            return []
        async with self._database.connect() as connection:
            rows = await connection.execute(_BY_IDS, {"ticket_ids": ticket_ids})
            return [_to_ticket(row) for row in rows]

    async def on_manager_message(self, chat_id: int, message_id: int) -> list[Ticket]:
        """The tickets one manager message shows: its card, or every ticket of a digest."""
        async with self._database.connect() as connection:
            rows = await connection.execute(
                select(tickets)
                .where(
                    tickets.c.manager_chat_id == chat_id,
                    tickets.c.manager_message_id == message_id,
                )
                .order_by(tickets.c.id)
            )
            return [_to_ticket(row) for row in rows]

    async def set_status(
        self, ticket_id: int, new_status: TicketStatus, actor: Actor, manager_chat_id: int
    ) -> StatusChange:
        """Move the ticket to `new_status` unless it is there already: one conditional update."""
        now = datetime.now(UTC)
        async with self._database.begin() as connection:
            old_status = await connection.scalar(
                update(tickets)
                .where(tickets.c.id == ticket_id, tickets.c.status != new_status.value)
                .values(
                    status=new_status.value,
                    status_changed_at=now,
                    status_changed_by=actor.name,
                )
                # The pre-update value is not returnable, but only one other status exists.
                .returning(tickets.c.id)
            )
            changed = old_status is not None
            if changed:
                await connection.execute(
                    insert(ticket_events).values(
                        ticket_id=ticket_id,
                        old_status=_other(new_status).value,
                        new_status=new_status.value,
                        actor_id=actor.user_id,
                        actor_name=actor.name,
                        created_at=now,
                    )
                )
                await connection.execute(
                    insert(outbox).values(
                        pending_row(OutboxKind.CARD_REFRESH, manager_chat_id, ticket_id, now)
                    )
                )
            ticket = await self._get(connection, ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return StatusChange(ticket, changed)

    async def count_open(self) -> int:
        async with self._database.connect() as connection:
            count = await connection.scalar(
                select(func.count())
                .select_from(tickets)
                .where(tickets.c.status == TicketStatus.OPEN.value)
            )
        return int(count or 0)

    async def count_recent_by_client(self, client_id: int, since: datetime) -> int:
        async with self._database.connect() as connection:
            count = await connection.scalar(
                _COUNT_RECENT, {"client_id": client_id, "since": since}
            )
        return int(count or 0)

    async def oldest_recent_by_client(self, client_id: int, since: datetime) -> datetime | None:
        async with self._database.connect() as connection:
            oldest: datetime | None = await connection.scalar(
                _OLDEST_RECENT, {"client_id": client_id, "since": since}
            )
        return oldest

    async def events(self, ticket_id: int) -> list[dict[str, Any]]:
        async with self._database.connect() as connection:
            rows = await connection.execute(
                select(ticket_events)
                .where(ticket_events.c.ticket_id == ticket_id)
                .order_by(ticket_events.c.id)
            )
            return [dict(row._mapping) for row in rows]

    async def _get(self, connection: Connection, ticket_id: int) -> Ticket | None:
        row = (await connection.execute(_BY_ID, {"ticket_id": ticket_id})).first()
        return None if row is None else _to_ticket(row)

    async def _get_by_key(self, connection: Connection, key: str) -> Ticket | None:
        row = (await connection.execute(_BY_KEY, {"key": key})).first()
        return None if row is None else _to_ticket(row)


def _other(status: TicketStatus) -> TicketStatus:
    return TicketStatus.OPEN if status is TicketStatus.CLOSED else TicketStatus.CLOSED


def _to_ticket(row: Row[Any]) -> Ticket:
    values = row._mapping
    return Ticket(
        id=values["id"],
        client=Client(
            user_id=values["client_id"],
            full_name=values["client_full_name"],
            username=values["client_username"],
            language=values["client_language"],
        ),
        name=values["name"],
        phone=values["phone"],
        text=values["text"],
        status=TicketStatus(values["status"]),
        created_at=values["created_at"],
        status_changed_at=values["status_changed_at"],
        status_changed_by=values["status_changed_by"],
        manager_chat_id=values["manager_chat_id"],
        manager_message_id=values["manager_message_id"],
    )
