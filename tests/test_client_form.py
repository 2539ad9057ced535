"""The request form, question by question: valid answers, and every way to answer wrongly."""

from __future__ import annotations

import pytest

from support.client_flow import (
    ASK_NAME,
    ASK_PHONE,
    ASK_TEXT,
    CONFIRMATION,
    PHONE_INVALID,
    RU,
    assert_plain,
    assert_question,
    fill_form,
    fsm_state,
    no_failed_updates,
    open_form,
    send_form,
    summary_text,
    wait_card,
)
from support.fake_bot_api import FakeBotAPI
from support.running_bot import RunningBot
from support.telegram_user import TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)

NAME_STEP = "TicketForm:answering:name"
PHONE_STEP = "TicketForm:answering:phone"
TEXT_STEP = "TicketForm:answering:text"
CONFIRM_STEP = "TicketForm:confirming"


async def at_step(client: TelegramUser, step: str) -> None:
    """Open the form and answer up to (not including) ``step``."""
    await open_form(client)
    answers = {NAME_STEP: [], PHONE_STEP: ["Анна"], TEXT_STEP: ["Анна", "89161234567"]}
    for answer in answers[step]:
        await client.send(answer)


@pytest.mark.parametrize("typed", ["+7 916 123-45-67", "89161234567", "9161234567"])
async def test_form_happy_path_with_a_typed_phone(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, typed: str
) -> None:
    assert_question(await open_form(client), ASK_NAME)
    assert_question(await client.send("  Анна   Петровна "), ASK_PHONE)
    assert_question(await client.send(typed), ASK_TEXT)
    summary = await client.send("  Нужен сайт\nс каталогом  ")
    assert summary.method == "sendMessage"
    assert summary.text == summary_text("Анна Петровна", "+79161234567", "Нужен сайт\nс каталогом")
    assert client.inline_buttons(summary) == CONFIRMATION
    assert await fsm_state(bot, client) == CONFIRM_STEP

    mark = api.mark()
    answer, _, _ = await send_form(client, api, summary, 1)
    assert answer.params["text"] == "Отправляем…"
    await wait_card(api, mark, 1)
    assert await bot.rows("SELECT name, phone, text FROM tickets") == [
        {"name": "Анна Петровна", "phone": "+79161234567", "text": "Нужен сайт\nс каталогом"}
    ]


@pytest.mark.parametrize("shared", ["79161234567", "+79161234567", "+7 (916) 123-45-67"])
async def test_own_shared_contact_is_stored_in_e164(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, shared: str
) -> None:
    await at_step(client, PHONE_STEP)
    assert_question(await client.share_contact(shared), ASK_TEXT)
    summary = await client.send("Звонок")
    assert summary.text == summary_text("Анна", "+79161234567", "Звонок")
    await send_form(client, api, summary, 1)
    assert await bot.rows("SELECT phone FROM tickets") == [{"phone": "+79161234567"}]


@pytest.mark.parametrize("owner", [5999, None], ids=["another-user", "no-account"])
async def test_someone_elses_contact_is_refused(
    bot: RunningBot, client: TelegramUser, owner: int | None
) -> None:
    await at_step(client, PHONE_STEP)
    refusal = await client.share_contact("+79031234567", user_id=owner, first_name="Пётр")
    assert_plain(
        refusal,
        "Пожалуйста, отправьте свой номер, а не контакт другого человека. "
        "Нажмите кнопку «📱 Отправить мой номер» или напишите номер.",
    )
    assert await fsm_state(bot, client) == PHONE_STEP
    assert_question(await client.send("+7 916 123-45-67"), ASK_TEXT)
    assert (await client.send("Текст")).text == summary_text("Анна", "+79161234567", "Текст")


async def test_own_contact_with_an_invalid_number_is_refused(
    bot: RunningBot, client: TelegramUser
) -> None:
    await at_step(client, PHONE_STEP)
    assert_plain(await client.share_contact("12345"), PHONE_INVALID)
    assert await fsm_state(bot, client) == PHONE_STEP
    assert_question(await client.share_contact("79161234567"), ASK_TEXT)


