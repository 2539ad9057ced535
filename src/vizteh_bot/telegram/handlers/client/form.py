"""The request form: the fields of the form file, one question at a time, then the summary.

The state's data holds the answers so far (`answers`: field id → answer, None when
skipped) and the field being asked (`field`); every answer passes its field's rule.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from vizteh_bot.domain.form import FieldType
from vizteh_bot.domain.input import InvalidInput
from vizteh_bot.telegram import keyboards
from vizteh_bot.telegram.callbacks import ChoiceCallback, FormAction, FormCallback
from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.render.answers import quote
from vizteh_bot.telegram.render.summary import form_lines, form_summary
from vizteh_bot.telegram.replay import answered
from vizteh_bot.telegram.replies import unless_deferred
from vizteh_bot.telegram.states import ANSWERING, LEGACY_STEP_FIELDS, TicketForm

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiogram.fsm.context import FSMContext

    from vizteh_bot.domain.form import Form, FormField
    from vizteh_bot.texts import Texts, Translations

logger = logging.getLogger(__name__)


def answers_of(data: Mapping[str, Any]) -> dict[str, str | None]:
    """The answers in the state (a form begun before the upgrade kept them at the top)."""
    answers = data.get("answers")
    if isinstance(answers, dict):
        return dict(answers)
    return {key: str(data[key]) for key in ("name", "phone", "text") if key in data}


async def current_field(state: FSMContext, request_form: Form) -> FormField | None:
    state_name = await state.get_state()
    field_id = (await state.get_data()).get("field") or LEGACY_STEP_FIELDS.get(state_name or "")
    return request_form.by_id.get(str(field_id)) if field_id else None


async def start_form(
    message: Message, state: FSMContext, texts: Texts, form: Form, *, draft: str | None = None
) -> None:
    """The first question; with a `draft` (what the client wrote before there was a request)
    the request text is answered with it, if it passes the field's rule, and not asked."""
    answers: dict[str, str | None] = {}
    main = form.main_text_field
    if draft and main is not None:
        # One that breaks the field's rule is asked as usual.
        with contextlib.suppress(InvalidInput):
            answers[main.id] = main.clean(draft)
    await state.set_data(
        {"form_id": uuid.uuid4().hex, "answers": answers, "editing": bool(answers)}
    )
    first = form.first_missing(answers) if answers else form.first
    if first is None:
        await show_summary(message, state, texts, form)
    else:
        await ask_field(message, state, texts, first)


async def ask_field(message: Message, state: FSMContext, texts: Texts, field: FormField) -> None:
    await state.set_state(TicketForm.answering)
    await state.update_data(field=field.id)
    if field.type is FieldType.CHOICE:
        markup: Any = keyboards.choice(texts, field)
    else:
        markup = keyboards.form_navigation(
            texts, share_phone=field.type is FieldType.PHONE, skip=not field.required
        )
    await message.answer(field.question(texts.locale), reply_markup=markup)


async def show_summary(
    message: Message, state: FSMContext, texts: Texts, form: Form, *, again: bool = False
) -> None:
    await state.set_state(TicketForm.confirming)
    data = await state.get_data()
    key = data.get("summary_key") if again else None
    # Only this summary's Send counts; older ones (before a "back") are stale. Stored
    # before it is shown, so it holds even if the summary goes out later via the outbox.
    # Shown again with the same answers, it keeps its key: the Send on the first copy,
    # which the client may already have pressed, still counts.
    data = await state.update_data(summary_key=key or uuid.uuid4().hex[:8], editing=False)
    keyboard = keyboards.confirmation(texts, str(data["form_id"]), data["summary_key"])
    summary = form_summary(texts, form_lines(form, answers_of(data), texts.locale))
    await message.answer(summary, reply_markup=keyboard)


