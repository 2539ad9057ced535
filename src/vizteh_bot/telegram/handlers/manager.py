"""The manager chat: manager mode, PHOTO_ID lookup and the status buttons on ticket cards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import CommandStart

from vizteh_bot.db.repositories.tickets import Actor, TicketNotFound
from vizteh_bot.domain.tickets import TicketStatus
from vizteh_bot.services.tickets import change_status
from vizteh_bot.telegram.callbacks import TicketAction, TicketCallback
from vizteh_bot.telegram.filters import InManagerChat, Magic

if TYPE_CHECKING:
    from aiogram.types import CallbackQuery, Message

    from vizteh_bot.db.repositories.tickets import TicketRepository
    from vizteh_bot.services.tickets import Wakeable
    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Texts

_TARGET_STATUS = {TicketAction.CLOSE: TicketStatus.CLOSED, TicketAction.REOPEN: TicketStatus.OPEN}
_ANSWER_KEYS = {
    (TicketStatus.CLOSED, True): "manager-ticket-closed",
    (TicketStatus.OPEN, True): "manager-ticket-reopened",
    (TicketStatus.CLOSED, False): "manager-ticket-already-closed",
    (TicketStatus.OPEN, False): "manager-ticket-already-open",
}


async def manager_start(message: Message, texts: Texts, tickets: TicketRepository) -> None:
    await message.answer(texts("manager-mode", open_count=await tickets.count_open()))


async def photo_received(message: Message, texts: Texts) -> None:
    assert message.photo
    await message.reply(texts("manager-photo-id", file_id=message.photo[-1].file_id))


async def status_button_pressed(
    query: CallbackQuery,
    callback_data: TicketCallback,
    texts: Texts,
    tickets: TicketRepository,
    delivery: Wakeable,
    manager_chat: ManagerChat,
) -> None:
    new_status = _TARGET_STATUS[callback_data.action]
    try:
        change = await change_status(
            tickets,
            delivery,
            ticket_id=callback_data.ticket_id,
            new_status=new_status,
            actor=Actor(query.from_user.id, query.from_user.full_name),
            manager_chat_id=manager_chat.current_id,
        )
    except TicketNotFound:
        await query.answer(texts("error-ticket-not-found"), show_alert=True)
        return
    await query.answer(texts(_ANSWER_KEYS[new_status, change.changed], number=change.ticket.id))


def create_router(manager_chat: ManagerChat) -> Router:
    router = Router(name=__name__)
    router.message.filter(InManagerChat(manager_chat, F.chat.id))
    router.callback_query.filter(InManagerChat(manager_chat, F.message.chat.id))
    router.message.register(manager_start, CommandStart())
    router.message.register(photo_received, Magic(F.photo))
    router.callback_query.register(status_button_pressed, TicketCallback.filter())
    return router
