"""The last resort: an unexpected error is logged with its update and the person told.

A callback query takes one answer only, so when the failing handler had answered it
already, the apology comes as a message instead. A press Telegram has expired, or a
reply that went to the outbox, needs no apology at all.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from sqlalchemy.exc import SQLAlchemyError

from vizteh_bot.telegram.middlewares import callback_answered
from vizteh_bot.telegram.replies import ReplyDeferred, ReplyNotSent

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.types import ErrorEvent

    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)


async def unexpected_error(
    event: ErrorEvent, bot: Bot | None = None, texts: Texts | None = None
) -> None:
    error, update = event.exception, event.update
    if isinstance(error, ReplyDeferred):
        logger.info("Update %s: %s", update.update_id, error)
        return
    if isinstance(error, ReplyNotSent) or _expired_query(error):
        logger.info(
            "Update %s: the press could not be answered in time (%s)", update.update_id, error
        )
        return
    database = _database_failed(error)
    if database:
        logger.warning("Update %s: the database failed: %s", update.update_id, _first_line(error))
    else:
        logger.error("Update %s failed", update.update_id, exc_info=error)
    if texts is None or bot is None:
        return
    apology = texts("error-db-unavailable" if database else "error-internal")
    try:
        query = update.callback_query
        if query is not None and not callback_answered(query.id):
            await query.answer(apology, show_alert=True)
        elif query is not None and query.message is not None:
            await bot.send_message(query.message.chat.id, apology)
        elif update.message is not None:
            await update.message.answer(apology)
    except (TelegramAPIError, ReplyDeferred, ReplyNotSent) as failure:
        logger.warning(
            "Could not tell the user about the failure of update %s: %s", update.update_id, failure
        )


def _expired_query(error: BaseException) -> bool:
    return isinstance(error, TelegramBadRequest) and "query is too old" in error.message


def _database_failed(error: BaseException) -> bool:
    return isinstance(error, SQLAlchemyError | TimeoutError | ConnectionError)


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(unexpected_error)
    return router
