"""Submitting a ticket and changing its status: each change, its event and the messages it
owes, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.exc import IntegrityError

from vizteh_bot.db.repositories.tickets import Actor, TicketNotFound
from vizteh_bot.domain.tickets import Client, TicketStatus, new_ticket
from vizteh_bot.outbox import messages
from vizteh_bot.telegram.render.fallback import full_text_parts

if TYPE_CHECKING:
    from collections.abc import Mapping

    from vizteh_bot.db.uow import Store, UnitOfWork
    from vizteh_bot.domain.form import Form
    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.texts import Texts

RATE_WINDOW = timedelta(hours=1)


class Wakeable(Protocol):
    def wake(self) -> None: ...


class TooManyTickets(Exception):
    def __init__(self, count: int, retry_at: datetime) -> None:
        super().__init__(f"{count} tickets in the last hour")
        self.count = count
        self.retry_at = retry_at


@dataclass(frozen=True, slots=True)
class Submission:
    ticket: Ticket
    created: bool


@dataclass(frozen=True, slots=True)
class StatusChange:
    ticket: Ticket
    changed: bool


async def ensure_may_submit(store: Store, client_id: int, limit: int) -> None:
    """Raise TooManyTickets when the client has used up this hour's requests."""
    async with store.read() as uow:
        await _check_rate(uow, client_id, limit)


async def submit_ticket(
    store: Store,
    delivery: Wakeable,
    *,
    client: Client,
    request_form: Form,
    answers: Mapping[str, str | None],
    form_id: str,
    manager_chat_id: int,
    limit_per_hour: int,
) -> Submission:
    """Store the ticket with its event, its card and the client's «принята», then wake the
    outbox worker.

    The form's id is the idempotency key: a double tap or a replayed update finds the
    ticket the first one created.
    """
    new = new_ticket(client, request_form, answers, f"{client.user_id}:{form_id}")
    try:
        async with store.transaction() as uow:
            existing = await uow.tickets.by_submission_key(new.submission_key)
            if existing is not None:
                return Submission(existing, created=False)
            await _check_rate(uow, client.user_id, limit_per_hour)
            now = datetime.now(UTC)
            ticket = await uow.tickets.insert(new, now)
            await uow.tickets.add_event(
                ticket.id, None, TicketStatus.OPEN, Actor(client.user_id, client.full_name), now
            )
            await uow.outbox.enqueue(
                messages.card(ticket.id, manager_chat_id),
                messages.notice(
                    client.user_id,
                    messages.Audience.CLIENT,
                    "ticket-accepted",
                    locale=client.language,
                    ticket_id=ticket.id,
                    remove_keyboard=True,
                    number=ticket.id,
                ),
                now=now,
            )
    except IntegrityError:
        # A double tap or a replayed update raced us: the first one's ticket stands.
        async with store.read() as uow:
            existing = await uow.tickets.by_submission_key(new.submission_key)
        if existing is None:
            raise
        return Submission(existing, created=False)
    delivery.wake()
    return Submission(ticket, created=True)


async def change_status(
    store: Store,
    delivery: Wakeable,
    *,
    ticket_id: int,
    new_status: TicketStatus,
    actor: Actor,
    manager_chat_id: int,
    notify_client: bool = True,
) -> StatusChange:
    """Move the ticket to `new_status`; the card shows it once the outbox refreshes it, and
    the client is told (unless NOTIFY_CLIENT_ON_STATUS is off)."""
    async with store.transaction() as uow:
        now = datetime.now(UTC)
        changed = await uow.tickets.set_status(ticket_id, new_status, actor, now)
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        if changed:
            # Only two statuses exist, so the one before is the other.
            old = TicketStatus.OPEN if new_status is TicketStatus.CLOSED else TicketStatus.CLOSED
            await uow.tickets.add_event(ticket_id, old, new_status, actor, now)
            await uow.outbox.enqueue(messages.card_refresh(ticket_id, manager_chat_id), now=now)
            if notify_client:
                await uow.outbox.enqueue(_status_notice(ticket, new_status), now=now)
    if changed:
        delivery.wake()
    return StatusChange(ticket, changed)


def _status_notice(ticket: Ticket, status: TicketStatus) -> messages.Outgoing:
    key = "ticket-closed-client" if status is TicketStatus.CLOSED else "ticket-reopened-client"
    return messages.notice(
        ticket.client.user_id,
        messages.Audience.CLIENT,
        key,
        locale=ticket.client.language,
        ticket_id=ticket.id,
        number=ticket.id,
    )


async def _check_rate(uow: UnitOfWork, client_id: int, limit: int) -> None:
    since = datetime.now(UTC) - RATE_WINDOW
    count = await uow.tickets.count_recent_by_client(client_id, since)
    if count >= limit:
        oldest = await uow.tickets.oldest_recent_by_client(client_id, since)
        retry_at = (oldest or datetime.now(UTC)) + RATE_WINDOW
        raise TooManyTickets(count, retry_at)


async def send_full_text(
    store: Store,
    delivery: Wakeable,
    texts: Texts,
    *,
    ticket_id: int,
    manager_chat_id: int,
    reply_to_message_id: int | None,
) -> bool:
    """Queue a request's whole text for the managers, as replies to its card; False if there
    is no such request."""
    async with store.transaction() as uow:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None:
            return False
        parts = full_text_parts(texts, number=ticket.id, text=ticket.details_text(texts.locale))
        await uow.outbox.enqueue(
            *(
                # Taps (or a redelivered press) before the text is out add nothing.
                replace(
                    messages.text(
                        manager_chat_id,
                        messages.Audience.MANAGERS,
                        part,
                        ticket_id=ticket.id,
                        reply_to_message_id=reply_to_message_id,
                    ),
                    coalesce_key=f"full:{ticket.id}:{reply_to_message_id}:{index}",
                )
                for index, part in enumerate(parts)
            )
        )
    delivery.wake()
    return True


async def find_submission(store: Store, client_id: int, form_id: str) -> Ticket | None:
    """The ticket a client's form made, if it was sent."""
    async with store.read() as uow:
        return await uow.tickets.by_submission_key(f"{client_id}:{form_id}")
