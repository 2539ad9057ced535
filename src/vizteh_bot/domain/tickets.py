"""Tickets, their statuses and the people behind them; no Telegram or database here."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


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
class NewTicket:
    client: Client
    name: str
    phone: str
    text: str
    submission_key: str


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
