"""Keeping under Telegram's sending limits, so that 429 answers stay rare.

Telegram allows about one message a second to a chat, twenty a minute to a group and
thirty a second in all. Token buckets sized so no 60-second window can exceed the group
limit (burst + rate x 60 <= 20), and likewise for the others.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


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
        if self.tokens < 1:
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

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until the chat may receive another message (0: now)."""
        return self._chat(chat_id).wait(self.clock())

    def chat_capacity(self, chat_id: int) -> int:
        """How many messages the chat may receive right now."""
        bucket = self._chat(chat_id)
        now = self.clock()
        bucket.refill(now)
        return 0 if now < bucket.held_until else int(bucket.tokens)

    def total_wait(self) -> float:
        return self._total_bucket().wait(self.clock())

    def spend(self, chat_id: int) -> None:
        self._chat(chat_id).tokens -= 1
        self._total_bucket().tokens -= 1

    async def wait_for_total(self) -> None:
        """Until the overall budget has room (a fraction of a second unless in a burst)."""
        # The budget refills with time; there is no event to wait for.
        while (wait := self.total_wait()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    def note_direct_send(self) -> None:
        """A handler answered directly: it used the bot's overall budget too."""
        bucket = self._total_bucket()
        bucket.refill(self.clock())
        bucket.tokens -= 1

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
