"""Tickets, their status events, the outbox, FSM state, chat migrations, blocked clients.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("submission_key", sa.String(64), nullable=False),
        sa.Column("client_id", sa.BigInteger, nullable=False),
        sa.Column("client_full_name", sa.String(256), nullable=False),
        sa.Column("client_username", sa.String(64)),
        sa.Column("client_language", sa.String(16), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("status_changed_at", Timestamp),
        sa.Column("status_changed_by", sa.String(256)),
        sa.Column("manager_chat_id", sa.BigInteger),
        sa.Column("manager_message_id", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("submission_key", name="uq_tickets_submission_key"),
    )
    op.create_index("ix_tickets_status", "tickets", ["status"])
    op.create_index("ix_tickets_client_id", "tickets", ["client_id"])

    op.create_table(
        "ticket_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("old_status", sa.String(16)),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.BigInteger, nullable=False),
        sa.Column("actor_name", sa.String(256), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_events_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])

    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("ticket_id", Id),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("next_attempt_at", Timestamp, nullable=False),
        sa.Column("locked_until", Timestamp),
        sa.Column("locked_by", sa.String(64)),
        sa.Column("sent_at", Timestamp),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_outbox_ticket_id_tickets", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_chat_id_state", "outbox", ["chat_id", "state"])

    op.create_table(
        "fsm_states",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("state", sa.String(100)),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_fsm_states"),
    )
    op.create_table(
        "chat_migrations",
        sa.Column("old_chat_id", sa.BigInteger, nullable=False),
        sa.Column("new_chat_id", sa.BigInteger, nullable=False),
        sa.Column("migrated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("old_chat_id", name="pk_chat_migrations"),
    )
    op.create_table(
        "blocked_clients",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("blocked_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_blocked_clients"),
    )


def downgrade() -> None:
    for table in ("blocked_clients", "chat_migrations", "fsm_states", "outbox", "ticket_events"):
        op.drop_table(table)
    op.drop_table("tickets")
