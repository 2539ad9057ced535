"""Shared steps and expectations for the client-side end-to-end tests.

The bot drops a client's updates beyond a burst of ten (then three a second), as a flood
guard; every test here stays within ten updates per client, as a person would.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from support.fake_bot_api import ApiCall, FakeBotAPI
from support.forms import question
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, TelegramUser
from vizteh_bot.texts import Translations

TRANSLATIONS = Translations()
RU = TRANSLATIONS.for_language("ru")
EN = TRANSLATIONS.for_language("en")

MENU = [["📝 Оставить заявку"], ["🏢 О компании"]]
NAVIGATION = [["⬅️ Назад", "✖️ Отмена"]]
PHONE_NAVIGATION = [["📱 Отправить мой номер"], *NAVIGATION]
CONFIRMATION = [["✅ Отправить"], ["✏️ Изменить", "✖️ Отмена"]]
FIELD_CHOICE = [["👤 Имя", "📞 Телефон", "📝 Что нужно"], ["⬅️ К заявке"]]

ASK_NAME = "Как к вам обращаться? Напишите ваше имя."
ASK_PHONE = (
    "Ваш номер телефона? Напишите его, например <code>+7 916 123-45-67</code>,\n"
    "или нажмите кнопку «📱 Отправить мой номер»."
)
ASK_TEXT = "Опишите, что вам нужно (до 2000 символов)."
CANCELLED = "Заявка отменена. Чтобы начать заново, нажмите /start"
PHONE_INVALID = (
    "Не получилось распознать номер. Напишите его целиком, например "
    "<code>+7 916 123-45-67</code>,\nили нажмите кнопку «📱 Отправить мой номер»."
)
REMOVE_KEYBOARD = {"remove_keyboard": True}


@pytest.fixture
def no_failed_updates(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Any update that ends in the bot's error handler fails the test, even when the client
    saw nothing wrong.  A test module imports it and sets
    ``pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)``."""
    yield
    failed = [
        record
        for record in caplog.get_records("call")
        if record.name == "vizteh_bot.telegram.handlers.errors" and record.levelno >= logging.ERROR
    ]
    assert not failed, "\n".join(logging.Formatter().format(record) for record in failed)


def summary_text(name: str, phone: str, text: str, *, sent: bool = False) -> str:
    """The summary exactly as the bot should send it (HTML, values already escaped)."""
    head = "<b>✅ Заявка отправлена</b>" if sent else "<b>Проверьте заявку</b>"
    body = f"👤 Имя: {name}\n📞 Телефон: {phone}\n📝 Что нужно:\n{text}"
    return f"{head}\n\n{body}" if sent else f"{head}\n\n{body}\n\nВсё верно?"


def reply_markup(call: ApiCall) -> Any:
    return call.params.get("reply_markup")


def assert_reply_keyboard(call: ApiCall, rows: list[list[str]]) -> None:
    assert TelegramUser.reply_keyboard_texts(call) == rows, call.describe()
    markup = reply_markup(call)
    assert markup["resize_keyboard"] is True
    assert markup["is_persistent"] is True
    share = [b for row in markup["keyboard"] for b in row if b.get("request_contact")]
    # Only the share-phone button asks Telegram for the client's own contact.
    assert [b["text"] for b in share] == [b for row in rows for b in row if b.startswith("📱")]


def assert_question(call: ApiCall, text: str, rows: list[list[str]] | None = None) -> None:
    """A form question: its exact text and the reply keyboard under it."""
    assert call.method == "sendMessage", call.describe()
    assert call.text == text
    if rows is None:
        rows = PHONE_NAVIGATION if text == ASK_PHONE else NAVIGATION
    assert_reply_keyboard(call, rows)


def assert_plain(call: ApiCall, text: str) -> None:
    """A message with exactly ``text`` and no keyboard of any kind."""
    assert call.method == "sendMessage", call.describe()
    assert call.text == text
    assert reply_markup(call) is None, call.describe()


def assert_cancelled(call: ApiCall) -> None:
    assert call.method == "sendMessage", call.describe()
    assert call.text == CANCELLED
    assert reply_markup(call) == REMOVE_KEYBOARD


