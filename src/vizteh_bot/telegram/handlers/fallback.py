"""What no other handler wanted: forged or stale buttons and stray private messages."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.enums import ChatType

from vizteh_bot.telegram.callbacks import TicketCallback
from vizteh_bot.telegram.filters import Magic

if TYPE_CHECKING:
    from aiogram.types import CallbackQuery, Message

    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)


async def status_button_outside_manager_chat(query: CallbackQuery, texts: Texts) -> None:
    # Never touch the message here: it is in a chat that has no say over tickets.
    logger.warning(
        "Refused a status button from user %s outside the manager chat", query.from_user.id
    )
    await query.answer(texts("error-not-manager"), show_alert=True)


async def stale_button_pressed(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts("error-button-stale"), show_alert=True)


async def stray_private_message(message: Message, texts: Texts) -> None:
    await message.answer(texts("menu-hint"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(status_button_outside_manager_chat, TicketCallback.filter())
    router.callback_query.register(stale_button_pressed)
    router.message.register(stray_private_message, Magic(F.chat.type == ChatType.PRIVATE))
    return router
