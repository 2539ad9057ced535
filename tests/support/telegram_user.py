"""Drive the bot as a Telegram person would: write, press buttons, wait for replies.

A :class:`TelegramUser` enqueues updates on a :class:`~fake_bot_api.FakeBotAPI` and waits
for the bot's calls addressed to its chat.  It keeps a cursor into ``api.calls``: every
action moves the cursor to "now", and each reply returned by ``send*``/``expect`` moves it
past that reply, so consecutive ``expect()`` calls walk through a multi-call answer
(e.g. deleteMessage, then sendMessage) in order.

The ``*_nowait`` relay helpers (``send_text_nowait``, ``send_media_nowait``,
``send_album_nowait``, ``edit_nowait``) send any kind of message, reply or edit without
waiting for the bot and return update ids.
"""

# Every waiting helper takes a `timeout` deadline on purpose.

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from typing import Any, Literal

from support.fake_bot_api import REPLY_METHODS, ApiCall, FakeBotAPI
from support.fake_objects import (
    BOT_ID,
    DEFAULT_PHOTO_ID,
    DEFAULT_STICKER_ID,
    DEFAULT_VOICE_ID,
    album_updates,
    callback_query_update,
    chat_dict,
    command_update,
    contact_update,
    forwarded_text_update,
    photo_update,
    sticker_update,
    text_update,
    user_dict,
    voice_update,
)
from support.fake_user_relay import RelayActions

Json = dict[str, Any]
MANAGER_CHAT_ID = -1002233445566
"""Default id of the managers' supergroup used by :class:`ManagerChat`."""


