"""Fault injection and rate limiting for :mod:`fake_bot_api`.

``Fault.*`` builds a :class:`FaultSpec` describing how one call should fail; the server
applies it through ``FakeBotAPI.inject``.  :class:`RealisticRateLimiter` models Telegram's
flood limits with token buckets and tells the server when to answer 429.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["error", "timeout", "drop", "non_json", "unparseable"]

NGINX_502_HTML = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass(frozen=True)
class FaultSpec:
    """How a single API call fails.

    ``kind="error"`` answers with ``status``/``description``/``parameters``;
    ``kind="timeout"`` holds the request for ``delay`` seconds and then processes it normally
    (like Telegram, the action still happens although the client has given up);
    ``kind="drop"`` closes the connection without any answer;
    ``kind="non_json"`` answers ``status`` with ``body`` of ``content_type`` and does not
    perform the call (a reverse proxy answering for the Bot API server);
    ``kind="unparseable"`` performs the call and answers ``ok`` with a result aiogram's models
    refuse (see :func:`unparseable`).
    """

    kind: FaultKind
    status: int = 0
    description: str = ""
    parameters: dict[str, Any] | None = None
    delay: float = 0.0
    body: str = ""
    content_type: str = "application/json"

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would answer with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


class Fault:
    """Factories of the failures Telegram is known to produce."""

    @staticmethod
    def too_many_requests(retry_after: int) -> FaultSpec:
        return FaultSpec(
            "error",
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )

    @staticmethod
    def unauthorized() -> FaultSpec:
        """What Telegram answers every method called with a revoked or mistyped token."""
        return FaultSpec("error", 401, "Unauthorized")

    @staticmethod
    def chat_not_found() -> FaultSpec:
        return FaultSpec("error", 400, "Bad Request: chat not found")

    @staticmethod
    def forbidden(desc: str = "Forbidden: bot was blocked by the user") -> FaultSpec:
        return FaultSpec("error", 403, desc)

    @staticmethod
    def server_error() -> FaultSpec:
        return FaultSpec("error", 500, "Internal Server Error")

    @staticmethod
    def timeout(seconds: float) -> FaultSpec:
        return FaultSpec("timeout", delay=seconds)

    @staticmethod
    def drop() -> FaultSpec:
        return FaultSpec("drop")

    @staticmethod
    def migrated(new_chat_id: int) -> FaultSpec:
        return FaultSpec(
            "error",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )

    @staticmethod
    def bad_request(description: str) -> FaultSpec:
        if not description.startswith("Bad Request"):
            description = f"Bad Request: {description}"
        return FaultSpec("error", 400, description)

    @staticmethod
    def not_enough_rights(content: str = "text messages") -> FaultSpec:
        """The bot is muted (restricted) in a group; Telegram names the refused ``content``
        ("text messages", "photos", "documents", ...)."""
        return FaultSpec(
            "error", 400, f"Bad Request: not enough rights to send {content} to the chat"
        )

    @staticmethod
    def bad_gateway_html() -> FaultSpec:
        """nginx in front of a Bot API server answering 502 with its HTML error page."""
        return FaultSpec(
            "non_json", 502, "502 Bad Gateway", body=NGINX_502_HTML, content_type="text/html"
        )

    @staticmethod
    def unparseable_result() -> FaultSpec:
        """The call goes through, but the answer is one aiogram cannot parse."""
        return FaultSpec("unparseable", 200, "unparseable result")


def unparseable(result: Any) -> Any:
    """``result`` as a sloppy Bot API emulator answers it: a message without "chat" and
    "date", a MessageId with a string id, any other result as an empty object."""
    if isinstance(result, dict) and "chat" in result:
        return {key: value for key, value in result.items() if key not in ("chat", "date")}
    if isinstance(result, dict) and "message_id" in result:
        return {**result, "message_id": f"msg-{result['message_id']}"}
    return {}


@dataclass
class Injection:
    """A pending fault: the next ``remaining`` matching calls fail with ``fault``.

    ``method`` is the canonical method name or ``"*"`` for any method; ``chat_id`` ``None``
    matches calls to every chat.
    """

    method: str
    chat_id: int | None
    remaining: int
    fault: FaultSpec

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.remaining <= 0:
            return False
        if self.method not in ("*", method):
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``rate`` tokens per second."""

    capacity: float
    rate: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, needed: float = 1.0) -> float:
        """Seconds until ``needed`` tokens are available (0 if they are now); never more than
        a full bucket is waited for."""
        missing = min(needed, self.capacity) - self.tokens
        return missing / self.rate if missing > 1e-9 else 0.0


@dataclass
class RealisticRateLimiter:
    """Telegram's flood limits as token buckets.

    * a private chat (positive id): 1 message per second, bursts of up to ``private_burst``;
    * a group or supergroup (negative id): 20 messages per minute;
    * the bot overall: 30 messages per second.

    ``time_scale`` speeds the clock up: with ``time_scale=10`` a group refills 20 messages
    per 6 real seconds.  The ``retry_after`` reported in a 429 is the number of *real* seconds
    (after scaling) until the exhausted bucket has a token again, rounded up, at least 1 —
    so a bot that honours ``retry_after`` will succeed on its next attempt.
    """

    time_scale: float = 1.0
    private_burst: int = 3
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[int | None, TokenBucket] = field(default_factory=dict, repr=False)

    def _bucket(self, key: int | None, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if key is None:
                capacity, per_second = 30.0, 30.0
            elif key < 0:
                capacity, per_second = 20.0, 20.0 / 60.0
            else:
                capacity, per_second = float(self.private_burst), 1.0
            rate = per_second * self.time_scale
            bucket = TokenBucket(capacity=capacity, rate=rate, tokens=capacity, updated=now)
            self._buckets[key] = bucket
        bucket.refill(now)
        return bucket

    def acquire(self, chat_id: int | None, count: int = 1) -> int | None:
        """Take a token for each of ``count`` messages to ``chat_id`` (copyMessages sends
        several at once; more than a bucket holds leave it in debt).

        Returns ``None`` when the messages may go out, otherwise the ``retry_after`` seconds to
        report.  A refused call consumes nothing.
        """
        now = self.clock()
        buckets = [self._bucket(None, now)]
        if chat_id is not None:
            buckets.append(self._bucket(chat_id, now))
        wait = max(bucket.wait_time(count) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= count
        return None

    def reset(self) -> None:
        self._buckets.clear()
