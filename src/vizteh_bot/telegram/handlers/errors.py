"""The last resort: an unexpected error is logged with its update and the person told."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.exceptions import TelegramAPIError

if TYPE_CHECKING:
    from aiogram.types import ErrorEvent

    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)


async def unexpected_error(event: ErrorEvent, texts: Texts | None = None) -> None:
    logger.error("Update %s failed", event.update.update_id, exc_info=event.exception)
    if texts is None:
        return
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts("error-internal"), show_alert=True)
        elif update.message is not None:
            await update.message.answer(texts("error-internal"))
    except TelegramAPIError:
        logger.warning("Could not tell the user about the failure of update %s", update.update_id)


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(unexpected_error)
    return router
