"""The conversation around a request, both ways, through the fake Bot API: a manager's reply
reaches the client (signed, marked 👌 once delivered), the client's answer reaches the
managers under their request's card, and nothing else said in the manager chat leaks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from support.client_flow import no_failed_updates
from support.fake_bot_api import FakeBotAPI
from support.relay_flow import (
    DELIVERED,
    calls_into,
    card_shows,
    reacted,
    relayed,
    request_with_card,
)
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)

SIGNATURE = "\n\n— Олег, ВизТех"
HEADER = "Заявка №1 — клиент пишет:"


async def test_a_reply_to_the_card_reaches_the_client_with_its_formatting_and_a_signature(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    text = "Здравствуйте, Анна! Смета <готова> & ждёт 🚀"
    bold = {"type": "bold", "offset": 0, "length": 11}
    manager.send_text_nowait(text, entities=[bold], reply_to=card)
    reply_id = manager.own_message_ids[-1]

    [sent] = await relayed(api, client.chat_id, mark)
    assert sent.method == "sendMessage"
    assert sent.params["text"] == text + SIGNATURE
    assert sent.params["entities"] == [bold]
    assert "parse_mode" not in sent.params, "a person's text is never parsed as markup"
    reaction = await reacted(api, MANAGER_CHAT_ID, reply_id, mark)
    assert reaction.ok
    assert api.reactions(MANAGER_CHAT_ID, reply_id) == [DELIVERED]

    [pair] = await bot.rows(
        "SELECT ticket_id, chat_id, source_chat_id, source_message_id FROM message_pairs"
        " WHERE chat_id = :chat AND source_message_id IS NOT NULL",
        chat=client.chat_id,
    )
    assert pair == {
        "ticket_id": 1,
        "chat_id": client.chat_id,
        "source_chat_id": MANAGER_CHAT_ID,
        "source_message_id": reply_id,
    }
    refresh = await card_shows(api, "Последним отвечал менеджер", mark)
    assert refresh.chat_id == MANAGER_CHAT_ID


async def test_the_client_answers_and_the_managers_see_it_under_the_card(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    client.send_text_nowait("Добрый день! А можно <b>дешевле</b>?")
    message_id = client.own_message_ids[-1]

    [sent] = await relayed(api, MANAGER_CHAT_ID, mark)
    assert sent.params["text"] == f"{HEADER}\nДобрый день! А можно <b>дешевле</b>?"
    assert sent.params["entities"] == [{"type": "bold", "offset": 0, "length": len(HEADER)}]
    assert sent.params["reply_parameters"]["message_id"] == card["message_id"]
    await reacted(api, client.chat_id, message_id, mark)
    assert [c for c in calls_into(api, client.chat_id, mark)] == [], "no menu, no echo"
    refresh = await card_shows(api, "ждут ответа: 1", mark)
    assert "Последним писал клиент" in (refresh.text or "")
    [ticket] = await bot.rows("SELECT waiting_messages, last_message_from FROM tickets")
    assert ticket == {"waiting_messages": 1, "last_message_from": "client"}

    # The manager answers the client's message: in the client's chat it answers theirs.
    copy = api.get_message(MANAGER_CHAT_ID, sent.result["message_id"])
    mark = api.mark()
    manager.send_text_nowait("Можно, пришлю варианты", reply_to=copy)
    [answer] = await relayed(api, client.chat_id, mark)
    assert answer.params["reply_parameters"]["message_id"] == message_id
    await card_shows(api, "Последним отвечал менеджер", mark)
    [ticket] = await bot.rows("SELECT waiting_messages, last_message_from FROM tickets")
    assert ticket == {"waiting_messages": 0, "last_message_from": "manager"}


async def test_what_is_not_a_reply_to_the_bot_stays_in_the_manager_chat(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    manager.send_text_nowait("Коллеги, кто возьмёт заявку Анны?")
    colleague = manager.as_manager(7002, first_name="Мария")
    colleague.send_text_nowait("Я возьму", reply_to=manager.own_message_ids[-1])
    manager.send_text_nowait("/start@vizteh_test_bot", reply_to=card)
    await manager.expect("sendMessage")  # the manager mode, not a relay
    await client.quiet(1.0)
    assert calls_into(api, client.chat_id, mark) == []
    copies = "SELECT id FROM message_pairs WHERE chat_id = :c AND source_message_id IS NOT NULL"
    assert await bot.rows(copies, c=client.chat_id) == []


async def test_a_note_is_listed_on_the_card_and_never_reaches_the_client(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    manager.send_text_nowait("/note перезвонить в пятницу <после 15:00>", reply_to=card)
    added = await manager.expect("sendMessage")
    assert added.text == "📌 Заметка добавлена к заявке №1. Клиент её не видит."
    refresh = await card_shows(api, "📌", mark)
    assert "📌 Олег: перезвонить в пятницу &lt;после 15:00&gt;" in (refresh.text or "")
    assert calls_into(api, client.chat_id, mark) == []
    [note] = await bot.rows("SELECT ticket_id, author_name, text FROM ticket_notes")
    assert note == {
        "ticket_id": 1,
        "author_name": "Олег",
        "text": "перезвонить в пятницу <после 15:00>",
    }

    manager.send_text_nowait("/note")
    assert (await manager.expect("sendMessage")).text == (
        "Чтобы добавить заметку, ответьте на сообщение заявки командой: /note текст заметки"
    )
    manager.send_text_nowait("/note   ", reply_to=card)
    assert (await manager.expect("sendMessage")).text.startswith("Напишите текст заметки")


async def test_a_client_who_blocked_the_bot_is_named_in_a_reply_and_on_the_card(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    api.blocked_chats.add(client.chat_id)
    mark = api.mark()
    manager.send_text_nowait("Анна, вы здесь?", reply_to=card)
    reply_id = manager.own_message_ids[-1]
    report = await api.wait_for_call(
        lambda c: (
            c.method == "sendMessage"
            and c.chat_id == MANAGER_CHAT_ID
            and c.ok
            and "Не доставлено" in (c.text or "")
        ),
        10.0,
        start=mark,
    )
    assert report.text == "⚠️ Не доставлено: клиент заблокировал бота."
    assert report.params["reply_parameters"]["message_id"] == reply_id
    await card_shows(api, "🚫 Клиент заблокировал бота", mark)
    assert api.reactions(MANAGER_CHAT_ID, reply_id) == []
    [row] = await bot.rows("SELECT state FROM outbox WHERE kind = 'relay'")
    assert row["state"] == "failed", "kept, with the reason, not dropped"


async def test_closing_tells_the_client_and_their_next_message_reopens_the_request(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    await manager.press_callback(manager.callback_data("✅ Закрыть", None), card["message_id"])
    notice = await api.wait_for_call(
        lambda c: c.method == "sendMessage" and c.chat_id == client.chat_id, start=mark
    )
    assert notice.text == ("Заявка №1 закрыта. Если вопрос не решён, просто напишите сюда.")

    mark = api.mark()
    client.send_text_nowait("Вопрос не решён: сайт не открывается")
    [sent] = await relayed(api, MANAGER_CHAT_ID, mark)
    assert sent.params["text"].startswith("Заявка №1 снова открыта — клиент пишет:\n")
    await card_shows(api, "🟢 открыта — Анна", mark)
    [ticket] = await bot.rows("SELECT status FROM tickets")
    assert ticket["status"] == "open"
    events = await bot.rows("SELECT new_status, actor_id FROM ticket_events ORDER BY id")
    assert events[-1] == {"new_status": "open", "actor_id": client.user_id}


async def test_status_notices_can_be_turned_off(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    await start_bot(notify_client_on_status=False)
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    await manager.press_callback(manager.callback_data("✅ Закрыть", None), card["message_id"])
    await api.wait_for_call(lambda c: c.method == "editMessageText", start=mark)
    await client.quiet(1.0)
    assert api.sent_to(client.chat_id)[-1].seq < mark


async def test_a_client_without_a_request_is_offered_one_that_starts_with_their_message(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    client.send_text_nowait("Сколько стоит лендинг?")
    offer = await client.expect("sendMessage")
    assert offer.text == (
        "Чтобы написать менеджеру, оставьте заявку — ваше сообщение станет её текстом."
    )
    await client.click("📝 Оставить заявку", offer)
    assert "Как к вам обращаться" in (await client.expect("sendMessage")).text
    await client.send("Анна")
    summary = await client.send("+7 916 123-45-67")
    assert "Сколько стоит лендинг?" in summary.text, "asked name and phone, then the summary"
    assert "Проверьте заявку" in summary.text


async def test_a_client_with_several_requests_writes_to_the_one_chosen_in_my(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    first = await request_with_card(api, client, 1, text="Сайт")
    second = await request_with_card(api, client, 2, text="Приложение")
    mark = api.mark()
    client.send_text_nowait("Это про приложение")
    [sent] = await relayed(api, MANAGER_CHAT_ID, mark)
    assert sent.params["reply_parameters"]["message_id"] == second["message_id"]

    listing = await client.send_command("/my")
    assert client.inline_buttons(listing) == [["№2: Приложение"], ["№1: Сайт"]]
    await client.click("№1: Сайт", listing)
    chosen = await client.expect("sendMessage")
    assert chosen.text == "Теперь ваши сообщения уходят в заявку №1."
    mark = api.mark()
    client.send_text_nowait("А это про сайт")
    [sent] = await relayed(api, MANAGER_CHAT_ID, mark)
    assert sent.params["text"].startswith("Заявка №1 — клиент пишет:")
    assert sent.params["reply_parameters"]["message_id"] == first["message_id"]


async def test_a_forged_choice_of_another_clients_request_is_refused(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    other = TelegramUser(api, 5002, first_name="Борис")
    await request_with_card(api, other, 1)
    await request_with_card(api, client, 2)
    answer = await client.press_callback("w:1", 0)
    assert answer.params.get("show_alert") is True
    mark = api.mark()
    client.send_text_nowait("Мой вопрос")
    [sent] = await relayed(api, MANAGER_CHAT_ID, mark)
    assert sent.params["text"].startswith("Заявка №2 — ")
    rows = await bot.rows(
        "SELECT data FROM fsm_states WHERE key LIKE :k", k=f"%:{client.chat_id}:%"
    )
    assert all(json.loads(r["data"]).get("talk_to") in (None, 2) for r in rows)


async def test_replies_wait_while_the_manager_chat_is_unreachable_then_all_arrive_in_order(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    await request_with_card(api, client, 1)
    api.remove_bot(MANAGER_CHAT_ID)
    mark = api.mark()
    for index in range(3):
        client.send_text_nowait(f"Сообщение {index + 1}")
        await client.quiet(0.4)
    await client.quiet(1.0)
    api.add_bot(MANAGER_CHAT_ID)
    sent = await relayed(api, MANAGER_CHAT_ID, mark, count=3, timeout=60)
    assert [c.params["text"].rsplit("\n", 1)[1] for c in sent] == [
        "Сообщение 1",
        "Сообщение 2",
        "Сообщение 3",
    ]


async def test_a_manager_chat_that_is_a_person_works_the_same(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    manager = TelegramUser(api, 7001, first_name="Олег")
    await start_bot(manager_chat_id=manager.chat_id)
    summary_card = None
    from support.client_flow import fill_form, send_form

    summary = await fill_form(client)
    mark = api.mark()
    await send_form(client, api, summary, 1)
    summary_card = await api.wait_for_call(
        lambda c: c.method == "sendMessage" and c.chat_id == manager.chat_id, start=mark
    )
    card = api.get_message(manager.chat_id, summary_card.result["message_id"])
    mark = api.mark()
    manager.send_text_nowait("Добрый день, перезвоню", reply_to=card)
    [sent] = await relayed(api, client.chat_id, mark)
    assert sent.params["text"] == "Добрый день, перезвоню" + SIGNATURE


async def test_with_privacy_mode_on_replies_and_notes_still_work(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    api.privacy_mode = True
    mark = api.mark()
    manager.send_text_nowait("Обсудим между собой")  # the bot is never told of this one
    manager.send_media_nowait("photo", caption="Смета", reply_to=card)
    [copy] = await relayed(api, client.chat_id, mark)
    assert copy.params["caption"] == "Смета" + SIGNATURE
    manager.send_text_nowait("/note клиент просил смету в PDF", reply_to=card)
    assert (await manager.expect("sendMessage")).text.startswith("📌 Заметка добавлена")
    received = [
        item["message"].get("text")
        for call in api.calls_for("getUpdates")
        if call.seq >= mark
        for item in call.result or []
        if "message" in item
    ]
    assert "Обсудим между собой" not in received
