"""Messages people send, of every kind the bot relays, shaped as Telegram delivers them.

:func:`media_update` builds one message (text, a file, a location or a contact) with an
optional caption, album id and the message it replies to; :func:`album_updates_of` builds an
album; :func:`edited_message_update` the update Telegram sends when a person edits a message.
Like :mod:`fake_objects`, builders leave ``update_id`` out unless it is given and take message
ids explicitly (from ``FakeBotAPI.next_message_id``).
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Sequence
from typing import Any

from support.fake_objects import chat_dict, media_object, message_dict, new_media_group_id

Json = dict[str, Any]

MESSAGE_KINDS = (
    *("text", "photo", "document", "video", "voice", "audio", "sticker", "animation"),
    *("location", "contact", "video_note"),
)
CAPTION_KINDS = frozenset({"photo", "document", "video", "voice", "audio", "animation"})
"""Kinds that may carry a caption."""
ALBUM_KINDS = frozenset({"photo", "video", "document", "audio"})
"""Kinds an album may hold: photos and videos mixed, or documents only, or audio only."""
DEFAULT_LOCATION = {"latitude": 55.755826, "longitude": 37.6173}
DEFAULT_PHONE = "+79990001122"

_file_numbers = itertools.count(1)


def replied(message: Json) -> Json:
    """``message`` as it appears under ``reply_to_message``: without its own reply."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def message_content(
    kind: str,
    sender: Json,
    *,
    text: str | None = None,
    entities: Sequence[Json] | None = None,
    caption: str | None = None,
    caption_entities: Sequence[Json] | None = None,
    file_id: str | None = None,
) -> Json:
    """The content fields of a message of ``kind`` (one of :data:`MESSAGE_KINDS`).

    Files get a fresh ``file_id`` unless one is given; a contact is the sender's own number;
    an animation also has ``document`` set, as Telegram does for backward compatibility."""
    if kind not in MESSAGE_KINDS:
        raise ValueError(f"unknown message kind {kind!r}; one of {MESSAGE_KINDS}")
    if (text is not None or entities) and kind != "text":
        raise ValueError("text and entities belong to kind='text'; media take a caption")
    if (caption is not None or caption_entities) and kind not in CAPTION_KINDS:
        raise ValueError(f"a {kind} has no caption in Telegram")
    if caption_entities and caption is None:
        raise ValueError("caption_entities need a caption")
    content: Json
    if kind == "text":
        if not text:
            raise ValueError("a text message needs its text")
        content = {"text": text}
        if entities:
            content["entities"] = copy.deepcopy(list(entities))
        return content
    if kind == "location":
        return {"location": dict(DEFAULT_LOCATION)}
    if kind == "contact":
        contact = {"phone_number": DEFAULT_PHONE, "first_name": sender["first_name"]}
        return {"contact": {**contact, "user_id": sender["id"]}}
    file_id = file_id or f"{kind.upper()}_user_{next(_file_numbers)}"
    content = {kind: media_object(kind, file_id)}
    if kind == "animation":
        content["document"] = {
            **media_object("document", file_id),
            "file_name": "animation.mp4",
            "mime_type": "video/mp4",
        }
    if caption is not None:
        content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = copy.deepcopy(list(caption_entities))
    return content


def _chat(chat: int | Json | None, sender: Json) -> Json:
    if isinstance(chat, dict):
        return copy.deepcopy(chat)
    return chat_dict(sender["id"] if chat is None else chat, sender)


def media_update(
    user: Json,
    kind: str,
    *,
    message_id: int,
    chat: int | Json | None = None,
    text: str | None = None,
    entities: Sequence[Json] | None = None,
    caption: str | None = None,
    caption_entities: Sequence[Json] | None = None,
    media_group_id: str | None = None,
    reply_to: Json | None = None,
    file_id: str | None = None,
    update_id: int | None = None,
) -> Json:
    """``user`` sends a message of ``kind`` in ``chat`` (a chat id or a Chat dict; their
    private chat by default).  ``text``/``entities`` are for kind "text", ``caption`` and
    ``caption_entities`` for :data:`CAPTION_KINDS`; ``reply_to`` is the full message replied
    to (e.g. ``api.get_message(chat_id, message_id)``)."""
    content = message_content(
        kind,
        user,
        text=text,
        entities=entities,
        caption=caption,
        caption_entities=caption_entities,
        file_id=file_id,
    )
    if media_group_id is not None:
        if kind not in ALBUM_KINDS:
            raise ValueError(f"a {kind} cannot be in an album")
        content["media_group_id"] = media_group_id
    if reply_to is not None:
        content["reply_to_message"] = replied(reply_to)
    update: Json = {"message": message_dict(_chat(chat, user), user, message_id, **content)}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def album_updates_of(
    user: Json,
    kinds: Sequence[str],
    *,
    first_message_id: int,
    chat: int | Json | None = None,
    caption: str | None = None,
    caption_entities: Sequence[Json] | None = None,
    reply_to: Json | None = None,
) -> list[Json]:
    """An album of ``kinds`` as Telegram delivers it: one message update per item with
    consecutive ids, one new ``media_group_id``, one date, the caption on the first item and
    the reply on every item."""
    if not 2 <= len(kinds) <= 10:
        raise ValueError("an album holds 2 to 10 items")
    mix = set(kinds)
    if not (mix <= {"photo", "video"} or mix in ({"document"}, {"audio"})):
        raise ValueError(f"Telegram does not group {sorted(mix)} in one album")
    group_id = new_media_group_id()
    updates = [
        media_update(
            user,
            kind,
            message_id=first_message_id + index,
            chat=chat,
            caption=caption if index == 0 else None,
            caption_entities=caption_entities if index == 0 else None,
            media_group_id=group_id,
            reply_to=reply_to,
        )
        for index, kind in enumerate(kinds)
    ]
    for update in updates:
        update["message"]["date"] = updates[0]["message"]["date"]
    return updates


def edited_message_update(
    message: Json,
    *,
    text: str | None = None,
    entities: Sequence[Json] | None = None,
    caption: str | None = None,
    caption_entities: Sequence[Json] | None = None,
    update_id: int | None = None,
) -> Json:
    """The ``edited_message`` update for ``message`` (the full stored message) with its new
    text or caption (an empty caption removes it) and ``edit_date``."""
    edited = copy.deepcopy(message)
    if text is None and caption is None:
        raise ValueError("an edit changes the text or the caption")
    if text is not None:
        if "text" not in edited or not text:
            raise ValueError("only a text message gets a new (non-empty) text")
        edited["text"] = text
        edited.pop("entities", None)
        if entities:
            edited["entities"] = copy.deepcopy(list(entities))
    if caption is not None:
        if not CAPTION_KINDS & edited.keys():
            raise ValueError(f"only {sorted(CAPTION_KINDS)} have a caption")
        edited.pop("caption", None)
        edited.pop("caption_entities", None)
        if caption:
            edited["caption"] = caption
            if caption_entities:
                edited["caption_entities"] = copy.deepcopy(list(caption_entities))
    edited["edit_date"] = max(int(time.time()), int(edited.get("date", 0)))
    update: Json = {"edited_message": edited}
    if update_id is not None:
        update["update_id"] = update_id
    return update
