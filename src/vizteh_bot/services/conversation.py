"""The conversation around a request: a manager's reply to its client, a client's message to
the managers, notes and edits. Each writes what it owes to the outbox with the change."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from vizteh_bot.db.repositories.tickets import Actor, TicketNotFound
from vizteh_bot.domain.tickets import Speaker, TicketStatus
from vizteh_bot.outbox import messages
from vizteh_bot.outbox.messages import Audience
from vizteh_bot.services.relay_rows import (
    ALBUM_HOLD_SECONDS,
    Incoming,
    Wrapping,
    edit_payload,
    relay_payloads,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from vizteh_bot.db.uow import Store, UnitOfWork
    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.outbox.messages import Outgoing, RelayPayload
    from vizteh_bot.services.tickets import Wakeable

# A client who writes within this long after their request was closed reopens it; later,
# they are offered a new one.
REOPEN_WITHIN = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a client's message goes: the request, and whether writing reopens it."""

    ticket: Ticket
    reopens: bool


async def relay_to_client(
    store: Store,
    delivery: Wakeable,
    *,
    ticket_id: int,
    incoming: Incoming,
    wrapping: Callable[[Ticket], Wrapping],
    replied_to: int,
    manager_chat_id: int,
) -> Ticket:
    """A manager's reply (to `replied_to`, a message the bot posted for the request) goes
    to the client; in their chat it answers the message of theirs it replies to."""
    now = datetime.now(UTC)
    async with store.transaction() as uow:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        client_id = ticket.client.user_id
        wrapped = wrapping(ticket)
        source = await uow.conversation.source_of(incoming.chat_id, replied_to)
        if source is not None and source[0] == client_id:
            wrapped = replace(wrapped, reply_to_message_id=source[1])
        rows = relay_payloads(incoming, wrapped)
        await uow.outbox.enqueue(*_outgoing(client_id, Audience.CLIENT, ticket.id, rows), now=now)
        await _hold_for_album(uow, client_id, incoming, now)
        await uow.conversation.record_message(ticket.id, Speaker.MANAGER, now)
        await uow.outbox.enqueue(messages.card_refresh(ticket.id, manager_chat_id), now=now)
    delivery.wake()
    return ticket


async def target_for_client(store: Store, client_id: int, chosen: int | None) -> Target | None:
    """The request a client's message belongs to: the one they chose (if still open), else
    their latest open one, else their latest if it closed recently (writing reopens it)."""
    async with store.read() as uow:
        open_ids = await uow.conversation.client_tickets(client_id, open_only=True)
        if open_ids:
            ticket_id = chosen if chosen in open_ids else open_ids[0]
            ticket = await uow.tickets.get(ticket_id)
            return None if ticket is None else Target(ticket, reopens=False)
        latest = await uow.conversation.client_tickets(client_id, open_only=False)
        if not latest:
            return None
        ticket = await uow.tickets.get(latest[0])
    if ticket is None or ticket.status_changed_at is None:
        return None
    if datetime.now(UTC) - ticket.status_changed_at > REOPEN_WITHIN:
        return None
    return Target(ticket, reopens=True)


async def relay_to_managers(
    store: Store,
    delivery: Wakeable,
    *,
    target: Target,
    incoming: Incoming,
    header: Callable[[Ticket], Wrapping],
    client: Actor,
    manager_chat_id: int,
) -> Ticket:
    """A client's message goes to the manager chat as a reply to their request's card; a
    closed request opens again."""
    now = datetime.now(UTC)
    async with store.transaction() as uow:
        ticket = await uow.tickets.get(target.ticket.id)
        if ticket is None:
            raise TicketNotFound(target.ticket.id)
        if ticket.status is TicketStatus.CLOSED and await uow.tickets.set_status(
            ticket.id, TicketStatus.OPEN, client, now
        ):
            await uow.tickets.add_event(
                ticket.id, TicketStatus.CLOSED, TicketStatus.OPEN, client, now
            )
        rows = relay_payloads(incoming, header(ticket))
        outgoing = _outgoing(manager_chat_id, Audience.MANAGERS, ticket.id, rows)
        await uow.outbox.enqueue(*outgoing, now=now)
        await _hold_for_album(uow, manager_chat_id, incoming, now)
        await uow.conversation.record_message(ticket.id, Speaker.CLIENT, now)
        await uow.conversation.unblock(ticket.client.user_id)
        await uow.outbox.enqueue(messages.card_refresh(ticket.id, manager_chat_id), now=now)
    delivery.wake()
    return ticket


async def add_note(
    store: Store,
    delivery: Wakeable,
    *,
    ticket_id: int,
    author: Actor,
    text: str,
    manager_chat_id: int,
) -> None:
    now = datetime.now(UTC)
    async with store.transaction() as uow:
        if await uow.tickets.get(ticket_id) is None:
            raise TicketNotFound(ticket_id)
        await uow.conversation.add_note(ticket_id, author, text, now)
        await uow.outbox.enqueue(messages.card_refresh(ticket_id, manager_chat_id), now=now)
    delivery.wake()


async def mirror_edit(
    store: Store,
    delivery: Wakeable,
    *,
    incoming: Incoming,
    wrapping: Callable[[Ticket], Wrapping],
    ticket_id: int | None,
    manager_chat_id: int,
) -> bool:
    """A person edited a message the bot relays: its copy follows, even one still waiting
    in the outbox. `ticket_id` is the request the message went to (None: look it up from
    its copy). False when it was never relayed."""
    if incoming.text is None and not incoming.can_caption:
        return False  # a live location moving, say: nothing a copy can show
    async with store.transaction() as uow:
        copies = await uow.conversation.copies_of(incoming.chat_id, incoming.message_id)
        if copies:
            ticket_id = copies[0][0]
        ticket = None if ticket_id is None else await uow.tickets.get(ticket_id)
        if ticket is None:
            return False
        client_id = ticket.client.user_id
        to_client = incoming.chat_id != client_id
        chat_id = client_id if to_client else manager_chat_id
        audience = Audience.CLIENT if to_client else Audience.MANAGERS
        payload = edit_payload(incoming, wrapping(ticket))
        await uow.outbox.enqueue(messages.relay_edit(chat_id, audience, ticket.id, payload))
    delivery.wake()
    return True


async def _hold_for_album(
    uow: UnitOfWork, chat_id: int, incoming: Incoming, now: datetime
) -> None:
    """An album's items come as separate updates: the chat waits a moment after each, so
    that they all go out together as one album."""
    if incoming.media_group_id is not None:
        await uow.outbox.hold_chat(chat_id, now + timedelta(seconds=ALBUM_HOLD_SECONDS))


def _outgoing(
    chat_id: int, audience: Audience, ticket_id: int, rows: list[RelayPayload]
) -> list[Outgoing]:
    outgoing = []
    for row in rows:
        message = messages.relay(chat_id, audience, ticket_id, row)
        album = next((r.media_group_id for r in rows if r.media_group_id), None)
        if album is not None and row.source_message_id is None:
            # The album's header: once for all its items.
            key = hashlib.blake2s(f"{chat_id}:{album}".encode(), digest_size=16).hexdigest()
            message = replace(message, coalesce_key=f"album:{key}")
        outgoing.append(message)
    return outgoing
