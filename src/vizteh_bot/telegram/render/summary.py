"""What the client sees of their own request: the summary to confirm, and the same marked sent.

Always one valid message: a request text too long to show whole (2 000 emoji are 4 000
UTF-16 units) is shortened on screen with a note; the whole text is what is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.telegram.render.answers import TEXT_SLOT, AnswerKeys, Line, answers_block, quote
from vizteh_bot.telegram.render.fit import (
    MESSAGE_LIMIT,
    answer_cap,
    cut,
    utf16_len,
    visible_length,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from vizteh_bot.domain.form import Form
    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.texts import Texts

SUMMARY_KEYS = AnswerKeys(
    "form-summary-answer", "form-summary-answer-long", "form-summary-skipped"
)
# An answer other than the request text shows this much at most; the rest of the room is
# the text's.
ANSWER_LIMIT = 600


def form_lines(form: Form, answers: Mapping[str, str | None], locale: str) -> list[Line]:
    """The answers given so far, in the form's order (a skipped one shown as skipped)."""
    main = form.main_text_field
    return [
        Line(f.label(locale), answers[f.id], f is main) for f in form.fields if f.id in answers
    ]


def ticket_lines(ticket: Ticket, locale: str) -> list[Line]:
    return [Line(f.label(locale), value, f.main) for f, value in ticket.shown_answers()]


def form_summary(texts: Texts, lines: Sequence[Line], *, sent: bool = False) -> str:
    """The client's answers, to confirm before sending (or marked as sent afterwards)."""
    block = answers_block(
        texts, lines, keys=SUMMARY_KEYS, cap=answer_cap(len(lines), ANSWER_LIMIT)
    )
    page = texts("form-sent-summary" if sent else "form-summary", fields=block.html)
    head, _, tail = page.partition(TEXT_SLOT)
    tail = tail.replace(TEXT_SLOT, "")
    text = next((line.value or "" for line in lines if line.main and line.value), "")
    available = MESSAGE_LIMIT - visible_length(head) - visible_length(tail)
    if utf16_len(text) <= available:
        return head + quote(text) + tail
    marker = texts("form-summary-text-cut")
    return head + quote(cut(text, max(0, available - visible_length(marker)))) + marker + tail
