"""How delivery stands: for `vizteh-bot status` and for the manager chat's /start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from vizteh_bot.db.repositories.outbox import FAILED, QUARANTINED

if TYPE_CHECKING:
    from vizteh_bot.db.uow import Store
    from vizteh_bot.texts import Texts

# Waiting longer than this is worth a line in the manager chat: Telegram's limits alone
# never hold a message back so long.
STUCK_AFTER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    waiting: dict[str, int]
    oldest_waiting: datetime | None
    quarantined: int
    recent_quarantined: list[dict[str, Any]]
    failed: int
    last_sent_at: datetime | None
    now: datetime

    @property
    def oldest_age(self) -> timedelta | None:
        return None if self.oldest_waiting is None else self.now - self.oldest_waiting

    @property
    def stuck(self) -> bool:
        age = self.oldest_age
        return age is not None and age > STUCK_AFTER


async def delivery_report(store: Store, *, quarantined_shown: int = 10) -> DeliveryReport:
    async with store.read() as uow:
        pending = await uow.outbox.pending_by_kind()
        quarantined = await uow.outbox.count_in_state(QUARANTINED)
        recent = await uow.outbox.finished(QUARANTINED, quarantined_shown) if quarantined else []
        failed = await uow.outbox.count_in_state(FAILED)
        last_sent = await uow.outbox.last_sent_at()
    oldest = min((created for _, created in pending.values()), default=None)
    return DeliveryReport(
        waiting={kind: count for kind, (count, _) in sorted(pending.items())},
        oldest_waiting=oldest,
        quarantined=quarantined,
        recent_quarantined=recent,
        failed=failed,
        last_sent_at=last_sent,
        now=datetime.now(UTC),
    )


def problem_line(texts: Texts, report: DeliveryReport) -> str | None:
    """One line for the manager chat when something is wrong with delivery, else None."""
    problems = []
    if report.quarantined:
        problems.append(texts("manager-delivery-quarantined", count=report.quarantined))
    if report.stuck and report.oldest_age is not None:
        minutes = int(report.oldest_age.total_seconds() // 60)
        waiting = sum(report.waiting.values())
        problems.append(texts("manager-delivery-stuck", count=waiting, minutes=minutes))
    if not problems:
        return None
    return texts("manager-delivery-problem", problem="; ".join(problems))


def report_lines(report: DeliveryReport) -> list[str]:
    """`vizteh-bot status`, for the person running the bot (English, like the log)."""
    lines = []
    total = sum(report.waiting.values())
    if total:
        by_kind = ", ".join(f"{kind} {count}" for kind, count in report.waiting.items())
        age = report.oldest_age or timedelta()
        lines.append(f"waiting: {total} ({by_kind}); oldest written {_ago(age)} ago")
    else:
        lines.append("waiting: nothing")
    lines.append(f"quarantined: {report.quarantined} (kept, not retried; see below)")
    for row in report.recent_quarantined:
        ticket = f" request #{row['ticket_id']}" if row["ticket_id"] else ""
        lines.append(
            f"  #{row['id']} {row['kind']}{ticket} to chat {row['chat_id']}: {row['last_error']}"
        )
    lines.append(f"given up (client unreachable): {report.failed}")
    if report.last_sent_at is None:
        lines.append("last successful send: never")
    else:
        lines.append(
            f"last successful send: {report.last_sent_at:%Y-%m-%d %H:%M:%S} UTC "
            f"({_ago(report.now - report.last_sent_at)} ago)"
        )
    return lines


def _ago(age: timedelta) -> str:
    seconds = int(max(0.0, age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
