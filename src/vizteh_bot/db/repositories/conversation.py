"""The conversation around requests: which message copies which, notes, who wrote last.

Bound to one connection of a unit of work (db/uow.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import delete, desc, insert, select, update

from vizteh_bot.db.models import blocked_clients, message_pairs, ticket_notes, tickets
from vizteh_bot.domain.tickets import Note, Speaker, Ticket, TicketStatus

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from vizteh_bot.db.engine import Connection
    from vizteh_bot.db.repositories.tickets import Actor

# A card lists this many of the latest notes.
NOTES_ON_CARD = 3
Source = tuple[int, int]


class ConversationRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def add_pairs(
        self,
        ticket_id: int,
        chat_id: int,
        message_ids: Sequence[int],
        sources: Sequence[Source | None],
        now: datetime,
    ) -> None:
        """The bot posted `message_ids` in `chat_id` for the ticket, copying `sources`."""
        rows = [
            {
                "ticket_id": ticket_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "source_chat_id": None if source is None else source[0],
                "source_message_id": None if source is None else source[1],
                "created_at": now,
            }
            for message_id, source in zip(message_ids, sources, strict=False)
        ]
        if rows:
            await self._connection.execute(insert(message_pairs), rows)

    async def tickets_of_message(self, chat_id: int, message_id: int) -> list[int]:
        """The requests a message the bot posted is about (several: a digest)."""
        rows = await self._connection.execute(
            select(message_pairs.c.ticket_id)
            .where(message_pairs.c.chat_id == chat_id, message_pairs.c.message_id == message_id)
            .distinct()
        )
        return sorted(row.ticket_id for row in rows)

    async def source_of(self, chat_id: int, message_id: int) -> Source | None:
        """The original a message the bot posted copies, if it is a copy."""
        row = (
            await self._connection.execute(
                select(message_pairs.c.source_chat_id, message_pairs.c.source_message_id).where(
                    message_pairs.c.chat_id == chat_id,
                    message_pairs.c.message_id == message_id,
                    message_pairs.c.source_message_id.is_not(None),
                )
            )
        ).first()
        return None if row is None else (row.source_chat_id, row.source_message_id)

    async def copies_of(self, chat_id: int, message_id: int) -> list[tuple[int, int, int]]:
        """(ticket, chat, message) of each copy the bot made of a person's message."""
        rows = await self._connection.execute(
            select(message_pairs.c.ticket_id, message_pairs.c.chat_id, message_pairs.c.message_id)
            .where(
                message_pairs.c.source_chat_id == chat_id,
                message_pairs.c.source_message_id == message_id,
            )
            .order_by(message_pairs.c.id)
        )
        return [(row.ticket_id, row.chat_id, row.message_id) for row in rows]

    async def add_note(self, ticket_id: int, actor: Actor, text: str, now: datetime) -> None:
        await self._connection.execute(
            insert(ticket_notes).values(
                ticket_id=ticket_id,
                author_id=actor.user_id,
                author_name=actor.name,
                text=text,
                created_at=now,
            )
        )

    async def record_message(self, ticket_id: int, speaker: Speaker, now: datetime) -> None:
        """A message relayed: a client's waits for an answer, a manager's answers them all."""
        waiting = tickets.c.waiting_messages + 1 if speaker is Speaker.CLIENT else 0
        await self._connection.execute(
            update(tickets)
            .where(tickets.c.id == ticket_id)
            .values(last_message_at=now, last_message_from=speaker.value, waiting_messages=waiting)
        )

    async def client_tickets(self, client_id: int, *, open_only: bool) -> list[int]:
        """The client's requests, newest first."""
        query = select(tickets.c.id).where(tickets.c.client_id == client_id)
        if open_only:
            query = query.where(tickets.c.status == TicketStatus.OPEN.value)
        rows = await self._connection.execute(query.order_by(desc(tickets.c.id)).limit(50))
        return [row.id for row in rows]

    async def unblock(self, user_id: int) -> bool:
        """The client wrote: they no longer block the bot. True if they did."""
        result = await self._connection.execute(
            delete(blocked_clients).where(blocked_clients.c.user_id == user_id)
        )
        return bool(result.rowcount)


async def with_conversation(connection: Connection, found: Sequence[Ticket]) -> list[Ticket]:
    """The tickets with their latest notes and whether their client blocked the bot."""
    if not found:
        return []
    ids = [ticket.id for ticket in found]
    notes: dict[int, list[Note]] = {}
    rows = await connection.execute(
        select(ticket_notes).where(ticket_notes.c.ticket_id.in_(ids)).order_by(ticket_notes.c.id)
    )
    for row in rows:
        notes.setdefault(row.ticket_id, []).append(Note(row.author_name, row.text, row.created_at))
    clients = {ticket.client.user_id for ticket in found}
    blocked = {
        row.user_id
        for row in await connection.execute(
            select(blocked_clients.c.user_id).where(blocked_clients.c.user_id.in_(clients))
        )
    }
    return [
        replace(
            ticket,
            notes=tuple(notes.get(ticket.id, [])[-NOTES_ON_CARD:]),
            client_blocked=ticket.client.user_id in blocked,
        )
        for ticket in found
    ]
