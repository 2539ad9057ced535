"""What clients really type: control characters, invisible names, answers typed twice,
texts at the limit full of `&` or emoji, a database that does not answer for a while."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.client_flow import (
    ASK_TEXT,
    RU,
    fill_form,
    fsm_rows,
    fsm_state,
    open_form,
    send_form,
    wait_card,
)
from support.db_faults import table_locked
from support.fake_bot_api import ApiCall, FakeBotAPI
from support.fake_objects import render_html, utf16_len
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser
from vizteh_bot.db.engine import POSTGRES_TIMEOUT_SECONDS, SQLITE_BUSY_TIMEOUT_SECONDS

DATABASE_PATIENCE = max(POSTGRES_TIMEOUT_SECONDS, SQLITE_BUSY_TIMEOUT_SECONDS)
PHONE_STEP = "TicketForm:answering:phone"
TEXT_STEP = "TicketForm:answering:text"


async def test_control_characters_are_cleaned_before_they_are_checked_or_stored(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    mark = api.mark()
    summary = await fill_form(
        client, name="Ан\x00на\x07", phone="+7 916\x00 123-45-67", text="Сайт\x00\r\nи\x1b бот"
    )
    assert "👤 Имя: Анна\n" in (summary.text or "")
    await send_form(client, api, summary, 1)
    card = await wait_card(api, mark, 1)
    assert "Анна" in (card.text or "")
    [row] = await bot.rows("SELECT name, phone, text FROM tickets")
    assert row == {"name": "Анна", "phone": "+79161234567", "text": "Сайт\nи бот"}


async def test_a_name_nobody_can_see_is_refused_as_empty(
    bot: RunningBot, client: TelegramUser
) -> None:
    await open_form(client)
    answer = await client.send("\u200b\u200d \u2060")
    assert answer.text == RU("error-name-empty")
    assert await fsm_state(bot, client) == "TicketForm:answering:name"


async def test_the_same_answer_typed_twice_before_the_bot_answered_is_read_once(
    bot: RunningBot, client: TelegramUser
) -> None:
    await open_form(client)
    await client.send("Анна")
    client.send_nowait("+7 916 123-45-67")
    client.send_nowait("+7 916 123-45-67")  # the bot seemed slow, so typed again

    assert (await client.expect("sendMessage")).text == ASK_TEXT
    await client.quiet(0.5)
    assert await fsm_state(bot, client) == TEXT_STEP
    summary = await client.send("Нужен сайт")
    assert "📝 Что нужно:\nНужен сайт" in (summary.text or "")


async def test_a_database_that_does_not_answer_fails_the_step_and_keeps_the_question(
    bot: RunningBot, client: TelegramUser, database: dict[str, Any]
) -> None:
    await open_form(client)
    await client.send("Анна")
    async with table_locked(database, "fsm_states", seconds=2 * DATABASE_PATIENCE + 1):
        failed = await client.send("+7 916 123-45-67", timeout=3 * DATABASE_PATIENCE + 5)
    assert failed.text == RU("error-db-unavailable")
    assert await fsm_state(bot, client) == PHONE_STEP

    # Typed again once it answers: it is the phone, not the request text.
    assert (await client.send("+7 916 123-45-67", timeout=15)).text == ASK_TEXT
    rows = await fsm_rows(bot)
    assert '"phone": "+79161234567"' in rows[0]["data"]
    assert json.loads(rows[0]["data"])["answers"] == {"name": "Анна", "phone": "+79161234567"}


@pytest.mark.parametrize(
    "text",
    [
        ("Цена & сроки <b>срочно</b> " * 100)[:1850] + "&" * 150,
        "😀" * 2000,
    ],
    ids=["150-ampersands", "2000-emoji"],
)
async def test_a_text_at_the_limit_goes_through_and_is_one_tap_away_in_full(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat, text: str
) -> None:
    assert len(text) == 2000
    mark = api.mark()
    summary = await fill_form(client, text=text)
    shown = render_html(summary.text or "")
    assert utf16_len(shown) <= 4096
    await send_form(client, api, summary, 1)
    card = await wait_card(api, mark, 1)
    [row] = await bot.rows("SELECT text FROM tickets")
    assert row["text"] == text
    visible = render_html(card.text or "")
    assert utf16_len(visible) <= 4096
    if text in visible:
        return
    # Shortened: the whole text is one button away, as replies to the card.
    press_mark = api.mark()
    await manager.click("📄 Весь текст", card)
    parts: list[str] = []
    while "".join(parts) != text:
        part = await api.wait_for_call(is_full_text_part, start=press_mark)
        press_mark = part.seq + 1
        reply = part.params.get("reply_parameters") or {}
        assert reply.get("message_id") == card.message_id
        parts.append((part.text or "").split("\n", 1)[1])


def is_full_text_part(call: ApiCall) -> bool:
    return (
        call.method == "sendMessage"
        and call.chat_id == MANAGER_CHAT_ID
        and call.ok
        and "весь текст" in (call.text or "")
    )
