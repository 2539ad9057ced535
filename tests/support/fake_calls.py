"""Requests to the fake Bot API: how their parameters are read and how each is recorded.

:func:`read_params` normalises a request the way the Bot API reads it (query string, JSON,
urlencoded or multipart body; numbers and JSON-serialised objects decoded),
:class:`ApiCall` is the record of one request and :class:`CallLog` keeps them in order and
lets tests wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiogram.methods
from aiohttp import web

from support.fake_chats import MEDIA_METHODS, SEND_METHODS

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
    names why the fake failed, delayed or garbled it ("injected", "unreachable", "blocked",
    "muted", "removed", "revoked", "rate_limited", "timeout", "drop", "non_json",
    "unparseable").  ``result`` is
    what the method produced, also when the answer carried a garbled copy ("unparseable")."""

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
        """Whether the call took effect and was answered (even if the bot could not read it)."""
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
        if self.ok and self.fault is not None:
            outcome = f"ok ({self.fault})"
        return f"#{self.seq} {self.method} chat={self.chat_id} {shown} -> {outcome.strip()}"


@dataclass
class Waiters:
    """An asyncio.Event that is replaced after each notification."""

    event: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        event, self.event = self.event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), max(seconds, 0.0))


class CallLog:
    """Every call answered so far (``calls``, in arrival order) and waiting for more."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._call_waiters = Waiters()

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


async def read_params(request: web.Request) -> Json:
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
