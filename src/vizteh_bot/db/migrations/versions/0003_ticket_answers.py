"""Tickets keep the form's answers and fields as JSON, since the form comes from a file.

Every existing ticket is carried over: its name, phone and text become the answers of the
three fields the bot asked before forms could be changed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# As domain/tickets.py LEGACY_FIELDS, frozen here: a migration never changes with the code.
LEGACY_FIELDS: list[dict[str, object]] = [
    {"id": "name", "type": "text", "labels": {"ru": "👤 Имя", "en": "👤 Name"}},
    {"id": "phone", "type": "phone", "labels": {"ru": "📞 Телефон", "en": "📞 Phone"}},
    {"id": "text", "type": "text", "labels": {"ru": "📝 Что нужно", "en": "📝 Request"}},
]
for _field in LEGACY_FIELDS:
    _field["main"] = _field["id"] == "text"
BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("answers", sa.Text))
        batch.add_column(sa.Column("form_fields", sa.Text))
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.BigInteger),
        sa.column("name", sa.String),
        sa.column("phone", sa.String),
        sa.column("text", sa.Text),
        sa.column("answers", sa.Text),
        sa.column("form_fields", sa.Text),
    )
    connection = op.get_bind()
    fields = json.dumps(LEGACY_FIELDS, ensure_ascii=False)
    last = 0
    while True:
        rows = connection.execute(
            sa.select(tickets.c.id, tickets.c.name, tickets.c.phone, tickets.c.text)
            .where(tickets.c.id > last)
            .order_by(tickets.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            answers = {"name": row.name, "phone": row.phone, "text": row.text}
            connection.execute(
                tickets.update()
                .where(tickets.c.id == row.id)
                .values(answers=json.dumps(answers, ensure_ascii=False), form_fields=fields)
            )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("form_fields")
        batch.drop_column("answers")
