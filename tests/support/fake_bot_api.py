"""A fake Telegram Bot API server on loopback, for driving the bot in tests.

Point aiogram at it with ``TelegramAPIServer.from_base(api.url)``.  The server answers the
methods the helpdesk bot uses with realistic objects, keeps the messages it "sent" so edits
and callback queries behave like Telegram's, serves long polling from a queue filled with
``put_update``, records every call in ``calls`` and can fail calls on demand (``inject``,
``unreachable_chats``, ``blocked_chats``, ``rate_limiter``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import aiogram.methods
from aiohttp import web

from support.fake_chats import (
    EDIT_METHODS,
    MEDIA_METHODS,
    REPLY_METHODS,
    SEND_METHODS,
    ApiError,
    ChatState,
)
from support.fake_faults import Fault, FaultSpec, Injection, RealisticRateLimiter

__all__ = [
    "EDIT_METHODS",
    "REPLY_METHODS",
    "SEND_METHODS",
    "ApiCall",
    "ApiError",
    "FakeBotAPI",
    "Fault",
    "FaultSpec",
    "RealisticRateLimiter",
]

Json = dict[str, Any]


def _canonical_methods() -> dict[str, str]:
    """Lower-cased API method name -> the spelling aiogram sends (e.g. "getme" -> "getMe")."""
    names = (getattr(obj, "__api_method__", None) for obj in vars(aiogram.methods).values())
    return {name.lower(): name for name in names if isinstance(name, str)}


CANONICAL_METHODS = _canonical_methods()
_INT_PARAMS = frozenset(
    {"chat_id", "from_chat_id", "message_id", "reply_to_message_id", "offset", "limit",
     "timeout", "user_id"}
)  # fmt: skip
_STRING_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url",
     "phone_number", "first_name", "last_name", *MEDIA_METHODS.values()}
)  # fmt: skip
_INT_RE = re.compile(r"-?\d+")


@dataclass
class ApiCall:
    """One request the bot made.  ``error`` is the HTTP status of an error answer; ``fault``
    names why the fake failed or delayed it ("injected", "unreachable", "blocked",
    "rate_limited", "timeout", "drop")."""

    method: str
    params: Json
    token: str
    at: float
    error: int | None = None
    seq: int = -1
    fault: str | None = None
    description: str | None = None
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.fault != "drop"

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None

    @property
    def message_id(self) -> int | None:
        """Id of the sent/edited message (from the answer, else from the params)."""
        if isinstance(self.result, dict) and "message_id" in self.result:
            return int(self.result["message_id"])
        value = self.params.get("message_id")
        return value if isinstance(value, int) else None

    @property
    def text(self) -> str | None:
        """``text`` or ``caption`` as the bot sent it (with markup such as HTML tags)."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def visible_text(self) -> str | None:
        """``text`` or ``caption`` as the user sees it (parse_mode applied), from the answer;
        None for failed calls and for copyMessage (see ``FakeBotAPI.get_message``)."""
        if not isinstance(self.result, dict):
            return None
        value = self.result.get("text", self.result.get("caption"))
        return value if isinstance(value, str) else None

    def describe(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("chat_id", "parse_mode")}
        outcome = "ok" if self.ok else f"{self.error or self.fault} {self.description or ''}"
        return f"#{self.seq} {self.method} chat={self.chat_id} {shown} -> {outcome.strip()}"


@dataclass
class _Queued:
    update: Json
    forced: bool  # delivered once even if already confirmed (simulated re-delivery)


@dataclass
class _Waiters:
    """An asyncio.Event that is replaced after each notification."""

    event: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        event, self.event = self.event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), max(seconds, 0.0))


