"""A request's answers as lines of HTML, one per field, for the summary and the card.

The other answers come in the form's order, the request text last, on lines of its own: its
value is left as `TEXT_SLOT` for the caller to fit into the message. Every other value is
escaped and, past `cap` UTF-16 units, shortened with "…".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.utils.text_decorations import html_decoration

from vizteh_bot.telegram.render.fit import cut, utf16_len

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizteh_bot.texts import Texts

quote = html_decoration.quote

# Escaped values never contain "<", so this can only be the place left for the main text.
TEXT_SLOT = "<text-slot>"
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    value: str | None  # None: the client skipped it
    main: bool = False


@dataclass(frozen=True, slots=True)
class AnswerKeys:
    """The texts of one place: a short answer, the main text (on lines of its own), and
    the mark of a skipped answer."""

    answer: str
    long: str
    skipped: str


@dataclass(frozen=True, slots=True)
class Block:
    html: str
    # Whether a value other than the main text was shortened.
    shortened: bool


def answers_block(
    texts: Texts,
    lines: Sequence[Line],
    *,
    keys: AnswerKeys,
    cap: int,
    before_text: str | None = None,
) -> Block:
    """`before_text`, when given, is a line of HTML put just before the request text."""
    rendered, shortened, main = [], False, None
    for line in lines:
        label = quote(line.label)
        if line.main and line.value is not None:
            main = texts(keys.long, label=label, value=TEXT_SLOT)
            continue
        if line.value is None:
            value = texts(keys.skipped)
        elif utf16_len(line.value) > cap:
            value, shortened = quote(cut(line.value, cap - 1)) + ELLIPSIS, True
        else:
            value = quote(line.value)
        rendered.append(texts(keys.answer, label=label, value=value))
    if before_text is not None:
        rendered.append(before_text)
    if main is not None:
        rendered.append(main)
    return Block("\n".join(rendered), shortened)
