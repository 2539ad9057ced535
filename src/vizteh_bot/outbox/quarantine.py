"""What the managers are shown when a message goes to quarantine.

A card that cannot be sent is replaced by a plain-text card with the request's details; any
other message that cannot be sent is announced in one line. Neither is made for a message
that was itself for the managers and plain already: that would only fail again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.db.repositories.tickets import UnreadableTicket
from vizteh_bot.outbox import messages
from vizteh_bot.outbox.messages import Audience, OutboxKind
from vizteh_bot.telegram.render.fallback import failed_notice, fallback_card

if TYPE_CHECKING:
    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.outbox.messages import OutboxMessage, Outgoing
    from vizteh_bot.texts import Texts

_CARD_KINDS = frozenset({OutboxKind.CARD.value, OutboxKind.CARD_REFRESH.value})


def fallback_for(
    texts: Texts,
    message: OutboxMessage,
    ticket: Ticket | UnreadableTicket | None,
    error: str,
    manager_chat_id: int,
) -> Outgoing | None:
    """The managers' replacement for `message`, which goes to quarantine with `error`."""
    if message.kind in _CARD_KINDS and ticket is not None:
        return messages.text(
            manager_chat_id,
            Audience.MANAGERS,
            _card_text(texts, ticket, error),
            ticket_id=message.ticket_id,
        )
    if message.for_managers and message.kind == OutboxKind.TEXT.value:
        return None
    return messages.text(
        manager_chat_id,
        Audience.MANAGERS,
        failed_notice(texts, number=message.ticket_id, chat_id=message.chat_id, error=error),
        ticket_id=message.ticket_id,
    )


def _card_text(texts: Texts, ticket: Ticket | UnreadableTicket, error: str) -> str:
    if isinstance(ticket, UnreadableTicket):
        row = ticket.row
        return fallback_card(
            texts,
            number=ticket.ticket_id,
            name=str(row.get("name", "")),
            phone=str(row.get("phone", "")),
            client_id=int(row.get("client_id") or 0),
            text=str(row.get("text", "")),
            error=error,
        )
    return fallback_card(
        texts,
        number=ticket.id,
        name=ticket.name,
        phone=ticket.phone,
        client_id=ticket.client.user_id,
        text=ticket.details_text(texts.locale),
        error=error,
    )
