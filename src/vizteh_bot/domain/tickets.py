"""Tickets, their statuses and the people behind them; no Telegram or database here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from vizteh_bot.domain.form import Form


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Client:
    user_id: int
    full_name: str
    username: str | None
    language: str


@dataclass(frozen=True, slots=True)
class AnsweredField:
    """A field of the form as it was when the ticket was made: changing the form file later
    never changes how an old ticket reads."""

    id: str
    type: str
    labels: Mapping[str, str]
    # The request's text: shown last and in full where there is room.
    main: bool = False

    def label(self, locale: str) -> str:
        return self.labels.get(locale) or next(iter(self.labels.values()), self.id)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "labels": dict(self.labels), "main": self.main}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> AnsweredField:
        return cls(
            id=str(value["id"]),
            type=str(value.get("type", "text")),
            labels={str(k): str(v) for k, v in dict(value.get("labels") or {}).items()},
            main=bool(value.get("main", False)),
        )


def answered_fields(form: Form) -> tuple[AnsweredField, ...]:
    main = form.main_text_field
    return tuple(
        AnsweredField(f.id, f.type.value, dict(f.labels), main=f is main) for f in form.fields
    )


# The fields of every ticket made before forms came from a file.
LEGACY_FIELDS = (
    AnsweredField("name", "text", {"ru": "👤 Имя", "en": "👤 Name"}),
    AnsweredField("phone", "phone", {"ru": "📞 Телефон", "en": "📞 Phone"}),
    AnsweredField("text", "text", {"ru": "📝 Что нужно", "en": "📝 Request"}, main=True),
)


@dataclass(frozen=True, slots=True)
class Note:
    """A manager's internal note on a request: never sent to the client."""

    author: str
    text: str
    created_at: datetime


class Speaker(enum.StrEnum):
    CLIENT = "client"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class NewTicket:
    client: Client
    name: str
    phone: str
    text: str
    submission_key: str
    answers: Mapping[str, str | None] = field(default_factory=dict)
    fields: tuple[AnsweredField, ...] = LEGACY_FIELDS


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    client: Client
    name: str
    phone: str
    text: str
    status: TicketStatus
    created_at: datetime
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    manager_chat_id: int | None = None
    manager_message_id: int | None = None
    answers: Mapping[str, str | None] = field(default_factory=dict)
    fields: tuple[AnsweredField, ...] = LEGACY_FIELDS
    # The conversation (see services/conversation.py).
    last_message_at: datetime | None = None
    last_message_from: Speaker | None = None
    waiting_messages: int = 0
    notes: tuple[Note, ...] = ()
    client_blocked: bool = False

    def shown_answers(self) -> list[tuple[AnsweredField, str | None]]:
        """Each field the client was asked with its answer (None: skipped), in the form's
        order. A ticket without stored answers (made by hand) shows its columns."""
        answers = self.answers or {"name": self.name, "phone": self.phone, "text": self.text}
        return [(f, answers[f.id]) for f in self.fields if f.id in answers]

    def details_text(self, locale: str) -> str:
        """Plain text of the answers but the name and the phone (shown on their own), as
        "label: answer" lines with the request text last; only the text when that is all
        there is (the default form)."""
        phone = next((f.id for f in self.fields if f.type == "phone"), None)
        lines, text = [], ""
        for item, value in self.shown_answers():
            if value is None:
                continue
            if item.main:
                text = f"{item.label(locale)}:\n{value}"
            elif item.id not in ("name", phone):
                lines.append(f"{item.label(locale)}: {value}")
        if not lines:
            return self.text
        return "\n".join([*lines, text] if text else lines)


# As long as the columns that keep a copy of the name and the phone (db/models.py).
NAME_COLUMN_LENGTH = 256
PHONE_COLUMN_LENGTH = 32


def new_ticket(
    client: Client, form: Form, answers: Mapping[str, str | None], submission_key: str
) -> NewTicket:
    """A ticket of the client's answers to `form`. The name, phone and text are copied to
    their own columns (search, anti-spam); without a name field, the Telegram name is used."""
    kept = {f.id: answers.get(f.id) for f in form.fields}
    name_field, phone_field, main = form.name_field, form.phone_field, form.main_text_field
    name = (kept.get(name_field.id) if name_field else None) or client.full_name
    phone = (kept.get(phone_field.id) if phone_field else None) or ""
    return NewTicket(
        client=client,
        name=name[:NAME_COLUMN_LENGTH],
        phone=phone[:PHONE_COLUMN_LENGTH],
        text=(kept.get(main.id) if main else None) or "",
        submission_key=submission_key,
        answers=kept,
        fields=answered_fields(form),
    )
