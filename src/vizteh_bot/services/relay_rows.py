"""How one person's message becomes the outbox rows that pass it on.

A text is sent as text with its entities (a header or a signature joined to it, split
where it runs past Telegram's limit); anything else is copied (copyMessage, so the
manager's account stays private), its caption replaced when a header or a signature is
joined to it and fits; a header that does not fit goes just before the copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizteh_bot.outbox.messages import RelayEditPayload, RelayPayload
from vizteh_bot.telegram.render.entities import Formatted, joined, split
from vizteh_bot.telegram.render.fit import CAPTION_LIMIT, MESSAGE_LIMIT, cut, utf16_len

# An album's items arrive as separate updates: the first waits this long for the rest.
ALBUM_HOLD_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class Incoming:
    """A person's message as the relay needs it."""

    chat_id: int
    message_id: int
    text: Formatted | None = None  # a text message
    caption: Formatted | None = None
    can_caption: bool = False  # media that can carry a caption
    media_group_id: str | None = None

    @property
    def words(self) -> str:
        """What the person wrote, as plain text ("" for a photo without caption)."""
        part = self.text or self.caption
        return "" if part is None else part.text


@dataclass(frozen=True, slots=True)
class Wrapping:
    """What the bot joins to a relayed message: a header above, a signature below."""

    header: Formatted | None = None
    signature: Formatted | None = None
    reply_to_message_id: int | None = None
    # Where to report a copy that cannot be delivered (the manager's own message).
    report: bool = False


def relay_payloads(incoming: Incoming, wrapping: Wrapping) -> list[RelayPayload]:
    source = {
        "source_chat_id": incoming.chat_id,
        "source_message_id": incoming.message_id,
        "report_chat_id": incoming.chat_id if wrapping.report else None,
        "report_message_id": incoming.message_id if wrapping.report else None,
    }
    reply = wrapping.reply_to_message_id
    if incoming.text is not None:
        body = _wrapped(incoming.text, wrapping)
        pieces = split(body, MESSAGE_LIMIT)
        return [
            RelayPayload(
                text=piece.text,
                entities=list(piece.entities),
                reply_to_message_id=reply if index == 0 else None,
                react=index == len(pieces) - 1,
                **source,
            )
            for index, piece in enumerate(pieces)
        ]
    copy = {"from_chat_id": incoming.chat_id, "message_id": incoming.message_id}
    if incoming.media_group_id is not None:
        # An album goes as one (copyMessages: its captions as they are, no reply).
        head = _header_row(wrapping)
        item = RelayPayload(**copy, media_group_id=incoming.media_group_id, react=True, **source)
        return [*head, item]
    if wrapping.header is None and wrapping.signature is None:
        return [RelayPayload(**copy, reply_to_message_id=reply, react=True, **source)]
    if incoming.can_caption:
        caption = _wrapped(incoming.caption or Formatted(""), wrapping)
        if caption.length <= CAPTION_LIMIT:
            return [
                RelayPayload(
                    **copy,
                    caption=caption.text,
                    caption_entities=list(caption.entities),
                    reply_to_message_id=reply,
                    react=True,
                    **source,
                )
            ]
    # No room for what the bot joins: the header goes first, the signature is left out.
    return [
        *_header_row(wrapping),
        RelayPayload(**copy, reply_to_message_id=reply, react=True, **source),
    ]


def edit_payload(incoming: Incoming, wrapping: Wrapping) -> RelayEditPayload:
    """The copy's new content after the person edited their message (within one message's
    limit: an edit cannot add a message)."""
    source = {"source_chat_id": incoming.chat_id, "source_message_id": incoming.message_id}
    if incoming.text is not None:
        body = _fitted(_wrapped(incoming.text, wrapping), MESSAGE_LIMIT)
        return RelayEditPayload(**source, text=body.text, entities=list(body.entities))
    caption = _fitted(_wrapped(incoming.caption or Formatted(""), wrapping), CAPTION_LIMIT)
    return RelayEditPayload(
        **source, caption=caption.text, caption_entities=list(caption.entities)
    )


def _wrapped(body: Formatted, wrapping: Wrapping) -> Formatted:
    with_header = joined(wrapping.header, body, separator="\n")
    return joined(with_header, wrapping.signature, separator="\n\n")


def _header_row(wrapping: Wrapping) -> list[RelayPayload]:
    if wrapping.header is None:
        return []
    return [
        RelayPayload(
            text=wrapping.header.text,
            entities=list(wrapping.header.entities),
            reply_to_message_id=wrapping.reply_to_message_id,
        )
    ]


def _fitted(formatted: Formatted, limit: int) -> Formatted:
    if formatted.length <= limit:
        return formatted
    text = cut(formatted.text, limit - 1) + "…"
    end = utf16_len(text) - 1
    entities = tuple(
        {**e, "length": min(e["length"], end - e["offset"])}
        for e in formatted.entities
        if e["offset"] < end
    )
    return Formatted(text, entities)