@pytest.mark.parametrize("typed", ["123", "hello", "+7 000", "8 916 123 45 67 89"])
async def test_wrong_phone_is_asked_again(
    bot: RunningBot, client: TelegramUser, typed: str
) -> None:
    await at_step(client, PHONE_STEP)
    assert_plain(await client.send(typed), PHONE_INVALID)
    assert await fsm_state(bot, client) == PHONE_STEP
    assert_question(await client.send("9161234567"), ASK_TEXT)


async def test_empty_and_too_long_names_are_asked_again(
    bot: RunningBot, client: TelegramUser
) -> None:
    await at_step(client, NAME_STEP)
    empty = "Имя не может быть пустым. Напишите, как к вам обращаться."
    assert_plain(await client.send("   "), empty)
    assert_plain(await client.send(" \n\t "), empty)
    long_name = "Я" * 101
    assert_plain(
        await client.send(long_name),
        "Имя слишком длинное (символов: 101), можно не больше 100.",
    )
    assert await fsm_state(bot, client) == NAME_STEP
    assert_question(await client.send("Я" * 100), ASK_PHONE)


async def test_empty_and_too_long_texts_are_asked_again(
    bot: RunningBot, client: TelegramUser
) -> None:
    await at_step(client, TEXT_STEP)
    assert_plain(
        await client.send(" \n "), "Текст заявки не может быть пустым. Опишите, что вам нужно."
    )
    too_long = await client.send("ы" * 10_000)
    assert_plain(
        too_long,
        "Слишком длинный текст (символов: 10000), можно не больше 2000. "
        "Сократите его, пожалуйста.",
    )
    assert_plain(await client.send("ы" * 2001), RU("error-text-too-long", length=2001, limit=2000))
    assert await fsm_state(bot, client) == TEXT_STEP
    summary = await client.send("ы" * 2000)
    assert summary.text == summary_text("Анна", "+79161234567", "ы" * 2000)


@pytest.mark.parametrize(
    ("step", "question"),
    [(NAME_STEP, ASK_NAME), (PHONE_STEP, ASK_PHONE), (TEXT_STEP, ASK_TEXT)],
    ids=["name", "phone", "text"],
)
async def test_non_text_answers_are_refused_with_the_question(
    bot: RunningBot, client: TelegramUser, step: str, question: str
) -> None:
    await at_step(client, step)
    expected = f"Я понимаю здесь только текст. {question}"
    assert_plain(await client.send_sticker(), expected)
    assert_plain(await client.send_photo(caption="вот"), expected)
    assert_plain(await client.send_voice(), expected)
    assert await fsm_state(bot, client) == step
    assert (await client.send("9161234567" if step == PHONE_STEP else "Анна")).method == (
        "sendMessage"
    )
    assert await fsm_state(bot, client) != step


async def test_typing_at_the_confirmation_points_to_the_buttons(
    bot: RunningBot, client: TelegramUser
) -> None:
    summary = await fill_form(client)
    hint = "Нажмите «✅ Отправить», чтобы отправить заявку, или «✏️ Изменить», чтобы изменить её."
    assert_plain(await client.send("да, всё верно"), hint)
    assert_plain(await client.send_sticker(), hint)
    assert await fsm_state(bot, client) == CONFIRM_STEP
    assert await bot.rows("SELECT id FROM tickets") == []
    assert client.inline_buttons(summary) == CONFIRMATION


async def test_two_quick_answers_are_taken_in_order(bot: RunningBot, client: TelegramUser) -> None:
    await open_form(client)
    client.send_nowait("Анна")
    client.send_nowait("+7 916 123-45-67")  # typed right after, before the bot answered
    assert_question(await client.expect("sendMessage"), ASK_PHONE)
    assert_question(await client.expect("sendMessage"), ASK_TEXT)
    assert await fsm_state(bot, client) == TEXT_STEP
