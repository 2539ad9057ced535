"""Per-update context: the texts in the sender's language, form state written in one go,
and which callback queries the update has answered."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.methods import AnswerCallbackQuery

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod
    from aiogram.types import TelegramObject, User

    from vizteh_bot.db.fsm_storage import DatabaseStorage
    from vizteh_bot.texts import Translations

_answered: ContextVar[set[str] | None] = ContextVar("answered_queries", default=None)


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


class TrackCallbackAnswers(BaseMiddleware):
    """Gives each update its own record of the callback queries answered while handling it.

    Not reset on the way out: aiogram's error handling runs outside this middleware, in the
    same task, and must see it. Each update runs in a task of its own, so it ends there.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        _answered.set(set())
        return await handler(event, data)


class NoteCallbackAnswers(BaseRequestMiddleware):
    """Telegram takes one answer per callback query: remember which ones are answered."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        response = await make_request(bot, method)
        answered = _answered.get()
        if isinstance(method, AnswerCallbackQuery) and answered is not None:
            answered.add(method.callback_query_id)
        return response


def callback_answered(query_id: str) -> bool:
    """Whether the update being handled has answered this callback query already."""
    answered = _answered.get()
    return answered is not None and query_id in answered
