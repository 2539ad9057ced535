"""What a person sends in a conversation relay, without waiting for the bot.

:class:`RelayActions` is mixed into :class:`~telegram_user.TelegramUser` (and so
``ManagerChat``): texts with entities, every kind of media, albums, replies and edits, each
put on the fake Bot API at once; every helper returns update ids.  Messages land in the
person's chat: their private chat, or the managers' group for a ``ManagerChat``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from support.fake_messages import album_updates_of, edited_message_update, media_update

if TYPE_CHECKING:
    from support.fake_bot_api import FakeBotAPI

Json = dict[str, Any]


class RelayActions:
    """Relay helpers of a person in one chat (see ``TelegramUser``)."""

    api: FakeBotAPI
    user: Json
    user_id: int
    chat_id: int

    def put(self, update: Json) -> int:
        raise NotImplementedError  # TelegramUser.put

    # ------------------------------------------------------------- relay, without waiting

    def send_text_nowait(
        self, text: str, *, entities: list[Json] | None = None, reply_to: Json | int | None = None
    ) -> int:
        """Write ``text`` with ``entities``, replying to ``reply_to`` (a message dict, e.g.
        ``api.get_message(chat_id, message_id)``, or the id of a message in this chat) if
        given; returns the update_id (the message id is ``own_message_ids[-1]``)."""
        return self._send_kind("text", reply_to, text=text, entities=entities)

    def send_media_nowait(
        self,
        kind: str,
        *,
        caption: str | None = None,
        caption_entities: list[Json] | None = None,
        reply_to: Json | int | None = None,
    ) -> int:
        """Send a message of ``kind`` (see ``fake_messages.MESSAGE_KINDS``: photo, document,
        video, voice, audio, sticker, animation, location, contact, video_note, text needs
        ``send_text_nowait``); ``reply_to`` as for ``send_text_nowait``.  Returns the
        update_id."""
        return self._send_kind(kind, reply_to, caption=caption, caption_entities=caption_entities)

    def send_album_nowait(
        self, kinds: list[str], caption: str | None = None, reply_to: Json | int | None = None
    ) -> list[int]:
        """Send an album of ``kinds`` (photos/videos, or documents, or audio) with the
        caption on the first item; all are queued before any getUpdates can answer, so the
        bot gets them in one batch.  Returns the update_ids."""
        first = self.api.next_message_id(self.chat_id)
        replied = self._replied(reply_to)
        updates = album_updates_of(
            self.user, kinds, first_message_id=first, chat=self.chat_id, caption=caption,
            reply_to=replied,
        )  # fmt: skip
        return [self.put(update) for update in updates]

    def edit_nowait(
        self,
        message_id: int,
        text: str | None = None,
        caption: str | None = None,
        *,
        entities: list[Json] | None = None,
        caption_entities: list[Json] | None = None,
    ) -> int:
        """Edit this person's message ``message_id`` to the new text or caption (the stored
        message changes too); returns the update_id of the ``edited_message``."""
        message = self.api.get_message(self.chat_id, message_id)
        if message is None or message.get("from", {}).get("id") != self.user_id:
            raise AssertionError(f"{self.user_id} has no message {message_id} in {self.chat_id}")
        update = edited_message_update(
            message, text=text, entities=entities, caption=caption,
            caption_entities=caption_entities,
        )  # fmt: skip
        return self.put(update)

    def _send_kind(self, kind: str, reply_to: Json | int | None, **content: Any) -> int:
        message_id = self.api.next_message_id(self.chat_id)
        update = media_update(
            self.user, kind, message_id=message_id, chat=self.chat_id,
            reply_to=self._replied(reply_to), **content,
        )  # fmt: skip
        return self.put(update)

    def _replied(self, reply_to: Json | int | None) -> Json | None:
        if not isinstance(reply_to, int):
            return reply_to
        message = self.api.get_message(self.chat_id, reply_to)
        if message is None:
            raise AssertionError(f"no message {reply_to} in chat {self.chat_id} to reply to")
        return message
