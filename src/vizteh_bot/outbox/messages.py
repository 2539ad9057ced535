"""What the outbox carries: each row a kind with a typed payload, and who it is for.

A service decides which messages a change owes and writes them with the change (see
services/); the worker sends each kind with its one sender (outbox/senders.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from datetime import datetime


class OutboxKind(enum.StrEnum):
    CARD = "card"  # a new request's card for the managers (digested in a backlog)
    CARD_REFRESH = "card_refresh"  # re-render the message that shows a ticket's card
    NOTICE = "notice"  # a text from the locale files, rendered when sent
    TEXT = "text"  # a text rendered already (plain or HTML), with a keyboard
    COPY = "copy"  # a copy of a message in another chat (copyMessage)
    DEFERRED_CALL = "deferred_call"  # a direct reply Telegram would not take in time
    RELAY = "relay"  # a person's message passed on: as text with entities, or a copy
    RELAY_EDIT = "relay_edit"  # a person edited a relayed message: the copy follows
    REACTION = "reaction"  # a quiet mark on a person's message; best effort


class Audience(enum.StrEnum):
    # Managers' messages are never given up: the chat will be fixed, the request kept.
    MANAGERS = "managers"
    CLIENT = "client"


class Priority(enum.IntEnum):
    NEW = 0
    # Card refreshes are cosmetic: a new request's card goes before them.
    REFRESH = 1


class _Payload(BaseModel):
    # Fields a newer version adds are ignored, not fatal.
    model_config = ConfigDict(frozen=True, extra="ignore")


_P = TypeVar("_P", bound=_Payload)


class NoticePayload(_Payload):
    key: str
    args: dict[str, str | int] = {}
    locale: str
    remove_keyboard: bool = False
    reply_to_message_id: int | None = None


class TextPayload(_Payload):
    text: str
    html: bool = False
    reply_to_message_id: int | None = None
    reply_markup: dict[str, Any] | None = None


class CopyPayload(_Payload):
    from_chat_id: int
    message_id: int
    reply_to_message_id: int | None = None


class RelayPayload(_Payload):
    """One Telegram message of a relay. With `text`, a message of that text and entities;
    otherwise a copy of `from_chat_id`/`message_id`, its caption replaced when `caption`
    is set. Copies in a row of one album go out as one album."""

    text: str | None = None
    entities: list[dict[str, Any]] = []
    from_chat_id: int | None = None
    message_id: int | None = None
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = []
    media_group_id: str | None = None
    reply_to_message_id: int | None = None
    # The person's message this passes on: its copy is paired with it, for replies and
    # edits. None for a line the bot adds (a header).
    source_chat_id: int | None = None
    source_message_id: int | None = None
    # Mark the person's message once this is delivered.
    react: bool = False
    # Where to say so when it cannot be delivered (a manager's message in their chat).
    report_chat_id: int | None = None
    report_message_id: int | None = None


class RelayEditPayload(_Payload):
    """A person edited `source_*`: its copy in this row's chat (found when sent, so an edit
    made before the copy went out still reaches it) shows the new content."""

    source_chat_id: int
    source_message_id: int
    text: str | None = None
    entities: list[dict[str, Any]] = []
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = []


class ReactionPayload(_Payload):
    message_id: int
    emoji: str


class DeferredCallPayload(_Payload):
    method: str
    params: dict[str, Any]


PAYLOAD_TYPES: dict[OutboxKind, type[_Payload] | None] = {
    OutboxKind.CARD: None,
    OutboxKind.CARD_REFRESH: None,
    OutboxKind.NOTICE: NoticePayload,
    OutboxKind.TEXT: TextPayload,
    OutboxKind.COPY: CopyPayload,
    OutboxKind.DEFERRED_CALL: DeferredCallPayload,
    OutboxKind.RELAY: RelayPayload,
    OutboxKind.RELAY_EDIT: RelayEditPayload,
    OutboxKind.REACTION: ReactionPayload,
}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to write to the outbox."""

    kind: OutboxKind
    chat_id: int
    audience: Audience
    ticket_id: int | None = None
    payload: _Payload | None = None
    priority: Priority = Priority.NEW
    coalesce_key: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A row claimed for delivery. `kind` stays a string: a newer version may have written
    one this version does not know, and that must not stop the others."""

    id: int
    kind: str
    chat_id: int
    audience: str
    ticket_id: int | None
    payload: str | None
    attempts: int
    created_at: datetime

    @property
    def for_managers(self) -> bool:
        return self.audience != Audience.CLIENT

    def known_kind(self) -> OutboxKind | None:
        try:
            return OutboxKind(self.kind)
        except ValueError:
            return None

    def parsed(self, model: type[_P]) -> _P:
        """The payload as `model` (raises pydantic's ValidationError when unreadable)."""
        return model.model_validate_json(self.payload or "{}")


def card(ticket_id: int, manager_chat_id: int) -> Outgoing:
    return Outgoing(OutboxKind.CARD, manager_chat_id, Audience.MANAGERS, ticket_id)


def card_refresh(ticket_id: int, manager_chat_id: int) -> Outgoing:
    return Outgoing(
        OutboxKind.CARD_REFRESH,
        manager_chat_id,
        Audience.MANAGERS,
        ticket_id,
        priority=Priority.REFRESH,
        coalesce_key=f"refresh:{ticket_id}",
    )


def notice(
    chat_id: int,
    audience: Audience,
    key: str,
    *,
    locale: str,
    ticket_id: int | None = None,
    remove_keyboard: bool = False,
    reply_to_message_id: int | None = None,
    **args: str | int,
) -> Outgoing:
    payload = NoticePayload(
        key=key,
        args=args,
        locale=locale,
        remove_keyboard=remove_keyboard,
        reply_to_message_id=reply_to_message_id,
    )
    return Outgoing(OutboxKind.NOTICE, chat_id, audience, ticket_id, payload)


def text(
    chat_id: int,
    audience: Audience,
    body: str,
    *,
    html: bool = False,
    ticket_id: int | None = None,
    reply_to_message_id: int | None = None,
) -> Outgoing:
    payload = TextPayload(text=body, html=html, reply_to_message_id=reply_to_message_id)
    return Outgoing(OutboxKind.TEXT, chat_id, audience, ticket_id, payload)


def copy(
    chat_id: int,
    audience: Audience,
    *,
    from_chat_id: int,
    message_id: int,
    ticket_id: int | None = None,
    reply_to_message_id: int | None = None,
) -> Outgoing:
    payload = CopyPayload(
        from_chat_id=from_chat_id, message_id=message_id, reply_to_message_id=reply_to_message_id
    )
    return Outgoing(OutboxKind.COPY, chat_id, audience, ticket_id, payload)


def deferred_call(
    chat_id: int, audience: Audience, method: str, params: dict[str, Any]
) -> Outgoing:
    payload = DeferredCallPayload(method=method, params=params)
    return Outgoing(OutboxKind.DEFERRED_CALL, chat_id, audience, payload=payload)


def relay(chat_id: int, audience: Audience, ticket_id: int, payload: RelayPayload) -> Outgoing:
    return Outgoing(OutboxKind.RELAY, chat_id, audience, ticket_id, payload)


def relay_edit(
    chat_id: int, audience: Audience, ticket_id: int, payload: RelayEditPayload
) -> Outgoing:
    return Outgoing(OutboxKind.RELAY_EDIT, chat_id, audience, ticket_id, payload)


def reaction(chat_id: int, audience: Audience, message_id: int, emoji: str) -> Outgoing:
    payload = ReactionPayload(message_id=message_id, emoji=emoji)
    return Outgoing(OutboxKind.REACTION, chat_id, audience, payload=payload)
