"""What the bot does, as plain functions the handlers call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from vizteh_bot.domain.tickets import Client, NewTicket, TicketStatus

if TYPE_CHECKING:
    from vizteh_bot.db.repositories.tickets import Actor, StatusChange, TicketRepository
    from vizteh_bot.domain.tickets import Ticket

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


async def ensure_may_submit(tickets: TicketRepository, client_id: int, limit: int) -> None:
    """Raise TooManyTickets when the client has used up this hour's requests."""
    since = datetime.now(UTC) - RATE_WINDOW
    count = await tickets.count_recent_by_client(client_id, since)
    if count >= limit:
        oldest = await tickets.oldest_recent_by_client(client_id, since)
        retry_at = (oldest or datetime.now(UTC)) + RATE_WINDOW
        raise TooManyTickets(count, retry_at)


async def submit_ticket(
    tickets: TicketRepository,
    delivery: Wakeable,
    *,
    client: Client,
    form: dict[str, str],
    manager_chat_id: int,
    limit_per_hour: int,
) -> Submission:
    """Commit the ticket with its outgoing messages, then wake the outbox worker.

    The form's id is the idempotency key: a double tap or a replayed update finds the
    ticket the first one created.
    """
    new = NewTicket(
        client=client,
        name=form["name"],
        phone=form["phone"],
        text=form["text"],
        submission_key=f"{client.user_id}:{form['form_id']}",
    )
    existing = await tickets.find_by_submission_key(new.submission_key)
    if existing is not None:
        return Submission(existing, created=False)
    await ensure_may_submit(tickets, client.user_id, limit_per_hour)
    ticket, created = await tickets.create(new, manager_chat_id)
    if created:
        delivery.wake()
    return Submission(ticket, created)


async def change_status(
    tickets: TicketRepository,
    delivery: Wakeable,
    *,
    ticket_id: int,
    new_status: TicketStatus,
    actor: Actor,
    manager_chat_id: int,
) -> StatusChange:
    change = await tickets.set_status(ticket_id, new_status, actor, manager_chat_id)
    if change.changed:
        delivery.wake()
    return change
