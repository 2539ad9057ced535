"""A Telegram message as the relay sees it (services/relay_rows.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.services.relay_rows import Incoming
from vizteh_bot.telegram.render.entities import Formatted

if TYPE_CHECKING:
    from aiogram.types import Message, MessageEntity

# What copyMessage carries (service messages, invoices and giveaways it cannot).
_WITH_CAPTION = ("photo", "video", "document", "audio", "voice", "animation")
_WITHOUT_CAPTION = ("sticker", "video_note", "location", "venue", "contact", "dice", "poll")


def incoming_of(message: Message) -> Incoming | None:
    """None for a message that cannot be passed on (a service message: someone joined)."""
    chat_id, message_id = message.chat.id, message.message_id
    if message.text is not None:
        return Incoming(chat_id, message_id, text=_formatted(message.text, message.entities))
    can_caption = any(getattr(message, kind, None) is not None for kind in _WITH_CAPTION)
    if not can_caption and not any(
        getattr(message, k, None) is not None for k in _WITHOUT_CAPTION
    ):
        return None
    caption = None
    if message.caption is not None:
        caption = _formatted(message.caption, message.caption_entities)
    return Incoming(
        chat_id,
        message_id,
        caption=caption,
        can_caption=can_caption,
        media_group_id=message.media_group_id,
    )


def _formatted(text: str, entities: list[MessageEntity] | None) -> Formatted:
    return Formatted(
        text, tuple(e.model_dump(mode="json", exclude_none=True) for e in entities or [])
    )
