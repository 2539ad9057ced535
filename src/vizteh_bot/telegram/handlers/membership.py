"""The bot added to or removed from a group: say so in the log, with the id to configure."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Router

if TYPE_CHECKING:
    from aiogram.types import ChatMemberUpdated

    from vizteh_bot.telegram.manager_chat import ManagerChat

logger = logging.getLogger(__name__)
_PRESENT = {"member", "administrator", "creator", "restricted"}


async def bot_membership_changed(update: ChatMemberUpdated, manager_chat: ManagerChat) -> None:
    chat, present = update.chat, update.new_chat_member.status in _PRESENT
    if chat.id in manager_chat:
        if not present:
            logger.warning(
                "The bot was removed from the manager chat %s; new requests wait in the "
                "outbox until it is added back",
                chat.id,
            )
        return
    if present and chat.type != "private":
        logger.warning(
            "The bot was added to %s %r; to receive requests there set MANAGER_CHAT_ID=%s",
            chat.type,
            chat.title,
            chat.id,
        )


def create_router() -> Router:
    router = Router(name=__name__)
    router.my_chat_member.register(bot_membership_changed)
    return router
