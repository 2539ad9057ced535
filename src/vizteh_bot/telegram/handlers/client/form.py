"""The request form: name → phone → text → confirmation, one question at a time."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from vizteh_bot.domain.input import (
    TEXT_MAX_LENGTH,
    InvalidInput,
    clean_name,
    clean_phone,
    clean_text,
)
from vizteh_bot.telegram import keyboards
from vizteh_bot.telegram.callbacks import FormAction, FormCallback
from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.render.summary import form_summary
from vizteh_bot.telegram.replay import answered
from vizteh_bot.telegram.replies import unless_deferred
from vizteh_bot.telegram.states import STEPS, TicketForm

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.state import State

    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)

_FIELD_STEPS = {
    FormAction.EDIT_NAME: TicketForm.entering_name,
    FormAction.EDIT_PHONE: TicketForm.entering_phone,
    FormAction.EDIT_TEXT: TicketForm.entering_text,
}


def _question(texts: Texts, step: State) -> str:
    if step == TicketForm.entering_name:
        return texts("form-ask-name")
    if step == TicketForm.entering_phone:
        return texts("form-ask-phone", button=texts("form-button-share-phone"))
    return texts("form-ask-text", limit=TEXT_MAX_LENGTH)


async def ask_step(message: Message, state: FSMContext, texts: Texts, step: State) -> None:
    """Move the form to `step` and ask its question (or show the summary to confirm)."""
    await state.set_state(step)
    if step == TicketForm.confirming:
        # Only this summary's Send counts; older ones (before a "back") are stale. Stored
        # before it is shown, so it holds even if the summary goes out later via the outbox.
        data = await state.update_data(summary_key=uuid.uuid4().hex[:8])
        keyboard = keyboards.confirmation(texts, str(data["form_id"]), data["summary_key"])
        await message.answer(form_summary(texts, data), reply_markup=keyboard)
        return
    await message.answer(
        _question(texts, step),
        reply_markup=keyboards.form_navigation(
            texts, share_phone=step == TicketForm.entering_phone
        ),
    )


async def ask_again(message: Message, state: FSMContext, texts: Texts) -> None:
    """The question of the step the form is at (its answer was taken, the question may not
    have gone out: Telegram delivered the answer again after a crash)."""
    current = await state.get_state()
    step = next((s for s in STEPS if s.state == current), None)
    if step is not None:
        await ask_step(message, state, texts, step)


async def _accept(
    message: Message, state: FSMContext, texts: Texts, field: str, value: str, next_step: State
) -> None:
    data = await state.update_data({field: value, **answered(message)})
    step = TicketForm.confirming if data.get("editing") else next_step
    await ask_step(message, state, texts, step)


async def _answer_invalid(message: Message, texts: Texts, error: InvalidInput) -> None:
    await message.answer(
        texts(error.key, button=texts("form-button-share-phone"), **error.args_for_text)
        if error.key == "error-phone-invalid"
        else texts(error.key, **error.args_for_text)
    )


def _text_step(field: str, clean: Callable[[str], str], next_step: State) -> Callable[..., object]:
    async def entered(message: Message, state: FSMContext, texts: Texts) -> None:
        try:
            value = clean(message.text or "")
        except InvalidInput as error:
            await _answer_invalid(message, texts, error)
            return
        await _accept(message, state, texts, field, value, next_step)

    entered.__name__ = f"{field}_entered"
    return entered


name_entered = _text_step("name", clean_name, TicketForm.entering_phone)
phone_entered = _text_step("phone", clean_phone, TicketForm.entering_text)
text_entered = _text_step("text", clean_text, TicketForm.confirming)


async def phone_shared(message: Message, state: FSMContext, texts: Texts) -> None:
    contact = message.contact
    assert contact is not None
    assert message.from_user is not None
    if contact.user_id != message.from_user.id:
        await message.answer(
            texts("error-contact-not-own", button=texts("form-button-share-phone"))
        )
        return
    try:
        phone = clean_phone(contact.phone_number)
    except InvalidInput as error:
        await _answer_invalid(message, texts, error)
        return
    await _accept(message, state, texts, "phone", phone, TicketForm.entering_text)


async def not_text_entered(message: Message, state: FSMContext, texts: Texts) -> None:
    """A sticker, photo, voice… where the form expects words; an album is asked about once."""
    if message.media_group_id is not None:
        if (await state.get_data()).get("album") == message.media_group_id:
            return
        await state.update_data(album=message.media_group_id)
    current = await state.get_state()
    step = next(s for s in _FIELD_STEPS.values() if s.state == current)
    await message.answer(texts("error-not-text", question=_question(texts, step)))


async def confirmation_typed(message: Message, texts: Texts) -> None:
    await message.answer(
        texts(
            "form-confirm-with-buttons",
            send=texts("form-button-send"),
            edit=texts("form-button-edit"),
        )
    )


async def edit_pressed(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts("form-choose-field"))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=keyboards.field_choice(texts))


async def edit_back_pressed(query: CallbackQuery, state: FSMContext, texts: Texts) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        data = await state.get_data()
        keyboard = keyboards.confirmation(
            texts, str(data.get("form_id", "")), str(data.get("summary_key", ""))
        )
        await query.message.edit_reply_markup(reply_markup=keyboard)


async def field_chosen(
    query: CallbackQuery, callback_data: FormCallback, state: FSMContext, texts: Texts
) -> None:
    await query.answer()
    await state.update_data(editing=True)
    if isinstance(query.message, Message):
        await unless_deferred(query.message.edit_reply_markup(reply_markup=None))
        await ask_step(query.message, state, texts, _FIELD_STEPS[callback_data.action])


async def cancel_form(message: Message, state: FSMContext, texts: Texts) -> None:
    key = "form-cancelled" if await state.get_state() is not None else "form-nothing-to-cancel"
    await state.clear()
    await message.answer(texts(key), reply_markup=ReplyKeyboardRemove())


async def cancel_pressed(query: CallbackQuery, state: FSMContext, texts: Texts) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await unless_deferred(query.message.edit_reply_markup(reply_markup=None))
        await cancel_form(query.message, state, texts)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(Magic(F.chat.type == ChatType.PRIVATE))
    router.callback_query.filter(Magic(F.message.chat.type == ChatType.PRIVATE))
    message = router.message
    message.register(name_entered, StateFilter(TicketForm.entering_name), Magic(F.text))
    message.register(phone_entered, StateFilter(TicketForm.entering_phone), Magic(F.text))
    message.register(phone_shared, StateFilter(TicketForm.entering_phone), Magic(F.contact))
    message.register(text_entered, StateFilter(TicketForm.entering_text), Magic(F.text))
    message.register(not_text_entered, StateFilter(*_FIELD_STEPS.values()))
    message.register(confirmation_typed, StateFilter(TicketForm.confirming))
    callback = router.callback_query
    in_confirmation = StateFilter(TicketForm.confirming)
    callback.register(
        edit_pressed, in_confirmation, FormCallback.filter(F.action == FormAction.EDIT)
    )
    callback.register(
        edit_back_pressed, in_confirmation, FormCallback.filter(F.action == FormAction.EDIT_BACK)
    )
    callback.register(
        field_chosen,
        in_confirmation,
        FormCallback.filter(F.action.in_(set(_FIELD_STEPS))),
    )
    callback.register(cancel_pressed, FormCallback.filter(F.action == FormAction.CANCEL))
    return router
