"""Sending the request: confirmation, idempotency, escaping, English, a restart mid-form."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from support.client_flow import (
    ASK_TEXT,
    CONFIRMATION,
    assert_question,
    caught_up,
    eventually,
    fill_form,
    fsm_rows,
    no_failed_updates,
    open_form,
    reply_markup,
    send_form,
    summary_text,
    wait_accepted,
    wait_card,
    wait_in_chat,
)
from support.fake_bot_api import ApiCall, FakeBotAPI
from support.fake_objects import callback_query_update
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)

STALE = "Эта кнопка устарела. Начните заново: /start"


async def answers_to(api: FakeBotAPI, query_ids: set[str], count: int) -> list[ApiCall]:
    """Wait until the bot has answered ``count`` of these callback queries."""

    def answered() -> list[ApiCall]:
        return [
            call
            for call in api.calls
            if call.method == "answerCallbackQuery"
            and call.params.get("callback_query_id") in query_ids
        ]

    await api.wait_for_call(lambda _: len(answered()) >= count, timeout=5)
    return answered()


async def test_send_confirms_and_marks_the_summary_sent(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    summary = await fill_form(client, "Анна", "89161234567", "Нужен сайт")
    send_data = client.callback_data("✅ Отправить", summary)
    mark = api.mark()
    answer = await client.click("✅ Отправить", summary)
    assert answer.params["text"] == "Отправляем…"
    assert not answer.params.get("show_alert")

    edit = await wait_in_chat(api, client.chat_id, "editMessageText", mark)
    assert edit.message_id == summary.message_id
    assert edit.text == summary_text("Анна", "+79161234567", "Нужен сайт", sent=True)
    assert reply_markup(edit) is None
    stored = api.get_message(client.chat_id, summary.result["message_id"])
    assert stored is not None
    assert "reply_markup" not in stored
    accepted = await wait_accepted(api, client, mark, 1)
    assert accepted.text == (
        "✅ Заявка №1 принята!\n"
        "Менеджер свяжется с вами в ближайшее время.\n"
        "Оставить ещё одну заявку: /start"
    )
    card = await wait_card(api, mark, 1)
    caught_up(client, edit, accepted)

    columns = (
        "id, client_id, client_username, client_full_name, client_language, status,"
        " manager_chat_id, manager_message_id"
    )
    expected = {
        "id": 1,
        "client_id": 5001,
        "client_username": "anna_client",
        "client_full_name": "Анна",
        "client_language": "ru",
        "status": "open",
        "manager_chat_id": MANAGER_CHAT_ID,
        "manager_message_id": card.result["message_id"],
    }
    # The card's place is recorded right after Telegram answers the send.
    await eventually(lambda: bot.rows(f"SELECT {columns} FROM tickets"), [expected])
    assert await fsm_rows(bot) == []
    await client.quiet(0.2)
    assert [call.method for call in client.sent()] == ["sendMessage"] * 6  # menu…summary, №1

    # Pressing Send again on the sent summary (e.g. from a stale client) changes nothing:
    # the button names its form, and the form was sent.
    again = await client.press_callback(send_data, summary.result["message_id"])
    assert again.params["text"] == "Эта заявка уже отправлена."
    assert not again.params.get("show_alert")
    await client.quiet(0.2)
    assert len(await bot.rows("SELECT id FROM tickets")) == 1


async def test_each_request_gets_the_next_number(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    other = TelegramUser(api, 5002, first_name="Борис", username=None)
    for number, who in ((1, client), (2, other)):
        summary = await fill_form(who, text=f"Заявка {number}")
        await send_form(who, api, summary, number)
    rows = await bot.rows(
        "SELECT id, client_id, client_username, client_full_name, text FROM tickets ORDER BY id"
    )
    assert rows == [
        {"id": 1, "client_id": 5001, "client_username": "anna_client",
         "client_full_name": "Анна", "text": "Заявка 1"},
        {"id": 2, "client_id": 5002, "client_username": None,
         "client_full_name": "Борис", "text": "Заявка 2"},
    ]  # fmt: skip


async def test_double_tap_on_send_creates_one_ticket(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    summary = await fill_form(client)
    message = api.get_message(client.chat_id, summary.result["message_id"])
    assert message is not None
    data = client.callback_data("✅ Отправить", summary)
    taps = [callback_query_update(client.user, message, data) for _ in range(2)]
    query_ids = {str(tap["callback_query"]["id"]) for tap in taps}
    mark = api.mark()
    for tap in taps:  # back to back, before the bot polls again
        api.put_update(tap)

    answers = await answers_to(api, query_ids, 2)
    await wait_accepted(api, client, mark, 1)
    await wait_card(api, mark, 1)
    await asyncio.sleep(0.3)
    texts = sorted(call.params.get("text") for call in answers)
    assert "Отправляем…" in texts
    assert texts in (
        ["Отправляем…", "Эта заявка уже отправлена."],
        ["Отправляем…", STALE],
    ), texts
    assert len(await bot.rows("SELECT id FROM tickets")) == 1
    assert len(await bot.rows("SELECT id FROM outbox")) == 2
    assert len(api.sent_to(MANAGER_CHAT_ID)) == 1
    accepted = [c for c in client.sent() if c.text and "принята" in c.text]
    assert len(accepted) == 1
    marked = [call for call in api.calls_for("editMessageText", client.chat_id) if call.ok]
    assert len(marked) == 1


@pytest.mark.parametrize("when", ["after-handling", "back-to-back"])
async def test_redelivered_send_update_creates_one_ticket(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, when: str
) -> None:
    summary = await fill_form(client)
    message = api.get_message(client.chat_id, summary.result["message_id"])
    assert message is not None
    update = callback_query_update(client.user, message, client.callback_data("✅ Отправить"))
    mark = api.mark()
    update_id = api.put_update(update)
    if when == "after-handling":
        await wait_accepted(api, client, mark, 1)
        await api.wait_confirmed(update_id)
    api.put_update_raw({**update, "update_id": update_id})  # Telegram delivers it again

    def deliveries() -> list[ApiCall]:
        return [
            call
            for call in api.calls  # the poll that delivers it may predate the mark
            if call.method == "getUpdates" and isinstance(call.result, list)
            for delivered in call.result
            if delivered["update_id"] == update_id
        ]

    await api.wait_for_call(lambda _: len(deliveries()) >= 2)
    last = deliveries()[-1]
    # The bot polls again only once it has taken the batch with the second copy.
    await api.wait_for_call(lambda call: call.method == "getUpdates", start=last.seq + 1)
    accepted = await wait_accepted(api, client, mark, 1)
    edit = await wait_in_chat(api, client.chat_id, "editMessageText", mark)
    caught_up(client, accepted, edit)
    await client.quiet(0.3)
    assert len(await bot.rows("SELECT id FROM tickets")) == 1
    assert len(await bot.rows("SELECT id FROM outbox")) == 2
    assert len(api.sent_to(MANAGER_CHAT_ID)) == 1
    assert len([c for c in client.sent() if c.text and "принята" in c.text]) == 1
    errors = [c for c in api.calls[mark:] if "Что-то пошло не так" in str(c.params.get("text"))]
    assert errors == []


async def test_markup_and_emoji_are_escaped_on_screen_and_raw_in_the_database(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    name = "Аня <b>&"
    text = "Сайт <b>& 🚀 </i> «ёлка» &amp;"
    summary = await fill_form(client, name, "+7 916 123-45-67", text)
    escaped_name = "Аня &lt;b&gt;&amp;"
    escaped_text = "Сайт &lt;b&gt;&amp; 🚀 &lt;/i&gt; «ёлка» &amp;amp;"
    assert summary.text == summary_text(escaped_name, "+79161234567", escaped_text)
    assert summary.visible_text == summary_text(name, "+79161234567", text).replace(
        "<b>Проверьте заявку</b>", "Проверьте заявку"
    )

    mark = api.mark()
    _, edit, _ = await send_form(client, api, summary, 1)
    assert edit.text == summary_text(escaped_name, "+79161234567", escaped_text, sent=True)
    card = await wait_card(api, mark, 1)
    assert f"👤 Имя: {escaped_name}\n" in (card.text or "")
    assert f"📝 Что нужно:\n{escaped_text}\n" in (card.text or "")
    assert text in (card.visible_text or "")
    assert await bot.rows("SELECT name, text FROM tickets") == [{"name": name, "text": text}]


async def test_half_filled_form_survives_a_restart(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    first = await start_bot()
    await open_form(client)
    await client.send("Анна")
    assert_question(await client.send("8 916 123-45-67"), ASK_TEXT)
    await first.stop()
    assert first.task.done()

    second = await start_bot()
    assert second.app is not first.app
    # Same test, same `database` fixture: the new process opens the same database.
    assert second.app.settings.database_url() == first.app.settings.database_url()
    summary = await client.send("После перезапуска")
    assert summary.text == summary_text("Анна", "+79161234567", "После перезапуска")
    assert client.inline_buttons(summary) == CONFIRMATION

    await send_form(client, api, summary, 1)
    assert await second.rows("SELECT name, phone, text FROM tickets") == [
        {"name": "Анна", "phone": "+79161234567", "text": "После перезапуска"}
    ]


async def test_send_redelivered_after_a_restart_changes_nothing_and_says_nothing(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    first = await start_bot()
    summary = await fill_form(client)
    message = api.get_message(client.chat_id, summary.result["message_id"])
    assert message is not None
    update = callback_query_update(client.user, message, client.callback_data("✅ Отправить"))
    mark = api.mark()
    update_id = api.put_update(update)
    await wait_accepted(api, client, mark, 1)
    await wait_in_chat(api, client.chat_id, "editMessageText", mark)
    await api.wait_confirmed(update_id)
    await first.stop()

    # The new process knows from the database which updates the old one handled.
    restart_mark = api.mark()
    second = await start_bot()
    query_id = str(update["callback_query"]["id"])
    replay_mark = api.mark()
    api.put_update_raw({**update, "update_id": update_id})
    delivered = await api.wait_for_call(
        lambda call: (
            call.method == "getUpdates"
            and update_id in [item["update_id"] for item in call.result or []]
        ),
        start=restart_mark,
    )
    # The next poll comes once the bot is done with the redelivered update.
    await api.wait_for_call(
        lambda call: call.method == "getUpdates" and call.seq > delivered.seq, start=restart_mark
    )
    client.cursor = replay_mark
    await client.quiet(0.5)
    answers = [
        call
        for call in api.calls_for("answerCallbackQuery")
        if call.params.get("callback_query_id") == query_id and call.seq >= replay_mark
    ]
    assert answers == []
    assert len(await second.rows("SELECT id FROM tickets")) == 1
    assert len(api.sent_to(MANAGER_CHAT_ID)) == 1
