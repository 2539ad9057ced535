"""One whole conversation, client and manager side, as Telegram would carry it."""

from __future__ import annotations

from support.fake_bot_api import FakeBotAPI
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser


async def test_request_travels_from_client_to_manager_and_back(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    menu = await client.send_command("/start")
    assert "Здравствуйте, Анна" in menu.text
    assert client.inline_buttons(menu) == [["📝 Оставить заявку"], ["🏢 О компании"]]

    await client.click("📝 Оставить заявку", menu)
    ask_name = await client.expect("sendMessage")
    assert "Как к вам обращаться" in ask_name.text

    ask_phone = await client.send("Анна <b>&</b>")
    assert "номер телефона" in ask_phone.text
    ask_text = await client.send("8 (916) 123-45-67")
    assert "Опишите" in ask_text.text
    summary = await client.send("Нужен сайт 🚀 <script>")
    assert "Анна &lt;b&gt;&amp;&lt;/b&gt;" in summary.text
    assert "+79161234567" in summary.text
    assert "Нужен сайт 🚀 &lt;script&gt;" in summary.text

    card_mark = api.mark()
    await client.click("✅ Отправить", summary)
    accepted = await client.expect("sendMessage")
    assert "Заявка №1 принята" in accepted.text

    card = await api.wait_for_call(
        lambda call: call.method == "sendMessage" and call.chat_id == MANAGER_CHAT_ID,
        start=card_mark,
    )
    assert "Заявка №1" in card.text
    assert "Анна &lt;b&gt;&amp;&lt;/b&gt;" in card.text
    assert 'href="tg://user?id=5001"' in card.text
    assert "(@anna_client)" in card.text
    assert ManagerChat.inline_buttons(card) == [["✅ Закрыть"]]

    answer = await manager.click("✅ Закрыть", card)
    assert answer.params["text"] == "Заявка №1 закрыта"
    edit = await manager.expect("editMessageText")
    assert edit.message_id == card.result["message_id"]
    assert "✅ закрыта — Олег" in edit.text
    assert ManagerChat.inline_buttons(edit) == [["🔄 Открыть"]]

    tickets = await bot.rows("SELECT id, name, phone, text, status FROM tickets")
    assert tickets == [
        {
            "id": 1,
            "name": "Анна <b>&</b>",
            "phone": "+79161234567",
            "text": "Нужен сайт 🚀 <script>",
            "status": "closed",
        }
    ]
    events = await bot.rows(
        "SELECT old_status, new_status, actor_id FROM ticket_events ORDER BY id"
    )
    assert events == [
        {"old_status": None, "new_status": "open", "actor_id": 5001},
        {"old_status": "open", "new_status": "closed", "actor_id": 7001},
    ]
