"""Routers in the order updates meet them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.telegram.handlers import common, errors, fallback, manager, membership
from vizteh_bot.telegram.handlers.client import form, menu, sending, summary

if TYPE_CHECKING:
    from aiogram import Router

    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Translations


def get_routers(manager_chat: ManagerChat, translations: Translations) -> list[Router]:
    # The manager chat comes first: it may be a private chat, and there it is not a client.
    # Cancel and back come before the form so they win in every step; Send too, as its press
    # counts in any state (seen again, it finds what it sent). The fallback comes after them
    # so it only sees what nothing else wanted (stale or forged buttons, stray messages).
    # Errors and membership changes are events no other router handles: last, so messages
    # and button presses do not walk through them.
    return [
        manager.create_router(manager_chat),
        common.create_router(translations),
        menu.create_router(),
        sending.create_router(),
        summary.create_router(),
        form.create_router(translations),
        fallback.create_router(),
        membership.create_router(),
        errors.create_router(),
    ]