class TelegramUser(RelayActions):
    """One person in one chat (their private chat with the bot unless ``chat_id`` is given).

    Relay helpers (any kind of message, albums, edits; no waiting) come from
    :class:`~fake_user_relay.RelayActions`."""

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        first_name: str = "Анна",
        username: str | None = None,
        language_code: str | None = "ru",
        chat_id: int | None = None,
        *,
        last_name: str | None = None,
    ) -> None:
        self.api = api
        self.user_id = user_id
        self.chat_id = user_id if chat_id is None else chat_id
        self.user = user_dict(
            user_id,
            first_name,
            username=username,
            language_code=language_code,
            last_name=last_name,
        )
        self.cursor = api.mark()
        self.own_message_ids: list[int] = []
        """Ids of the messages this person sent here through this helper, oldest first."""
        self._query_ids: set[str] = set()

    # ------------------------------------------------------------------------- writing

    def put(self, update: Json) -> int:
        """Enqueue an update from this user without waiting; moves the cursor to now."""
        self.cursor = self.api.mark()
        if isinstance(message := update.get("message"), dict) and "message_id" in message:
            self.own_message_ids.append(int(message["message_id"]))
        return self.api.put_update(update)

    def send_nowait(self, text: str) -> int:
        """Write ``text`` without waiting for an answer; returns the update_id."""
        return self.put(text_update(self.user, text, **self._ids()))

    async def send(self, text: str, *, timeout: float = 5.0) -> ApiCall:
        """Write ``text``; returns the bot's first message or edit in this chat."""
        self.send_nowait(text)
        return await self.expect(timeout=timeout)

    async def send_command(self, command: str = "/start", *, timeout: float = 5.0) -> ApiCall:
        self.put(command_update(self.user, command, **self._ids()))
        return await self.expect(timeout=timeout)

    async def send_sticker(
        self, file_id: str = DEFAULT_STICKER_ID, *, timeout: float = 5.0
    ) -> ApiCall:
        self.put(sticker_update(self.user, file_id=file_id, **self._ids()))
        return await self.expect(timeout=timeout)

    async def send_photo(
        self,
        file_id: str = DEFAULT_PHOTO_ID,
        caption: str | None = None,
        *,
        timeout: float = 5.0,
    ) -> ApiCall:
        self.put(photo_update(self.user, file_id=file_id, caption=caption, **self._ids()))
        return await self.expect(timeout=timeout)

    async def send_voice(
        self, file_id: str = DEFAULT_VOICE_ID, *, timeout: float = 5.0
    ) -> ApiCall:
        self.put(voice_update(self.user, file_id=file_id, **self._ids()))
        return await self.expect(timeout=timeout)

    async def share_contact(
        self,
        phone: str,
        user_id: int | Literal["self"] | None = "self",
        *,
        first_name: str | None = None,
        timeout: float = 5.0,
    ) -> ApiCall:
        """Share a contact: by default their own (``contact.user_id`` = this user), as the
        "share phone" reply button does; pass another id, or None for no ``user_id``."""
        contact_user_id = self.user_id if user_id == "self" else user_id
        update = contact_update(
            self.user, phone, contact_user_id=contact_user_id, first_name=first_name, **self._ids()
        )
        self.put(update)
        return await self.expect(timeout=timeout)

    def send_album(self, count: int, caption: str | None = None) -> list[int]:
        """Send an album of ``count`` photos without waiting; returns the update_ids."""
        first = self.api.next_message_id(self.chat_id)
        updates = album_updates(
            self.user, first_message_id=first, count=count, chat_id=self.chat_id, caption=caption
        )
        return [self.put(update) for update in updates]  # each put reserves its message id

    def send_forwarded(self, text: str, origin: Json) -> int:
        """Forward a text with ``forward_origin`` = ``origin`` without waiting; returns the
        update_id."""
        return self.put(forwarded_text_update(self.user, text, origin=origin, **self._ids()))

    # ------------------------------------------------------------------------- buttons

    async def click(
        self, button_text: str, message: ApiCall | None = None, *, timeout: float = 5.0
    ) -> ApiCall:
        """Press the inline button labelled ``button_text`` on ``message`` (default: the
        newest bot message in this chat that has an inline keyboard).  Returns the bot's
        answerCallbackQuery; the other reactions (edits, new messages) come via ``expect``."""
        target = self._keyboard_message(message)
        data = _find_callback_data(target, button_text)
        return await self.press_callback(data, int(target["message_id"]), timeout=timeout)

    def press_nowait(self, data: str, message_id: int) -> tuple[int, str]:
        """Enqueue a callback_query with arbitrary (possibly forged) ``data`` for a message,
        without waiting; returns (update_id, callback query id).

        If the message is unknown or deleted, Telegram's InaccessibleMessage is attached."""
        message = self.api.get_message(self.chat_id, message_id) or {
            "chat": chat_dict(self.chat_id, self.user),
            "message_id": message_id,
            "date": 0,
        }
        update = callback_query_update(self.user, message, data)
        query_id = str(update["callback_query"]["id"])
        self._query_ids.add(query_id)
        return self.put(update), query_id

    async def press_callback(self, data: str, message_id: int, *, timeout: float = 5.0) -> ApiCall:
        """Press with ``press_nowait`` and wait for the bot's answerCallbackQuery."""
        _, query_id = self.press_nowait(data, message_id)
        return await self.api.wait_for_call(
            lambda call: (
                call.method == "answerCallbackQuery"
                and call.params.get("callback_query_id") == query_id
            ),
            timeout,
            start=self.cursor,
        )

    def callback_data(self, button_text: str, message: ApiCall | None = None) -> str:
        """The callback_data behind a button (see :meth:`click` for ``message``)."""
        return _find_callback_data(self._keyboard_message(message), button_text)

    # ------------------------------------------------------------------------- waiting

    def addressed_here(self, call: ApiCall) -> bool:
        """Whether ``call`` targets this chat (or answers one of this user's queries)."""
        if call.method == "answerCallbackQuery":
            return call.params.get("callback_query_id") in self._query_ids
        return call.chat_id == self.chat_id

    async def expect(
        self,
        method: str | None = None,
        *,
        timeout: float = 5.0,
        predicate: Callable[[ApiCall], bool] | None = None,
        include_failed: bool = False,
    ) -> ApiCall:
        """The next successful call to this chat after the cursor — of ``method`` if given,
        otherwise any send*/edit* — that satisfies ``predicate``; moves the cursor past it.
        Calls answered with an error are skipped unless ``include_failed``."""

        def matches(call: ApiCall) -> bool:
            if not self.addressed_here(call):
                return False
            if call.method != method if method else call.method not in REPLY_METHODS:
                return False
            if not include_failed and not call.ok:
                return False
            return predicate is None or predicate(call)

        call = await self.api.wait_for_call(matches, timeout, start=self.cursor)
        self.cursor = call.seq + 1
        return call

    async def quiet(
        self, seconds: float = 0.3, *, methods: Collection[str] = REPLY_METHODS
    ) -> None:
        """Wait ``seconds`` and assert the bot sent or edited nothing more in this chat."""
        await asyncio.sleep(seconds)
        extra = [
            call
            for call in self.api.calls[self.cursor :]
            if call.ok and call.method in methods and self.addressed_here(call)
        ]
        assert not extra, "unexpected calls to chat {}:\n{}".format(
            self.chat_id, "\n".join(call.describe() for call in extra)
        )

    # ------------------------------------------------------------------------- reading

    def last_message(self) -> Json | None:
        """Current state (edits applied) of the newest message the bot sent to this chat."""
        for message in reversed(self.api.messages_in(self.chat_id)):
            if message.get("from", {}).get("id") == BOT_ID:
                return message
        return None

    def last_text(self) -> str | None:
        """Text or caption (as displayed) of the newest message the bot sent to this chat."""
        message = self.last_message()
        if message is not None:
            return message.get("text", message.get("caption"))
        sent = self.api.sent_to(self.chat_id)
        return sent[-1].visible_text if sent else None

    def sent(self) -> list[ApiCall]:
        """All messages the bot successfully sent to this chat, oldest first."""
        return self.api.sent_to(self.chat_id)

    @staticmethod
    def inline_buttons(call: ApiCall) -> list[list[str]]:
        """Texts of the inline keyboard attached by ``call`` ([] if none)."""
        rows = _markup(call).get("inline_keyboard") or []
        return [[str(button.get("text")) for button in row] for row in rows]

    @staticmethod
    def reply_keyboard_texts(call: ApiCall) -> list[list[str]]:
        """Texts of the reply keyboard attached by ``call`` ([] if none)."""
        rows = _markup(call).get("keyboard") or []
        return [
            [
                str(button.get("text")) if isinstance(button, dict) else str(button)
                for button in row
            ]
            for row in rows
        ]

    # ------------------------------------------------------------------------- internals

    def _ids(self) -> Json:
        return {"message_id": self.api.next_message_id(self.chat_id), "chat_id": self.chat_id}

    def _keyboard_message(self, message: ApiCall | None) -> Json:
        if message is not None:
            message_id = message.message_id
            stored = None if message_id is None else self.api.get_message(self.chat_id, message_id)
            if stored is None:
                raise AssertionError(f"message {message_id} is not in chat {self.chat_id}")
            return stored
        for stored in reversed(self.api.messages_in(self.chat_id)):
            if stored.get("from", {}).get("id") == BOT_ID and "reply_markup" in stored:
                return stored
        raise AssertionError(
            f"no bot message with an inline keyboard in chat {self.chat_id}; "
            f"recent calls:\n{self.api.dump()}"
        )


