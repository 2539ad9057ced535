"""Keep aiogram's parsed response classes alive for the life of the process.

aiogram parses every answer as `Response[<method's result type>]`. pydantic caches such
parametrised generics only weakly, so once garbage-collected each is rebuilt, which
costs milliseconds of schema building on a hot path. Holding them is a few kilobytes.
"""

from __future__ import annotations

from typing import Any

from aiogram import methods
from aiogram.methods.base import Response

# The methods this bot calls; others still work, they are just not pinned.
_USED_METHODS = (
    methods.AnswerCallbackQuery,
    methods.DeleteWebhook,
    methods.EditMessageReplyMarkup,
    methods.EditMessageText,
    methods.GetMe,
    methods.GetUpdates,
    methods.SendMessage,
    methods.SendPhoto,
)


def pin_response_types() -> list[type[Any]]:
    """Build the parsed-response classes once; the caller keeps the returned list."""
    return [Response[method.__returning__] for method in _USED_METHODS]  # type: ignore[name-defined]
