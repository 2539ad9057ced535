"""Keyboard builders; every label comes from the texts.

A keyboard that depends only on the language is built once per language (`functools.cache`:
there are as many `Texts` as locales): building one is a dozen pydantic models, and aiogram
only reads a markup it sends.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from vizteh_bot.domain.tickets import Ticket, TicketStatus
from vizteh_bot.telegram.callbacks import (
    ChoiceCallback,
    EditFieldCallback,
    FormAction,
    FormCallback,
    MenuAction,
    MenuCallback,
    TalkCallback,
    TicketAction,
    TicketCallback,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from vizteh_bot.domain.form import Form, FormField
    from vizteh_bot.texts import Texts


@functools.cache
def main_menu(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("menu-button-new-ticket"),
        callback_data=MenuCallback(action=MenuAction.NEW_TICKET),
    )
    builder.button(
        text=texts("menu-button-about"), callback_data=MenuCallback(action=MenuAction.ABOUT)
    )
    builder.adjust(1)
    return builder.as_markup()


@functools.cache
def form_navigation(
    texts: Texts, *, share_phone: bool = False, skip: bool = False
) -> ReplyKeyboardMarkup:
    rows = [
        [
            KeyboardButton(text=texts("form-button-back")),
            KeyboardButton(text=texts("form-button-cancel")),
        ]
    ]
    if skip:
        rows.insert(0, [KeyboardButton(text=texts("form-button-skip"))])
    if share_phone:
        rows.insert(
            0, [KeyboardButton(text=texts("form-button-share-phone"), request_contact=True)]
        )
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


def choice(texts: Texts, field: FormField) -> InlineKeyboardMarkup:
    """A choice question's options, one per row; skip (when optional), back and cancel."""
    builder = InlineKeyboardBuilder()
    for index, option in enumerate(field.options):
        builder.button(text=option, callback_data=ChoiceCallback(field=field.id, option=index))
    sizes = [1] * len(field.options)
    if not field.required:
        builder.button(
            text=texts("form-button-skip"),
            callback_data=ChoiceCallback(field=field.id, option=ChoiceCallback.SKIP),
        )
        sizes.append(1)
    builder.button(
        text=texts("form-button-back"),
        callback_data=ChoiceCallback(field=field.id, option=ChoiceCallback.BACK),
    )
    builder.button(
        text=texts("form-button-cancel"),
        callback_data=ChoiceCallback(field=field.id, option=ChoiceCallback.CANCEL),
    )
    builder.adjust(*sizes, 2)
    return builder.as_markup()


def confirmation(texts: Texts, form_id: str, summary_key: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("form-button-send"),
        callback_data=FormCallback(action=FormAction.SEND, form=form_id, summary=summary_key),
    )
    builder.button(
        text=texts("form-button-edit"), callback_data=FormCallback(action=FormAction.EDIT)
    )
    builder.button(
        text=texts("form-button-cancel"), callback_data=FormCallback(action=FormAction.CANCEL)
    )
    builder.adjust(1, 2)
    return builder.as_markup()


def field_choice(texts: Texts, form: Form) -> InlineKeyboardMarkup:
    """One button per field, named by its label, to change that answer; then back."""
    builder = InlineKeyboardBuilder()
    for field in form.fields:
        builder.button(
            text=field.label(texts.locale),
            callback_data=EditFieldCallback(field=field.id),
        )
    builder.button(
        text=texts("form-button-edit-back"),
        callback_data=FormCallback(action=FormAction.EDIT_BACK),
    )
    count = len(form.fields)
    # Three short labels fit a row; longer ones get a row of two.
    width = 3 if all(len(f.label(texts.locale)) <= 14 for f in form.fields) else 2
    builder.adjust(*([width] * (count // width)), *([count % width] if count % width else []), 1)
    return builder.as_markup()


_STATUS_BUTTON_KEYS = {
    (TicketAction.CLOSE, False): "manager-button-close",
    (TicketAction.REOPEN, False): "manager-button-reopen",
    (TicketAction.CLOSE, True): "manager-button-close-numbered",
    (TicketAction.REOPEN, True): "manager-button-reopen-numbered",
}


def manager_message(
    texts: Texts, tickets: Sequence[Ticket], shortened: Collection[int] = ()
) -> InlineKeyboardMarkup:
    """One close/reopen button per ticket, and a full-text one for each shortened text;
    numbered when the message holds several tickets."""
    builder = InlineKeyboardBuilder()
    numbered = len(tickets) > 1
    for ticket in tickets:
        action = (
            TicketAction.REOPEN if ticket.status is TicketStatus.CLOSED else TicketAction.CLOSE
        )
        builder.button(
            text=texts(_STATUS_BUTTON_KEYS[action, numbered], number=ticket.id),
            callback_data=TicketCallback(action=action, ticket_id=ticket.id),
        )
        if ticket.id in shortened:
            key = "manager-button-full-text-numbered" if numbered else "manager-button-full-text"
            builder.button(
                text=texts(key, number=ticket.id),
                callback_data=TicketCallback(action=TicketAction.FULL_TEXT, ticket_id=ticket.id),
            )
    builder.adjust(2 if numbered or shortened else 1)
    return builder.as_markup()


def new_from_draft(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("conversation-button-new-from-draft"),
        callback_data=MenuCallback(action=MenuAction.FROM_DRAFT),
    )
    return builder.as_markup()


def client_requests(texts: Texts, choices: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    """/my: one button per open request, to write to it."""
    builder = InlineKeyboardBuilder()
    for number, preview in choices:
        builder.button(
            text=texts("my-button", number=number, preview=preview),
            callback_data=TalkCallback(ticket_id=number),
        )
    builder.adjust(1)
    return builder.as_markup()
