"""The summary before sending: change any answer, or go back to the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from vizteh_bot.telegram import keyboards
from vizteh_bot.telegram.callbacks import EditFieldCallback, FormAction, FormCallback
from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.handlers.client.form import ask_field
from vizteh_bot.telegram.replies import unless_deferred
from vizteh_bot.telegram.states import TicketForm

if TYPE_CHECKING:
    from aiogram.fsm.context import FSMContext

    from vizteh_bot.domain.form import Form
    from vizteh_bot.texts import Texts

# The field each «Изменить» button of a summary shown before the upgrade stands for.
_LEGACY_EDITS = {
    FormAction.EDIT_NAME: "name",
    FormAction.EDIT_PHONE: "phone",
    FormAction.EDIT_TEXT: "text",
}


async def confirmation_typed(message: Message, texts: Texts) -> None:
    await message.answer(
        texts(
            "form-confirm-with-buttons",
            send=texts("form-button-send"),
            edit=texts("form-button-edit"),
        )
    )


async def edit_pressed(query: CallbackQuery, texts: Texts, form: Form) -> None:
    await query.answer(texts("form-choose-field"))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=keyboards.field_choice(texts, form))


async def edit_back_pressed(query: CallbackQuery, state: FSMContext, texts: Texts) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        data = await state.get_data()
        keyboard = keyboards.confirmation(
            texts, str(data.get("form_id", "")), str(data.get("summary_key", ""))
        )
        await query.message.edit_reply_markup(reply_markup=keyboard)


async def field_chosen(
    query: CallbackQuery,
    callback_data: FormCallback | EditFieldCallback,
    state: FSMContext,
    texts: Texts,
    form: Form,
) -> None:
    if isinstance(callback_data, EditFieldCallback):
        field_id = callback_data.field
    else:
        field_id = _LEGACY_EDITS[callback_data.action]
    field = form.by_id.get(field_id)
    if field is None:
        await query.answer(texts("error-button-stale"), show_alert=True)
        return
    await query.answer()
    await state.update_data(editing=True)
    if isinstance(query.message, Message):
        await unless_deferred(query.message.edit_reply_markup(reply_markup=None))
        await ask_field(query.message, state, texts, field)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(Magic(F.chat.type == ChatType.PRIVATE))
    router.callback_query.filter(Magic(F.message.chat.type == ChatType.PRIVATE))
    in_confirmation = StateFilter(TicketForm.confirming)
    router.message.register(confirmation_typed, in_confirmation)
    callback = router.callback_query
    callback.register(
        edit_pressed, in_confirmation, FormCallback.filter(F.action == FormAction.EDIT)
    )
    callback.register(
        edit_back_pressed, in_confirmation, FormCallback.filter(F.action == FormAction.EDIT_BACK)
    )
    callback.register(field_chosen, in_confirmation, EditFieldCallback.filter())
    callback.register(
        field_chosen, in_confirmation, FormCallback.filter(F.action.in_(set(_LEGACY_EDITS)))
    )
    return router
