"""A client whose Telegram speaks English gets every text in English."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from support.client_flow import (
    EN,
    REMOVE_KEYBOARD,
    fill_form,
    no_failed_updates,
    open_form,
    reply_markup,
    send_form,
    wait_card,
)
from support.fake_bot_api import FakeBotAPI
from support.running_bot import RunningBot
from support.telegram_user import TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)


@pytest.fixture
def john(api: FakeBotAPI) -> TelegramUser:
    return TelegramUser(api, 5201, first_name="John", username="john", language_code="en")


EN_SHARE = "📱 Share my number"
EN_ASK_NAME = "How should we call you? Please type your name."
EN_ASK_PHONE = (
    "Your phone number? Type it, e.g. <code>+7 916 123-45-67</code>,\n"
    "or press «📱 Share my number»."
)
EN_ASK_TEXT = "What do you need? (up to 2000 characters)"


async def test_english_menu_and_questions(
    bot: RunningBot, api: FakeBotAPI, john: TelegramUser
) -> None:
    menu = await john.send_command("/start")
    assert menu.text == (
        "Hello, John! 👋\n"
        "I am the VizTeh company bot. Leave a request here and a manager will contact you."
    )
    assert john.inline_buttons(menu) == [["📝 Leave a request"], ["🏢 About us"]]
    await john.click("🏢 About us", menu)
    about = await john.expect()
    assert about.text == EN("about-text")
    assert about.text.startswith("<b>VizTeh</b> builds and supports")

    await john.click("📝 Leave a request", menu)
    ask_name = await john.expect("sendMessage")
    assert ask_name.text == EN_ASK_NAME
    assert john.reply_keyboard_texts(ask_name) == [["⬅️ Back", "✖️ Cancel"]]
    ask_phone = await john.send("John")
    assert ask_phone.text == EN_ASK_PHONE
    assert john.reply_keyboard_texts(ask_phone) == [[EN_SHARE], ["⬅️ Back", "✖️ Cancel"]]
    assert (await john.send("⬅️ Back")).text == EN_ASK_NAME
    await john.send("John")
    assert (await john.send("+44 20 7946 0958")).text == EN_ASK_TEXT
    cancelled = await john.send("✖️ Cancel")
    assert cancelled.text == "The request is cancelled. To start again, press /start"
    assert reply_markup(cancelled) == REMOVE_KEYBOARD
    # Writing without a request: offered one, the message kept as its text.
    offer = await john.send("hi")
    assert offer.text == "To write to a manager, leave a request — your message will be its text."
    assert john.inline_buttons(offer) == [["📝 Leave a request"]]


async def test_english_input_errors(bot: RunningBot, john: TelegramUser) -> None:
    await open_form(john)
    assert (await john.send("  ")).text == (
        "The name cannot be empty. Please type how we should call you."
    )
    await john.send("John")
    assert (await john.send("hello")).text == (
        "I could not read that number. Please type it in full, e.g. "
        "<code>+7 916 123-45-67</code>,\nor press «📱 Share my number»."
    )
    assert (await john.share_contact("+79031234567", user_id=42)).text == (
        "Please share your own number, not someone else's contact. "
        "Press «📱 Share my number» or type the number."
    )
    assert (await john.send_sticker()).text == f"I can only read text here. {EN_ASK_PHONE}"
    await john.send("+44 20 7946 0958")
    assert (await john.send("x" * 2001)).text == (
        "The text is too long: 2001 characters, at most 2000 allowed. Please shorten it."
    )
    assert (await john.send_voice()).text == f"I can only read text here. {EN_ASK_TEXT}"


async def test_english_summary_and_confirmation(
    bot: RunningBot, api: FakeBotAPI, john: TelegramUser
) -> None:
    summary = await fill_form(john, "John", "+44 20 7946 0958", "A website")
    assert summary.text == (
        "<b>Please check your request</b>\n\n👤 Name: John\n📞 Phone: +442079460958\n"
        "📝 Request:\nA website\n\nIs everything right?"
    )
    assert john.inline_buttons(summary) == [["✅ Send"], ["✏️ Edit", "✖️ Cancel"]]
    assert (await john.send("ok")).text == (
        "Press «✅ Send» to send the request, or «✏️ Edit» to change it."
    )
    asked = await john.click("✏️ Edit", summary)
    assert asked.params["text"] == "What would you like to change?"
    choice = await john.expect("editMessageReplyMarkup")
    assert john.inline_buttons(choice) == [
        ["👤 Name", "📞 Phone", "📝 Request"],
        ["⬅️ Back to the request"],
    ]
    await john.click("⬅️ Back to the request", choice)
    await john.expect("editMessageReplyMarkup")

    mark = api.mark()
    answer, edit, accepted = await send_form(john, api, summary, 1)
    assert answer.params["text"] == "Sending…"
    assert edit.text == (
        "<b>✅ Request sent</b>\n\n👤 Name: John\n📞 Phone: +442079460958\n📝 Request:\nA website"
    )
    assert accepted.text == (
        "✅ Request #1 accepted!\n"
        "A manager will contact you soon.\n"
        "To leave another request: /start"
    )
    card = await wait_card(api, mark, 1)  # managers read Russian whatever the client speaks
    assert "📝 Что нужно:\nA website" in (card.text or "")
    assert await bot.rows("SELECT client_language FROM tickets") == [{"client_language": "en"}]


async def test_english_hourly_limit(
    start_bot: Callable[..., Any], api: FakeBotAPI, john: TelegramUser
) -> None:
    bot = await start_bot(tickets_per_hour=1)
    summary = await fill_form(john, "John", "+44 20 7946 0958", "A website")
    await send_form(john, api, summary, 1)
    menu = await john.send_command("/start")
    await john.click("📝 Leave a request", menu)
    refusal = await john.expect("sendMessage")
    assert refusal.text is not None
    assert re.fullmatch(
        r"Requests in the last hour: 1, which is the limit\.\n"
        r"You can send a new one after \d\d:\d\d\.",
        refusal.text,
    ), refusal.text
    assert len(await bot.rows("SELECT id FROM tickets")) == 1
