"""A request with its card out, and what the relay leaves in the fake Bot API."""

from __future__ import annotations

from typing import Any

from support.client_flow import fill_form, send_form, wait_card
from support.fake_bot_api import ApiCall, FakeBotAPI
from support.telegram_user import MANAGER_CHAT_ID, TelegramUser

Json = dict[str, Any]
DELIVERED = "👌"
RELAY_METHODS = ("sendMessage", "copyMessage", "copyMessages")


async def request_with_card(
    api: FakeBotAPI, client: TelegramUser, number: int, text: str = "Нужен сайт"
) -> Json:
    """The client sends a request through the form; returns its card as the managers see it."""
    summary = await fill_form(client, text=text)
    mark = api.mark()
    await send_form(client, api, summary, number)
    card = await wait_card(api, mark, number)
    stored = api.get_message(MANAGER_CHAT_ID, card.result["message_id"])
    assert stored is not None
    return stored


async def relayed(
    api: FakeBotAPI, chat_id: int, start: int, count: int = 1, timeout: float = 10.0
) -> list[ApiCall]:
    """The first `count` successful relay calls (send/copy) into `chat_id` after `start`."""
    found: list[ApiCall] = []

    def enough(call: ApiCall) -> bool:
        ours = call.method in RELAY_METHODS and call.chat_id == chat_id and call.ok
        if ours and call not in found:
            found.append(call)
        return len(found) >= count

    await api.wait_for_call(enough, timeout, start=start)
    return found


async def reacted(api: FakeBotAPI, chat_id: int, message_id: int, start: int) -> ApiCall:
    return await api.wait_for_call(
        lambda call: (
            call.method == "setMessageReaction"
            and call.chat_id == chat_id
            and call.params.get("message_id") == message_id
        ),
        10.0,
        start=start,
    )


def calls_into(api: FakeBotAPI, chat_id: int, start: int) -> list[ApiCall]:
    return [
        call
        for call in api.calls[start:]
        if call.chat_id == chat_id and call.method in RELAY_METHODS and call.ok
    ]


async def card_shows(api: FakeBotAPI, text: str, start: int, timeout: float = 10.0) -> ApiCall:
    """The first edit of a card in the manager chat after `start` that shows `text`."""
    return await api.wait_for_call(
        lambda call: (
            call.method == "editMessageText"
            and call.chat_id == MANAGER_CHAT_ID
            and text in (call.text or "")
        ),
        timeout,
        start=start,
    )
