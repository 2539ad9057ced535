"""What a client sees outside the form: /start, the menu, «О компании», the hourly limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from support.client_flow import (
    ASK_NAME,
    ASK_PHONE,
    ASK_TEXT,
    MENU,
    RU,
    assert_cancelled,
    assert_plain,
    fill_form,
    fsm_rows,
    fsm_state,
    no_failed_updates,
    open_form,
    send_form,
)
from support.fake_bot_api import FakeBotAPI, Fault
from support.running_bot import RunningBot
from support.telegram_user import TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)

ABOUT_PHOTO_ID = "AgACAgIAAxkBAAIBc2Zf_about_photo"
GREETING_TAIL = "Я бот компании ВизТех. Здесь можно оставить заявку — менеджер свяжется с вами."
ABOUT = (
    "<b>ВизТех</b> — разрабатываем и сопровождаем информационные системы для бизнеса.\n\n"
    "📍 Москва, ул. Примерная, 1\n"
    "📞 +7 (495) 000-00-00\n"
    "✉️ info@vizteh.example\n"
    "🕘 Пн–Пт, 9:00–18:00"
)
OFFER = "Чтобы написать менеджеру, оставьте заявку — ваше сообщение станет её текстом."
OFFER_NO_TEXT = "Чтобы написать менеджеру, оставьте заявку."


def assert_menu(call: Any, name_html: str) -> None:
    assert call.method == "sendMessage", call.describe()
    assert call.text == f"Здравствуйте, {name_html}! 👋\n{GREETING_TAIL}"
    assert TelegramUser.inline_buttons(call) == MENU
    assert call.params["parse_mode"] == "HTML"


# ----------------------------------------------------------------------------------- /start


async def test_start_greets_by_escaped_name_with_the_menu(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    client = TelegramUser(api, 5101, first_name="<Аня> & Co", username="anya")
    menu = await client.send_command("/start")
    assert_menu(menu, "&lt;Аня&gt; &amp; Co")
    assert menu.visible_text == f"Здравствуйте, <Аня> & Co! 👋\n{GREETING_TAIL}"
    await client.quiet(0.2)
    assert await fsm_rows(bot) == []

    # A language the bot has no texts for gets the default, Russian.
    hans = TelegramUser(api, 5102, first_name="Hans", language_code="de")
    assert_menu(await hans.send_command("/start"), "Hans")


@pytest.mark.parametrize("answered", [0, 2, 3], ids=["at-name", "at-text", "at-confirmation"])
async def test_start_in_the_form_cancels_it_then_shows_the_menu(
    bot: RunningBot, client: TelegramUser, answered: int
) -> None:
    await open_form(client)
    for answer in ["Анна", "+7 916 123-45-67", "Нужен сайт"][:answered]:
        await client.send(answer)
    assert await fsm_state(bot, client) is not None

    cancelled = await client.send_command("/start")
    assert_cancelled(cancelled)
    assert_menu(await client.expect("sendMessage"), "Анна")
    assert await fsm_rows(bot) == []
    assert await bot.rows("SELECT id FROM tickets") == []

    # The form is really gone: a plain message is not read as an answer, a request is offered.
    offer = await client.send("+7 916 123-45-67")
    assert offer.text == OFFER
    assert await fsm_state(bot, client) is None


async def test_menu_button_starts_the_form(bot: RunningBot, client: TelegramUser) -> None:
    menu = await client.send_command("/start")
    answer = await client.click("📝 Оставить заявку", menu)
    assert "text" not in answer.params
    ask_name = await client.expect("sendMessage")
    assert ask_name.text == ASK_NAME
    assert await fsm_state(bot, client) == "TicketForm:answering:name"
    [row] = await fsm_rows(bot)
    assert '"form_id"' in row["data"]


# ------------------------------------------------------------------------------ О компании


async def test_about_without_photo_sends_the_text(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    menu = await client.send_command("/start")
    answer = await client.click("🏢 О компании", menu)
    assert "text" not in answer.params
    about = await client.expect()
    assert_plain(about, ABOUT)
    assert about.text == RU("about-text")

    assert_plain(await client.send_command("/about"), ABOUT)
    await client.quiet(0.2)
    assert api.calls_for("sendPhoto") == []


async def test_about_with_photo_sends_the_photo_with_the_caption(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    await start_bot(photo_id=ABOUT_PHOTO_ID)
    menu = await client.send_command("/start")
    await client.click("🏢 О компании", menu)
    photo = await client.expect()
    assert photo.method == "sendPhoto"
    assert photo.params["photo"] == ABOUT_PHOTO_ID
    assert photo.params["caption"] == ABOUT
    assert photo.params["parse_mode"] == "HTML"

    again = await client.send_command("/about")
    assert (again.method, again.params["photo"], again.text) == (
        "sendPhoto",
        ABOUT_PHOTO_ID,
        ABOUT,
    )
    await client.quiet(0.2)
    assert api.calls_for("sendMessage", client.chat_id) == [menu]


async def test_about_with_a_rejected_photo_id_sends_the_text_alone(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    await start_bot(photo_id=ABOUT_PHOTO_ID)
    menu = await client.send_command("/start")
    api.inject(
        "sendPhoto",
        chat_id=client.chat_id,
        error=Fault.bad_request("Bad Request: wrong file identifier/HTTP URL specified"),
    )
    answer = await client.click("🏢 О компании", menu)
    assert "text" not in answer.params
    about = await client.expect()
    assert_plain(about, ABOUT)
    [refused] = api.calls_for("sendPhoto", client.chat_id)
    assert (refused.ok, refused.params["photo"]) == (False, ABOUT_PHOTO_ID)
    await client.quiet(0.3)  # no "something went wrong", no second copy
    assert [call.text for call in client.sent()] == [menu.text, ABOUT]


# ------------------------------------------------------------------------ stray messages


async def test_a_client_without_a_request_who_writes_is_offered_one(
    bot: RunningBot, client: TelegramUser
) -> None:
    offer = await client.send("Здравствуйте, есть кто?")
    assert offer.text == OFFER
    assert client.inline_buttons(offer) == [["📝 Оставить заявку"]]
    assert (await client.send_sticker()).text == OFFER_NO_TEXT
    assert [row["state"] for row in await fsm_rows(bot)] == [None], "no form begun"
    assert await bot.rows("SELECT id FROM tickets") == []


async def test_about_during_the_form_keeps_the_form(bot: RunningBot, client: TelegramUser) -> None:
    await open_form(client)
    assert (await client.send("Анна")).text == ASK_PHONE
    assert_plain(await client.send_command("/about"), ABOUT)
    assert await fsm_state(bot, client) == "TicketForm:answering:phone"
    assert (await client.send("89161234567")).text == ASK_TEXT


# --------------------------------------------------------------------------- hourly limit


async def test_hourly_limit_refuses_a_new_form(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    bot = await start_bot(tickets_per_hour=1)
    summary = await fill_form(client)
    await send_form(client, api, summary, 1)
    [ticket] = await bot.rows("SELECT created_at FROM tickets")
    created_at = ticket["created_at"]
    if isinstance(created_at, str):  # SQLite: ISO text in UTC, without a zone
        created_at = datetime.fromisoformat(created_at).replace(tzinfo=UTC)
    retry_at = f"{(created_at + timedelta(hours=1)).astimezone(ZoneInfo('Europe/Moscow')):%H:%M}"
    refusal = (
        "Заявок за последний час: 1 — это максимум.\n"
        f"Новую заявку можно будет отправить после {retry_at}."
    )

    menu = await client.send_command("/start")
    await client.click("📝 Оставить заявку", menu)
    assert_plain(await client.expect("sendMessage"), refusal)
    assert_plain(await client.send_command("/new"), refusal)
    await client.quiet(0.2)

    assert await fsm_rows(bot) == []
    assert len(await bot.rows("SELECT id FROM tickets")) == 1

    # The limit is per client: someone else may still leave a request.
    other = TelegramUser(api, 5002, first_name="Борис")
    assert (await open_form(other)).text == ASK_NAME
