"""The manager chat: manager mode, PHOTO_ID lookup and the status buttons on ticket cards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import CommandStart

from vizteh_bot.db.repositories.tickets import Actor, TicketNotFound
from vizteh_bot.domain.tickets import TicketStatus
from vizteh_bot.services.delivery_status import delivery_report, problem_line
from vizteh_bot.services.tickets import change_status, send_full_text
from vizteh_bot.telegram.callbacks import TicketAction, TicketCallback
from vizteh_bot.telegram.filters import InManagerChat, Magic

if TYPE_CHECKING:
    from aiogram.types import CallbackQuery, Message

    from vizteh_bot.config import Settings
    from vizteh_bot.db.uow import Store
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


async def manager_start(message: Message, texts: Texts, store: Store) -> None:
    async with store.read() as uow:
        open_count = await uow.tickets.count_open()
    report = await delivery_report(store)
    answer = texts("manager-mode", open_count=open_count)
    problem = problem_line(texts, report)
    await message.answer(answer if problem is None else f"{answer}\n\n{problem}")


async def photo_received(message: Message, texts: Texts) -> None:
    assert message.photo
    await message.reply(texts("manager-photo-id", file_id=message.photo[-1].file_id))


async def status_button_pressed(
    query: CallbackQuery,
    callback_data: TicketCallback,
    texts: Texts,
    store: Store,
    delivery: Wakeable,
    manager_chat: ManagerChat,
    settings: Settings,
) -> None:
    new_status = _TARGET_STATUS[callback_data.action]
    try:
        change = await change_status(
            store,
            delivery,
            ticket_id=callback_data.ticket_id,
            new_status=new_status,
            actor=Actor(query.from_user.id, query.from_user.full_name),
            manager_chat_id=manager_chat.current_id,
            notify_client=settings.notify_client_on_status,
        )
    except TicketNotFound:
        await query.answer(texts("error-ticket-not-found"), show_alert=True)
        return
    await query.answer(texts(_ANSWER_KEYS[new_status, change.changed], number=change.ticket.id))


async def full_text_pressed(
    query: CallbackQuery,
    callback_data: TicketCallback,
    texts: Texts,
    store: Store,
    delivery: Wakeable,
    manager_chat: ManagerChat,
) -> None:
    reply_to = query.message.message_id if query.message is not None else None
    sent = await send_full_text(
        store,
        delivery,
        texts,
        ticket_id=callback_data.ticket_id,
        manager_chat_id=manager_chat.current_id,
        reply_to_message_id=reply_to,
    )
    key = "manager-full-text-sending" if sent else "error-ticket-not-found"
    await query.answer(texts(key, number=callback_data.ticket_id))


def create_router(manager_chat: ManagerChat) -> Router:
    router = Router(name=__name__)
    router.message.filter(InManagerChat(manager_chat, F.chat.id))
    router.callback_query.filter(InManagerChat(manager_chat, F.message.chat.id))
    router.message.register(manager_start, CommandStart())
    router.message.register(photo_received, Magic(F.photo))
    router.callback_query.register(
        full_text_pressed, TicketCallback.filter(F.action == TicketAction.FULL_TEXT)
    )
    router.callback_query.register(status_button_pressed, TicketCallback.filter())
    return router
