"""Moving around the form: back, cancel and editing a field from the summary."""

from __future__ import annotations

import pytest

from support.client_flow import (
    ASK_NAME,
    ASK_PHONE,
    ASK_TEXT,
    CONFIRMATION,
    FIELD_CHOICE,
    PHONE_INVALID,
    assert_cancelled,
    assert_plain,
    assert_question,
    fill_form,
    fsm_rows,
    fsm_state,
    no_failed_updates,
    open_form,
    reply_markup,
    summary_text,
)
from support.fake_bot_api import ApiCall, FakeBotAPI
from support.running_bot import RunningBot
from support.telegram_user import TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)

ANSWERS = ["Анна", "+7 916 123-45-67", "Нужен сайт"]
STEPS = [
    "TicketForm:answering:name",
    "TicketForm:answering:phone",
    "TicketForm:answering:text",
    "TicketForm:confirming",
]
QUESTIONS = [ASK_NAME, ASK_PHONE, ASK_TEXT]


async def press_reply_or_command(client: TelegramUser, how: str) -> ApiCall:
    if how.startswith("/"):
        return await client.send_command(how)
    return await client.send(how)


@pytest.mark.parametrize("how", ["⬅️ Назад", "/back"])
async def test_back_walks_to_the_previous_question_then_leaves(
    bot: RunningBot, client: TelegramUser, how: str
) -> None:
    summary = await fill_form(client, *ANSWERS)
    for step in (2, 1, 0):
        assert_question(await press_reply_or_command(client, how), QUESTIONS[step])
        assert await fsm_state(bot, client) == STEPS[step]
    assert_cancelled(await press_reply_or_command(client, how))
    assert await fsm_rows(bot) == []
    assert await bot.rows("SELECT id FROM tickets") == []
    # The summary shown before going back is not a way to send any more.
    answer = await client.click("✅ Отправить", summary)
    assert answer.params["text"] == "Эта кнопка устарела. Начните заново: /start"
    assert answer.params["show_alert"] is True


async def test_back_keeps_the_earlier_answers(bot: RunningBot, client: TelegramUser) -> None:
    await open_form(client)
    await client.send("Анна")
    await client.send("+7 916 123-45-67")
    assert_question(await client.send("⬅️ Назад"), ASK_PHONE)
    assert_question(await client.send("8 903 765-43-21"), ASK_TEXT)
    summary = await client.send("Текст")
    assert summary.text == summary_text("Анна", "+79037654321", "Текст")


@pytest.mark.parametrize("how", ["✖️ Отмена", "/cancel"])
@pytest.mark.parametrize("answered", [0, 1, 2, 3], ids=["name", "phone", "text", "confirm"])
async def test_cancel_at_any_step_clears_the_form(
    bot: RunningBot, client: TelegramUser, how: str, answered: int
) -> None:
    await open_form(client)
    for answer in ANSWERS[:answered]:
        await client.send(answer)
    assert await fsm_state(bot, client) == STEPS[answered]

    assert_cancelled(await press_reply_or_command(client, how))
    await client.quiet(0.2)
    assert await fsm_rows(bot) == []
    assert await bot.rows("SELECT id FROM tickets") == []
    assert await bot.rows("SELECT id FROM outbox") == []