class FakeBotAPI:
    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.chats = ChatState()
        self.unreachable_chats: set[int] = set()
        self.blocked_chats: set[int] = set()
        self.rate_limiter: RealisticRateLimiter | None = None
        self.webhook_url = ""
        self.files: dict[str, bytes] = {}
        self._queue: list[_Queued] = []
        self._next_update_id = 1
        self._injections: list[Injection] = []
        self._call_waiters = _Waiters()
        self._update_waiters = _Waiters()
        self._poll_generation = 0
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, Callable[[Json], Any]] = {
            **self.chats.handlers(),
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

    def inject(
        self, method: str, *, chat_id: int | None = None, times: int = 1, error: FaultSpec
    ) -> Injection:
        """Fail the next ``times`` calls of ``method`` ("*" = any) to ``chat_id`` (None = any)."""
        name = "*" if method == "*" else CANONICAL_METHODS.get(method.lower(), method)
        injection = Injection(name, chat_id, times, error)
        self._injections.append(injection)
        return injection

    @property
    def pending_updates(self) -> list[Json]:
        return [queued.update for queued in self._queue]

    def get_message(self, chat_id: int, message_id: int) -> Json | None:
        """Current state of a stored message (a copy), or None if unknown or deleted."""
        return self.chats.get_message(chat_id, message_id)

    def messages_in(self, chat_id: int) -> list[Json]:
        """Current state of the stored messages of a chat (copies), oldest first."""
        return self.chats.messages_in(chat_id)

    # -------------------------------------------------------------------------- waiting

    def mark(self) -> int:
        return len(self.calls)

    def calls_for(self, method: str | None = None, chat_id: int | None = None) -> list[ApiCall]:
        return [
            call
            for call in self.calls
            if (method is None or call.method == method)
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def sent_to(self, chat_id: int, *, include_failed: bool = False) -> list[ApiCall]:
        """Messages sent (send*/copyMessage/forwardMessage) to ``chat_id``."""
        return [
            call
            for call in self.calls
            if call.method in SEND_METHODS
            and call.chat_id == chat_id
            and (include_failed or call.ok)
        ]

    async def wait_for_call(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 5.0,
        start: int = 0,
    ) -> ApiCall:
        """First call with index >= ``start`` matching ``predicate``, waiting for it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            # Rescan from ``start`` each time: a held call (getUpdates, Fault.timeout) gets its
            # result or error after it was recorded.
            for call in self.calls[start:]:
                if predicate(call):
                    return call
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching API call within {timeout}s (looking from #{start}); "
                    f"recent calls:\n{self.dump()}"
                )
            await self._call_waiters.wait(remaining)

    async def wait_confirmed(self, update_id: int, timeout: float = 5.0) -> ApiCall:
        """Wait until the bot confirms ``update_id`` (a getUpdates with a higher offset)."""

        def confirms(call: ApiCall) -> bool:
            offset = call.params.get("offset")
            return call.method == "getUpdates" and isinstance(offset, int) and offset > update_id

        return await self.wait_for_call(confirms, timeout)

    def dump(self, limit: int = 25) -> str:
        relevant = [call for call in self.calls if call.method != "getUpdates"][-limit:]
        return "\n".join(call.describe() for call in relevant) or "(no calls)"

    # ------------------------------------------------------------------------- transport

    async def _handle_file(self, request: web.Request) -> web.Response:
        body = self.files.get(request.match_info["path"])
        if body is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=body)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        method = CANONICAL_METHODS.get(method.lower(), method)
        params = await _read_params(request)
        call = ApiCall(method, params, request.match_info["token"], time.time())
        fault = self._take_fault(method, call.chat_id)
        recorded = False
        if fault is not None and fault.kind == "drop":
            call.fault = "drop"
            self._record(call)
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never reaches the client
        if fault is not None and fault.kind == "timeout":
            call.fault, recorded = "timeout", True
            self._record(call)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.delay)
        try:
            if fault is not None and fault.kind == "error":
                call.fault = "injected"
                raise ApiError(fault.status, fault.description, fault.parameters)
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
        self._finish(call, recorded)
        return web.json_response({"ok": True, "result": call.result})

    def _record(self, call: ApiCall) -> None:
        call.seq = len(self.calls)
        self.calls.append(call)
        self._call_waiters.notify()

    def _finish(self, call: ApiCall, recorded: bool) -> None:
        """Record a call once it is answered, or announce the answer of one held open."""
        if recorded:
            self._call_waiters.notify()
        else:
            self._record(call)

    def _take_fault(self, method: str, chat_id: int | None) -> FaultSpec | None:
        for injection in self._injections:
            if injection.matches(method, chat_id):
                injection.remaining -= 1
                return injection.fault
        return None

    def _check_chat(self, call: ApiCall) -> None:
        if call.chat_id in self.unreachable_chats:
            call.fault = "unreachable"
            raise ApiError.bad("chat not found")
        if call.chat_id in self.blocked_chats:
            call.fault = "blocked"
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _dispatch(self, call: ApiCall) -> Any:
        handler = self._handlers.get(call.method)
        if handler is None:
            if call.method in CANONICAL_METHODS.values():
                raise ApiError.bad(f"{call.method} is not implemented by FakeBotAPI")
            raise ApiError(404, "Not Found")
        if self.rate_limiter is not None and call.method in REPLY_METHODS:
            retry_after = self.rate_limiter.acquire(call.chat_id)
            if retry_after is not None:
                call.fault = "rate_limited"
                error = Fault.too_many_requests(retry_after)
                raise ApiError(error.status, error.description, error.parameters)
        return handler(call.params)

    # ------------------------------------------------------------------------ updates

    def _enqueue(self, update: Json, *, forced: bool) -> int:
        update = copy.deepcopy(update)
        update.setdefault("update_id", self._next_update_id)
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
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


# ---------------------------------------------------------------------------- parameters


async def _read_params(request: web.Request) -> Json:
    """Params from the query string and a JSON, urlencoded or multipart body, normalised."""
    params: Json = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    params[key] = {"filename": value.filename, "size": len(value.file.read())}
                else:
                    params[key] = value
    return {key: _decode(key, value) for key, value in params.items()}


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            decoded = json.loads(stripped)
            if isinstance(decoded, dict | list):
                return decoded
    if key in _INT_PARAMS and _INT_RE.fullmatch(stripped):
        return int(stripped)
    if stripped in ("true", "false"):
        return stripped == "true"
    return value
