"""Plain-text messages for when the usual one cannot be sent, and long texts in parts.

Sent without a parse mode, so no value can break them; each stays within 4 096 units.
If even the locale's text for them fails (an edited file that lost a placeable), a
built-in form is used: these are the messages that must reach the managers regardless.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from vizteh_bot.telegram.render.fit import MESSAGE_LIMIT, chunks, cut, utf16_len
from vizteh_bot.texts import TextError

if TYPE_CHECKING:
    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)

ERROR_LIMIT = 300
# Not a character a value can hold once NUL is removed from it.
_SLOT = "\x00slot\x00"
_ELLIPSIS = "…"


def fallback_card(
    texts: Texts,
    *,
    number: int,
    name: str,
    phone: str,
    client_id: int,
    text: str,
    error: str,
) -> str:
    """A request's details, for the managers when its card could not be sent."""
    values = {
        "number": number,
        "name": _plain(name),
        "phone": _plain(phone),
        "client_id": str(client_id),
        "error": cut(_plain(error), ERROR_LIMIT),
    }
    try:
        page = texts("outbox-fallback-card", text=_SLOT, **values)
    except TextError:
        logger.exception("The locale's outbox-fallback-card failed; using the built-in form")
        page = f"⚠️ #{number} ({values['error']})\n{values['name']}\n{values['phone']}\n{_SLOT}"
    head, _, tail = page.partition(_SLOT)
    available = MESSAGE_LIMIT - utf16_len(head) - utf16_len(tail)
    body = _plain(text)
    if utf16_len(body) > available:
        body = cut(body, max(0, available - len(_ELLIPSIS))) + _ELLIPSIS
    return head + body + tail


def failed_notice(texts: Texts, *, number: int | None, chat_id: int, error: str) -> str:
    """One line for the managers: a message could not be sent and is kept."""
    reason = cut(_plain(error), ERROR_LIMIT)
    try:
        if number is None:
            return texts("outbox-failed-notice-no-ticket", chat_id=str(chat_id), error=reason)
        return texts("outbox-failed-notice", number=number, chat_id=str(chat_id), error=reason)
    except TextError:
        logger.exception("The locale's outbox-failed-notice failed; using the built-in form")
        return f"⚠️ #{number} → {chat_id}: {reason}"


def full_text_parts(texts: Texts, *, number: int, text: str) -> list[str]:
    """A request text as plain messages, each headed with its request and part number."""
    header = texts("manager-full-text-header", number=number, part=99, parts=99)
    room = MESSAGE_LIMIT - utf16_len(header) - 1
    parts = chunks(_plain(text), room)
    return [
        texts("manager-full-text-header", number=number, part=index, parts=len(parts))
        + "\n"
        + part
        for index, part in enumerate(parts, start=1)
    ]


def _plain(value: str) -> str:
    return value.replace("\x00", "")
