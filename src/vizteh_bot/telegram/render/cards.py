"""What a ticket looks like to the client (summary) and to managers (card)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.utils.text_decorations import html_decoration

from vizteh_bot.domain.tickets import Ticket, TicketStatus

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from vizteh_bot.texts import Texts

quote = html_decoration.quote


def form_summary(texts: Texts, form: dict[str, str], *, sent: bool = False) -> str:
    """The client's answers, to confirm before sending (or marked as sent afterwards)."""
    fields = texts(
        "form-summary-fields",
        name=quote(form["name"]),
        phone=quote(form["phone"]),
        text=quote(form["text"]),
    )
    return texts("form-sent-summary" if sent else "form-summary", fields=fields)


def manager_card(texts: Texts, ticket: Ticket, zone: ZoneInfo) -> str:
    status = texts(_STATUS_KEYS[ticket.status])
    if ticket.status_changed_at is not None and ticket.status_changed_by is not None:
        status = texts(
            "manager-card-status-changed",
            status=status,
            by=quote(ticket.status_changed_by),
            at=_when(ticket.status_changed_at, zone),
        )
    return texts(
        "manager-card",
        status_icon="🆕" if ticket.status is TicketStatus.OPEN else "☑️",
        number=ticket.id,
        created_at=_when(ticket.created_at, zone),
        name=quote(ticket.name),
        phone=quote(ticket.phone),
        profile=_profile_link(ticket),
        text=quote(ticket.text),
        status=status,
    )


DIGEST_SEPARATOR = "\n\n— — —\n\n"
# Telegram's limit is 4096 characters after parsing; markup only makes the source longer.
MESSAGE_LIMIT = 4096


def manager_message(texts: Texts, tickets: list[Ticket], zone: ZoneInfo) -> str:
    """One ticket's card, or a digest of several when a backlog made us group them."""
    if len(tickets) == 1:
        return manager_card(texts, tickets[0], zone)
    body = DIGEST_SEPARATOR.join(manager_card(texts, ticket, zone) for ticket in tickets)
    return texts("manager-digest", count=len(tickets), cards=body)


def fit_digest(texts: Texts, tickets: list[Ticket], zone: ZoneInfo, most: int) -> int:
    """How many of `tickets`, from the first, fit in one message (at least one)."""
    count = 1
    while count < min(most, len(tickets)):
        if len(manager_message(texts, tickets[: count + 1], zone)) > MESSAGE_LIMIT:
            break
        count += 1
    return count


_STATUS_KEYS = {
    TicketStatus.OPEN: "manager-status-open",
    TicketStatus.CLOSED: "manager-status-closed",
}


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%d.%m.%Y %H:%M} ({local.tzname()})"


def _profile_link(ticket: Ticket) -> str:
    client = ticket.client
    link = f'<a href="tg://user?id={client.user_id}">{quote(client.full_name)}</a>'
    if client.username:
        return f"{link} (@{quote(client.username)})"
    return link
