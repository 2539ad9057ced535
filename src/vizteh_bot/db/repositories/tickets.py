"""Tickets and their status history: every query about tickets is here.

Bound to one connection of a unit of work (db/uow.py). Which messages a change owes is
the services' decision, not this module's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update

from vizteh_bot.db.models import ticket_events, tickets
from vizteh_bot.db.repositories.conversation import with_conversation
from vizteh_bot.domain.tickets import (
    LEGACY_FIELDS,
    AnsweredField,
    Client,
    NewTicket,
    Speaker,
    Ticket,
    TicketStatus,
)

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Row

    from vizteh_bot.db.engine import Connection


# The hot path's statements, built once: building one per call cost more than running it.
_INSERT_TICKET = insert(tickets).returning(tickets.c.id)
_INSERT_EVENT = insert(ticket_events)
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
_SHOWN_IN = (
    update(tickets)
    .where(tickets.c.id.in_(bindparam("ticket_ids", expanding=True)))
    .values(manager_chat_id=bindparam("chat"), manager_message_id=bindparam("message"))
)


class TicketNotFound(LookupError):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"ticket {ticket_id} not found")
        self.ticket_id = ticket_id


class UnreadableTicket(ValueError):
    """A row this version cannot read (a status a newer version wrote, say)."""

    def __init__(self, ticket_id: int, reason: str, row: dict[str, Any]) -> None:
        super().__init__(f"ticket {ticket_id}: {reason}")
        self.ticket_id = ticket_id
        self.reason = reason
        self.row = row


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    name: str


class TicketRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def insert(self, new: NewTicket, now: datetime) -> Ticket:
        ticket_id = await self._connection.scalar(
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
                "answers": json.dumps(dict(new.answers), ensure_ascii=False),
                "form_fields": json.dumps([f.to_json() for f in new.fields], ensure_ascii=False),
            },
        )
        assert ticket_id is not None
        return Ticket(
            id=ticket_id,
            client=new.client,
            name=new.name,
            phone=new.phone,
            text=new.text,
            status=TicketStatus.OPEN,
            created_at=now,
            answers=new.answers,
            fields=new.fields,
        )

    async def add_event(
        self,
        ticket_id: int,
        old_status: TicketStatus | None,
        new_status: TicketStatus,
        actor: Actor,
        now: datetime,
    ) -> None:
        await self._connection.execute(
            _INSERT_EVENT,
            {
                "ticket_id": ticket_id,
                "old_status": None if old_status is None else old_status.value,
                "new_status": new_status.value,
                "actor_id": actor.user_id,
                "actor_name": actor.name,
                "created_at": now,
            },
        )

    async def by_submission_key(self, key: str) -> Ticket | None:
        row = (await self._connection.execute(_BY_KEY, {"key": key})).first()
        return None if row is None else to_ticket(row)

    async def get(self, ticket_id: int) -> Ticket | None:
        """The ticket, or None; raises UnreadableTicket for a row this version cannot read."""
        row = (await self._connection.execute(_BY_ID, {"ticket_id": ticket_id})).first()
        if row is None:
            return None
        [ticket] = await with_conversation(self._connection, [to_ticket(row)])
        return ticket

    async def get_many(self, ticket_ids: list[int]) -> dict[int, Ticket | UnreadableTicket]:
        """Each ticket by id; one that cannot be read is there as its error, not raised,
        so that it costs the others nothing."""
        if not ticket_ids:
            return {}
        found: dict[int, Ticket | UnreadableTicket] = {}
        for row in await self._connection.execute(_BY_IDS, {"ticket_ids": ticket_ids}):
            try:
                found[row.id] = to_ticket(row)
            except UnreadableTicket as error:
                found[row.id] = error
        readable = [ticket for ticket in found.values() if isinstance(ticket, Ticket)]
        for ticket in await with_conversation(self._connection, readable):
            found[ticket.id] = ticket
        return found

    async def on_manager_message(self, chat_id: int, message_id: int) -> list[Ticket]:
        """The tickets one manager message shows: its card, or every ticket of a digest."""
        rows = await self._connection.execute(
            select(tickets)
            .where(
                tickets.c.manager_chat_id == chat_id,
                tickets.c.manager_message_id == message_id,
            )
            .order_by(tickets.c.id)
        )
        return await with_conversation(self._connection, [to_ticket(row) for row in rows])

    async def shown_in(self, ticket_ids: list[int], chat_id: int, message_id: int | None) -> None:
        """Remember which message shows these tickets, so status changes edit it."""
        await self._connection.execute(
            _SHOWN_IN, {"ticket_ids": ticket_ids, "chat": chat_id, "message": message_id}
        )

    async def set_status(
        self, ticket_id: int, new_status: TicketStatus, actor: Actor, now: datetime
    ) -> bool:
        """Move the ticket to `new_status` unless it is there already: one conditional update.

        Two managers pressing at once cannot both change it: the second finds it done."""
        changed = await self._connection.scalar(
            update(tickets)
            .where(tickets.c.id == ticket_id, tickets.c.status != new_status.value)
            .values(status=new_status.value, status_changed_at=now, status_changed_by=actor.name)
            .returning(tickets.c.id)
        )
        return changed is not None

    async def count_open(self) -> int:
        count = await self._connection.scalar(
            select(func.count())
            .select_from(tickets)
            .where(tickets.c.status == TicketStatus.OPEN.value)
        )
        return int(count or 0)

    async def count_recent_by_client(self, client_id: int, since: datetime) -> int:
        count = await self._connection.scalar(
            _COUNT_RECENT, {"client_id": client_id, "since": since}
        )
        return int(count or 0)

    async def oldest_recent_by_client(self, client_id: int, since: datetime) -> datetime | None:
        oldest: datetime | None = await self._connection.scalar(
            _OLDEST_RECENT, {"client_id": client_id, "since": since}
        )
        return oldest

    async def events(self, ticket_id: int) -> list[dict[str, Any]]:
        rows = await self._connection.execute(
            select(ticket_events)
            .where(ticket_events.c.ticket_id == ticket_id)
            .order_by(ticket_events.c.id)
        )
        return [dict(row._mapping) for row in rows]


def to_ticket(row: Row[Any]) -> Ticket:
    values = row._mapping
    try:
        status = TicketStatus(values["status"])
    except ValueError:
        raise UnreadableTicket(
            values["id"], f"unknown status {values['status']!r}", dict(values)
        ) from None
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
        status=status,
        created_at=values["created_at"],
        status_changed_at=values["status_changed_at"],
        status_changed_by=values["status_changed_by"],
        manager_chat_id=values["manager_chat_id"],
        manager_message_id=values["manager_message_id"],
        answers=_answers(values),
        fields=_fields(values),
        last_message_at=values.get("last_message_at"),
        last_message_from=_speaker(values.get("last_message_from")),
        waiting_messages=int(values.get("waiting_messages") or 0),
    )


def _speaker(value: Any) -> Speaker | None:
    try:
        return None if value is None else Speaker(value)
    except ValueError:
        return None  # written by a newer version: the card just does not say who


def _answers(values: Any) -> dict[str, str | None]:
    try:
        stored = json.loads(values["answers"] or "{}")
    except (TypeError, ValueError):
        raise UnreadableTicket(values["id"], "unreadable answers", dict(values)) from None
    if not isinstance(stored, dict):
        raise UnreadableTicket(values["id"], "unreadable answers", dict(values))
    return {str(k): None if v is None else str(v) for k, v in stored.items()}


def _fields(values: Any) -> tuple[AnsweredField, ...]:
    if not values["form_fields"]:
        return LEGACY_FIELDS
    try:
        return tuple(AnsweredField.from_json(f) for f in json.loads(values["form_fields"]))
    except (TypeError, ValueError, KeyError, AttributeError):
        raise UnreadableTicket(values["id"], "unreadable form fields", dict(values)) from None
