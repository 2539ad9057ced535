"""Chat state of the fake Bot API and the methods that read and change it.

:class:`ChatState` stores every message the bot sent or a user sent (by ``(chat_id,
message_id)``), the users seen, per-chat message id counters and open callback queries, and
implements the message methods (send*, copy/forward, edit*, delete, answerCallbackQuery) the
way Telegram answers them, raising :class:`ApiError` where Telegram returns an error.
copyMessages and setMessageReaction are in :mod:`fake_relay`.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from support.fake_objects import BOT_ID, BOT_USER, chat_dict, media_object, message_dict
from support.fake_text import EntityError, EntityParseError, check_entities, render_html, utf16_len

Json = dict[str, Any]

MEDIA_METHODS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendSticker": "sticker",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendVideoNote": "video_note",
}
SEND_METHODS = frozenset(
    {"sendMessage", *MEDIA_METHODS, "copyMessage", "copyMessages", "forwardMessage"}
)
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
REPLY_METHODS = SEND_METHODS | EDIT_METHODS
"""Methods that show the user something new (these are the rate-limited ones)."""

_CONTENT_KEYS = (
    *("text", "entities", "caption", "caption_entities", "contact", "location"),
    *MEDIA_METHODS.values(),
)
"""What a copy takes from its source (not ``media_group_id``: a single copy is no album)."""
CAPTION_KINDS = frozenset({"photo", "document", "video", "voice", "audio", "animation"})
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad(cls, description: str) -> ApiError:
        return cls(400, f"Bad Request: {description}")

    def payload(self) -> Json:
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class ChatState:
    """Messages, users and callback queries the fake Telegram knows about."""

    def __init__(self) -> None:
        self.messages: dict[tuple[int, int], Json] = {}
        self.users: dict[int, Json] = {}
        self.commands: list[Json] = []
        self.open_queries: set[str] = set()
        self.query_times: dict[str, float] = {}
        """Callback query id -> ``time.monotonic()`` when its update was first queued."""
        self.callback_answer_timeout = 15.0
        self.reaction_limits: dict[int, list[str]] = {}
        """Chat id -> the only emoji reactions allowed there (absent: all standard ones)."""
        self.bot_reactions: dict[tuple[int, int], list[str]] = {}
        """``(chat_id, message_id)`` -> emoji the bot reacted to the message with."""
        self._next_message_ids: dict[int, int] = {}

    def handlers(self) -> dict[str, Callable[[Json], Any]]:
        """API method name -> implementation taking the normalised params."""
        return {
            "getMe": lambda _: BOT_USER,
            "setMyCommands": self._set_commands,
            "deleteMyCommands": self._set_commands,
            "getMyCommands": lambda _: self.commands,
            "close": lambda _: True,
            "logOut": lambda _: True,
            "getChat": self._get_chat,
            "sendChatAction": lambda _: True,
            "getFile": self._get_file,
            "sendMessage": self._send_message,
            **{name: partial(self._send_media, kind) for name, kind in MEDIA_METHODS.items()},
            "copyMessage": partial(self._copy_message, forward=False),
            "forwardMessage": partial(self._copy_message, forward=True),
            **{name: partial(self._edit_message, name) for name in EDIT_METHODS},
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
        }

    def next_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_ids.get(chat_id, 1)
        self._next_message_ids[chat_id] = message_id + 1
        return message_id

    def get_message(self, chat_id: int, message_id: int) -> Json | None:
        message = self.messages.get((chat_id, message_id))
        return copy.deepcopy(message) if message is not None else None

    def messages_in(self, chat_id: int) -> list[Json]:
        found = [msg for (chat, _), msg in self.messages.items() if chat == chat_id]
        return copy.deepcopy(sorted(found, key=lambda msg: int(msg["message_id"])))

    def remember_update(self, update: Json) -> None:
        """Store what an incoming update reveals: messages, users, callback query ids."""
        for key in ("message", "edited_message"):
            if message := update.get(key):
                self._remember_message(message)
        if query := update.get("callback_query"):
            self.open_queries.add(str(query["id"]))
            self.query_times.setdefault(str(query["id"]), time.monotonic())
            self.users[int(query["from"]["id"])] = query["from"]

    def _remember_message(self, message: Json) -> None:
        chat_id, message_id = int(message["chat"]["id"]), int(message["message_id"])
        self.messages[(chat_id, message_id)] = copy.deepcopy(message)
        next_id = self._next_message_ids.get(chat_id, 1)
        self._next_message_ids[chat_id] = max(next_id, message_id + 1)
        if sender := message.get("from"):
            self.users[int(sender["id"])] = sender

    def _set_commands(self, params: Json) -> bool:
        commands = params.get("commands", [])
        self.commands = commands if isinstance(commands, list) else []
        return True

    def _get_chat(self, params: Json) -> Json:
        chat_id = _require_chat(params)
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        chat = {
            **chat_dict(chat_id, self.users.get(chat_id)),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {**gifts, "gifts_from_channels": False},
        }
        if (allowed := self.reaction_limits.get(chat_id)) is not None:
            chat["available_reactions"] = [{"type": "emoji", "emoji": e} for e in allowed]
        return chat

    def _get_file(self, params: Json) -> Json:
        document = media_object("document", str(params.get("file_id", "")))
        return {
            "file_id": document["file_id"],
            "file_unique_id": document["file_unique_id"],
            "file_path": f"files/{document['file_id']}",
        }

    def _send_message(self, params: Json) -> Json:
        text, entities = _formatted(params, "text", "entities")
        if not text or not text.strip():
            raise ApiError.bad("message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError.bad("message is too long")
        return self._deliver(params, _with(text=text, entities=entities))

    def _send_media(self, kind: str, params: Json) -> Json:
        source = params.get(kind)
        if not source:
            raise ApiError.bad(f"there is no {kind} in the request")
        file_id = source
        if not isinstance(source, str) or source.startswith(("attach://", "http:", "https:")):
            file_id = f"{kind.upper()}_{uuid.uuid4().hex}"
        content: Json = {kind: media_object(kind, file_id)}
        if kind == "animation":  # Telegram sets both, for backward compatibility
            content["document"] = media_object("document", file_id)
        caption, entities = _caption(params)
        return self._deliver(params, _with(content, caption=caption, caption_entities=entities))

    def _copy_message(self, params: Json, *, forward: bool) -> Json:
        source_key = (_require_chat(params, "from_chat_id"), _require_int(params, "message_id"))
        source = self.messages.get(source_key)
        if source is None:
            raise ApiError.bad(f"message to {'forward' if forward else 'copy'} not found")
        content = {k: copy.deepcopy(v) for k, v in source.items() if k in _CONTENT_KEYS}
        if forward:
            content["forward_origin"] = {
                "type": "user",
                "sender_user": source.get("from", BOT_USER),
                "date": source["date"],
            }
            return self._deliver({"chat_id": params.get("chat_id")}, content)
        if "caption" in params and CAPTION_KINDS & content.keys():
            caption, entities = _caption(params)  # a text message keeps its text
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content = _with(content, caption=caption, caption_entities=entities)
        return {"message_id": self._deliver(params, content)["message_id"]}

    def _deliver(self, params: Json, content: Json) -> Json:
        chat_id = _require_chat(params)
        reply_to = self._reply_target(chat_id, params)
        message = message_dict(
            chat_dict(chat_id, self.users.get(chat_id)),
            BOT_USER,
            self.next_message_id(chat_id),
            **content,
        )
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup := _inline_markup(params):
            message["reply_markup"] = markup
        if params.get("protect_content") is True:
            message["has_protected_content"] = True
        self.messages[(chat_id, message["message_id"])] = message
        return copy.deepcopy(message)

    def _reply_target(self, chat_id: int, params: Json) -> Json | None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict):
            reply = {"message_id": params.get("reply_to_message_id")}  # Bot API < 7.0 style
            reply["allow_sending_without_reply"] = params.get("allow_sending_without_reply")
        if reply.get("message_id") is None:
            return None
        target_chat = reply.get("chat_id", chat_id)
        target = self.messages.get((target_chat, reply["message_id"]))
        if target is None and reply.get("allow_sending_without_reply") is not True:
            raise ApiError.bad("message to be replied not found")
        return {k: v for k, v in target.items() if k != "reply_to_message"} if target else None

    def _edit_message(self, method: str, params: Json) -> Json | bool:
        new_markup = _inline_markup(params)
        if "inline_message_id" in params:
            return True
        key = (_require_chat(params), _require_int(params, "message_id"))
        message = self.messages.get(key)
        if message is None:
            raise ApiError.bad("message to edit not found")
        if message.get("from", {}).get("id") != BOT_ID:
            raise ApiError.bad("message can't be edited")
        changes: Json = {"reply_markup": new_markup}
        if method == "editMessageText":
            if "text" not in message:
                raise ApiError.bad("there is no text in the message to edit")
            changes["text"], changes["entities"] = _formatted(params, "text", "entities")
            if not changes["text"] or not changes["text"].strip():
                raise ApiError.bad("message text is empty")
        elif method == "editMessageCaption":
            if not any(kind in message for kind in MEDIA_METHODS.values()):
                raise ApiError.bad("there is no caption in the message to edit")
            changes["caption"], changes["caption_entities"] = _caption(params)
        if all(message.get(k) == v for k, v in changes.items()):
            raise ApiError.bad(_NOT_MODIFIED)
        for k, v in changes.items():
            if v is None:
                message.pop(k, None)
            else:
                message[k] = v
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _delete_message(self, params: Json) -> bool:
        key = (_require_chat(params), _require_int(params, "message_id"))
        if self.messages.pop(key, None) is None:
            raise ApiError.bad("message to delete not found")
        self.bot_reactions.pop(key, None)
        return True

    def _answer_callback_query(self, params: Json) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        age = time.monotonic() - self.query_times.get(query_id, 0.0)
        if query_id not in self.open_queries or age > self.callback_answer_timeout:
            raise ApiError.bad(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text", ""))) > 200:
            raise ApiError.bad("MESSAGE_TOO_LONG")
        self.open_queries.discard(query_id)
        return True


# ---------------------------------------------------------------------------- parameters


def _require_int(params: Json, key: str) -> int:
    value = params.get(key)
    if not isinstance(value, int):
        raise ApiError.bad(f"{key} is empty" if value is None else f"invalid {key} specified")
    return value


def _require_chat(params: Json, key: str = "chat_id") -> int:
    value = params.get(key)
    if value is None:
        raise ApiError.bad(f"{key} is empty")
    if not isinstance(value, int) or value == 0:
        raise ApiError.bad("chat not found")
    return value


def _rendered(params: Json, key: str) -> str | None:
    raw = params.get(key)
    if raw is None:
        return None
    text = str(raw)
    if str(params.get("parse_mode") or "").lower() == "html":
        try:
            return render_html(text)
        except EntityParseError as exc:
            raise ApiError.bad(f"can't parse entities: {exc}") from exc
    return text


def _formatted(params: Json, key: str, entities_key: str) -> tuple[str | None, list[Json] | None]:
    """``params[key]`` as shown and its entities: from parse_mode (HTML: as text only), or
    else from ``params[entities_key]``, checked as Telegram checks them."""
    text = _rendered(params, key)
    if text is None or str(params.get("parse_mode") or "none").lower() != "none":
        return text, None  # with a parse_mode, Telegram ignores the entities given
    try:
        return text, check_entities(text, params.get(entities_key))
    except EntityError as exc:
        raise ApiError.bad(str(exc)) from exc


def _caption(params: Json) -> tuple[str | None, list[Json] | None]:
    caption, entities = _formatted(params, "caption", "caption_entities")
    if caption is not None and utf16_len(caption) > 1024:
        raise ApiError.bad("message caption is too long")
    return (caption, entities) if caption else (None, None)


def _with(content: Json | None = None, **fields: Any) -> Json:
    """``content`` plus the ``fields`` that are not None."""
    return {**(content or {}), **{k: v for k, v in fields.items() if v is not None}}


def _inline_markup(params: Json) -> Json | None:
    """The inline keyboard the sent message will carry (other keyboards are not part of it)."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError.bad("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        return None
    for button in (button for row in rows for button in row):
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise ApiError.bad("BUTTON_DATA_INVALID")
        if not set(button) - {"text"}:
            raise ApiError.bad("text buttons are unallowed in the inline keyboard")
    return markup if any(rows) else None
