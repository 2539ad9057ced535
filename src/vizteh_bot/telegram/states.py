"""The request form's steps, in the order "back" walks through them."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class TicketForm(StatesGroup):
    entering_name = State()
    entering_phone = State()
    entering_text = State()
    confirming = State()


STEPS: tuple[State, ...] = (
    TicketForm.entering_name,
    TicketForm.entering_phone,
    TicketForm.entering_text,
    TicketForm.confirming,
)


def previous_step(state_name: str | None) -> State | None:
    """The step before `state_name`, or None when it is the first (back leaves the form)."""
    names = [step.state for step in STEPS]
    if state_name not in names:
        return None
    index = names.index(state_name)
    return STEPS[index - 1] if index > 0 else None