class ManagerChat(TelegramUser):
    """A manager writing and pressing buttons in the managers' group (negative chat id)."""

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        first_name: str = "Олег",
        username: str | None = None,
        language_code: str | None = "ru",
        chat_id: int = MANAGER_CHAT_ID,
    ) -> None:
        if chat_id >= 0:
            raise ValueError("a group chat id is negative")
        super().__init__(api, user_id, first_name, username, language_code, chat_id)

    def as_manager(
        self, user_id: int, first_name: str = "Олег", username: str | None = None
    ) -> ManagerChat:
        """Another manager in the same group, reading on from this one's cursor."""
        language = self.user.get("language_code")
        other = ManagerChat(self.api, user_id, first_name, username, language, self.chat_id)
        other.cursor = self.cursor
        return other


def _markup(call: ApiCall) -> Json:
    markup = call.params.get("reply_markup")
    return markup if isinstance(markup, dict) else {}


def _find_callback_data(message: Json, button_text: str) -> str:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    buttons = [button for row in rows for button in row]
    for button in buttons:
        if button.get("text") == button_text:
            if "callback_data" not in button:
                raise AssertionError(f"button {button_text!r} has no callback_data: {button}")
            return str(button["callback_data"])
    labels = [button.get("text") for button in buttons]
    raise AssertionError(
        f"no button {button_text!r} on message {message.get('message_id')}; buttons: {labels}"
    )


class PacedUser(TelegramUser):
    """A client who takes a moment between actions, as a person does: a form longer than
    the bot's flood guard's burst of ten updates goes through whole."""

    PAUSE_SECONDS = 0.35  # the guard lets three a second through after the burst

    async def send(self, text: str, *, timeout: float = 5.0) -> ApiCall:
        await asyncio.sleep(self.PAUSE_SECONDS)
        return await super().send(text, timeout=timeout)

    async def send_command(self, command: str = "/start", *, timeout: float = 5.0) -> ApiCall:
        await asyncio.sleep(self.PAUSE_SECONDS)
        return await super().send_command(command, timeout=timeout)

    async def press_callback(self, data: str, message_id: int, *, timeout: float = 5.0) -> ApiCall:
        await asyncio.sleep(self.PAUSE_SECONDS)
        return await super().press_callback(data, message_id, timeout=timeout)

    async def share_contact(
        self,
        phone: str,
        user_id: int | Literal["self"] | None = "self",
        *,
        first_name: str | None = None,
        timeout: float = 5.0,
    ) -> ApiCall:
        await asyncio.sleep(self.PAUSE_SECONDS)
        return await super().share_contact(phone, user_id, first_name=first_name, timeout=timeout)