async def open_form(client: TelegramUser) -> ApiCall:
    """/start, then the menu's new-request button; returns the name question."""
    texts = TRANSLATIONS.for_language(client.user.get("language_code"))
    menu = await client.send_command("/start")
    await client.click(texts("menu-button-new-ticket"), menu)
    ask_name = await client.expect("sendMessage")
    assert ask_name.text == question("name", texts.locale)
    return ask_name


async def fill_form(
    client: TelegramUser,
    name: str = "Анна",
    phone: str = "+7 916 123-45-67",
    text: str = "Нужен сайт",
) -> ApiCall:
    """Open the form and answer every question (4 updates); returns the summary."""
    texts = TRANSLATIONS.for_language(client.user.get("language_code"))
    await open_form(client)
    assert (await client.send(name)).text == question("phone", texts.locale)
    assert (await client.send(phone)).text == question("text", texts.locale)
    summary = await client.send(text)
    buttons = [
        [texts("form-button-send")],
        [texts("form-button-edit"), texts("form-button-cancel")],
    ]
    assert client.inline_buttons(summary) == buttons, summary.describe()
    return summary


async def fsm_rows(bot: RunningBot) -> list[dict[str, Any]]:
    return await bot.rows("SELECT key, state, data FROM fsm_states")


async def fsm_state(bot: RunningBot, client: TelegramUser) -> str | None:
    rows = await bot.rows(
        "SELECT state, data FROM fsm_states WHERE key LIKE :key",
        key=f"%:{client.chat_id}:{client.user_id}",
    )
    assert len(rows) <= 1
    if not rows:
        return None
    state = rows[0]["state"]
    if state == "TicketForm:answering":
        # Which question: "TicketForm:answering:phone".
        return f"{state}:{json.loads(rows[0]['data'] or '{}').get('field')}"
    return str(state) if state is not None else None


async def wait_in_chat(
    api: FakeBotAPI,
    chat_id: int,
    method: str,
    start: int,
    *,
    text: str | None = None,
    timeout: float = 5.0,
) -> ApiCall:
    """The first successful ``method`` call to ``chat_id`` since ``start`` (with ``text`` in
    it if given), whatever else happened in between."""

    def matches(call: ApiCall) -> bool:
        if call.method != method or call.chat_id != chat_id or not call.ok:
            return False
        return text is None or (call.text is not None and text in call.text)

    return await api.wait_for_call(matches, timeout, start=start)


async def wait_card(api: FakeBotAPI, start: int, number: int) -> ApiCall:
    return await wait_in_chat(
        api, MANAGER_CHAT_ID, "sendMessage", start, text=f"Заявка №{number}<"
    )


async def send_form(
    client: TelegramUser, api: FakeBotAPI, summary: ApiCall, number: int
) -> tuple[ApiCall, ApiCall, ApiCall]:
    """Press Send; wait for the answer, the summary marked sent and the acceptance with
    ``number`` (the last two may come in either order); move the cursor past them."""
    texts = TRANSLATIONS.for_language(client.user.get("language_code"))
    mark = api.mark()
    answer = await client.click(texts("form-button-send"), summary)
    edit = await wait_in_chat(api, client.chat_id, "editMessageText", mark)
    accepted = await wait_accepted(api, client, mark, number)
    caught_up(client, edit, accepted)
    return answer, edit, accepted


async def wait_accepted(api: FakeBotAPI, client: TelegramUser, start: int, number: int) -> ApiCall:
    """«Заявка №N принята» (in the client's language), which comes through the outbox."""
    texts = TRANSLATIONS.for_language(client.user.get("language_code"))
    accepted = await wait_in_chat(
        api, client.chat_id, "sendMessage", start, text=texts("ticket-accepted", number=number)
    )
    assert accepted.text == texts("ticket-accepted", number=number)
    assert reply_markup(accepted) == REMOVE_KEYBOARD
    return accepted


def caught_up(client: TelegramUser, *calls: ApiCall) -> None:
    """Move the client's cursor past ``calls`` (found with ``api.wait_for_call``)."""
    client.cursor = max(client.cursor, *(call.seq + 1 for call in calls))


async def eventually(
    read: Callable[[], Awaitable[Any]], expected: Any, *, timeout: float = 5.0
) -> None:
    """Wait until ``await read()`` equals ``expected`` (state written after a reply)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (value := await read()) != expected:
        assert loop.time() < deadline, f"still {value!r}, expected {expected!r}"
        await asyncio.sleep(0.02)
