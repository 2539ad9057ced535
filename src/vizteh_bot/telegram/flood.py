"""Protection against floods, in front of every handler."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError

from vizteh_bot.outbox.pacing import TokenBucket

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram import Bot
    from aiogram.types import Chat, TelegramObject, User

    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)

# A person filling the form sends an update every few seconds; ten in a burst and then
# three a second is far beyond that, and cheap to drop when a script exceeds it.
UPDATES_PER_SECOND = 3.0
UPDATE_BURST = 10.0
TRACKED_USERS = 10_000
WARNING_INTERVAL_SECONDS = 30.0


class ThrottleClients(BaseMiddleware):
    """Drop a flooding client's updates so that they cost others nothing.

    The manager chat is never throttled: managers may press many buttons in a row.
    """

    def __init__(self, manager_chat: ManagerChat, clock: Callable[[], float] = time.monotonic):
        self._manager_chat = manager_chat
        self._clock = clock
        self._buckets: dict[int, TokenBucket] = {}
        self._warned: dict[int, float] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or (chat is not None and chat.id in self._manager_chat):
            return await handler(event, data)
        now = self._clock()
        bucket = self._buckets.get(user.id)
        if bucket is None:
            if len(self._buckets) >= TRACKED_USERS:
                self._forget_calm(now)
            bucket = TokenBucket(UPDATES_PER_SECOND, UPDATE_BURST, UPDATE_BURST, now)
            self._buckets[user.id] = bucket
        if not bucket.take(now):
            logger.info("Dropped an update from user %s: too many too fast", user.id)
            await self._warn_once(user.id, chat, data, now)
            return None
        return await handler(event, data)

    async def _warn_once(
        self, user_id: int, chat: Chat | None, data: dict[str, Any], now: float
    ) -> None:
        """Say once per episode why messages go unanswered; more would feed the flood."""
        if chat is None or chat.type != "private" or self._warned.get(user_id, 0.0) > now:
            return
        self._warned[user_id] = now + WARNING_INTERVAL_SECONDS
        texts: Texts = data["texts"]
        bot: Bot = data["bot"]
        try:
            await bot.send_message(chat.id, texts("error-too-fast"))
        except TelegramAPIError as error:
            logger.info("Could not warn flooding user %s: %s", user_id, error)

    def _forget_calm(self, now: float) -> None:
        for user_id in [uid for uid, bucket in self._buckets.items() if bucket.full(now)]:
            del self._buckets[user_id]
        for user_id in [uid for uid, until in self._warned.items() if until <= now]:
            del self._warned[user_id]
