"""Direct replies: a person waiting for an answer is never dropped.

Each reply waits for its turn in the budget it shares with the outbox (outbox/pacing.py),
so a burst stays under Telegram's 30 a second instead of bouncing off it. A 429 or a
passing fault (5xx, a dropped connection, a proxy's error page) is waited out, with no cap
on retries, for up to `patience` seconds; a reply still not sent by then is written to the
outbox, which sends it when Telegram lets it, and the handler stops there (a reply the
handler can do without is awaited through `unless_deferred`). A press's answer is best
effort: if Telegram will not take it in time, the handler goes on without it.
Other calls (getUpdates, getMe) pass through untouched: their callers retry them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from aiogram.client.default import Default
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, Response
from aiogram.types import InputFile
from pydantic import BaseModel

from vizteh_bot.outbox.failures import Outcome, classify

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod

    from vizteh_bot.outbox.pacing import SendBudget

logger = logging.getLogger(__name__)

PATIENCE_SECONDS = 30.0
# A callback query is answerable for a few seconds only; waiting longer helps nobody.
CALLBACK_PATIENCE_SECONDS = 8.0
_PACED_PREFIXES = ("Send", "Edit", "Copy", "Forward")
_PASSING = (TelegramServerError, TelegramNetworkError, ClientDecodeError, TimeoutError)
# Set by `impatient()`: how long replies made there may take, with no outbox after.
_impatience: ContextVar[float | None] = ContextVar("impatience", default=None)
_T = TypeVar("_T")


@contextmanager
def impatient(seconds: float) -> Iterator[None]:
    """Replies made in this block wait at most `seconds` and are not deferred: the caller
    has something else to send when they fail (the text alone instead of a photo, say)."""
    token = _impatience.set(seconds)
    try:
        yield
    finally:
        _impatience.reset(token)


class ReplyDeferred(Exception):
    """The reply went to the outbox: the handler stops, the person gets it later."""

    def __init__(self, method: str, chat_id: int) -> None:
        super().__init__(f"{method} to {chat_id} deferred to the outbox")
        self.method = method
        self.chat_id = chat_id


class ReplyNotSent(Exception):
    """A reply that cannot wait in the outbox did not go in time."""


async def unless_deferred(reply: Awaitable[_T]) -> _T | None:
    """A reply the handler does not need in order to go on: if it went to the outbox, the
    rest of the handler still runs (None instead of its result)."""
    try:
        return await reply
    except ReplyDeferred:
        return None


class PatientReplies(BaseRequestMiddleware):
    def __init__(
        self,
        budget: SendBudget,
        defer: Callable[[int, str, dict[str, Any]], Awaitable[None]],
        *,
        patience: float = PATIENCE_SECONDS,
        time_scale: float = 1.0,
    ) -> None:
        self._budget = budget
        self._defer = defer
        self._patience = patience / time_scale
        self._callback_patience = CALLBACK_PATIENCE_SECONDS / time_scale
        self._time_scale = time_scale

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        name = type(method).__name__
        paced = name.startswith(_PACED_PREFIXES)
        answer = isinstance(method, AnswerCallbackQuery)
        if not paced and not answer:
            return await make_request(bot, method)
        chat_id = _chat_id(method)
        impatience = _impatience.get()
        if impatience is not None:
            patience = impatience
        elif answer:
            patience = self._callback_patience
        else:
            patience = self._patience
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        attempt = 0
        reason: BaseException | None = None
        while True:
            left = deadline - loop.time()
            if paced and not await self._budget.acquire(
                chat_id, urgent=True, limit=max(0.0, left), wait_for_chat=False
            ):
                break
            try:
                if impatience is None:
                    return await make_request(bot, method)
                return await asyncio.wait_for(make_request(bot, method), max(0.1, left))
            except TelegramRetryAfter as error:
                if chat_id is not None:
                    self._budget.hold(chat_id, error.retry_after)
                wait = float(error.retry_after)
                reason = error
            except _PASSING as error:
                if isinstance(error, ClientDecodeError) and _took_it(error):
                    # Sent: only its answer could not be read. Sending again would repeat it.
                    logger.warning("%s to %s went out; its answer was unreadable", name, chat_id)
                    return Response[Any](ok=True, result=None)
                attempt += 1
                wait = min(5.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0) / self._time_scale  # noqa: S311
                reason = error
            if loop.time() + wait > deadline:
                break
            logger.info("%s to %s: %s; trying again in %.1f s", name, chat_id, reason, wait)
            await asyncio.sleep(wait)
        if answer:
            logger.warning("Could not answer a press in time (%s); going on without it", reason)
            return Response[Any](ok=True, result=True)
        params = serialize(method) if chat_id is not None else None
        if impatience is not None or params is None or chat_id is None:
            if reason is not None and impatience is not None:
                raise reason
            raise ReplyNotSent(f"{name} to {chat_id} could not be sent within {patience:.0f} s")
        await self._defer(chat_id, type(method).__name__, params)
        logger.warning("%s to %s could not go out in time; it waits in the outbox", name, chat_id)
        raise ReplyDeferred(name, chat_id)


class IgnoreNotModified(BaseRequestMiddleware):
    """A second tap on a button whose message is already in that state changes nothing:
    Telegram's "message is not modified" is a success, not an error."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if not type(method).__name__.startswith("Edit") or "not modified" not in error.message:
                raise
            return Response[Any](ok=True, result=True)


def serialize(method: TelegramMethod[Any]) -> dict[str, Any] | None:
    """The method's parameters as JSON, to make the call later; None if it carries a file."""
    params: dict[str, Any] = {}
    for name, value in method:
        if value is None or isinstance(value, Default):
            continue  # a default is applied again when the call is made
        if isinstance(value, InputFile):
            return None
        if isinstance(value, BaseModel):
            params[name] = value.model_dump(mode="json", exclude_none=True)
        elif isinstance(value, list):
            if any(isinstance(item, InputFile) for item in value):
                return None
            params[name] = [
                item.model_dump(mode="json", exclude_none=True)
                if isinstance(item, BaseModel)
                else item
                for item in value
            ]
        else:
            params[name] = value
    return params


def _took_it(error: ClientDecodeError) -> bool:
    return classify(error).outcome is Outcome.SENT_UNREADABLE


def _chat_id(method: TelegramMethod[Any]) -> int | None:
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int) else None
