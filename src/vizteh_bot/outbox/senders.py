"""One sender per outbox kind: each turns a row into one Telegram call and returns the id of
the message it made. Failures are raised as they come; the worker decides what they mean."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import methods
from aiogram.types import (
    InlineKeyboardMarkup,
    MessageEntity,
    ReactionTypeEmoji,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from vizteh_bot.outbox.messages import (
    CopyPayload,
    DeferredCallPayload,
    NoticePayload,
    OutboxMessage,
    ReactionPayload,
    RelayEditPayload,
    RelayPayload,
    TextPayload,
)
from vizteh_bot.telegram import keyboards
from vizteh_bot.telegram.render import cards

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from aiogram import Bot

    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.texts import Translations


class UnknownKind(ValueError):
    """A row this version cannot send (a newer version wrote it)."""


class Senders:
    def __init__(
        self, *, bot: Bot, translations: Translations, zone: ZoneInfo, request_timeout: float
    ) -> None:
        self._bot = bot
        self._translations = translations
        self._zone = zone
        self._timeout = int(max(1, request_timeout))

    async def cards(self, chat_id: int, tickets: Sequence[Ticket]) -> int:
        """A new request's card, or a digest of several."""
        texts = self._translations.default
        rendered = cards.manager_message(texts, tickets, self._zone)
        sent = await self._bot.send_message(
            chat_id,
            rendered.html,
            reply_markup=keyboards.manager_message(texts, tickets, rendered.shortened),
            request_timeout=self._timeout,
        )
        return sent.message_id

    async def refresh(self, chat_id: int, message_id: int, tickets: Sequence[Ticket]) -> int:
        """The message that shows `tickets`, re-rendered with their state now."""
        texts = self._translations.default
        rendered = cards.manager_message(texts, tickets, self._zone)
        await self._bot.edit_message_text(
            chat_id=chat_id,
            message_id=message_id,
            text=rendered.html,
            reply_markup=keyboards.manager_message(texts, tickets, rendered.shortened),
            request_timeout=self._timeout,
        )
        return message_id

    async def notice(self, chat_id: int, message: OutboxMessage) -> int:
        payload = message.parsed(NoticePayload)
        texts = self._translations.for_language(payload.locale)
        sent = await self._bot.send_message(
            chat_id,
            texts(payload.key, **payload.args),
            reply_markup=ReplyKeyboardRemove() if payload.remove_keyboard else None,
            reply_parameters=_reply(payload.reply_to_message_id),
            request_timeout=self._timeout,
        )
        return sent.message_id

    async def text(self, chat_id: int, message: OutboxMessage) -> int:
        payload = message.parsed(TextPayload)
        markup = payload.reply_markup
        sent = await self._bot.send_message(
            chat_id,
            payload.text,
            parse_mode="HTML" if payload.html else None,
            reply_markup=None if markup is None else InlineKeyboardMarkup.model_validate(markup),
            reply_parameters=_reply(payload.reply_to_message_id),
            request_timeout=self._timeout,
        )
        return sent.message_id

    async def copy(self, chat_id: int, message: OutboxMessage) -> int:
        payload = message.parsed(CopyPayload)
        copied = await self._bot.copy_message(
            chat_id=chat_id,
            from_chat_id=payload.from_chat_id,
            message_id=payload.message_id,
            reply_parameters=_reply(payload.reply_to_message_id),
            request_timeout=self._timeout,
        )
        return copied.message_id

    async def relay(self, chat_id: int, message: OutboxMessage) -> int:
        payload = message.parsed(RelayPayload)
        if payload.text is not None:
            sent = await self._bot.send_message(
                chat_id,
                payload.text,
                parse_mode=None,
                entities=_entities(payload.entities),
                reply_parameters=_reply(payload.reply_to_message_id),
                request_timeout=self._timeout,
            )
            return sent.message_id
        if payload.from_chat_id is None or payload.message_id is None:
            raise UnknownKind("a relay with neither a text nor a message to copy")
        replaced = payload.caption is not None
        copied = await self._bot.copy_message(
            chat_id=chat_id,
            from_chat_id=payload.from_chat_id,
            message_id=payload.message_id,
            caption=payload.caption,
            parse_mode=None,
            caption_entities=_entities(payload.caption_entities) if replaced else None,
            reply_parameters=_reply(payload.reply_to_message_id),
            request_timeout=self._timeout,
        )
        return copied.message_id

    async def relay_album(self, chat_id: int, rows: Sequence[OutboxMessage]) -> list[int]:
        """Copies of one album's items, as one album (copyMessages keeps them together)."""
        payloads = [row.parsed(RelayPayload) for row in rows]
        source = payloads[0].from_chat_id
        if source is None or any(p.message_id is None for p in payloads):
            raise UnknownKind("an album relay without the messages to copy")
        copied = await self._bot.copy_messages(
            chat_id=chat_id,
            from_chat_id=source,
            message_ids=[p.message_id for p in payloads if p.message_id is not None],
            request_timeout=self._timeout,
        )
        return [item.message_id for item in copied]

    async def relay_edit(self, chat_id: int, message_id: int, payload: RelayEditPayload) -> int:
        if payload.text is not None:
            await self._bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=payload.text,
                parse_mode=None,
                entities=_entities(payload.entities),
                request_timeout=self._timeout,
            )
        else:
            await self._bot.edit_message_caption(
                chat_id=chat_id,
                message_id=message_id,
                caption=payload.caption or "",
                parse_mode=None,
                caption_entities=_entities(payload.caption_entities),
                request_timeout=self._timeout,
            )
        return message_id

    async def reaction(self, chat_id: int, message: OutboxMessage) -> None:
        payload = message.parsed(ReactionPayload)
        await self._bot.set_message_reaction(
            chat_id=chat_id,
            message_id=payload.message_id,
            reaction=[ReactionTypeEmoji(emoji=payload.emoji)],
            request_timeout=self._timeout,
        )

    async def deferred_call(self, chat_id: int, message: OutboxMessage) -> int | None:
        """A direct reply that could not go in time, made now as it was asked for."""
        payload = message.parsed(DeferredCallPayload)
        method_class = getattr(methods, payload.method, None)
        if not isinstance(method_class, type) or not issubclass(
            method_class, methods.TelegramMethod
        ):
            raise UnknownKind(f"no Bot API method {payload.method!r}")
        params: dict[str, Any] = {**payload.params, "chat_id": chat_id}
        result = await self._bot(
            method_class.model_validate(params), request_timeout=self._timeout
        )
        message_id = getattr(result, "message_id", None)
        return message_id if isinstance(message_id, int) else None


def _reply(message_id: int | None) -> ReplyParameters | None:
    # A reply to a message deleted since is sent as a plain message, not refused.
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def _entities(values: list[dict[str, Any]]) -> list[MessageEntity] | None:
    return [MessageEntity.model_validate(value) for value in values] or None
