"""Text with Telegram's entities (offsets in UTF-16 units): joined, and split to a limit.

A relayed message keeps its formatting as the entities it came with, not as HTML: nothing a
person typed is ever parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vizteh_bot.telegram.render.fit import chunks, utf16_len

Entity = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Formatted:
    text: str
    entities: tuple[Entity, ...] = ()

    @classmethod
    def bold(cls, text: str) -> Formatted:
        length = utf16_len(text)
        return cls(text, ({"type": "bold", "offset": 0, "length": length},) if length else ())

    def __add__(self, other: Formatted) -> Formatted:
        shift = utf16_len(self.text)
        moved = tuple({**e, "offset": e["offset"] + shift} for e in other.entities)
        return Formatted(self.text + other.text, self.entities + moved)

    @property
    def length(self) -> int:
        return utf16_len(self.text)


def joined(*parts: Formatted | None, separator: str = "\n") -> Formatted:
    """The parts that are there and not empty, with `separator` between them."""
    present = [part for part in parts if part is not None and part.text]
    result = Formatted("")
    for index, part in enumerate(present):
        result = result + (Formatted(separator) + part if index else part)
    return result


def split(formatted: Formatted, limit: int) -> list[Formatted]:
    """Pieces of at most `limit` units, at line ends where possible, each entity cut to the
    pieces it spans. Telegram trims a message, so pieces are trimmed too."""
    pieces: list[Formatted] = []
    start = 0
    for piece in chunks(formatted.text, limit):
        length = utf16_len(piece)
        lead = utf16_len(piece) - utf16_len(piece.lstrip())
        kept = piece.strip()
        begin, end = start + lead, start + lead + utf16_len(kept)
        if kept:
            pieces.append(Formatted(kept, _clipped(formatted.entities, begin, end)))
        start += length
    return pieces


def _clipped(entities: tuple[Entity, ...], begin: int, end: int) -> tuple[Entity, ...]:
    kept = []
    for entity in entities:
        low = max(begin, entity["offset"])
        high = min(end, entity["offset"] + entity["length"])
        if high > low:
            kept.append({**entity, "offset": low - begin, "length": high - low})
    return tuple(kept)
