"""Cancel and back: they work at every step of the form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter

from vizteh_bot.telegram.filters import Magic
from vizteh_bot.telegram.handlers.client.form import cancel_form, go_back
from vizteh_bot.telegram.replay import answered
from vizteh_bot.telegram.states import TicketForm

if TYPE_CHECKING:
    from aiogram.fsm.context import FSMContext
    from aiogram.types import Message

    from vizteh_bot.domain.form import Form
    from vizteh_bot.texts import Texts, Translations


async def step_back(message: Message, state: FSMContext, texts: Texts, form: Form) -> None:
    await state.update_data(answered(message, may_repeat=True))
    await go_back(message, state, texts, form)


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
