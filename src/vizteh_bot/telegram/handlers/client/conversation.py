"""What a client writes outside the form: it goes to the managers as part of their request
(the latest open one, or the one chosen with /my); with no request, a new one is offered,
the message kept as its text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.types import Message

from vizteh_bot.db.repositories.tickets import Actor, TicketNotFound
from vizteh_bot.domain.tickets import TicketStatus
from vizteh_bot.services.conversation import mirror_edit, relay_to_managers, target_for_client
from vizteh_bot.services.relay_rows import Wrapping
from vizteh_bot.telegram import keyboards
from vizteh_bot.telegram.callbacks import TalkCallback
from vizteh_bot.telegram.conversation.incoming import incoming_of
from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.render.entities import Formatted
from vizteh_bot.telegram.render.fit import cut

if TYPE_CHECKING:
    from aiogram.fsm.context import FSMContext
    from aiogram.types import CallbackQuery

    from vizteh_bot.db.uow import Store
    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.services.conversation import Target
    from vizteh_bot.services.tickets import Wakeable
    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Texts, Translations

# The draft of a request a client began by simply writing; the request a client writes to.
DRAFT_KEY = "draft"
TALK_KEY = "talk_to"
PREVIEW_LIMIT = 40


async def client_wrote(
    message: Message,
    state: FSMContext,
    texts: Texts,
    translations: Translations,
    store: Store,
    delivery: Wakeable,
    manager_chat: ManagerChat,
) -> None:
    incoming = incoming_of(message)
    if incoming is None or message.from_user is None or _is_command(message):
        raise SkipHandler
    if message.chat.id in manager_chat:
        raise SkipHandler  # a manager whose private chat is the manager chat is no client
    target = await _target(state, store, message.from_user.id)
    if target is None:
        await state.update_data({DRAFT_KEY: incoming.words})
        key = "conversation-offer" if incoming.words.strip() else "conversation-offer-no-text"
        await message.answer(texts(key), reply_markup=keyboards.new_from_draft(texts))
        return
    manager_texts = translations.default

    def header(ticket: Ticket) -> Wrapping:
        key = (
            "conversation-client-writes-reopened"
            if ticket.status is TicketStatus.CLOSED
            else "conversation-client-writes"
        )
        return Wrapping(
            header=Formatted.bold(manager_texts(key, number=ticket.id)),
            # Only in the chat the card is in: in another (MANAGER_CHAT_ID changed, a group
            # upgraded) the same id is some other message, maybe another request's card.
            reply_to_message_id=(
                ticket.manager_message_id
                if ticket.manager_chat_id == manager_chat.current_id
                else None
            ),
        )

    try:
        await relay_to_managers(
            store,
            delivery,
            target=target,
            incoming=incoming,
            header=header,
            client=Actor(message.from_user.id, message.from_user.full_name),
            manager_chat_id=manager_chat.current_id,
        )
    except TicketNotFound:
        await state.update_data({TALK_KEY: None})
        raise SkipHandler from None


async def client_edited(
    message: Message,
    state: FSMContext,
    translations: Translations,
    store: Store,
    delivery: Wakeable,
    manager_chat: ManagerChat,
) -> None:
    incoming = incoming_of(message)
    if incoming is None or message.from_user is None:
        return
    target = await _target(state, store, message.from_user.id)
    manager_texts = translations.default

    def header(ticket: Ticket) -> Wrapping:
        return Wrapping(
            header=Formatted.bold(manager_texts("conversation-client-writes", number=ticket.id))
        )

    await mirror_edit(
        store,
        delivery,
        incoming=incoming,
        wrapping=header,
        # Found from its copy once that is out; until then, where it is going.
        ticket_id=None if target is None else target.ticket.id,
        manager_chat_id=manager_chat.current_id,
    )


async def my_requests(message: Message, state: FSMContext, texts: Texts, store: Store) -> None:
    assert message.from_user is not None
    async with store.read() as uow:
        ids = await uow.conversation.client_tickets(message.from_user.id, open_only=True)
        found = await uow.tickets.get_many(ids[:10])
    tickets = [t for t in found.values() if not isinstance(t, Exception)]
    if not tickets:
        await message.answer(texts("my-none"))
        return
    tickets.sort(key=lambda ticket: -ticket.id)
    chosen = (await state.get_data()).get(TALK_KEY)
    current = chosen if chosen in ids else ids[0]
    choices = [(t.id, _preview(t)) for t in tickets]
    await message.answer(
        texts("my-list", current=current), reply_markup=keyboards.client_requests(texts, choices)
    )


async def talk_chosen(
    query: CallbackQuery,
    callback_data: TalkCallback,
    state: FSMContext,
    texts: Texts,
    store: Store,
) -> None:
    async with store.read() as uow:
        ticket = await uow.tickets.get(callback_data.ticket_id)
    # Another client's number in a forged button finds nothing here; a closed request
    # (the list was shown before it closed) takes no messages.
    if (
        ticket is None
        or ticket.client.user_id != query.from_user.id
        or ticket.status is not TicketStatus.OPEN
    ):
        await query.answer(texts("error-button-stale"), show_alert=True)
        return
    await state.update_data({TALK_KEY: ticket.id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts("my-chosen", number=ticket.id))


async def _target(state: FSMContext, store: Store, client_id: int) -> Target | None:
    """The request the client's messages go to (the one chosen with /my, if still open)."""
    chosen = (await state.get_data()).get(TALK_KEY)
    return await target_for_client(store, client_id, chosen if isinstance(chosen, int) else None)


def _preview(ticket: Ticket) -> str:
    words = " ".join(ticket.text.split()) or ticket.name
    shown = cut(words, PREVIEW_LIMIT)
    return shown if shown == words else shown + "…"


def _is_command(message: Message) -> bool:
    return bool(message.text and message.text.startswith("/"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(Magic(F.chat.type == ChatType.PRIVATE))
    router.edited_message.filter(Magic(F.chat.type == ChatType.PRIVATE))
    router.callback_query.filter(Magic(F.message.chat.type == ChatType.PRIVATE))
    router.message.register(my_requests, Command("my"))
    router.message.register(client_wrote, StateFilter(None))
    # An answer edited in the middle of the form was never relayed: nothing to follow.
    router.edited_message.register(client_edited, StateFilter(None))
    router.callback_query.register(talk_chosen, TalkCallback.filter())
    return router
