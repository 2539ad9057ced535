"""Upgrading a database of the fixed form: every ticket gets its answers and fields."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from support.schema import upgrade
from vizteh_bot.config import Settings
from vizteh_bot.db.engine import create_database
from vizteh_bot.db.uow import Store
from vizteh_bot.telegram.render.cards import manager_message
from vizteh_bot.texts import Translations


async def test_tickets_of_the_fixed_form_are_carried_over(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    if not settings.uses_postgres:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings, "0002")
    database = create_database(settings)
    old: list[dict[str, Any]] = [
        {"name": "Анна <b>", "phone": "+79161234567", "text": "Нужен сайт & магазин\nсрочно"},
        {"name": "محمد", "phone": "+971501234567", "text": "🚀" * 2000},
    ]
    try:
        async with database.begin() as connection:
            for number, values in enumerate(old, start=1):
                await connection.execute(
                    text(
                        "INSERT INTO tickets (submission_key, client_id, client_full_name,"
                        " client_language, name, phone, text, status, created_at)"
                        " VALUES (:key, :client, 'Клиент', 'ru', :name, :phone, :text, 'open',"
                        " :created)"
                    ),
                    {"key": f"k{number}", "client": 5000 + number, "created": datetime.now(UTC)}
                    | values,
                )
        await asyncio.to_thread(upgrade, settings, "head")

        async with Store(database).read() as uow:
            tickets = [await uow.tickets.get(number) for number in (1, 2)]
        async with database.connect() as connection:
            stored = (await connection.execute(text("SELECT answers FROM tickets"))).all()
    finally:
        await database.dispose()

    for ticket, values in zip(tickets, old, strict=True):
        assert ticket is not None
        assert dict(ticket.answers) == values
        assert [(f.id, f.main) for f in ticket.fields] == [
            ("name", False),
            ("phone", False),
            ("text", True),
        ]
    assert {json.loads(row[0])["name"] for row in stored} == {"Анна <b>", "محمد"}
    texts = Translations().for_language("ru")
    card = manager_message(texts, [tickets[0]], settings.zone)  # type: ignore[list-item]
    assert "👤 Имя: Анна &lt;b&gt;\n📞 Телефон: +79161234567\n💬 Telegram: " in card.html
    assert "📝 Что нужно:\nНужен сайт &amp; магазин\nсрочно\n" in card.html
