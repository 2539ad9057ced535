"""An answer to a form question is read once, in the state it was typed in.

Each handled form message leaves its message id (and, for an answer, a digest of its text)
in the form's state, written with the change it made. Then:
- the same message again is Telegram delivering it once more after a crash (the polling
  ledger skips what was handled to the end, so this one was cut short): it is not read as
  the answer to the next question; that question is asked, as it may not have gone out;
- an older message is skipped without a word;
- the same answer again, straight after it with nothing from the bot in between, is a
  client who typed it twice because the bot was slow (in a private chat the bot's and the
  client's messages share one sequence of ids, so a question in between would have taken
  the id): skipped too.
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

    from vizteh_bot.domain.form import Form
    from vizteh_bot.texts import Texts

logger = logging.getLogger(__name__)


def answered(message: Message, *, may_repeat: bool = False) -> dict[str, Any]:
    """The state fields that mark `message` as handled: an answer just taken, or (with
    `may_repeat`) a step such as «Назад», which a client may well send twice in a row."""
    digest = None if may_repeat else _digest(message)
    return {"answered_id": message.message_id, "answered_digest": digest}


class SkipAnsweredMessages(BaseMiddleware):
    def __init__(
        self, ask_again: Callable[[Message, FSMContext, Texts, Form], Awaitable[None]]
    ) -> None:
        self._ask_again = ask_again

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
        if not isinstance(last, int) or event.message_id > last + 1:
            return await handler(event, data)
        where = (event.message_id, event.chat.id)
        if event.message_id == last:
            logger.info("Message %s in chat %s came again; asking its next question", *where)
            await self._ask_again(event, state, data["texts"], data["form"])
            return None
        if event.message_id < last:
            logger.info("Message %s in chat %s was handled already", *where)
            return None
        if form.get("answered_digest") == _digest(event):
            logger.info("Message %s in chat %s repeats the answer before it", *where)
            return None
        return await handler(event, data)


def _digest(message: Message) -> str:
    content = message.text or (message.contact.phone_number if message.contact else "")
    return hashlib.blake2s(content.encode("utf-8", "replace"), digest_size=8).hexdigest()
