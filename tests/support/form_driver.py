"""Takes simulated clients through the request form."""

from __future__ import annotations

from support.fake_bot_api import ApiCall
from support.fake_objects import callback_query_update
from support.telegram_user import TelegramUser


async def fill_until_text(user: TelegramUser, name: str, phone: str = "+79161234567") -> None:
    """/start, «Оставить заявку», name and phone: the client now owes the request text."""
    menu = await user.send_command("/start", timeout=10)
    await user.click("📝 Оставить заявку", menu, timeout=10)
    await user.expect("sendMessage", timeout=10)
    await user.send(name, timeout=10)
    await user.send(phone, timeout=10)


async def fill_until_summary(user: TelegramUser, name: str, text: str) -> ApiCall:
    """The whole form up to the summary with its Send button; returns the summary."""
    await fill_until_text(user, name)
    return await user.send(text, timeout=10)


def press_nowait(user: TelegramUser, button_text: str, message: ApiCall) -> None:
    """Press an inline button and do not wait for the bot (a burst, or a crash test)."""
    message_id = message.message_id
    assert message_id is not None
    stored = user.api.get_message(user.chat_id, message_id)
    assert stored is not None
    user.put(callback_query_update(user.user, stored, user.callback_data(button_text, message)))
