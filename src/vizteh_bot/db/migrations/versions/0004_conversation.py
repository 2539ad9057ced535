"""A conversation around each request: message pairs, internal notes, who wrote last.

Every card already posted becomes a pair, so a manager's reply to an old card finds its
request too.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("last_message_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("last_message_from", sa.String(16)))
        batch.add_column(
            sa.Column("waiting_messages", sa.Integer, nullable=False, server_default="0")
        )
    op.create_table(
        "message_pairs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("message_id", sa.BigInteger, nullable=False),
        sa.Column("source_chat_id", sa.BigInteger),
        sa.Column("source_message_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_message_pairs_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message_pairs"),
    )
    op.create_index(
        "ix_message_pairs_chat_id_message_id", "message_pairs", ["chat_id", "message_id"]
    )
    op.create_index(
        "ix_message_pairs_source_chat_id_source_message_id",
        "message_pairs",
        ["source_chat_id", "source_message_id"],
    )
    op.create_table(
        "ticket_notes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("author_id", sa.BigInteger, nullable=False),
        sa.Column("author_name", sa.String(256), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_notes_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_notes"),
    )
    op.create_index("ix_ticket_notes_ticket_id", "ticket_notes", ["ticket_id"])

    tickets = sa.table(
        "tickets",
        sa.column("id", sa.BigInteger),
        sa.column("manager_chat_id", sa.BigInteger),
        sa.column("manager_message_id", sa.BigInteger),
    )
    pairs = sa.table(
        "message_pairs",
        sa.column("ticket_id", sa.BigInteger),
        sa.column("chat_id", sa.BigInteger),
        sa.column("message_id", sa.BigInteger),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as the bot's UtcDateTime stores it there
    op.execute(
        pairs.insert().from_select(
            ["ticket_id", "chat_id", "message_id", "created_at"],
            sa.select(
                tickets.c.id,
                tickets.c.manager_chat_id,
                tickets.c.manager_message_id,
                sa.literal(now, sa.DateTime(timezone=True)),
            ).where(tickets.c.manager_message_id.is_not(None)),
        )
    )


def downgrade() -> None:
    op.drop_table("ticket_notes")
    op.drop_table("message_pairs")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("waiting_messages")
        batch.drop_column("last_message_from")
        batch.drop_column("last_message_at")
