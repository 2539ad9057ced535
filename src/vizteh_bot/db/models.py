"""The schema, as SQLAlchemy Core tables: one definition for PostgreSQL and SQLite.

Core rather than ORM classes: the repository needs plain rows, and skipping the unit of
work keeps each query cheap on the hot path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
)

# SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both backends (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("submission_key", String(64), nullable=False, unique=True),
    Column("client_id", BigInteger, nullable=False, index=True),
    Column("client_full_name", String(256), nullable=False),
    Column("client_username", String(64)),
    Column("client_language", String(16), nullable=False),
    Column("name", String(256), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status_changed_at", UtcDateTime),
    Column("status_changed_by", String(256)),
    Column("manager_chat_id", BigInteger),
    Column("manager_message_id", BigInteger),
    # JSON: field id → answer (null when skipped), and the form's fields as they were then
    # (domain/tickets.py AnsweredField). `name`, `phone` and `text` copy three of them.
    Column("answers", Text),
    Column("form_fields", Text),
    # The conversation: when and from whom ("client" or "manager") the last relayed message
    # came, and how many of the client's wait for a manager's answer.
    Column("last_message_at", UtcDateTime),
    Column("last_message_from", String(16)),
    Column("waiting_messages", Integer, nullable=False, default=0, server_default="0"),
)

# Each message the bot posted for a request, and what it copies (a relayed message's
# original): a reply finds its request here, an edit finds its copies.
message_pairs = Table(
    "message_pairs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("source_chat_id", BigInteger),
    Column("source_message_id", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_message_pairs_chat_id_message_id", "chat_id", "message_id"),
    Index(
        "ix_message_pairs_source_chat_id_source_message_id", "source_chat_id", "source_message_id"
    ),
)

# Managers' internal notes on a request: listed on its card, never sent to the client.
ticket_notes = Table(
    "ticket_notes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", BigInteger, nullable=False),
    Column("author_name", String(256), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_ticket_notes_ticket_id", "ticket_id"),
)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("old_status", String(16)),
    Column("new_status", String(16), nullable=False),
    Column("actor_id", BigInteger, nullable=False),
    Column("actor_name", String(256), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_ticket_events_ticket_id", "ticket_id"),
)

# Messages that must reach Telegram, written in the same transaction as the change that
# causes them and delivered by the outbox worker (see outbox/worker.py). `payload` is the
# kind's JSON (outbox/messages.py); `priority` 0 goes before 1 (new requests before card
# refreshes); a pending row with a `coalesce_key` stands for every later one with the same.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE")),
    Column("audience", String(16), nullable=False, default="managers"),
    Column("priority", SmallInteger, nullable=False, default=0),
    Column("payload", Text),
    Column("coalesce_key", String(64)),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),
    Column("locked_by", String(64)),
    Column("sent_at", UtcDateTime),
    Column("message_id", BigInteger),
    Column("last_error", Text),
    Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
    Index("ix_outbox_chat_id_state", "chat_id", "state"),
    Index("ix_outbox_coalesce_key_state", "coalesce_key", "state"),
)

# aiogram FSM state, so a client half-way through the form survives a restart.
fsm_states = Table(
    "fsm_states",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("state", String(100)),
    Column("data", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Chats that a group upgrade moved: Telegram answers the old id with migrate_to_chat_id.
chat_migrations = Table(
    "chat_migrations",
    metadata,
    Column("old_chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("new_chat_id", BigInteger, nullable=False),
    Column("migrated_at", UtcDateTime, nullable=False),
)

# How far polling got, per bot: updates below `watermark` and those listed in `done` were
# handled, so one Telegram delivers again after a crash is skipped rather than redone.
update_ledger = Table(
    "update_ledger",
    metadata,
    Column("bot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("watermark", BigInteger, nullable=False),
    Column("done", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Clients who blocked the bot: what we owe them is recorded, not retried forever.
blocked_clients = Table(
    "blocked_clients",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("blocked_at", UtcDateTime, nullable=False),
)
