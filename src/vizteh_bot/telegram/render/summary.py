"""What the client sees of their own request: the summary to confirm, and the same marked sent.

Always one valid message: a request text too long to show whole (2 000 emoji are 4 000
UTF-16 units) is shortened on screen with a note; the whole text is what is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.telegram.render.cards import TEXT_SLOT, quote
from vizteh_bot.telegram.render.fit import MESSAGE_LIMIT, cut, utf16_len, visible_length

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from vizteh_bot.texts import Texts


def form_summary(texts: Texts, form: Mapping[str, Any], *, sent: bool = False) -> str:
    """The client's answers, to confirm before sending (or marked as sent afterwards)."""
    fields = texts(
        "form-summary-fields",
        name=quote(str(form["name"])),
        phone=quote(str(form["phone"])),
        text=TEXT_SLOT,
    )
    page = texts("form-sent-summary" if sent else "form-summary", fields=fields)
    head, _, tail = page.partition(TEXT_SLOT)
    tail = tail.replace(TEXT_SLOT, "")
    text = str(form["text"])
    available = MESSAGE_LIMIT - visible_length(head) - visible_length(tail)
    if utf16_len(text) <= available:
        return head + quote(text) + tail
    marker = texts("form-summary-text-cut")
    return head + quote(cut(text, available - visible_length(marker))) + marker + tail
