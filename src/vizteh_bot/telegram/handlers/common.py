"""Cancel and back: they work at every step of the form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter

from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.handlers.client.form import ask_step, cancel_form
from vizteh_bot.telegram.replay import answered
from vizteh_bot.telegram.states import TicketForm, previous_step

if TYPE_CHECKING:
    from aiogram.fsm.context import FSMContext
    from aiogram.types import Message

    from vizteh_bot.texts import Texts, Translations


async def step_back(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.update_data(answered(message, may_repeat=True))
    if (await state.get_data()).get("editing"):
        # Back from changing one answer returns to the summary, keeping the others.
        await state.update_data(editing=False)
        await ask_step(message, state, texts, TicketForm.confirming)
        return
    step = previous_step(await state.get_state())
    if step is None:
        await cancel_form(message, state, texts)
        return
    await ask_step(message, state, texts, step)


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
    return router
