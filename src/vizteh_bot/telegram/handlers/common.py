"""Cancel and back: they work at every step of the form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, Message

from vizteh_bot.telegram.callbacks import FormAction, FormCallback
from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.handlers.client.form import (
    ask_field,
    ask_next,
    cancel_form,
    current_field,
    show_summary,
)
from vizteh_bot.telegram.replay import answered
from vizteh_bot.telegram.replies import unless_deferred
from vizteh_bot.telegram.states import TicketForm

if TYPE_CHECKING:
    from aiogram.fsm.context import FSMContext

    from vizteh_bot.domain.form import Form
    from vizteh_bot.texts import Texts, Translations


async def step_back(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    await state.update_data(answered(message, may_repeat=True))
    await _go_back(message, state, texts, form)


async def step_back_pressed(
    query: CallbackQuery, state: FSMContext, texts: Texts, form: Form
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await unless_deferred(query.message.edit_reply_markup(reply_markup=None))
        await _go_back(query.message, state, texts, form)


async def _go_back(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    if (await state.get_data()).get("editing"):
        # Back from changing one answer returns to the summary, keeping the others.
        await show_summary(message, state, texts, form)
        return
    if await state.get_state() == TicketForm.confirming.state:
        await ask_field(message, state, texts, form.fields[-1])
        return
    field = await current_field(state, form)
    if field is None:
        await ask_next(message, state, texts, form, None)
        return
    previous = form.before(field.id)
    if previous is None:
        await cancel_form(message, state, texts)
        return
    await ask_field(message, state, texts, previous)


def create_router(translations: Translations) -> Router:
    router = Router(name=__name__)
    router.message.filter(Magic(F.chat.type == ChatType.PRIVATE))
    in_form = StateFilter(TicketForm)
    router.message.register(cancel_form, Command("cancel"))
    router.message.register(
        cancel_form, in_form, Magic(F.text.in_(translations.variants("form-button-cancel")))
    )
    router.message.register(step_back, in_form, Command("back"))
    router.message.register(
        step_back, in_form, Magic(F.text.in_(translations.variants("form-button-back")))
    )
    router.callback_query.filter(Magic(F.message.chat.type == ChatType.PRIVATE))
    router.callback_query.register(
        step_back_pressed, in_form, FormCallback.filter(F.action == FormAction.STEP_BACK)
    )
    return router
