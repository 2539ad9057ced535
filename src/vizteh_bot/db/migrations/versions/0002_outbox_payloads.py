"""The outbox carries what to send: kind + payload, audience, priority, coalescing; polling ledger.

Pending rows of the old kinds are carried over: `ticket_card` becomes `card`, and
`client_confirmation` becomes a `notice` of «ticket-accepted» in the client's language.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("audience", sa.String(16), nullable=False, server_default="managers")
        )
        batch.add_column(
            sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("payload", sa.Text))
        batch.add_column(sa.Column("coalesce_key", sa.String(64)))
        batch.create_index("ix_outbox_coalesce_key_state", ["coalesce_key", "state"])

    outbox = sa.table(
        "outbox",
        sa.column("id", sa.BigInteger),
        sa.column("kind", sa.String),
        sa.column("ticket_id", sa.BigInteger),
        sa.column("audience", sa.String),
        sa.column("priority", sa.SmallInteger),
        sa.column("payload", sa.Text),
        sa.column("coalesce_key", sa.String),
    )
    tickets = sa.table(
        "tickets", sa.column("id", sa.BigInteger), sa.column("client_language", sa.String)
    )
    connection = op.get_bind()
    connection.execute(outbox.update().where(outbox.c.kind == "ticket_card").values(kind="card"))
    connection.execute(
        outbox.update()
        .where(outbox.c.kind == "card_refresh")
        .values(
            priority=1,
            coalesce_key=sa.literal("refresh:") + sa.cast(outbox.c.ticket_id, sa.String),
        )
    )
    confirmations = connection.execute(
        sa.select(outbox.c.id, outbox.c.ticket_id, tickets.c.client_language)
        .select_from(outbox.join(tickets, tickets.c.id == outbox.c.ticket_id))
        .where(outbox.c.kind == "client_confirmation")
    ).all()
    for row in confirmations:
        payload = {
            "key": "ticket-accepted",
            "args": {"number": row.ticket_id},
            "locale": row.client_language,
            "remove_keyboard": True,
        }
        connection.execute(
            outbox.update()
            .where(outbox.c.id == row.id)
            .values(kind="notice", audience="client", payload=json.dumps(payload))
        )

    op.create_table(
        "update_ledger",
        sa.Column("bot_id", sa.BigInteger, nullable=False),
        sa.Column("watermark", sa.BigInteger, nullable=False),
        sa.Column("done", sa.Text, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("bot_id", name="pk_update_ledger"),
    )


def downgrade() -> None:
    op.drop_table("update_ledger")
    connection = op.get_bind()
    outbox = sa.table("outbox", sa.column("kind", sa.String), sa.column("payload", sa.Text))
    connection.execute(outbox.update().where(outbox.c.kind == "card").values(kind="ticket_card"))
    connection.execute(
        outbox.update().where(outbox.c.kind == "notice").values(kind="client_confirmation")
    )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_coalesce_key_state")
        for column in ("coalesce_key", "payload", "priority", "audience"):
            batch.drop_column(column)
