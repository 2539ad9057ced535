"""The fake Bot API's methods for a conversation relay: copyMessages and setMessageReaction.

:class:`RelayMethods` implements them on a :class:`~fake_chats.ChatState` the way Telegram
answers (error texts as the Bot API server and TDLib word them); :class:`ReactionControls`
gives ``FakeBotAPI`` the test-side switches: which reactions a chat allows and what the bot
reacted with.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

from support.fake_chats import (
    _CONTENT_KEYS,
    ApiError,
    ChatState,
    _require_chat,
    _require_int,
)
from support.fake_objects import new_media_group_id

Json = dict[str, Any]

STANDARD_REACTIONS: tuple[str, ...] = (
    "❤", "👍", "👎", "🔥", "🥰", "👏", "😁", "🤔", "🤯", "😱", "🤬", "😢", "🎉", "🤩", "🤮",
    "💩", "🙏", "👌", "🕊", "🤡", "🥱", "🥴", "😍", "🐳", "❤\u200d🔥", "🌚", "🌭", "💯", "🤣",
    "⚡", "🍌", "🏆", "💔", "🤨", "😐", "🍓", "🍾", "💋", "🖕", "😈", "😴", "😭", "🤓", "👻",
    "👨\u200d💻", "👀", "🎃", "🙈", "😇", "😨", "🤝", "✍", "🤗", "🫡", "🎅", "🎄", "☃", "💅",
    "🤪", "🗿", "🆒", "💘", "🙉", "🦄", "😘", "💊", "🙊", "😎", "👾", "🤷\u200d♂", "🤷",
    "🤷\u200d♀", "😡",
)  # fmt: skip
"""The emoji a ReactionTypeEmoji may hold (Bot API docs; exactly these strings, e.g. "❤"
without U+FE0F)."""
_HOMOGENEOUS = frozenset({"document", "audio"})  # albums of these hold nothing else
_MAX_ALBUM = 10


def messages_sent(method: str, params: Json) -> int:
    """How many messages a call sends, for the rate limiter (copyMessages: one per id)."""
    ids = params.get("message_ids")
    if method == "copyMessages" and isinstance(ids, list):
        return max(1, min(len(ids), 100))
    return 1


def _message_ids(value: object) -> list[int]:
    """``message_ids`` read as the Bot API reads it (1 to 100 positive ids)."""
    if value is None or value == "" or value == []:
        raise ApiError.bad("message identifiers are not specified")
    if isinstance(value, str):
        raise ApiError.bad("can't parse message_ids JSON object")
    if not isinstance(value, list):
        raise ApiError.bad("expected an Array of message identifiers")
    if len(value) > 100:
        raise ApiError.bad("too many message identifiers specified")
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ApiError.bad("message identifier must be a Number")
        try:
            number = int(item)
        except ValueError:
            raise ApiError.bad("can't parse message identifier as a Number") from None
        if number <= 0:
            raise ApiError.bad("invalid message identifier specified")
        ids.append(number)
    return ids


def _kind(content: Json) -> str:
    keys = content.keys() - {"caption", "caption_entities", "entities"}
    return "animation" if "animation" in keys else min(keys, default="")


class RelayMethods:
    """copyMessages and setMessageReaction on ``chats``."""

    def __init__(self, chats: ChatState) -> None:
        self.chats = chats

    def handlers(self) -> dict[str, Callable[[Json], Any]]:
        return {
            "copyMessages": self._copy_messages,
            "setMessageReaction": self._set_message_reaction,
        }

    def _copy_messages(self, params: Json) -> list[Json]:
        _require_chat(params)
        ids = _message_ids(params.get("message_ids"))
        from_chat = _require_chat(params, "from_chat_id")
        # Missing ids are skipped; TDLib checks the order of the ones it found.
        found = [(i, m) for i in ids if (m := self.chats.messages.get((from_chat, i)))]
        if not found:
            raise ApiError.bad("there are no messages to forward")
        if any(later <= earlier for (earlier, _), (later, _) in itertools.pairwise(found)):
            raise ApiError.bad("message identifiers must be in a strictly increasing order")
        contents = []
        for _, source in found:
            content = {k: copy.deepcopy(v) for k, v in source.items() if k in _CONTENT_KEYS}
            if params.get("remove_caption") is True:
                content.pop("caption", None)
                content.pop("caption_entities", None)
            contents.append(content)
        albums = self._new_album_ids([source for _, source in found], contents)
        send: Json = {k: params[k] for k in ("chat_id", "protect_content") if k in params}
        copied = []
        for content, album in zip(contents, albums, strict=True):
            if album is not None:
                content["media_group_id"] = album
            copied.append({"message_id": self.chats._deliver(send, content)["message_id"]})
        return copied

    @staticmethod
    def _new_album_ids(sources: list[Json], contents: list[Json]) -> list[str | None]:
        """Album ids of the copies, as TDLib assigns them: the copies of two or more items of
        one album share a new id; 2-10 copies all documents (or all audio) form one album."""
        kinds = {_kind(content) for content in contents}
        if 2 <= len(contents) <= _MAX_ALBUM and len(kinds) == 1 and kinds <= _HOMOGENEOUS:
            return [new_media_group_id()] * len(contents)
        counts = Counter(s["media_group_id"] for s in sources if s.get("media_group_id"))
        fresh = {old: new_media_group_id() for old, count in counts.items() if count >= 2}
        return [fresh.get(source.get("media_group_id")) for source in sources]

    def _set_message_reaction(self, params: Json) -> bool:
        chat_id, message_id = _require_chat(params), _require_int(params, "message_id")
        emoji = _reaction_emoji(params.get("reaction"))
        if (chat_id, message_id) not in self.chats.messages:
            raise ApiError.bad("message to react not found")
        allowed = self.chats.reaction_limits.get(chat_id, STANDARD_REACTIONS)
        if any(e is None or e not in STANDARD_REACTIONS or e not in allowed for e in emoji):
            raise ApiError.bad("REACTION_INVALID")
        chosen = list(dict.fromkeys(e for e in emoji if e is not None))
        if len(chosen) > 1:  # a bot is not a premium user: one reaction per message
            raise ApiError.bad("REACTIONS_TOO_MANY")
        if chosen:
            self.chats.bot_reactions[(chat_id, message_id)] = chosen
        else:
            self.chats.bot_reactions.pop((chat_id, message_id), None)
        return True


def _reaction_emoji(value: object) -> list[str | None]:
    """The emoji of a ``reaction`` list (None for a custom emoji, which a bot may not set
    here), raising the Bot API's parse errors."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        raise ApiError.bad("can't parse reaction types JSON object")
    if not isinstance(value, list):
        raise ApiError.bad("expected an Array of ReactionType")
    emoji: list[str | None] = []
    for item in value:
        if not isinstance(item, dict):
            raise ApiError.bad("can't parse ReactionType: expected an Object")
        kind = item.get("type")
        if kind == "emoji" and isinstance(item.get("emoji"), str):
            emoji.append(item["emoji"])
        elif kind == "custom_emoji" and item.get("custom_emoji_id") is not None:
            emoji.append(None)
        elif kind in ("emoji", "custom_emoji", None):
            field = {"emoji": "emoji", "custom_emoji": "custom_emoji_id"}.get(str(kind), "type")
            raise ApiError.bad(f"can't parse ReactionType: Can't find field \"{field}\"")
        else:
            raise ApiError.bad("can't parse ReactionType: invalid reaction type specified")
    return emoji


class ReactionControls:
    """Test-side switches for reactions, mixed into ``FakeBotAPI``."""

    chats: ChatState

    def restrict_reactions(self, chat_id: int, allowed: list[str] | None) -> None:
        """Let ``chat_id`` allow only the ``allowed`` emoji reactions ([] = none at all;
        None = every standard one, as by default).  getChat shows it as available_reactions."""
        if allowed is None:
            self.chats.reaction_limits.pop(chat_id, None)
            return
        unknown = [emoji for emoji in allowed if emoji not in STANDARD_REACTIONS]
        if unknown:
            raise ValueError(f"not standard reactions: {unknown}")
        self.chats.reaction_limits[chat_id] = list(dict.fromkeys(allowed))

    def reactions(self, chat_id: int, message_id: int) -> list[str]:
        """Emoji the bot has set on the message ([] if none, or if the message is gone)."""
        return list(self.chats.bot_reactions.get((chat_id, message_id), []))
