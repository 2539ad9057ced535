"""Per-update context: the texts in the language of whoever sent the update."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod
    from aiogram.types import TelegramObject, User

    from vizteh_bot.db.fsm_storage import DatabaseStorage
    from vizteh_bot.texts import Translations


class TextsMiddleware(BaseMiddleware):
    def __init__(self, translations: Translations) -> None:
        self._translations = translations

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        data["texts"] = self._translations.for_language(user.language_code if user else None)
        return await handler(event, data)


class InFlightUpdates(BaseMiddleware):
    """Counts updates being handled, so shutdown can let them finish before closing."""

    def __init__(self) -> None:
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self._active += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def drained(self, seconds: float) -> bool:
        """Wait until no update is being handled; False if `seconds` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True


class BatchStateWrites(BaseMiddleware):
    """An update's form-state changes reach the database in one transaction."""

    def __init__(self, storage: DatabaseStorage) -> None:
        self._storage = storage

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self._storage.deferred_writes():
            return await handler(event, data)


class FlushStateBeforeReply(BaseRequestMiddleware):
    """Store the form state an update changed before the client sees the bot's answer."""

    def __init__(self, storage: DatabaseStorage) -> None:
        self._storage = storage

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        await self._storage.flush_deferred()
        return await make_request(bot, method)
