"""Telegram objects for the fake Bot API: users, chats, media, messages and updates.

Every builder returns a plain ``dict`` shaped the way Telegram serialises it, so that
aiogram's pydantic models accept it.  Update builders leave ``update_id`` out unless it is
given: ``FakeBotAPI.put_update`` assigns one.  Message ids must be passed explicitly; take
them from ``FakeBotAPI.next_message_id(chat_id)`` so that they follow the chat's sequence.
Messages of any kind, albums of them and their edits are built by :mod:`fake_messages`.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from typing import Any

from support.fake_text import HTML_TAGS as HTML_TAGS
from support.fake_text import EntityParseError as EntityParseError
from support.fake_text import render_html as render_html
from support.fake_text import utf16_len as utf16_len

BOT_ID = 1000000001
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "VizTeh",
    "username": "vizteh_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
GROUP_TITLE = "Managers"
DEFAULT_PHOTO_ID = "AgACAgIAAxkBAAIBZ2Zf_photo_default"
DEFAULT_STICKER_ID = "CAACAgIAAxkBAAIBaGZf_sticker_default"
DEFAULT_VOICE_ID = "AwACAgIAAxkBAAIBaWZf_voice_default"
DEFAULT_DOCUMENT_ID = "BQACAgIAAxkBAAIBamZf_document_default"

_query_ids = itertools.count(5_000_000_000_000_000_001)
_media_group_ids = itertools.count(13_600_000_000_000_001)


def new_media_group_id() -> str:
    """A fresh ``media_group_id`` (albums users send, and copies of albums)."""
    return str(next(_media_group_ids))


# --------------------------------------------------------------------------- users and chats


def user_dict(
    user_id: int,
    first_name: str = "Анна",
    *,
    username: str | None = None,
    language_code: str | None = "ru",
    last_name: str | None = None,
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def chat_dict(chat_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``Chat``: private for positive ids (named after ``user``), else a group.

    Ids starting with -100 are supergroups, other negative ids are basic groups; both are
    titled ``GROUP_TITLE``.
    """
    if chat_id > 0:
        chat: dict[str, Any] = {"id": chat_id, "type": "private"}
        user = user or {}
        chat["first_name"] = user.get("first_name", "User")
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": GROUP_TITLE}


# ---------------------------------------------------------------------------------- media


def _unique_id(file_id: str) -> str:
    return "AQAD" + hashlib.blake2s(file_id.encode(), digest_size=8).hexdigest()


def media_object(kind: str, file_id: str) -> Any:
    """The object Telegram puts under ``message[kind]`` for a file with ``file_id``."""
    base: dict[str, Any] = {"file_id": file_id, "file_unique_id": _unique_id(file_id)}
    if kind == "photo":
        thumb_id = f"{file_id}_s"
        small = {"file_id": thumb_id, "file_unique_id": _unique_id(thumb_id)}
        return [
            {**small, "width": 90, "height": 67, "file_size": 1310},
            {**base, "width": 1280, "height": 960, "file_size": 123456},
        ]
    extra: dict[str, dict[str, Any]] = {
        "sticker": {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        },
        "voice": {"duration": 3, "mime_type": "audio/ogg", "file_size": 8000},
        "audio": {"duration": 120, "mime_type": "audio/mpeg"},
        "video": {"width": 640, "height": 360, "duration": 10},
        "animation": {"width": 320, "height": 240, "duration": 2},
        "video_note": {"length": 240, "duration": 5},
        "document": {"file_name": "document.pdf", "mime_type": "application/pdf"},
    }
    return {**base, **extra.get(kind, {})}


_RESTRICTABLE = (
    *("can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos"),
    *("can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls"),
    *("can_send_other_messages", "can_add_web_page_previews", "can_react_to_messages"),
    *("can_edit_tag", "can_change_info", "can_invite_users", "can_pin_messages"),
    "can_manage_topics",
)


