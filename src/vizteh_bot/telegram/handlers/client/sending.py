"""«✅ Отправить»: the request is stored once, however often the press arrives.

The button names its form, so a press seen again (a double tap, or Telegram delivering
it once more after a restart, when the form is long gone from the state) finds the request
it made and says so, instead of calling a sent form stale.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message

from vizteh_bot.services.tickets import TooManyTickets, find_submission, submit_ticket
from vizteh_bot.telegram.callbacks import FormAction, FormCallback
from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.handlers.client import client_of
from vizteh_bot.telegram.handlers.client.form import answers_of, ask_field
from vizteh_bot.telegram.render.summary import form_summary, ticket_lines
from vizteh_bot.telegram.replies import ReplyDeferred, ReplyNotSent, unless_deferred
from vizteh_bot.telegram.states import TicketForm

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any
    from zoneinfo import ZoneInfo

    from aiogram.fsm.context import FSMContext

    from vizteh_bot.config import Settings
    from vizteh_bot.db.uow import Store
    from vizteh_bot.domain.form import Form
    from vizteh_bot.services.tickets import Wakeable
    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.telegram.render.answers import Line
    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)


async def send_pressed(
    query: CallbackQuery,
    callback_data: FormCallback,
    state: FSMContext,
    texts: Texts,
    store: Store,
    delivery: Wakeable,
    settings: Settings,
    manager_chat: ManagerChat,
    zone: ZoneInfo,
    form: Form,
) -> None:
    data = await state.get_data()
    if not await _is_this_form(query, callback_data, state, data):
        await _seen_again(query, callback_data, texts, store)
        return
    answers = answers_of(data)
    if (missing := form.first_missing(answers)) is not None:
        # The form file changed while the client looked at the summary.
        await query.answer()
        await state.update_data(editing=True)  # then back to the summary
        if isinstance(query.message, Message):
            await unless_deferred(query.message.edit_reply_markup(reply_markup=None))
            await ask_field(query.message, state, texts, missing)
        return
    try:
        submission = await submit_ticket(
            store,
            delivery,
            client=client_of(query.from_user, texts.locale),
            request_form=form,
            answers=answers,
            form_id=str(data["form_id"]),
            manager_chat_id=manager_chat.current_id,
            limit_per_hour=settings.tickets_per_hour,
        )
    except TooManyTickets as limit:
        retry_at = f"{limit.retry_at.astimezone(zone):%H:%M}"
        await query.answer(
            texts("error-too-many-tickets", count=limit.count, time=retry_at), show_alert=True
        )
        return
    await state.clear()
    await query.answer(texts("form-sending" if submission.created else "form-already-sent"))
    await _mark_sent(
        query, texts, ticket_lines(submission.ticket, texts.locale), submission.ticket.id
    )


async def _is_this_form(
    query: CallbackQuery, callback_data: FormCallback, state: FSMContext, form: Mapping[str, Any]
) -> bool:
    if await state.get_state() != TicketForm.confirming.state:
        return False
    if callback_data.form and form.get("form_id") != callback_data.form:
        return False
    # Only the latest summary counts: an older one (before a "back") shows other answers.
    if callback_data.summary:
        return bool(form.get("summary_key") == callback_data.summary)
    pressed = query.message.message_id if query.message else None
    return bool(form.get("summary_id", pressed) == pressed)


async def _seen_again(
    query: CallbackQuery, callback_data: FormCallback, texts: Texts, store: Store
) -> None:
    ticket = None
    if callback_data.form:
        ticket = await find_submission(store, query.from_user.id, callback_data.form)
    if ticket is None:
        await query.answer(texts("error-button-stale"), show_alert=True)
        return
    await query.answer(texts("form-already-sent"))
    await _mark_sent(query, texts, ticket_lines(ticket, texts.locale), ticket.id)


async def _mark_sent(
    query: CallbackQuery, texts: Texts, lines: Sequence[Line], ticket_id: int
) -> None:
    """The summary shows it was sent (an edit that changes nothing is no error)."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(form_summary(texts, lines, sent=True))
    except (TelegramAPIError, ReplyDeferred, ReplyNotSent) as error:
        # Cosmetic only: the ticket is committed and the confirmation is in the outbox.
        logger.warning("Could not mark the summary of ticket %s as sent: %s", ticket_id, error)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(Magic(F.message.chat.type == ChatType.PRIVATE))
    router.callback_query.register(send_pressed, FormCallback.filter(F.action == FormAction.SEND))
    return router
