"""The request form's states: answering one field (which one is in the state's data), or
confirming the summary."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class TicketForm(StatesGroup):
    answering = State()
    confirming = State()
    # A client halfway through the form when the bot was upgraded is still in one of these.
    entering_name = State()
    entering_phone = State()
    entering_text = State()


# The field each state of the old fixed form stood for.
LEGACY_STEP_FIELDS = {
    TicketForm.entering_name.state: "name",
    TicketForm.entering_phone.state: "phone",
    TicketForm.entering_text.state: "text",
}
ANSWERING = (
    TicketForm.answering,
    TicketForm.entering_name,
    TicketForm.entering_phone,
    TicketForm.entering_text,
)
