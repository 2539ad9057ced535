"""The managers' side, end to end: cards, status buttons, manager mode, PHOTO_ID lookup.

Every test checks both what the fake Bot API received and what the bot's database holds.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.client_flow import RU
from support.db_faults import table_locked
from support.fake_bot_api import REPLY_METHODS, ApiCall, FakeBotAPI
from support.fake_objects import DEFAULT_PHOTO_ID, command_update
from support.forms import DEFAULT_FORM, default_answers
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser
from vizteh_bot.db.engine import POSTGRES_TIMEOUT_SECONDS, SQLITE_BUSY_TIMEOUT_SECONDS
from vizteh_bot.domain.tickets import Client, Ticket
from vizteh_bot.services.tickets import submit_ticket

DATABASE_PATIENCE = max(POSTGRES_TIMEOUT_SECONDS, SQLITE_BUSY_TIMEOUT_SECONDS)

MSK = timedelta(hours=3)  # Europe/Moscow has kept UTC+3 all year round since 2014
VLAT = timedelta(hours=10)  # Asia/Vladivostok: UTC+10, no DST

CLOSE = "✅ Закрыть"
REOPEN = "🔄 Открыть"
NOT_MANAGER = "Менять статус заявок можно только из чата менеджеров."
STALE = "Эта кнопка устарела. Начните заново: /start"
NOT_FOUND = "Заявка не найдена."


# ------------------------------------------------------------------------------ helpers


def local_minute(moment: datetime, offset: timedelta) -> str:
    """``moment`` as the card prints it for a zone with a fixed UTC ``offset``."""
    return f"{moment.astimezone(UTC) + offset:%d.%m.%Y %H:%M}"


def is_card(call: ApiCall, number: int | None = None, chat_id: int = MANAGER_CHAT_ID) -> bool:
    if call.method != "sendMessage" or call.chat_id != chat_id or not call.ok:
        return False
    marker = "<b>Заявка №" if number is None else f"<b>Заявка №{number}</b>"
    return marker in (call.text or "")


async def submit_through_form(
    api: FakeBotAPI, client: TelegramUser, *, name: str, phone: str, text: str
) -> ApiCall:
    """Drive the client through the form and return the card that reaches the managers."""
    menu = await client.send_command("/start")
    await client.click("📝 Оставить заявку", menu)
    await client.expect("sendMessage")
    await client.send(name)
    await client.send(phone)
    summary = await client.send(text)
    mark = api.mark()
    await client.click("✅ Отправить", summary)
    return await api.wait_for_call(is_card, start=mark)


async def create_ticket(
    running: RunningBot,
    api: FakeBotAPI,
    *,
    client_id: int = 5001,
    full_name: str = "Анна",
    username: str | None = "anna_client",
    name: str = "Анна",
    phone: str = "+79161234567",
    text: str = "Нужен сайт",
) -> tuple[Ticket, ApiCall]:
    """Store a ticket the way the client handler does and wait for its card."""
    mark = api.mark()
    submission = await submit_ticket(
        running.app.store,
        running.app.delivery,
        client=Client(user_id=client_id, full_name=full_name, username=username, language="ru"),
        request_form=DEFAULT_FORM,
        answers=default_answers(name, phone, text),
        form_id=uuid.uuid4().hex,
        manager_chat_id=running.app.manager_chat.current_id,
        limit_per_hour=1000,
    )
    assert submission.created
    ticket = submission.ticket
    chat_id = running.app.manager_chat.current_id
    card = await api.wait_for_call(lambda call: is_card(call, ticket.id, chat_id), start=mark)
    return ticket, card


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll ``check`` until it holds (for state the bot reaches in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        await asyncio.sleep(0.02)


async def outbox_settled(running: RunningBot) -> None:
    """Wait until the outbox worker has nothing pending."""

    async def nothing_pending() -> bool:
        return await running.count_pending() == 0

    await eventually(nothing_pending, what="an empty outbox")


class HandledUpdates:
    """Outer middleware noting each update once every handler is done with it, so a test can
    wait for "the bot has finished with this update" instead of sleeping."""

    def __init__(self) -> None:
        self.done: set[int] = set()
        self._changed = asyncio.Event()

    async def __call__(
        self, handler: Callable[..., Awaitable[Any]], event: Any, data: dict[str, Any]
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            self.done.add(event.update_id)
            self._changed.set()

    async def wait(self, update_id: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while update_id not in self.done:
                self._changed.clear()
                await self._changed.wait()


def track_updates(running: RunningBot) -> HandledUpdates:
    tracker = HandledUpdates()
    running.app.dispatcher.update.outer_middleware(tracker)
    return tracker


def ids(user: TelegramUser) -> dict[str, int]:
    """message_id/chat_id for an update built by hand in ``user``'s chat."""
    return {"message_id": user.api.next_message_id(user.chat_id), "chat_id": user.chat_id}