async def test_inline_cancel_on_the_summary(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    summary = await fill_form(client)
    answer = await client.click("✖️ Отмена", summary)
    assert "text" not in answer.params
    unbuttoned = await client.expect("editMessageReplyMarkup")
    assert unbuttoned.message_id == summary.message_id
    assert reply_markup(unbuttoned) is None
    assert_cancelled(await client.expect("sendMessage"))
    stored = api.get_message(client.chat_id, summary.result["message_id"])
    assert stored is not None
    assert "reply_markup" not in stored
    assert await fsm_rows(bot) == []
    assert await bot.rows("SELECT id FROM tickets") == []


@pytest.mark.parametrize(
    ("button", "question", "new_value", "expected"),
    [
        ("👤 Имя", ASK_NAME, "Мария", ("Мария", "+79161234567", "Нужен сайт")),
        ("📞 Телефон", ASK_PHONE, "8 (903) 765-43-21", ("Анна", "+79037654321", "Нужен сайт")),
        (
            "📝 Что нужно",
            ASK_TEXT,
            "Нужно приложение",
            ("Анна", "+79161234567", "Нужно приложение"),
        ),
    ],
    ids=["name", "phone", "text"],
)
async def test_edit_a_field_returns_straight_to_the_summary(
    bot: RunningBot,
    client: TelegramUser,
    button: str,
    question: str,
    new_value: str,
    expected: tuple[str, str, str],
) -> None:
    summary = await fill_form(client, *ANSWERS)
    asked = await client.click("✏️ Изменить", summary)
    assert asked.params["text"] == "Что изменить?"
    choice = await client.expect("editMessageReplyMarkup")
    assert choice.message_id == summary.message_id
    assert client.inline_buttons(choice) == FIELD_CHOICE

    await client.click(button, choice)
    unbuttoned = await client.expect("editMessageReplyMarkup")
    assert unbuttoned.message_id == summary.message_id
    assert reply_markup(unbuttoned) is None
    assert_question(await client.expect("sendMessage"), question)

    new_summary = await client.send(new_value)
    assert new_summary.text == summary_text(*expected)
    assert client.inline_buttons(new_summary) == CONFIRMATION
    assert await fsm_state(bot, client) == STEPS[3]

    await client.click("✅ Отправить", new_summary)
    sent = await client.expect("editMessageText")
    assert sent.message_id == new_summary.message_id
    assert sent.text == summary_text(*expected, sent=True)
    rows = await bot.rows("SELECT name, phone, text FROM tickets")
    assert rows == [dict(zip(("name", "phone", "text"), expected, strict=True))]


async def test_edit_with_an_invalid_answer_stays_on_that_field(
    bot: RunningBot, client: TelegramUser
) -> None:
    summary = await fill_form(client, *ANSWERS)
    asked = await client.click("✏️ Изменить", summary)
    assert asked.params["text"] == "Что изменить?"
    choice = await client.expect("editMessageReplyMarkup")
    await client.click("📞 Телефон", choice)
    await client.expect("sendMessage")
    assert_plain(await client.send("123"), PHONE_INVALID)
    assert await fsm_state(bot, client) == STEPS[1]
    assert (await client.share_contact("79037654321")).text == summary_text(
        "Анна", "+79037654321", "Нужен сайт"
    )


async def test_back_to_the_request_restores_the_confirmation_buttons(
    bot: RunningBot, client: TelegramUser
) -> None:
    summary = await fill_form(client)
    asked = await client.click("✏️ Изменить", summary)
    assert asked.params["text"] == "Что изменить?"
    choice = await client.expect("editMessageReplyMarkup")
    assert client.inline_buttons(choice) == FIELD_CHOICE
    answer = await client.click("⬅️ К заявке", choice)
    assert "text" not in answer.params
    restored = await client.expect("editMessageReplyMarkup")
    assert restored.message_id == summary.message_id
    assert client.inline_buttons(restored) == CONFIRMATION
    assert await fsm_state(bot, client) == STEPS[3]
    await client.quiet(0.2)


async def test_back_while_changing_an_answer_returns_to_the_summary(
    bot: RunningBot, client: TelegramUser
) -> None:
    summary = await fill_form(client, *ANSWERS)
    await client.click("✏️ Изменить", summary)
    choice = await client.expect("editMessageReplyMarkup")
    await client.click("📞 Телефон", choice)
    assert_question(
        await client.expect("sendMessage", predicate=lambda c: bool(c.text)), ASK_PHONE
    )

    again = await client.send("⬅️ Назад")

    assert again.text == summary_text("Анна", "+79161234567", "Нужен сайт")
    assert client.inline_buttons(again) == CONFIRMATION
    assert await fsm_state(bot, client) == STEPS[3]


async def test_send_on_an_older_summary_is_stale_and_the_newest_one_works(
    bot: RunningBot, client: TelegramUser
) -> None:
    old_summary = await fill_form(client, *ANSWERS)
    await client.send("⬅️ Назад")
    new_summary = await client.send("Нужен лендинг")

    stale = await client.click("✅ Отправить", old_summary)
    assert stale.params["text"] == "Эта кнопка устарела. Начните заново: /start"
    assert await bot.rows("SELECT id FROM tickets") == []

    await client.click("✅ Отправить", new_summary)
    sent = await client.expect("editMessageText")
    assert sent.message_id == new_summary.message_id
    assert await bot.rows("SELECT text FROM tickets") == [{"text": "Нужен лендинг"}]


async def test_cancel_with_no_form_open_says_there_is_nothing_to_cancel(
    bot: RunningBot, client: TelegramUser
) -> None:
    answer = await client.send_command("/cancel")
    assert answer.text == "Сейчас нечего отменять. Главное меню: /start"
    assert answer.params["reply_markup"] == {"remove_keyboard": True}
