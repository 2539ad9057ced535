"""A form from a file, end to end: the web studio example of the README, every field type.

The client answers through the fake Bot API as Telegram would deliver it; the tests assert
what the client and the managers were sent and what the database holds.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey

from support.client_flow import no_failed_updates
from support.data import Request, RequestFactory
from support.fake_bot_api import ApiCall, FakeBotAPI
from support.fake_objects import render_html
from support.forms import EXAMPLE_FORM, EXAMPLE_FORM_FILE, question
from support.running_bot import BOT_TOKEN, RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, PacedUser, TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)

SKIP = "⏭ Пропустить"
NAVIGATION = [["⬅️ Назад", "✖️ Отмена"]]
OPTIONAL_NAVIGATION = [[SKIP], *NAVIGATION]
PROJECT_BUTTONS = [
    ["Сайт-визитка"],
    ["Интернет-магазин"],
    ["Мобильное приложение"],
    ["Доработка существующего"],
    ["⬅️ Назад", "✖️ Отмена"],
]


def ask(field_id: str) -> str:
    return question(field_id, "ru", EXAMPLE_FORM)


def realistic_requests() -> list[Request]:
    """From the generator: a request whose text has markup characters, one with
    right-to-left script, one with emoji, each cut to the task's 1500 characters."""
    sample = [r.cleaned() for r in RequestFactory(seed=41).requests(300)]

    def first(check: Callable[[Request], bool]) -> Request:
        found = next(r for r in sample if check(r) and len(r.text) >= 10)
        return Request(found.name, found.phone, found.text[:1500].strip(), found.language)

    return [
        first(lambda r: "<" in r.text and "&" in r.text),
        first(lambda r: any(unicodedata.bidirectional(c) in ("R", "AL") for c in r.text)),
        first(lambda r: any(ord(c) > 0xFFFF for c in r.text)),
    ]


@pytest.fixture
async def studio_bot(start_bot: Callable[..., Any]) -> RunningBot:
    running: RunningBot = await start_bot(form_file=EXAMPLE_FORM_FILE)
    return running


@pytest.fixture
def person(api: FakeBotAPI) -> PacedUser:
    return PacedUser(api, 5101, first_name="Ирина", username="irina_studio")


async def open_studio_form(client: TelegramUser) -> ApiCall:
    menu = await client.send_command("/start")
    await client.click("📝 Оставить заявку", menu)
    asked = await client.expect("sendMessage")
    assert asked.text == ask("name")
    assert TelegramUser.reply_keyboard_texts(asked) == NAVIGATION
    return asked


async def answer_until_project(client: TelegramUser, name: str) -> ApiCall:
    await open_studio_form(client)
    company = await client.send(name)
    assert company.text == ask("company")
    assert TelegramUser.reply_keyboard_texts(company) == OPTIONAL_NAVIGATION
    project = await client.send(SKIP)
    assert project.text == ask("project")
    assert TelegramUser.inline_buttons(project) == PROJECT_BUTTONS
    return project


@pytest.mark.parametrize("index", range(3), ids=["markup", "rtl", "emoji"])
async def test_the_example_form_from_start_to_the_managers_card(
    studio_bot: RunningBot, api: FakeBotAPI, person: PacedUser, index: int
) -> None:
    request = realistic_requests()[index]
    project = await answer_until_project(person, request.name)

    await person.click("Интернет-магазин", project)
    chosen = await person.expect("editMessageText")
    assert chosen.text == f"{ask('project')}\n\n👉 <b>Интернет-магазин</b>"
    assert (await person.expect("sendMessage")).text == ask("budget")
    assert (await person.send("много")).text == (
        "Здесь нужно число, например <code>150000</code> или <code>12,5</code>."
    )
    assert (await person.send("5 000")).text == "Число должно быть не меньше 10000."
    assert (await person.send("150 000,50")).text == ask("task")
    assert (await person.send("Сайт")).text == (
        "Слишком короткий ответ (символов: 4), нужно не меньше 10. Напишите подробнее, пожалуйста."
    )
    assert (await person.send(request.text)).text == ask("phone")
    email = await person.share_contact("+7 916 555-44-33")
    assert email.text == ask("email")
    assert (await person.send("irina@")).text == (
        "Это не похоже на адрес электронной почты. Напишите его целиком, например "
        "<code>name@example.ru</code>."
    )
    summary = await person.send_command("/skip")

    shown = render_html(summary.text or "")
    assert shown.startswith("Проверьте заявку\n\n")
    for line in (
        f"👤 Имя: {request.name}",
        "🏢 Компания: —",
        "🧩 Проект: Интернет-магазин",
        "💰 Бюджет, ₽: 150000.5",
        "📞 Телефон: +79165554433",
        "✉️ Почта: —",
    ):
        assert line in shown
    assert f"📝 Задача:\n{request.text}" in shown
    await person.click("✅ Отправить", summary)

    card = await api.wait_for_call(
        lambda c: c.chat_id == MANAGER_CHAT_ID and c.method == "sendMessage" and c.ok
    )
    on_card = render_html(card.text or "")
    assert "🧩 Проект: Интернет-магазин" in on_card
    assert "💰 Бюджет, ₽: 150000.5" in on_card
    assert f"📝 Задача:\n{request.text}" in on_card
    assert "🏢 Компания: —" in on_card, "a skipped answer is shown as skipped"
    [row] = await studio_bot.rows("SELECT name, phone, text, answers, form_fields FROM tickets")
    assert (row["name"], row["phone"], row["text"]) == (
        request.name,
        "+79165554433",
        request.text,
    )
    assert json.loads(row["answers"]) == {
        "name": request.name,
        "company": None,
        "project": "Интернет-магазин",
        "budget": "150000.5",
        "task": request.text,
        "phone": "+79165554433",
        "email": None,
    }
    fields = json.loads(row["form_fields"])
    assert [f["id"] for f in fields] == [f.id for f in EXAMPLE_FORM.fields]
    assert [f["id"] for f in fields if f["main"]] == ["task"]


