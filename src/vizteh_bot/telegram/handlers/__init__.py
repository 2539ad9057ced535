"""Routers in the order updates meet them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.telegram.handlers import (
    common,
    errors,
    fallback,
    manager,
    manager_conversation,
    membership,
)
from vizteh_bot.telegram.handlers.client import conversation, form, menu, sending, summary

if TYPE_CHECKING:
    from aiogram import Router

    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Translations


def get_routers(manager_chat: ManagerChat, translations: Translations) -> list[Router]:
    # The manager chat comes first: it may be a private chat, and there it is not a client.
    # Cancel and back come before the form so they win in every step; Send too, as its press
    # counts in any state (seen again, it finds what it sent). The fallback comes after them
    # so it only sees what nothing else wanted (stale or forged buttons, stray messages).
    # A manager's reply to a request goes before the manager chat's photo lookup; what a
    # client writes outside the form, after the form (which owns the messages in a step).
    # Errors and membership changes are events no other router handles: last, so messages
    # and button presses do not walk through them.
    return [
        manager_conversation.create_router(manager_chat),
        manager.create_router(manager_chat),
        common.create_router(translations),
        menu.create_router(),
        sending.create_router(),
        summary.create_router(),
        form.create_router(translations),
        conversation.create_router(),
        fallback.create_router(),
        membership.create_router(),
        errors.create_router(),
    ]
