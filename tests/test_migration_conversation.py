"""Upgrading to the conversation: a card posted before it still leads a reply to its client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from support.fake_bot_api import FakeBotAPI
from support.fake_objects import BOT_USER, chat_dict, message_dict
from support.relay_flow import relayed
from support.schema import upgrade
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser
from vizteh_bot.config import Settings
from vizteh_bot.db.engine import create_database

OLD_CARD = 40


async def test_a_reply_to_a_card_posted_before_the_upgrade_reaches_its_client(
    make_settings: Callable[..., Settings],
    start_bot: Callable[..., Any],
    api: FakeBotAPI,
    client: TelegramUser,
    manager: ManagerChat,
) -> None:
    settings = make_settings()
    if not settings.uses_postgres:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings, "0003")
    database = create_database(settings)
    try:
        async with database.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO tickets (submission_key, client_id, client_full_name,"
                    " client_language, name, phone, text, status, created_at,"
                    " manager_chat_id, manager_message_id)"
                    " VALUES ('k1', :client, 'Анна', 'ru', 'Анна', '+79161234567', 'Сайт',"
                    " 'open', :created, :chat, :card)"
                ),
                {
                    "client": client.user_id,
                    "created": datetime.now(UTC),
                    "chat": MANAGER_CHAT_ID,
                    "card": OLD_CARD,
                },
            )
    finally:
        await database.dispose()

    bot = await start_bot()
    [pair] = await bot.rows("SELECT ticket_id, chat_id, message_id FROM message_pairs")
    assert pair == {"ticket_id": 1, "chat_id": MANAGER_CHAT_ID, "message_id": OLD_CARD}
    [ticket] = await bot.rows("SELECT waiting_messages, last_message_from FROM tickets")
    assert ticket == {"waiting_messages": 0, "last_message_from": None}

    card = message_dict(chat_dict(MANAGER_CHAT_ID), BOT_USER, OLD_CARD, text="🆕 Заявка №1")
    mark = api.mark()
    manager.send_text_nowait("Анна, добрый день!", reply_to=card)
    [sent] = await relayed(api, client.chat_id, mark)
    assert sent.params["text"] == "Анна, добрый день!\n\n— Олег, ВизТех"