async def answer_to(api: FakeBotAPI, query_id: str, start: int = 0) -> ApiCall:
    return await api.wait_for_call(
        lambda call: (
            call.method == "answerCallbackQuery"
            and call.params.get("callback_query_id") == query_id
        ),
        start=start,
    )


def replies_to(api: FakeBotAPI, chat_id: int, start: int = 0) -> list[ApiCall]:
    return [
        call
        for call in api.calls[start:]
        if call.method in REPLY_METHODS and call.chat_id == chat_id
    ]


async def ticket_state(running: RunningBot, ticket_id: int) -> dict[str, Any]:
    """What a status button could have changed, read straight from the tables."""
    tickets = await running.rows(
        "SELECT status, status_changed_by FROM tickets WHERE id = :id", id=ticket_id
    )
    events = await running.rows(
        "SELECT old_status, new_status, actor_id, actor_name FROM ticket_events "
        "WHERE ticket_id = :id ORDER BY id",
        id=ticket_id,
    )
    outbox = await running.rows("SELECT kind, chat_id, state FROM outbox ORDER BY id")
    return {"ticket": tickets, "events": events, "outbox": outbox}


# -------------------------------------------------------------------------------- cards


async def test_card_shows_the_ticket_with_a_close_button(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    before = datetime.now(UTC)
    card = await submit_through_form(
        api, client, name="Анна <b>&</b>", phone="8 (916) 123-45-67", text="Нужен сайт\n<script>"
    )
    after = datetime.now(UTC)

    ticket = await bot.ticket(1)
    assert ticket is not None
    assert before <= ticket.created_at <= after
    assert card.text == (
        "🆕 <b>Заявка №1</b>\n"
        f"🕒 {local_minute(ticket.created_at, MSK)} (MSK)\n"
        "👤 Имя: Анна &lt;b&gt;&amp;&lt;/b&gt;\n"
        "📞 Телефон: +79161234567\n"
        '💬 Telegram: <a href="tg://user?id=5001">Анна</a> (@anna_client)\n'
        "📝 Что нужно:\n"
        "Нужен сайт\n"
        "&lt;script&gt;\n"
        "\n"
        "Статус: 🟢 открыта"
    )
    assert card.params.get("parse_mode") == "HTML"
    assert ManagerChat.inline_buttons(card) == [[CLOSE]]
    buttons = card.params["reply_markup"]["inline_keyboard"]
    assert buttons[0][0]["callback_data"] == "t:close:1"
    # What the managers actually see: the markup renders, the user's text is literal.
    shown = api.get_message(MANAGER_CHAT_ID, card.result["message_id"])
    assert shown is not None
    assert "Анна <b>&</b>" in shown["text"]
    assert "<script>" in shown["text"]

    await outbox_settled(bot)  # the card's place is stored once Telegram has answered
    rows = await bot.rows(
        "SELECT id, client_id, client_full_name, client_username, name, phone, text, status, "
        "manager_chat_id, manager_message_id FROM tickets"
    )
    assert rows == [
        {
            "id": 1,
            "client_id": 5001,
            "client_full_name": "Анна",
            "client_username": "anna_client",
            "name": "Анна <b>&</b>",
            "phone": "+79161234567",
            "text": "Нужен сайт\n<script>",
            "status": "open",
            "manager_chat_id": MANAGER_CHAT_ID,
            "manager_message_id": card.result["message_id"],
        }
    ]


async def test_card_without_username_links_the_profile_only(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    ticket, card = await create_ticket(
        bot, api, client_id=5002, full_name="Боб <& Co>", username=None, name="Боб"
    )
    assert card.text is not None
    assert '💬 Telegram: <a href="tg://user?id=5002">Боб &lt;&amp; Co&gt;</a>\n' in card.text
    assert "(@" not in card.text
    assert f"<b>Заявка №{ticket.id}</b>" in card.text
    shown = api.get_message(MANAGER_CHAT_ID, card.result["message_id"])
    assert shown is not None
    assert "💬 Telegram: Боб <& Co>\n" in shown["text"]


async def test_timezone_setting_is_used_on_cards(
    start_bot: Callable[..., Awaitable[RunningBot]], api: FakeBotAPI, manager: ManagerChat
) -> None:
    running = await start_bot(timezone="Asia/Vladivostok")
    ticket, card = await create_ticket(running, api)
    assert card.text is not None
    assert f"🕒 {local_minute(ticket.created_at, VLAT)} (+10)\n" in card.text
    assert "MSK" not in card.text

    await manager.click(CLOSE, card)
    edit = await manager.expect("editMessageText")
    closed = await running.ticket(ticket.id)
    assert closed is not None
    assert closed.status_changed_at is not None
    assert f"Статус: ✅ закрыта — Олег, {local_minute(closed.status_changed_at, VLAT)} (+10)" in (
        edit.text or ""
    )


# ---------------------------------------------------------------------- status buttons


async def test_close_and_reopen_edit_the_same_card_and_are_recorded(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    ticket, card = await create_ticket(bot, api)
    card_id = card.result["message_id"]

    before = datetime.now(UTC)
    answer = await manager.click(CLOSE, card)
    assert answer.params["text"] == f"Заявка №{ticket.id} закрыта"
    assert not answer.params.get("show_alert")
    edit = await manager.expect("editMessageText")
    after = datetime.now(UTC)
    assert edit.chat_id == MANAGER_CHAT_ID
    assert edit.message_id == card_id
    closed = await bot.ticket(ticket.id)
    assert closed is not None
    assert closed.status_changed_at is not None
    assert before <= closed.status_changed_at <= after
    assert edit.text is not None
    assert edit.text.startswith(f"☑️ <b>Заявка №{ticket.id}</b>\n")
    assert edit.text.endswith(
        f"Статус: ✅ закрыта — Олег, {local_minute(closed.status_changed_at, MSK)} (MSK)"
    )
    assert f"🕒 {local_minute(ticket.created_at, MSK)} (MSK)\n" in edit.text
    assert ManagerChat.inline_buttons(edit) == [[REOPEN]]
    assert manager.callback_data(REOPEN, card) == f"t:reopen:{ticket.id}"

    # Another manager (with a name that needs escaping) reopens it from the same card.
    maria = TelegramUser(api, 7002, "Мария", chat_id=MANAGER_CHAT_ID, last_name="<QA>")
    answer = await maria.click(REOPEN, card)
    assert answer.params["text"] == f"Заявка №{ticket.id} снова открыта"
    edit = await maria.expect("editMessageText")
    assert edit.message_id == card_id
    assert edit.text is not None
    assert edit.text.startswith(f"🆕 <b>Заявка №{ticket.id}</b>\n")
    assert "Статус: 🟢 открыта — Мария &lt;QA&gt;, " in edit.text
    assert ManagerChat.inline_buttons(edit) == [[CLOSE]]

    # One card in the chat, edited in place; nothing new was sent there.
    await outbox_settled(bot)
    assert [call.message_id for call in api.sent_to(MANAGER_CHAT_ID)] == [card_id]
    assert (
        api.get_message(MANAGER_CHAT_ID, card_id)["reply_markup"]["inline_keyboard"][0][0]["text"]
        == CLOSE
    )

    rows = await bot.rows(
        "SELECT status, status_changed_by FROM tickets WHERE id = :id", id=ticket.id
    )
    assert rows == [{"status": "open", "status_changed_by": "Мария <QA>"}]
    events = await bot.rows(
        "SELECT old_status, new_status, actor_id, actor_name FROM ticket_events "
        "WHERE ticket_id = :id ORDER BY id",
        id=ticket.id,
    )
    assert events == [
        {"old_status": None, "new_status": "open", "actor_id": 5001, "actor_name": "Анна"},
        {"old_status": "open", "new_status": "closed", "actor_id": 7001, "actor_name": "Олег"},
        {
            "old_status": "closed",
            "new_status": "open",
            "actor_id": 7002,
            "actor_name": "Мария <QA>",
        },
    ]


async def test_answers_follow_the_managers_language(bot: RunningBot, api: FakeBotAPI) -> None:
    ticket, card = await create_ticket(bot, api)
    john = TelegramUser(api, 7003, "John", language_code="en", chat_id=MANAGER_CHAT_ID)
    answer = await john.click(CLOSE, card)
    assert answer.params["text"] == f"Request #{ticket.id} closed"
    edit = await john.expect("editMessageText")
    # The card itself stays in the default language: it is shared by all managers.
    assert "Статус: ✅ закрыта — John, " in (edit.text or "")


async def test_double_press_closes_once(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    ticket, card = await create_ticket(bot, api)
    card_id = card.result["message_id"]
    data = manager.callback_data(CLOSE, card)
    mark = api.mark()
    _, first = manager.press_nowait(data, card_id)
    _, second = manager.press_nowait(data, card_id)
    answers = [
        (await answer_to(api, first, mark)).params["text"],
        (await answer_to(api, second, mark)).params["text"],
    ]
    assert sorted(answers) == sorted(
        [f"Заявка №{ticket.id} закрыта", f"Заявка №{ticket.id} уже закрыта"]
    )

    await manager.expect("editMessageText")
    await outbox_settled(bot)
    edits = [call for call in api.calls[mark:] if call.method == "editMessageText"]
    assert len(edits) == 1
    assert ManagerChat.inline_buttons(edits[0]) == [[REOPEN]]
    state = await ticket_state(bot, ticket.id)
    assert state["ticket"] == [{"status": "closed", "status_changed_by": "Олег"}]
    assert [event["new_status"] for event in state["events"]] == ["open", "closed"]
    assert [row["kind"] for row in state["outbox"]].count("card_refresh") == 1


async def test_stale_close_button_changes_nothing(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    ticket, card = await create_ticket(bot, api)
    card_id = card.result["message_id"]
    stale_data = manager.callback_data(CLOSE, card)

    maria = TelegramUser(api, 7002, "Мария", chat_id=MANAGER_CHAT_ID)
    await maria.click(CLOSE, card)
    closed_card = await maria.expect("editMessageText")
    await outbox_settled(bot)
    before = await ticket_state(bot, ticket.id)

    # Олег's screen still showed «Закрыть» when he pressed it.
    tracker = track_updates(bot)
    mark = api.mark()
    update_id, query_id = manager.press_nowait(stale_data, card_id)
    answer = await answer_to(api, query_id, mark)
    await tracker.wait(update_id)
    assert answer.params["text"] == f"Заявка №{ticket.id} уже закрыта"

    await outbox_settled(bot)
    assert await ticket_state(bot, ticket.id) == before
    assert replies_to(api, MANAGER_CHAT_ID, mark) == []
    shown = api.get_message(MANAGER_CHAT_ID, card_id)
    assert shown is not None
    assert "— Мария, " in shown["text"]
    assert closed_card.text is not None
    assert "— Мария, " in closed_card.text


@pytest.mark.parametrize(
    ("chat_id", "user_id"),
    [
        pytest.param(5001, 5001, id="client-private-chat"),
        pytest.param(-1009876543210, 7001, id="other-supergroup"),
        pytest.param(-424242, 7001, id="other-basic-group"),
    ],
)
async def test_status_button_outside_the_manager_chat_is_refused(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, chat_id: int, user_id: int
) -> None:
    ticket, _ = await create_ticket(bot, api)
    await outbox_settled(bot)
    # Something of the bot's in that chat for the forged button to hang under.
    outsider = TelegramUser(api, user_id, "Олег" if user_id == 7001 else "Анна", chat_id=chat_id)
    if chat_id > 0:
        hook = await outsider.send_command("/start")
        message_id = hook.result["message_id"]
    else:
        message_id = api.next_message_id(chat_id)  # unknown to the fake: inaccessible
    before = await ticket_state(bot, ticket.id)

    tracker = track_updates(bot)
    for data in (f"t:close:{ticket.id}", f"t:reopen:{ticket.id}"):
        mark = api.mark()
        update_id, query_id = outsider.press_nowait(data, message_id)
        answer = await answer_to(api, query_id, mark)
        await tracker.wait(update_id)
        assert answer.params["text"] == NOT_MANAGER
        assert answer.params.get("show_alert") is True
        assert replies_to(api, chat_id, mark) == [], api.dump()
        assert replies_to(api, MANAGER_CHAT_ID, mark) == []

    assert await ticket_state(bot, ticket.id) == before
    assert await bot.count_pending() == 0


async def test_unparseable_or_unknown_callback_data_is_a_stale_button(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    ticket, card = await create_ticket(bot, api)
    card_id = card.result["message_id"]
    await outbox_settled(bot)
    before = await ticket_state(bot, ticket.id)
    for data in ("t:close:abc", "t:explode:1", "zzz", "t:close", "t:close:1:2", "t::1"):
        mark = api.mark()
        answer = await manager.press_callback(data, card_id)
        assert (answer.params["text"], answer.params.get("show_alert")) == (STALE, True), data
        assert replies_to(api, MANAGER_CHAT_ID, mark) == []
    assert await ticket_state(bot, ticket.id) == before


async def test_button_of_a_ticket_that_does_not_exist(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    ticket, card = await create_ticket(bot, api)
    card_id = card.result["message_id"]
    await outbox_settled(bot)
    before = await ticket_state(bot, ticket.id)
    for data in ("t:close:999", "t:reopen:999"):
        answer = await manager.press_callback(data, card_id)
        assert (answer.params["text"], answer.params.get("show_alert")) == (NOT_FOUND, True), data
    assert await ticket_state(bot, ticket.id) == before


async def test_button_with_an_impossible_ticket_id(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    """An id no ticket can have (or no BIGINT can hold) is a forged button, not an error."""
    ticket, card = await create_ticket(bot, api)
    await outbox_settled(bot)
    before = await ticket_state(bot, ticket.id)
    for data in (
        "t:close:0",
        "t:reopen:-1",
        "t:close:99999999999999999999",
        f"t:close:{2**63}",
        "t:reopen:-99999999999999999999",
    ):
        answer = await manager.press_callback(data, card.result["message_id"])
        assert (answer.params["text"], answer.params.get("show_alert")) == (STALE, True), data
    assert await ticket_state(bot, ticket.id) == before


async def test_a_status_change_the_database_does_not_answer_is_answered_not_left_spinning(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat, database: dict[str, Any]
) -> None:
    ticket, card = await create_ticket(bot, api)
    await outbox_settled(bot)
    before = await ticket_state(bot, ticket.id)

    # On SQLite the outbox worker may meet the lock first and wait its busy timeout too.
    async with table_locked(database, "tickets", seconds=2 * DATABASE_PATIENCE + 1):
        answer = await manager.click(CLOSE, card, timeout=3 * DATABASE_PATIENCE)
    assert answer.params["text"] == RU("error-db-unavailable")
    assert answer.params.get("show_alert") is True
    assert await ticket_state(bot, ticket.id) == before

    answer = await manager.click(CLOSE, card)
    assert answer.params["text"] == f"Заявка №{ticket.id} закрыта"


# -------------------------------------------------------------------------- manager mode


async def test_start_in_the_manager_chat_counts_open_tickets(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    reply = await manager.send_command("/start")
    assert reply.method == "sendMessage"
    assert "<b>Режим менеджера</b>" in (reply.text or "")
    assert "Открытых заявок: 0." in (reply.text or "")

    cards = [(await create_ticket(bot, api, client_id=5001 + i))[1] for i in range(3)]
    await manager.click(CLOSE, cards[1])
    await manager.expect("editMessageText")

    reply = await manager.send_command("/start")
    assert reply.chat_id == MANAGER_CHAT_ID
    assert "Открытых заявок: 2." in (reply.text or "")
    assert "Здравствуйте" not in (reply.text or "")  # not the client menu
    assert ManagerChat.inline_buttons(reply) == []


async def test_photo_in_the_manager_chat_is_answered_with_its_file_id(
    bot: RunningBot, manager: ManagerChat
) -> None:
    reply = await manager.send_photo(caption="для «О компании»")
    assert reply.method == "sendMessage"
    assert f"<code>{DEFAULT_PHOTO_ID}</code>" in (reply.text or "")
    reply_to = reply.params.get("reply_parameters") or {}
    photo_message_id = manager.api.messages_in(MANAGER_CHAT_ID)[0]["message_id"]
    assert reply_to.get("message_id", reply.params.get("reply_to_message_id")) == (
        photo_message_id
    )

    other = await manager.send_photo("AgACAgIAAxkBAAIBZ2Zf_another_photo")
    assert "<code>AgACAgIAAxkBAAIBZ2Zf_another_photo</code>" in (other.text or "")


async def test_ordinary_chatter_in_the_manager_chat_is_ignored(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    tracker = track_updates(bot)
    mark = api.mark()
    for text in ("Коллеги, кто возьмёт заявку?", "/help", "/new"):
        await tracker.wait(manager.send_nowait(text))
    assert replies_to(api, MANAGER_CHAT_ID, mark) == []
    assert await bot.rows("SELECT key FROM fsm_states") == []


async def test_commands_for_another_bot_are_ignored(
    bot: RunningBot, api: FakeBotAPI, manager: ManagerChat
) -> None:
    tracker = track_updates(bot)
    mark = api.mark()
    update = command_update(manager.user, "/start@other_bot", **ids(manager))
    await tracker.wait(manager.put(update))
    assert replies_to(api, MANAGER_CHAT_ID, mark) == []
    reply = await manager.send_command("/start@vizteh_test_bot")
    assert "Режим менеджера" in (reply.text or "")


async def test_manager_chat_may_be_a_person(
    start_bot: Callable[..., Awaitable[RunningBot]], api: FakeBotAPI
) -> None:
    """MANAGER_CHAT_ID set to a manager's own id: their private chat is the manager chat."""
    running = await start_bot(manager_chat_id=7001)
    boss = TelegramUser(api, 7001, "Олег")
    reply = await boss.send_command("/start")
    assert "Режим менеджера" in (reply.text or "")
    assert "Открытых заявок: 0." in (reply.text or "")

    ticket, card = await create_ticket(running, api, username=None)
    assert f"<b>Заявка №{ticket.id}</b>" in (card.text or "")
    answer = await boss.click(CLOSE, card)
    assert answer.params["text"] == f"Заявка №{ticket.id} закрыта"
    edit = await boss.expect("editMessageText")
    assert edit.message_id == card.message_id
    assert ManagerChat.inline_buttons(edit) == [[REOPEN]]