async def ask_next(
    message: Message, state: FSMContext, texts: Texts, form: Form, after: str | None
) -> None:
    """After an answer: the next field, or (when editing, or at the end) the first one still
    missing, or the summary."""
    if after is None:
        # The form changed under the client: ask what is missing, then the summary again.
        await state.update_data(editing=True)
    data = await state.get_data()
    following = None if data.get("editing") or after is None else form.after(after)
    if following is None:
        following = form.first_missing(answers_of(data))
    if following is None:
        await show_summary(message, state, texts, form)
    else:
        await ask_field(message, state, texts, following)


async def ask_again(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    """The question of the step the form is at (its answer was taken, the question may not
    have gone out: Telegram delivered the answer again after a crash)."""
    current = await state.get_state()
    if current == TicketForm.confirming.state:
        await show_summary(message, state, texts, form, again=True)
    elif (field := await current_field(state, form)) is not None:
        await ask_field(message, state, texts, field)


async def accept(
    message: Message, state: FSMContext, texts: Texts, form: Form, field: FormField, value: Any
) -> None:
    data = await state.get_data()
    answers = {**answers_of(data), field.id: value}
    await state.update_data(answers=answers, **answered(message))
    await ask_next(message, state, texts, form, field.id)


async def explain(message: Message, texts: Texts, field: FormField, error: InvalidInput) -> None:
    key = error.key
    # A field may have its own wording for a mistake: error-<field id>-<mistake>.
    own = f"error-{field.id}-{key.removeprefix('error-answer-')}"
    if key.startswith("error-answer-") and texts.has(own):
        key = own
    if key == "error-phone-invalid":
        await message.answer(texts(key, button=texts("form-button-share-phone")))
    else:
        await message.answer(texts(key, **error.args_for_text))


async def answer_entered(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    field = await current_field(state, form)
    if field is None:
        # The form file changed under this client: go on with what the form asks now.
        await ask_next(message, state, texts, form, None)
        return
    await _take(message, state, texts, form, field, message.text or "")


async def phone_shared(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    field = await current_field(state, form)
    contact, sender = message.contact, message.from_user
    assert contact is not None
    assert sender is not None
    if field is None or field.type is not FieldType.PHONE:
        await not_text_entered(message, state, texts, form)
        return
    if contact.user_id != sender.id:
        await message.answer(
            texts("error-contact-not-own", button=texts("form-button-share-phone"))
        )
        return
    await _take(message, state, texts, form, field, contact.phone_number)


async def _take(
    message: Message, state: FSMContext, texts: Texts, form: Form, field: FormField, raw: str
) -> None:
    """The answer if it passes the field's rule; else the reason, and the question stays."""
    try:
        value = field.clean(raw)
    except InvalidInput as error:
        await explain(message, texts, field, error)
        return
    await accept(message, state, texts, form, field, value)


async def skip_entered(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    field = await current_field(state, form)
    if field is None:
        await ask_next(message, state, texts, form, None)
    elif field.required:
        await message.answer(texts("error-not-optional"))
    else:
        await accept(message, state, texts, form, field, None)


async def not_text_entered(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    """A sticker, photo, voice… where the form expects words; an album is asked about once."""
    if message.media_group_id is not None:
        if (await state.get_data()).get("album") == message.media_group_id:
            return
        await state.update_data(album=message.media_group_id)
    field = await current_field(state, form)
    if field is None:
        await ask_next(message, state, texts, form, None)
    elif field.type is FieldType.CHOICE:
        # Its question is just above, with the buttons to press.
        await message.answer(texts("error-choice-invalid"))
    else:
        await message.answer(texts("error-not-text", question=field.question(texts.locale)))


async def go_back(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    """One question back; from the summary to the last question; from the first, out."""
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


async def choice_pressed(
    query: CallbackQuery,
    callback_data: ChoiceCallback,
    state: FSMContext,
    texts: Texts,
    form: Form,
) -> None:
    field = await current_field(state, form)
    question = query.message if isinstance(query.message, Message) else None
    pressed = callback_data.option
    asking = await state.get_state() in {s.state for s in ANSWERING}
    if question is None or not asking or field is None or field.id != callback_data.field:
        await _answer_stale_choice(query, callback_data, state, texts, form)
        return
    if pressed in (ChoiceCallback.BACK, ChoiceCallback.CANCEL):
        await query.answer()
        await unless_deferred(question.edit_reply_markup(reply_markup=None))
        if pressed == ChoiceCallback.BACK:
            await go_back(question, state, texts, form)
        else:
            await cancel_form(question, state, texts)
        return
    if (
        field.type is not FieldType.CHOICE
        or not (pressed == ChoiceCallback.SKIP or 0 <= pressed < len(field.options))
        or not _shows_option(question, field, pressed)
    ):
        await query.answer(texts("error-button-stale"), show_alert=True)
        return
    if pressed == ChoiceCallback.SKIP and field.required:
        await query.answer(texts("error-not-optional"), show_alert=True)
        return
    option = None if pressed == ChoiceCallback.SKIP else field.options[pressed]
    await query.answer()
    chosen = option if option is not None else texts("form-summary-skipped")
    await unless_deferred(
        question.edit_text(
            texts(
                "form-choice-chosen", question=field.question(texts.locale), option=quote(chosen)
            ),
            reply_markup=None,
        )
    )
    await state.update_data(answers={**answers_of(await state.get_data()), field.id: option})
    await ask_next(question, state, texts, form, field.id)


async def _answer_stale_choice(
    query: CallbackQuery,
    callback_data: ChoiceCallback,
    state: FSMContext,
    texts: Texts,
    form: Form,
) -> None:
    """A button of a question answered already: a second tap of the same option is quiet
    (Telegram may well deliver both), anything else says the button is old."""
    field = form.by_id.get(callback_data.field)
    given = answers_of(await state.get_data()).get(callback_data.field)
    index = callback_data.option
    if field is not None and 0 <= index < len(field.options) and given == field.options[index]:
        await query.answer()
        return
    await query.answer(texts("error-button-stale"), show_alert=True)


def _shows_option(question: Message, field: FormField, pressed: int) -> bool:
    """Whether the pressed button says what the form's option says now (the form file may
    have changed since the question was asked)."""
    if pressed < 0:
        return True
    markup = question.reply_markup
    buttons = [b for row in markup.inline_keyboard for b in row] if markup else []
    return any(
        isinstance(b.callback_data, str)
        and b.callback_data == ChoiceCallback(field=field.id, option=pressed).pack()
        and b.text == field.options[pressed]
        for b in buttons
    )


async def cancel_form(message: Message, state: FSMContext, texts: Texts) -> None:
    key = "form-cancelled" if await state.get_state() is not None else "form-nothing-to-cancel"
    await state.clear()
    await message.answer(texts(key), reply_markup=ReplyKeyboardRemove())


async def cancel_pressed(query: CallbackQuery, state: FSMContext, texts: Texts) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await unless_deferred(query.message.edit_reply_markup(reply_markup=None))
        await cancel_form(query.message, state, texts)


def create_router(translations: Translations) -> Router:
    router = Router(name=__name__)
    router.message.filter(Magic(F.chat.type == ChatType.PRIVATE))
    router.callback_query.filter(Magic(F.message.chat.type == ChatType.PRIVATE))
    message = router.message
    answering = StateFilter(*ANSWERING)
    message.register(skip_entered, answering, Command("skip"))
    message.register(
        skip_entered, answering, Magic(F.text.in_(translations.variants("form-button-skip")))
    )
    message.register(answer_entered, answering, Magic(F.text))
    message.register(phone_shared, answering, Magic(F.contact))
    message.register(not_text_entered, answering)
    router.callback_query.register(choice_pressed, ChoiceCallback.filter())
    router.callback_query.register(
        cancel_pressed, FormCallback.filter(F.action == FormAction.CANCEL)
    )
    return router