def chat_member_dict(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ``ChatMember`` of ``status`` (member, left, kicked; "restricted" is muted: a member
    who may send nothing)."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0  # banned for ever
    if status == "restricted":
        member.update(dict.fromkeys(_RESTRICTABLE, False), is_member=True, until_date=0)
    return member


# ------------------------------------------------------------------------------- messages


def message_dict(
    chat: dict[str, Any],
    sender: dict[str, Any],
    message_id: int,
    **content: Any,
) -> dict[str, Any]:
    """A ``Message`` in ``chat`` from ``sender`` with the given content fields."""
    return {
        "message_id": message_id,
        "from": sender,
        "chat": chat,
        "date": int(time.time()),
        **content,
    }


def _user_update(
    user: dict[str, Any],
    message_id: int,
    chat_id: int | None,
    update_id: int | None,
    **content: Any,
) -> dict[str, Any]:
    chat = chat_dict(user["id"] if chat_id is None else chat_id, user)
    update: dict[str, Any] = {"message": message_dict(chat, user, message_id, **content)}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def text_update(
    user: dict[str, Any],
    text: str,
    *,
    message_id: int,
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """``user`` writes ``text`` (in their private chat unless ``chat_id`` is given)."""
    return _user_update(user, message_id, chat_id, update_id, text=text)


def command_update(
    user: dict[str, Any],
    command: str,
    *,
    message_id: int,
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A command such as ``"/start"`` or ``"/start ref42"``, with its bot_command entity."""
    name = command.split(maxsplit=1)[0]
    entity = {"type": "bot_command", "offset": 0, "length": len(name)}
    return _user_update(user, message_id, chat_id, update_id, text=command, entities=[entity])


def sticker_update(
    user: dict[str, Any],
    *,
    message_id: int,
    file_id: str = DEFAULT_STICKER_ID,
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    sticker = media_object("sticker", file_id)
    return _user_update(user, message_id, chat_id, update_id, sticker=sticker)


def photo_update(
    user: dict[str, Any],
    *,
    message_id: int,
    file_id: str = DEFAULT_PHOTO_ID,
    caption: str | None = None,
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    content: dict[str, Any] = {"photo": media_object("photo", file_id)}
    if caption is not None:
        content["caption"] = caption
    return _user_update(user, message_id, chat_id, update_id, **content)


def voice_update(
    user: dict[str, Any],
    *,
    message_id: int,
    file_id: str = DEFAULT_VOICE_ID,
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    voice = media_object("voice", file_id)
    return _user_update(user, message_id, chat_id, update_id, voice=voice)


def document_update(
    user: dict[str, Any],
    *,
    message_id: int,
    file_id: str = DEFAULT_DOCUMENT_ID,
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    document = media_object("document", file_id)
    return _user_update(user, message_id, chat_id, update_id, document=document)


def contact_update(
    user: dict[str, Any],
    phone: str,
    *,
    message_id: int,
    contact_user_id: int | None = None,
    first_name: str | None = None,
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """``user`` shares a contact.  Pass ``contact_user_id=user["id"]`` for their own number
    (as the "share my phone" reply button does); leave it ``None`` for a contact without a
    Telegram account."""
    contact: dict[str, Any] = {
        "phone_number": phone,
        "first_name": first_name or user["first_name"],
    }
    if contact_user_id is not None:
        contact["user_id"] = contact_user_id
    return _user_update(user, message_id, chat_id, update_id, contact=contact)


def album_updates(
    user: dict[str, Any],
    *,
    first_message_id: int,
    count: int,
    chat_id: int | None = None,
    caption: str | None = None,
) -> list[dict[str, Any]]:
    """An album of ``count`` photos as Telegram delivers it: one message update per photo,
    consecutive ids, a shared ``media_group_id``, one date, the caption on the first only."""
    if not 2 <= count <= 10:
        raise ValueError("an album holds 2 to 10 items")
    group_id = new_media_group_id()
    updates = []
    for index in range(count):
        content: dict[str, Any] = {
            "media_group_id": group_id,
            "photo": media_object("photo", f"{DEFAULT_PHOTO_ID}_album{group_id}_{index}"),
        }
        if index == 0 and caption is not None:
            content["caption"] = caption
        updates.append(_user_update(user, first_message_id + index, chat_id, None, **content))
    date = updates[0]["message"]["date"]
    for update in updates:
        update["message"]["date"] = date
    return updates


def unknown_forward_origin(kind: str = "future_kind") -> dict[str, Any]:
    """A ``forward_origin`` of a type aiogram's models do not know (a future Bot API one)."""
    return {"type": kind, "date": int(time.time())}


def forwarded_text_update(
    user: dict[str, Any],
    text: str,
    *,
    message_id: int,
    origin: dict[str, Any],
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """``user`` forwards a text message whose ``forward_origin`` is ``origin`` as given."""
    return _user_update(
        user, message_id, chat_id, update_id, text=text, forward_origin=dict(origin)
    )


def callback_query_update(
    user: dict[str, Any],
    message: dict[str, Any],
    data: str,
    *,
    query_id: str | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """``user`` presses a button with ``data`` under ``message`` (a full Message dict or an
    inaccessible one: ``{"chat": ..., "message_id": ..., "date": 0}``)."""
    chat_id = int(message["chat"]["id"])
    query = {
        "id": query_id or str(next(_query_ids)),
        "from": user,
        "message": message,
        "chat_instance": str(4_000_000_000_000_000_000 + abs(chat_id)),
        "data": data,
    }
    update: dict[str, Any] = {"callback_query": query}
    if update_id is not None:
        update["update_id"] = update_id
    return update