async def test_a_choice_typed_exactly_counts_and_anything_else_is_refused(
    studio_bot: RunningBot, person: PacedUser
) -> None:
    project = await answer_until_project(person, "Ирина")
    for almost in ("Сайт", "мобильное приложение"):
        refused = await person.send(almost)
        assert refused.text == "Выберите один из вариантов кнопкой под вопросом."
    sticker = await person.send_sticker()
    assert sticker.text == "Выберите один из вариантов кнопкой под вопросом."
    assert (await person.send(" Мобильное приложение ")).text == ask("budget")
    # The question's buttons are from a step already answered: pressing one now is stale.
    stale = await person.click("Сайт-визитка", project)
    assert stale.params.get("show_alert") is True
    assert stale.params.get("text") == "Эта кнопка устарела. Начните заново: /start"
    # …but its Cancel does not cancel the form the client is filling in now.
    stale = await person.click("✖️ Отмена", project)
    assert stale.params.get("show_alert") is True
    rows = await studio_bot.rows("SELECT data FROM fsm_states")
    answers = json.loads(rows[0]["data"])["answers"]
    assert answers == {"name": "Ирина", "company": None, "project": "Мобильное приложение"}


async def test_a_required_question_cannot_be_skipped(
    studio_bot: RunningBot, person: PacedUser
) -> None:
    await open_studio_form(person)
    assert (await person.send_command("/skip")).text == (
        "Этот вопрос пропустить нельзя: на него нужен ответ."
    )
    assert (await person.send(SKIP)).text == "Этот вопрос пропустить нельзя: на него нужен ответ."
    assert (await person.send("Ирина")).text == ask("company")


async def test_a_second_tap_of_the_chosen_option_is_quiet(
    studio_bot: RunningBot, api: FakeBotAPI, person: PacedUser
) -> None:
    project = await answer_until_project(person, "Ирина")
    data = person.callback_data("Интернет-магазин", project)
    person.press_nowait(data, project.message_id or 0)
    person.press_nowait(data, project.message_id or 0)
    assert (await person.expect("sendMessage")).text == ask("budget")
    await asyncio.sleep(0.5)
    answers = [c for c in api.calls_for("answerCallbackQuery") if c.ok]
    assert [a.params.get("show_alert") for a in answers[-2:]] == [None, None]
    questions = [c for c in person.sent() if c.text == ask("budget")]
    assert len(questions) == 1


