"""/start, the main menu and «О компании»."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import ClientDecodeError, TelegramAPIError
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from vizteh_bot.services.tickets import TooManyTickets, ensure_may_submit
from vizteh_bot.telegram import keyboards
from vizteh_bot.telegram.callbacks import MenuAction, MenuCallback
from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.handlers.client.form import start_form
from vizteh_bot.telegram.render.answers import quote
from vizteh_bot.telegram.render.fit import CAPTION_LIMIT, visible_length
from vizteh_bot.telegram.replies import ReplyNotSent, impatient, unless_deferred

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from aiogram.fsm.context import FSMContext

    from vizteh_bot.config import Settings
    from vizteh_bot.db.uow import Store
    from vizteh_bot.domain.form import Form
    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)
# The photo is a nicety: after this long without it, the client gets the text alone.
PHOTO_PATIENCE_SECONDS = 5.0


async def cmd_start(message: Message, state: FSMContext, texts: Texts) -> None:
    if await state.get_state() is not None:
        await state.clear()
        await unless_deferred(
            message.answer(texts("form-cancelled"), reply_markup=ReplyKeyboardRemove())
        )
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(
        texts("menu-greeting", name=quote(name)), reply_markup=keyboards.main_menu(texts)
    )


async def new_ticket_requested(
    message: Message,
    state: FSMContext,
    texts: Texts,
    store: Store,
    settings: Settings,
    zone: ZoneInfo,
    form: Form,
) -> None:
    assert message.from_user is not None
    await _start_form(message, message.from_user.id, state, texts, store, settings, zone, form)


async def new_ticket_pressed(
    query: CallbackQuery,
    callback_data: MenuCallback,
    state: FSMContext,
    texts: Texts,
    store: Store,
    settings: Settings,
    zone: ZoneInfo,
    form: Form,
) -> None:
    await query.answer()
    draft = None
    if callback_data.action is MenuAction.FROM_DRAFT and await state.get_state() is None:
        kept = (await state.get_data()).get("draft")
        draft = kept if isinstance(kept, str) else None
    if isinstance(query.message, Message):
        user = query.from_user.id
        await _start_form(query.message, user, state, texts, store, settings, zone, form, draft)


async def _start_form(
    message: Message,
    client_id: int,
    state: FSMContext,
    texts: Texts,
    store: Store,
    settings: Settings,
    zone: ZoneInfo,
    form: Form,
    draft: str | None = None,
) -> None:
    try:
        await ensure_may_submit(store, client_id, settings.tickets_per_hour)
    except TooManyTickets as limit:
        retry_at = f"{limit.retry_at.astimezone(zone):%H:%M}"
        await message.answer(texts("error-too-many-tickets", count=limit.count, time=retry_at))
        return
    await start_form(message, state, texts, form, draft=draft)


async def about_requested(message: Message, texts: Texts, settings: Settings) -> None:
    about = texts("about-text")
    fits_caption = visible_length(about) <= CAPTION_LIMIT
    if settings.photo_id:
        try:
            with impatient(PHOTO_PATIENCE_SECONDS):
                await message.answer_photo(
                    settings.photo_id, caption=about if fits_caption else None
                )
        except (TelegramAPIError, ClientDecodeError, ReplyNotSent, TimeoutError) as error:
            # Refused (a wrong PHOTO_ID), a 5xx, a timeout, a proxy's error page: whatever
            # it was, the client still gets the text.
            logger.warning("Could not send PHOTO_ID (%s); sending the text alone", error)
        else:
            if fits_caption:
                return
    await message.answer(about)


async def about_pressed(query: CallbackQuery, texts: Texts, settings: Settings) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await about_requested(query.message, texts, settings)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(Magic(F.chat.type == ChatType.PRIVATE))
    router.callback_query.filter(Magic(F.message.chat.type == ChatType.PRIVATE))
    router.message.register(cmd_start, CommandStart())
    router.message.register(new_ticket_requested, Command("new"))
    router.message.register(about_requested, Command("about"))
    router.callback_query.register(
        new_ticket_pressed,
        MenuCallback.filter(F.action.in_({MenuAction.NEW_TICKET, MenuAction.FROM_DRAFT})),
    )
    router.callback_query.register(
        about_pressed, MenuCallback.filter(F.action == MenuAction.ABOUT)
    )
    return router
