"""A flooding client is cut off without slowing anyone else; replayed updates run once."""

from __future__ import annotations

import asyncio

from support.fake_bot_api import FakeBotAPI
from support.fake_objects import command_update
from support.running_bot import RunningBot
from support.telegram_user import TelegramUser


async def test_flood_from_one_client_is_dropped_and_others_are_served(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    flooder = TelegramUser(api, 8001, first_name="Спамер")
    calm = TelegramUser(api, 8002, first_name="Вера")
    for i in range(200):
        flooder.send_nowait(f"спам {i}")

    menu = await calm.send_command("/start", timeout=5)

    assert "Здравствуйте, Вера" in (menu.text or "")
    await asyncio.sleep(0.5)
    answered = api.calls_for("sendMessage", chat_id=8001)
    # The burst allowance (10) and what refilled meanwhile, not two hundred answers,
    # and one notice saying why the rest goes unanswered.
    assert 5 <= len(answered) <= 20, len(answered)
    notices = [call for call in answered if "слишком часто" in (call.text or "")]
    assert len(notices) == 1


async def test_the_same_update_delivered_twice_is_handled_once(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    client = TelegramUser(api, 8003)
    update = command_update(client.user, "/start", message_id=api.next_message_id(8003))
    update_id = api.put_update(update)
    await client.expect("sendMessage")
    await api.wait_confirmed(update_id)

    api.put_update_raw({**update, "update_id": update_id})
    await api.wait_confirmed(update_id)
    await asyncio.sleep(0.3)

    assert len(api.calls_for("sendMessage", chat_id=8003)) == 1
