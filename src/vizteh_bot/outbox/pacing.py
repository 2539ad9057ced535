"""Keeping under Telegram's sending limits, so that 429 answers stay rare.

Telegram allows about one message a second to a chat, twenty a minute to a group and
thirty a second in all. Token buckets sized so no window can exceed them (burst + rate x
window <= limit). One budget serves the whole process: the outbox and the handlers' direct
replies draw from it, and a person waiting for an answer goes first.

This is the in-process implementation of `SendBudget`; several instances of the bot
would share one (in Redis, say) behind the same interface.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

# While people wait for answers, the outbox still gets one message in this many + 1: new
# requests' cards and «принята» must not wait for the crowd to stop typing.
URGENT_BEFORE_OUTBOX = 4


class SendBudget(Protocol):
    def chat_wait(self, chat_id: int) -> float: ...
    def chat_capacity(self, chat_id: int) -> int: ...
    async def acquire(
        self, chat_id: int | None, *, urgent: bool, limit: float, wait_for_chat: bool = True
    ) -> bool: ...
    def hold(self, chat_id: int, seconds: float) -> None: ...
    def forget_idle(self) -> None: ...


@dataclass(slots=True)
class TokenBucket:
    rate: float
    capacity: float
    tokens: float
    updated: float
    held_until: float = 0.0

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self, now: float) -> bool:
        """Spend a token if one is there."""
        self.refill(now)
        if self.tokens < 1 or now < self.held_until:
            return False
        self.tokens -= 1
        return True

    def full(self, now: float) -> bool:
        return self.tokens + (now - self.updated) * self.rate >= self.capacity

    def wait(self, now: float) -> float:
        self.refill(now)
        if now < self.held_until:
            return self.held_until - now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass(frozen=True, slots=True)
class PaceLimits:
    private_per_second: float = 1.0
    private_burst: float = 3
    group_per_minute: float = 18
    group_burst: float = 2
    total_per_second: float = 25
    total_burst: float = 5

    def scaled(self, factor: float) -> PaceLimits:
        """Faster limits for a fake server whose clock runs `factor` times faster."""
        return PaceLimits(
            private_per_second=self.private_per_second * factor,
            private_burst=self.private_burst,
            group_per_minute=self.group_per_minute * factor,
            group_burst=self.group_burst,
            total_per_second=self.total_per_second * factor,
            total_burst=self.total_burst,
        )


@dataclass
class Pacer:
    limits: PaceLimits = field(default_factory=PaceLimits)
    clock: Callable[[], float] = time.monotonic
    _chats: dict[int, TokenBucket] = field(default_factory=dict)
    _total: TokenBucket | None = None
    _urgent_waiting: int = 0
    # Messages given to urgent callers since the outbox last had one.
    _urgent_streak: int = 0

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until the chat may receive another message (0: now)."""
        return self._chat(chat_id).wait(self.clock())

    def chat_capacity(self, chat_id: int) -> int:
        """How many messages the chat may receive right now."""
        bucket = self._chat(chat_id)
        now = self.clock()
        bucket.refill(now)
        return 0 if now < bucket.held_until else max(0, int(bucket.tokens))

    async def acquire(
        self, chat_id: int | None, *, urgent: bool, limit: float, wait_for_chat: bool = True
    ) -> bool:
        """Wait until one more message may go to `chat_id` and count it; False (nothing
        counted) if that would take longer than `limit` seconds.

        Urgent callers (a person waiting for an answer) go before the others. Without
        `wait_for_chat` only the overall budget is waited for: the chat's is counted (so
        the outbox paces what follows) but a person's reply is not held back by it.
        """
        deadline = self.clock() + limit
        while True:
            now = self.clock()
            total = self._total_bucket()
            chat = self._chat(chat_id) if chat_id is not None else None
            wait = total.wait(now)
            if chat is not None and (wait_for_chat or now < chat.held_until):
                wait = max(wait, chat.wait(now))
            if (
                not urgent
                and self._urgent_waiting
                and self._urgent_streak < URGENT_BEFORE_OUTBOX
                and wait <= 0
            ):
                wait = 0.01  # let the waiting people go first, but not forever
            if wait <= 0:
                self._urgent_streak = self._urgent_streak + 1 if urgent else 0
                total.tokens -= 1
                if chat is not None:
                    # Never more than a burst in debt: a chat recovers within seconds.
                    chat.tokens = max(chat.tokens - 1, -chat.capacity)
                return True
            if now + wait > deadline:
                return False
            if urgent:
                self._urgent_waiting += 1
            try:
                # The budget refills with time; there is no event to wait for.
                await asyncio.sleep(wait)
            finally:
                if urgent:
                    self._urgent_waiting -= 1

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said "retry after": nothing goes to that chat until then."""
        bucket = self._chat(chat_id)
        bucket.held_until = max(bucket.held_until, self.clock() + seconds)
        bucket.tokens = min(bucket.tokens, 0)

    def forget_idle(self) -> None:
        """Drop full buckets so memory does not grow with every client ever served."""
        now = self.clock()
        for chat_id in [
            chat_id
            for chat_id, bucket in self._chats.items()
            if now >= bucket.held_until and bucket.full(now)
        ]:
            del self._chats[chat_id]

    def _chat(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            limits = self.limits
            if chat_id < 0:
                rate, capacity = limits.group_per_minute / 60, limits.group_burst
            else:
                rate, capacity = limits.private_per_second, limits.private_burst
            bucket = TokenBucket(rate, capacity, capacity, self.clock())
            self._chats[chat_id] = bucket
        return bucket

    def _total_bucket(self) -> TokenBucket:
        if self._total is None:
            limits = self.limits
            self._total = TokenBucket(
                limits.total_per_second, limits.total_burst, limits.total_burst, self.clock()
            )
        return self._total
