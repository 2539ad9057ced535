"""Filters aiogram awaits in the event loop.

aiogram 3 runs a plain (synchronous) filter, a magic `F` filter or a bare State through
`asyncio.to_thread`: a thread hop per filter per update, the largest cost in profiles of
the request flow. Every filter here is a coroutine, so routing stays in the loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.filters import Filter

if TYPE_CHECKING:
    from aiogram.types import TelegramObject
    from magic_filter import MagicFilter

    from vizteh_bot.telegram.manager_chat import ManagerChat


class Magic(Filter):
    """An `F` expression, evaluated inline."""

    def __init__(self, magic: MagicFilter) -> None:
        self._magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self._magic.resolve(event))


class InManagerChat(Filter):
    """The event comes from the manager chat (or the supergroup it became)."""

    def __init__(self, manager_chat: ManagerChat, chat: MagicFilter) -> None:
        self._manager_chat = manager_chat
        self._chat = chat

    async def __call__(self, event: TelegramObject) -> bool:
        chat_id = self._chat.resolve(event)
        return chat_id is not None and chat_id in self._manager_chat