async def test_back_from_a_choice_and_an_edit_from_the_summary(
    studio_bot: RunningBot, api: FakeBotAPI, person: PacedUser
) -> None:
    project = await answer_until_project(person, "Ирина")
    await person.click("⬅️ Назад", project)
    assert (await person.expect("sendMessage")).text == ask("company")
    project = await person.send("ООО «Ромашка» & Co <b>")
    await person.click("Сайт-визитка", project)
    assert (await person.expect("sendMessage")).text == ask("budget")
    assert (await person.send(SKIP)).text == ask("task")
    await person.send("Нужен сайт с каталогом и формой заказа")
    await person.send("+7 903 765-43-21")
    summary = await person.send("Irina@Example.COM")
    assert "✉️ Почта: Irina@example.com" in (summary.text or "")
    assert "🏢 Компания: ООО «Ромашка» &amp; Co &lt;b&gt;" in (summary.text or "")

    await person.click("✏️ Изменить", summary)
    labels = [b for row in TelegramUser.inline_buttons(await person.expect()) for b in row]
    assert labels == [*(f.label("ru") for f in EXAMPLE_FORM.fields), "⬅️ К заявке"]
    await person.click("💰 Бюджет, ₽", summary)
    assert (await person.expect("sendMessage")).text == ask("budget")
    again = await person.send("2000000")
    assert "💰 Бюджет, ₽: 2000000" in (again.text or "")
    assert "Нужен сайт с каталогом" in (again.text or "")


async def test_a_ticket_made_before_the_form_changed_keeps_its_card(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    from support.client_flow import fill_form

    default_bot = await start_bot()
    summary = await fill_form(client, "Анна <b>", "+7 916 123-45-67", "Нужен ремонт & настройка")
    await client.click("✅ Отправить", summary)
    card = await api.wait_for_call(
        lambda c: c.chat_id == MANAGER_CHAT_ID and c.method == "sendMessage" and c.ok
    )
    await default_bot.stop()

    await start_bot(form_file=EXAMPLE_FORM_FILE)
    manager = ManagerChat(api, 7001, first_name="Олег")
    await manager.press_callback("t:close:1", card.message_id or 0)
    edited = await api.wait_for_call(
        lambda c: c.method == "editMessageText" and c.chat_id == MANAGER_CHAT_ID and c.ok,
        timeout=15,
    )
    shown = render_html(edited.text or "")
    assert "👤 Имя: Анна <b>" in shown
    assert "📞 Телефон: +79161234567" in shown
    assert "📝 Что нужно:\nНужен ремонт & настройка" in shown
    assert "Статус: ✅ закрыта" in shown


CHANGED_FORM = """
[[fields]]
id = "name"
type = "text"
question = "Как вас зовут?"

[[fields]]
id = "email"
type = "email"
question = "Ваша почта?"

[[fields]]
id = "phone"
type = "phone"
question = "Ваш телефон?"

[[fields]]
id = "text"
type = "text"
question = "Что нужно?"
"""


async def test_a_form_changed_under_a_client_asks_only_what_is_new(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser, tmp_path: Path
) -> None:
    from support.client_flow import fill_form

    before = await start_bot()
    summary = await fill_form(client, "Анна", "+7 916 123-45-67", "Нужен сайт")
    await before.stop()
    changed = tmp_path / "form.toml"
    changed.write_text(CHANGED_FORM, encoding="utf-8")
    after = await start_bot(form_file=changed)

    await client.click("✅ Отправить", summary)
    assert (await client.expect("sendMessage")).text == "Ваша почта?"
    again = await client.send("anna@example.ru")
    assert "Проверьте заявку" in (again.text or ""), "straight back to the summary"
    assert "anna@example.ru" in (again.text or "")
    await client.click("✅ Отправить", again)
    await api.wait_for_call(lambda c: c.chat_id == MANAGER_CHAT_ID and c.ok)
    [row] = await after.rows("SELECT answers FROM tickets")
    assert json.loads(row["answers"]) == {
        "name": "Анна",
        "email": "anna@example.ru",
        "phone": "+79161234567",
        "text": "Нужен сайт",
    }


async def test_a_summary_shown_before_the_upgrade_still_sends(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    """The state and the buttons as the bot of the fixed form left them."""
    key = StorageKey(bot_id=int(BOT_TOKEN.split(":")[0]), chat_id=5001, user_id=5001)
    await bot.app.storage.set_state(key, "TicketForm:confirming")
    await bot.app.storage.set_data(
        key,
        {
            "form_id": "0123456789abcdef0123456789abcdef",
            "summary_key": "0badcafe",
            "name": "Анна",
            "phone": "+79161234567",
            "text": "Заявка до обновления",
        },
    )
    # A message this fake server never saw: Telegram attaches it as inaccessible.
    answer = await client.press_callback("f:send:0123456789abcdef0123456789abcdef:0badcafe", 999)
    assert answer.params.get("text") == "Отправляем…"
    await api.wait_for_call(lambda c: c.chat_id == MANAGER_CHAT_ID and c.ok)
    [row] = await bot.rows("SELECT name, text, answers FROM tickets")
    assert (row["name"], row["text"]) == ("Анна", "Заявка до обновления")
    assert json.loads(row["answers"])["phone"] == "+79161234567"
