"""Which updates are in hand and which are done: what getUpdates may confirm.

Telegram's offset is its acknowledgement: every update below it is forgotten. aiogram's
own polling confirms on fetch, so whatever was in hand at a crash was lost. Here the
offset only passes an update once it is handled (the lowest one in hand holds it back),
and updates handled above it are remembered, so a redelivery of them is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vizteh_bot.db.repositories.updates import LedgerState

# After a week without updates Telegram may pick ids at random; an older ledger's
# watermark then says nothing about new ids.
LEDGER_TRUSTED_FOR = timedelta(days=6)


@dataclass
class UpdateTracker:
    in_hand: set[int] = field(default_factory=set)
    # Handled, above the offset (a lower one was still in hand).
    done: set[int] = field(default_factory=set)
    # Every update below it is handled.
    floor: int = 0
    highest_seen: int = 0
    dirty: bool = False
    last_update_at: datetime | None = None

    @classmethod
    def resumed(cls, state: LedgerState | None, now: datetime | None = None) -> UpdateTracker:
        if state is None or (now or datetime.now(UTC)) - state.updated_at > LEDGER_TRUSTED_FOR:
            return cls()
        return cls(
            done=set(state.done),
            floor=state.watermark,
            highest_seen=state.watermark - 1,
            last_update_at=state.updated_at,
        )

    def known(self, update_id: int) -> bool:
        """Handled already, or being handled: a redelivery to skip."""
        return update_id < self.floor or update_id in self.in_hand or update_id in self.done

    def take(self, update_id: int, now: datetime | None = None) -> None:
        self.in_hand.add(update_id)
        self.highest_seen = max(self.highest_seen, update_id)
        self.last_update_at = now or datetime.now(UTC)

    def forget_if_quiet(self, now: datetime | None = None) -> None:
        """After a week without updates Telegram's next ids may be lower than ours."""
        quiet_since = self.last_update_at
        if (
            quiet_since is not None
            and (now or datetime.now(UTC)) - quiet_since > LEDGER_TRUSTED_FOR
        ):
            self.floor, self.highest_seen, self.done = 0, 0, set()
            self.last_update_at = None
            self.dirty = True

    def finish(self, update_id: int) -> None:
        self.in_hand.discard(update_id)
        self.done.add(update_id)
        self.highest_seen = max(self.highest_seen, update_id)
        self.dirty = True

    def offset(self) -> int | None:
        """What getUpdates may confirm: up to the lowest update still in hand."""
        if self.in_hand:
            offset = min(self.in_hand)
        elif self.highest_seen or self.floor:
            offset = max(self.highest_seen + 1, self.floor)
        else:
            return None
        if offset > self.floor:
            self.floor = offset
            self.done = {update_id for update_id in self.done if update_id >= offset}
            self.dirty = True
        return offset

    def state(self) -> tuple[int, frozenset[int]]:
        return self.floor, frozenset(self.done)
