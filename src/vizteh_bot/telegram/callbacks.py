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
    # A new request whose text starts as the message the client wrote without one.
    FROM_DRAFT = "draft"


class FormAction(enum.StrEnum):
    SEND = "send"
    EDIT = "edit"
    # The buttons of summaries shown before forms came from a file.
    EDIT_NAME = "name"
    EDIT_PHONE = "phone"
    EDIT_TEXT = "text"
    EDIT_BACK = "back"
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


class EditFieldCallback(CallbackData, prefix="e"):
    """«Изменить» on the summary, then a field: which one."""

    field: FieldId


class ChoiceCallback(CallbackData, prefix="c"):
    """A button under a choice question: an option (its index in the form), or skip, back
    or cancel. Each names its question, so a button of an earlier one is seen as stale."""

    field: FieldId
    option: Annotated[int, Field(ge=-3, le=99)]

    SKIP: ClassVar[int] = -1
    BACK: ClassVar[int] = -2
    CANCEL: ClassVar[int] = -3


class TicketCallback(CallbackData, prefix="t"):
    action: TicketAction
    ticket_id: TicketId


class TalkCallback(CallbackData, prefix="w"):
    """/my: write to this request from now on."""

    ticket_id: TicketId
