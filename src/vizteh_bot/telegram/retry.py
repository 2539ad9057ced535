"""Direct replies: counted in the overall budget, and a short "retry after" waited out.

The outbox worker has its own bot without this: it postpones the whole chat instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod

    from vizteh_bot.outbox.pacing import Pacer

logger = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 10
MAX_RETRIES = 3


class CountDirectReplies(BaseRequestMiddleware):
    """Handler replies use the outbox's overall budget too: Telegram's 30 a second is for both.

    They are counted, not held: a person waiting for an answer goes first, and the outbox
    gives way.
    """

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        if type(method).__name__.startswith(("Send", "Edit")):
            self._pacer.note_direct_send()
        return await make_request(bot, method)


class RetryAfterMiddleware(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        for attempt in range(MAX_RETRIES + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == MAX_RETRIES or error.retry_after > MAX_WAIT_SECONDS:
                    raise
                logger.info(
                    "%s: Telegram asks to wait %s s", type(method).__name__, error.retry_after
                )
                await asyncio.sleep(error.retry_after)
        raise AssertionError("unreachable")
