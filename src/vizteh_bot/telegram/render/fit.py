"""Telegram's length limits, counted as Telegram counts them: UTF-16 units of the visible text.

A message may hold 4 096 of them after entity parsing, a caption 1 024. An emoji outside
the Basic Multilingual Plane is two units, so a request of 2 000 emoji is 4 000 units.
"""

from __future__ import annotations

import html
import re
import unicodedata

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200

# Our templates and escaped values hold only tags Telegram knows and entities html.escape
# writes, so stripping tags and unescaping gives what the person sees.
_TAG = re.compile(r"<[^>]*>")
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_length(markup: str) -> int:
    """How long Telegram counts `markup` (HTML parse mode) to be."""
    return utf16_len(html.unescape(_TAG.sub("", markup)))


def cut(text: str, units: int) -> str:
    """The longest start of `text` within `units` UTF-16 units that ends between characters
    a reader sees as whole (not before a combining mark or inside an emoji sequence)."""
    if utf16_len(text) <= units:
        return text
    end, used = 0, 0
    for end, char in enumerate(text):  # noqa: B007 - `end` is read after the loop
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            break
    else:
        end = len(text)
    while end > 0 and _continues(text, end):
        end -= 1
    return text[:end]


def chunks(text: str, units: int) -> list[str]:
    """`text` in pieces of at most `units` UTF-16 units each, split preferably at a line end."""
    pieces: list[str] = []
    rest = text
    while rest:
        piece = cut(rest, units)
        if len(piece) < len(rest):
            line_end = piece.rfind("\n")
            if line_end > len(piece) // 2:
                piece = piece[: line_end + 1]
        if not piece:  # a single unit-heavy grapheme longer than `units`: split it anyway
            piece = rest[: max(1, units // 2)]
        pieces.append(piece)
        rest = rest[len(piece) :]
    return pieces


def _continues(text: str, index: int) -> bool:
    """Whether the character at `index` belongs to the one before it."""
    if index >= len(text):
        return False
    char = text[index]
    previous = text[index - 1]
    return (
        unicodedata.category(char).startswith("M")
        or char in _JOINERS
        or previous == "\u200d"
        or (
            _is_regional_indicator(char)
            and _is_regional_indicator(previous)
            and _indicators_before(text, index) % 2 == 1
        )
    )


def _is_regional_indicator(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _indicators_before(text: str, index: int) -> int:
    count = 0
    while index - count - 1 >= 0 and _is_regional_indicator(text[index - count - 1]):
        count += 1
    return count


# As forms/loader.py allows, a label is at most 48 characters: 96 UTF-16 units of emoji.
LABEL_LIMIT = 96


def answer_cap(count: int, most: int) -> int:
    """How much of each short answer a message of `count` of them can show: with the most
    fields a form may have, every label and answer still fit beside a share of the text."""
    room = (MESSAGE_LIMIT - 1000) // max(1, count) - LABEL_LIMIT - 8
    return max(20, min(most, room))
