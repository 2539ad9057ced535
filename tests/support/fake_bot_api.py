"""A fake Telegram Bot API server on loopback, for driving the bot in tests.

Point aiogram at it with ``TelegramAPIServer.from_base(api.url)``.  The server answers the
methods the helpdesk bot uses with realistic objects, keeps the messages it "sent" so edits
and callback queries behave like Telegram's, serves long polling from a queue filled with
``put_update``, records every call in ``calls`` and can fail calls on demand (``inject``,
``unreachable_chats``, ``blocked_chats``, ``muted_chats``, ``remove_bot``, ``revoked_tokens``,
``rate_limiter``).  Relay methods (copyMessages, setMessageReaction) are in :mod:`fake_relay`;
``restrict_reactions`` and ``reactions`` control and read the bot's reactions.

The bot is a member of every group unless the test says otherwise: ``remove_bot`` and
``mute_bot`` change what ``getChatMember`` answers for it, and what its messages meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

from support.fake_calls import CANONICAL_METHODS, ApiCall, CallLog, Waiters, read_params
from support.fake_chats import (
    EDIT_METHODS,
    REPLY_METHODS,
    SEND_METHODS,
    ApiError,
    ChatState,
    _require_chat,
    _require_int,
)
from support.fake_faults import (
    Fault,
    FaultSpec,
    Injection,
    RealisticRateLimiter,
    unparseable,
)
from support.fake_objects import BOT_ID, BOT_USER, chat_member_dict
from support.fake_relay import STANDARD_REACTIONS, ReactionControls, RelayMethods, messages_sent

__all__ = [
    "CANONICAL_METHODS",
    "EDIT_METHODS",
    "REPLY_METHODS",
    "SEND_METHODS",
    "STANDARD_REACTIONS",
    "ApiCall",
    "ApiError",
    "FakeBotAPI",
    "Fault",
    "FaultSpec",
    "RealisticRateLimiter",
]

Json = dict[str, Any]


@dataclass
class _Queued:
    update: Json
    forced: bool  # delivered once even if already confirmed (simulated re-delivery)


def _api_error(spec: FaultSpec) -> ApiError:
    return ApiError(spec.status, spec.description, spec.parameters)


class FakeBotAPI(CallLog, ReactionControls):
    def __init__(self) -> None:
        super().__init__()
        self.chats = ChatState()
        self.unreachable_chats: set[int] = set()
        self.blocked_chats: set[int] = set()
        self.muted_chats: set[int] = set()
        """Groups where the bot is restricted from sending (see ``mute_bot``)."""
        self.removed_from: dict[int, str] = {}
        """Group id -> the bot's status there, "left" or "kicked" (see ``remove_bot``)."""
        self.revoked_tokens: set[str] = set()
        """Tokens every method answers 401 Unauthorized, as Telegram does for a revoked one."""
        self.rate_limiter: RealisticRateLimiter | None = None
        self.webhook_url = ""
        self.privacy_mode = False
        """The bot's privacy mode (@BotFather /setprivacy): in groups it is told only of
        commands, replies to its own messages and service messages."""
        self.files: dict[str, bytes] = {}
        self._queue: list[_Queued] = []
        self._next_update_id = 1
        self._injections: list[Injection] = []
        self._update_waiters = Waiters()
        self._poll_generation = 0
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # Methods whose answer depends on who calls (the token), not on the params alone.
        self._call_handlers: dict[str, Callable[[ApiCall], Any]] = {
            "getChatMember": self._get_chat_member,
        }
        self._handlers: dict[str, Callable[[Json], Any]] = {
            **self.chats.handlers(),
            **RelayMethods(self.chats).handlers(),
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": lambda _: {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._queue),
            },
        }

    # ------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Release held long polls and delays, then shut the server down."""
        self._closing.set()
        self._update_waiters.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------------ test input

    @property
    def messages(self) -> dict[tuple[int, int], Json]:
        """Live store of messages by ``(chat_id, message_id)`` (bot's and users')."""
        return self.chats.messages

    @property
    def callback_answer_timeout(self) -> float:
        """Seconds after it was queued that a callback query can still be answered."""
        return self.chats.callback_answer_timeout

    @callback_answer_timeout.setter
    def callback_answer_timeout(self, seconds: float) -> None:
        self.chats.callback_answer_timeout = seconds

    def next_message_id(self, chat_id: int) -> int:
        """Reserve the next message id in ``chat_id`` (ids are shared by bot and users)."""
        return self.chats.next_message_id(chat_id)

    def put_update(self, update: Json) -> int:
        """Queue an update for getUpdates; assigns ``update_id`` if missing and returns it."""
        return self._enqueue(update, forced=False)

    def put_update_raw(self, update: Json) -> int:
        """Queue an update as-is, delivered once even if its id was already confirmed
        (Telegram re-delivering the same update)."""
        return self._enqueue(update, forced=True)

    def put_raw_json_update(self, update: Json) -> int:
        """Queue ``update`` exactly as given, even one aiogram cannot parse; only a missing
        ``update_id`` is added.  What of it is well-formed is remembered as by put_update."""
        return self._enqueue(update, forced=False, tolerant=True)

    def inject(
        self, method: str, *, chat_id: int | None = None, times: int = 1, error: FaultSpec
    ) -> Injection:
        """Fail the next ``times`` calls of ``method`` ("*" = any) to ``chat_id`` (None = any)."""
        name = "*" if method == "*" else CANONICAL_METHODS.get(method.lower(), method)
        injection = Injection(name, chat_id, times, error)
        self._injections.append(injection)
        return injection

    def remove_bot(self, chat_id: int, *, kicked: bool = False) -> None:
        """The bot left (or was banned from) group ``chat_id``: its calls there are refused
        with 403. The group stays readable (getChat, getChatMember), as a public one is."""
        self.removed_from[chat_id] = "kicked" if kicked else "left"

    def mute_bot(self, chat_id: int) -> None:
        """The bot is restricted in group ``chat_id``: a member that may send nothing."""
        self.muted_chats.add(chat_id)

    def add_bot(self, chat_id: int) -> None:
        """The bot is an ordinary member of ``chat_id`` again."""
        self.removed_from.pop(chat_id, None)
        self.muted_chats.discard(chat_id)

    @property
    def pending_updates(self) -> list[Json]:
        return [queued.update for queued in self._queue]

    def get_message(self, chat_id: int, message_id: int) -> Json | None:
        """Current state of a stored message (a copy), or None if unknown or deleted."""
        return self.chats.get_message(chat_id, message_id)

    def messages_in(self, chat_id: int) -> list[Json]:
        """Current state of the stored messages of a chat (copies), oldest first."""
        return self.chats.messages_in(chat_id)

    # ------------------------------------------------------------------------- transport

    async def _handle_file(self, request: web.Request) -> web.Response:
        body = self.files.get(request.match_info["path"])
        if body is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=body)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        method = CANONICAL_METHODS.get(method.lower(), method)
        params = await read_params(request)
        call = ApiCall(method, params, request.match_info["token"], time.time())
        fault = self._take_fault(method, call.chat_id)
        recorded = False
        if fault is not None and fault.kind == "drop":
            call.fault = "drop"
            self._record(call)
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never reaches the client
        if fault is not None and fault.kind == "non_json":
            call.fault, call.error, call.description = "non_json", fault.status, fault.description
            self._record(call)
            return web.Response(
                status=fault.status, text=fault.body, content_type=fault.content_type
            )
        if fault is not None and fault.kind == "timeout":
            call.fault, recorded = "timeout", True
            self._record(call)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.delay)
        try:
            if fault is not None and fault.kind == "error":
                call.fault = "injected"
                raise _api_error(fault)
            self._check_token(call)
            self._check_chat(call)
            if method == "getUpdates":
                self._record(call)
                recorded = True
                call.result = await self._get_updates(call.params)
            else:
                call.result = self._dispatch(call)
        except ApiError as exc:
            call.error, call.description = exc.status, exc.description
            self._finish(call, recorded)
            return web.json_response(exc.payload(), status=exc.status)
        answer = call.result
        if fault is not None and fault.kind == "unparseable":
            call.fault, answer = "unparseable", unparseable(call.result)
        self._finish(call, recorded)
        return web.json_response({"ok": True, "result": answer})

    def _take_fault(self, method: str, chat_id: int | None) -> FaultSpec | None:
        for injection in self._injections:
            if injection.matches(method, chat_id):
                injection.remaining -= 1
                return injection.fault
        return None

    def _check_token(self, call: ApiCall) -> None:
        if call.token in self.revoked_tokens:
            call.fault = "revoked"
            raise _api_error(Fault.unauthorized())

    def _check_chat(self, call: ApiCall) -> None:
        if call.chat_id in self.unreachable_chats:
            call.fault = "unreachable"
            raise ApiError.bad("chat not found")
        if call.chat_id in self.blocked_chats:
            call.fault = "blocked"
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        status = self.removed_from.get(call.chat_id or 0)
        if status is not None and call.method not in ("getChat", "getChatMember"):
            call.fault = "removed"
            kind = "supergroup" if str(call.chat_id).startswith("-100") else "group"
            if status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        if call.chat_id in self.muted_chats and call.method in SEND_METHODS:
            call.fault = "muted"
            raise _api_error(Fault.not_enough_rights())

    def _dispatch(self, call: ApiCall) -> Any:
        if (answer := self._call_handlers.get(call.method)) is not None:
            return answer(call)
        handler = self._handlers.get(call.method)
        if handler is None:
            if call.method in CANONICAL_METHODS.values():
                raise ApiError.bad(f"{call.method} is not implemented by FakeBotAPI")
            raise ApiError(404, "Not Found")
        if self.rate_limiter is not None and call.method in REPLY_METHODS:
            retry_after = self.rate_limiter.acquire(
                call.chat_id, messages_sent(call.method, call.params)
            )
            if retry_after is not None:
                call.fault = "rate_limited"
                raise _api_error(Fault.too_many_requests(retry_after))
        return handler(call.params)

    def _get_chat_member(self, call: ApiCall) -> Json:
        chat_id, user_id = _require_chat(call.params), _require_int(call.params, "user_id")
        # In Telegram a bot's id is its token's first part; getMe here answers BOT_ID.
        if user_id in (BOT_ID, _token_id(call.token)):
            if chat_id > 0:
                return chat_member_dict(BOT_USER, "member")
            if chat_id in self.removed_from:
                return chat_member_dict(BOT_USER, self.removed_from[chat_id])
            return chat_member_dict(
                BOT_USER, "restricted" if chat_id in self.muted_chats else "member"
            )
        user = self.chats.users.get(user_id)
        if user is None or (chat_id > 0 and user_id != chat_id):
            raise ApiError.bad("user not found")
        return chat_member_dict(user, "member")

    # ------------------------------------------------------------------------ updates

    def _enqueue(self, update: Json, *, forced: bool, tolerant: bool = False) -> int:
        update = copy.deepcopy(update)
        update.setdefault("update_id", self._next_update_id)
        if not isinstance(update["update_id"], int):
            raise TypeError(f"update_id must be an int, not {update['update_id']!r}")
        update_id = update["update_id"]
        self._next_update_id = max(self._next_update_id, update_id + 1)
        if self.privacy_mode and not _seen_in_privacy_mode(update):
            # Telegram keeps the group's message, but the bot is not told of it.
            self.chats.remember_update(update)
            return update_id
        if tolerant:
            # Telegram has the message even if the bot's library cannot read the update.
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                self.chats.remember_update(copy.deepcopy(update))
        else:
            self.chats.remember_update(update)
        self._queue.append(_Queued(update, forced))
        self._update_waiters.notify()
        return update_id

    def _delete_webhook(self, params: Json) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._queue.clear()
        return True

    def _set_webhook(self, params: Json) -> bool:
        self.webhook_url = str(params.get("url", ""))
        return True

    async def _get_updates(self, params: Json) -> list[Json]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._update_waiters.notify()  # an older poll still held open is terminated
        offset, limit, timeout = (params.get(k) for k in ("offset", "limit", "timeout"))
        if isinstance(offset, int) and offset > 0:
            self._queue = [q for q in self._queue if q.forced or q.update["update_id"] >= offset]
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if isinstance(timeout, int) else 0)
        while not self._queue and not self._closing.is_set() and loop.time() < deadline:
            await self._update_waiters.wait(deadline - loop.time())
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        batch = self._queue[:limit]
        delivered = {id(q) for q in batch}
        self._queue = [q for q in self._queue if not (q.forced and id(q) in delivered)]
        return [copy.deepcopy(q.update) for q in batch]


def _token_id(token: str) -> int | None:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else None


def _seen_in_privacy_mode(update: Json) -> bool:
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict) or message.get("chat", {}).get("type") == "private":
        return True
    text = message.get("text") or ""
    replied = message.get("reply_to_message") or {}
    if text.startswith("/") or replied.get("from", {}).get("id") == BOT_ID:
        return True
    content = set(message) - {"message_id", "from", "chat", "date", "message_thread_id"}
    return not content & {"text", "caption", *MEDIA_KINDS_SEEN, "location", "contact"}


MEDIA_KINDS_SEEN = ("photo", "document", "video", "voice", "audio", "sticker", "animation")
