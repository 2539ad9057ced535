"""The manager chat's side of the conversation: a reply to the bot's message about a request
goes to its client; `/note` keeps a note; an edit follows to the client's copy.

Only replies to the bot's own messages are passed on: anything else said in the chat, a
reply to a colleague included, stays there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject

from vizteh_bot.db.repositories.tickets import Actor, TicketNotFound
from vizteh_bot.services.conversation import add_note, mirror_edit, relay_to_client
from vizteh_bot.services.relay_rows import Wrapping
from vizteh_bot.telegram.conversation.incoming import incoming_of
from vizteh_bot.telegram.filters import InManagerChat, Magic
from vizteh_bot.telegram.render.entities import Formatted

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiogram.types import Message

    from vizteh_bot.config import Settings
    from vizteh_bot.db.uow import Store
    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.services.tickets import Wakeable
    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Texts, Translations

logger = logging.getLogger(__name__)
NOTE_LIMIT = 2000


async def note_command(
    message: Message,
    command: CommandObject,
    texts: Texts,
    store: Store,
    delivery: Wakeable,
    manager_chat: ManagerChat,
) -> None:
    ticket_ids = await _tickets_replied_to(message, store)
    if not ticket_ids:
        await message.reply(texts("note-usage"))
        return
    if len(ticket_ids) > 1:
        await message.reply(texts("conversation-digest-ambiguous"))
        return
    note = (command.args or "").strip()
    if not note:
        await message.reply(texts("note-empty"))
        return
    if len(note) > NOTE_LIMIT:
        await message.reply(texts("note-too-long", limit=NOTE_LIMIT))
        return
    try:
        await add_note(
            store,
            delivery,
            ticket_id=ticket_ids[0],
            author=_actor(message),
            text=note,
            manager_chat_id=manager_chat.current_id,
        )
    except TicketNotFound:
        await message.reply(texts("error-ticket-not-found"))
        return
    await message.reply(texts("note-added", number=ticket_ids[0]))


async def reply_to_request(
    message: Message,
    texts: Texts,
    translations: Translations,
    store: Store,
    delivery: Wakeable,
    manager_chat: ManagerChat,
    settings: Settings,
) -> None:
    incoming = incoming_of(message)
    ticket_ids = await _tickets_replied_to(message, store)
    if incoming is None or not ticket_ids or _is_command(message):
        raise SkipHandler  # not about a request: the chat's own business
    if len(ticket_ids) > 1:
        await message.reply(texts("conversation-digest-ambiguous"))
        return
    assert message.reply_to_message is not None
    try:
        await relay_to_client(
            store,
            delivery,
            ticket_id=ticket_ids[0],
            incoming=incoming,
            wrapping=_signed(message, translations, settings),
            replied_to=message.reply_to_message.message_id,
            manager_chat_id=manager_chat.current_id,
        )
    except TicketNotFound:
        await message.reply(texts("error-ticket-not-found"))


async def manager_edited(
    message: Message,
    translations: Translations,
    store: Store,
    delivery: Wakeable,
    settings: Settings,
    manager_chat: ManagerChat,
) -> None:
    incoming = incoming_of(message)
    if incoming is None or _is_command(message):
        return
    # Telegram sends an edited reply with what it replies to: its request, if not out yet.
    ticket_ids = await _tickets_replied_to(message, store)
    await mirror_edit(
        store,
        delivery,
        incoming=incoming,
        wrapping=_signed(message, translations, settings),
        ticket_id=ticket_ids[0] if len(ticket_ids) == 1 else None,
        manager_chat_id=manager_chat.current_id,
    )


def _signed(
    message: Message, translations: Translations, settings: Settings
) -> Callable[[Ticket], Wrapping]:
    # An anonymous admin writes as the group: their name is not theirs to sign with.
    anonymous = message.sender_chat is not None
    first_name = "" if anonymous or not message.from_user else message.from_user.first_name

    def wrapping(ticket: Ticket) -> Wrapping:
        texts = translations.for_language(ticket.client.language)
        signature = None
        if settings.reply_signature == "name" and first_name:
            signature = Formatted(texts("reply-signature-name", name=first_name))
        elif settings.reply_signature != "none":
            signature = Formatted(texts("reply-signature-company"))
        return Wrapping(signature=signature, report=True)

    return wrapping


async def _tickets_replied_to(message: Message, store: Store) -> list[int]:
    replied = message.reply_to_message
    bot = message.bot
    if replied is None or bot is None or replied.from_user is None:
        return []
    if replied.from_user.id != bot.id:
        return []
    async with store.read() as uow:
        return await uow.conversation.tickets_of_message(message.chat.id, replied.message_id)


def _is_command(message: Message) -> bool:
    return bool(message.text and message.text.startswith("/"))


def _actor(message: Message) -> Actor:
    user = message.from_user
    return Actor(user.id, user.full_name) if user else Actor(0, "?")


def create_router(manager_chat: ManagerChat) -> Router:
    router = Router(name=__name__)
    router.message.filter(InManagerChat(manager_chat, F.chat.id))
    router.edited_message.filter(InManagerChat(manager_chat, F.chat.id))
    router.message.register(note_command, Command("note"))
    router.message.register(reply_to_request, Magic(F.reply_to_message))
    router.edited_message.register(manager_edited)
    return router
