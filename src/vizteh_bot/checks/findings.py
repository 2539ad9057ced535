"""What one check found: a subject (the setting or service), a level, one line of text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    OK = "ok"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"


MARKS = {Level.OK: "✓", Level.FAILED: "✗", Level.WARNING: "!", Level.SKIPPED: "–"}


@dataclass(frozen=True)
class Finding:
    """`text` says what was found and, for a problem, what to fix; for SKIPPED, why."""

    subject: str
    level: Level
    text: str
    # A FAILED check that could not reach Telegram or the database at all (the network, a
    # server that is down): not a mistake in the settings, and it may pass on its own.
    unreachable: bool = False

    @property
    def failed(self) -> bool:
        return self.level is Level.FAILED

    @property
    def is_problem(self) -> bool:
        """A FAILED finding the settings must fix (not one that could not reach a service)."""
        return self.failed and not self.unreachable

    def line(self) -> str:
        """As `vizteh-bot check` prints it, e.g. `✗ TOKEN: ...`."""
        text = f"skipped because {self.text}" if self.level is Level.SKIPPED else self.text
        return f"{MARKS[self.level]} {self.subject}: {text}"


def ok(subject: str, text: str) -> Finding:
    return Finding(subject, Level.OK, text)


def failed(subject: str, text: str, *, unreachable: bool = False) -> Finding:
    return Finding(subject, Level.FAILED, text, unreachable)


def warning(subject: str, text: str) -> Finding:
    return Finding(subject, Level.WARNING, text)


def skipped(subject: str, because: str) -> Finding:
    return Finding(subject, Level.SKIPPED, because)
