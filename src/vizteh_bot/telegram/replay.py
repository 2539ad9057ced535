"""An answer to a form question is read once, in the state it was typed in.

Each accepted answer leaves its message id (and a digest of its text) in the form's state,
written with the answer. Two messages are then skipped without a word:
- one with an id at or below it: Telegram delivering again what was handled before a
  crash, which would otherwise be read as the answer to the next question;
- the same text again, straight after it with nothing from the bot in between: a client
  who typed the answer twice because the bot was slow (in a private chat the bot's and
  the client's messages share one sequence of ids, so a question in between would have
  taken the id).
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import Message

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram.fsm.context import FSMContext
    from aiogram.types import TelegramObject

logger = logging.getLogger(__name__)


def answered(message: Message) -> dict[str, Any]:
    """The state fields that mark `message` as the answer just taken."""
    return {"answered_id": message.message_id, "answered_digest": _digest(message)}


class SkipAnsweredMessages(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        if not isinstance(event, Message) or state is None or event.chat.type != "private":
            return await handler(event, data)
        form = await state.get_data()
        last = form.get("answered_id")
        if isinstance(last, int):
            if event.message_id <= last:
                logger.info(
                    "Message %s in chat %s was handled already", event.message_id, event.chat.id
                )
                return None
            if event.message_id == last + 1 and form.get("answered_digest") == _digest(event):
                logger.info(
                    "Message %s in chat %s repeats the answer before it",
                    event.message_id,
                    event.chat.id,
                )
                return None
        return await handler(event, data)


def _digest(message: Message) -> str:
    content = message.text or (message.contact.phone_number if message.contact else "")
    return hashlib.blake2s(content.encode("utf-8", "replace"), digest_size=8).hexdigest()
