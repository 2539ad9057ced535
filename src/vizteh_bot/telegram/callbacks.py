"""Inline button payloads: short prefixes, ids only; every value is untrusted input."""

from __future__ import annotations

import enum
from typing import Annotated, ClassVar

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# A ticket id is a positive BIGINT; anything else in a button is forged, not a lookup to try.
TicketId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class MenuAction(enum.StrEnum):
    NEW_TICKET = "new"
    ABOUT = "about"


class FormAction(enum.StrEnum):
    SEND = "send"
    EDIT = "edit"
    EDIT_FIELD = "field"
    # The buttons of summaries shown before forms came from a file.
    EDIT_NAME = "name"
    EDIT_PHONE = "phone"
    EDIT_TEXT = "text"
    EDIT_BACK = "back"
    STEP_BACK = "prev"
    CANCEL = "cancel"


FieldId = Annotated[str, Field(max_length=32, pattern="^[a-z0-9_]*$")]


class TicketAction(enum.StrEnum):
    CLOSE = "close"
    REOPEN = "reopen"
    FULL_TEXT = "full"


class MenuCallback(CallbackData, prefix="m"):
    action: MenuAction


class FormCallback(CallbackData, prefix="f"):
    action: FormAction
    # On «Отправить»: which form it sends, so that a press seen again (a double tap, or
    # Telegram delivering it again after a restart) finds the request it made, and which
    # summary of it: only the latest one, showing the answers as they are now, sends.
    form: Annotated[str, Field(max_length=32, pattern="^[0-9a-f]*$")] = ""
    summary: Annotated[str, Field(max_length=8, pattern="^[0-9a-f]*$")] = ""
    # On «Изменить» → a field: which one.
    field: FieldId = ""


class ChoiceCallback(CallbackData, prefix="c"):
    """An option of a choice question (its index in the form), or skipping the question."""

    field: FieldId
    option: Annotated[int, Field(ge=-1, le=99)]

    SKIP: ClassVar[int] = -1


class TicketCallback(CallbackData, prefix="t"):
    action: TicketAction
    ticket_id: TicketId
