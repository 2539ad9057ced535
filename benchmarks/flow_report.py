"""What bench_flow.py prints: percentiles and units, per-step latencies and failures, the
machine and code it ran on, and the summary table with a verdict against each target.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import aiogram
import asyncpg
import sqlalchemy
from flow_harness import BenchAPI, Run

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024

TARGET_P99_CARD_MS = 150.0
TARGET_FLOOR_RATIO = 0.5
TARGET_RSS_OVER_FLOOR_MB = 30.0
TARGET_PARKED_MB = 50.0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def ms(value: float) -> str:
    return "   n/a" if math.isnan(value) else f"{value * 1000:6.1f}"


def mb(value: float) -> str:
    return f"{value / MB:.1f} MB"


def out(tag: str, text: str = "") -> None:
    print(f"[{tag}] {text}" if text else f"[{tag}]", flush=True)


def print_latencies(tag: str, run: Run, order: tuple[str, ...]) -> None:
    out(tag, "reply latency per step (ms)    p50     p95     p99     max")
    for name in order:
        values = run.steps.get(name, [])
        out(
            tag,
            f"  {name:<28}{ms(percentile(values, 50))}  {ms(percentile(values, 95))}"
            f"  {ms(percentile(values, 99))}  {ms(max(values) if values else math.nan)}",
        )


def print_card_latency(tag: str, run: Run) -> None:
    out(
        tag,
        "Send press -> manager card (ms):   "
        f"p50 {ms(percentile(run.card, 50))}  p95 {ms(percentile(run.card, 95))}  "
        f"p99 {ms(percentile(run.card, 99))}  max {ms(max(run.card, default=math.nan))}",
    )


def print_failures(tag: str, run: Run, api: BenchAPI) -> None:
    for reason, count in run.failures.most_common(8):
        out(tag, f"  FAILED {count} clients: {reason}")
    for reply, count in run.unexpected.most_common(4):
        out(tag, f"  unexpected reply to {count} clients {reply}")
    for error, count in api.errors.most_common(8):
        out(tag, f"  Bot API error answers: {count} x {error.strip()}")


@dataclass
class LimitsFigures:
    """What the phase at Telegram's real limits found (flow_limits.py)."""

    clients: int
    cards: int = 0  # distinct tickets of this phase shown in the manager chat
    created: int = 0
    answered: int = 0  # clients who got every answer
    seconds_to_cards: float = math.nan  # first Send press -> every card visible
    shown_twice: int = 0
    told_twice: int = 0
    rate_limited: dict[str, int] = field(default_factory=dict)  # "outbox"/"direct" -> 429s
    wait: tuple[float, float, float] = (math.nan, math.nan, math.nan)  # p50, p95, max (s)

    @property
    def ok(self) -> bool:
        return self.answered == self.clients and self.cards == self.created == self.clients


@dataclass
class Result:
    backend: str
    clients: int
    completed: int = 0
    created: int = 0
    lost: int | None = None
    updates_per_second: float = math.nan
    requests_per_second: float = math.nan
    p99_card: float = math.nan
    p99_card_paced: float = math.nan
    paced_think: float = 0.0
    peak_rss: int = 0
    parked: int = 0
    parked_completed: int = 0
    parked_added: int | None = None
    floor_updates_per_second: float = math.nan
    floor_p99_reply: float = math.nan
    floor_peak_rss: int = 0
    limits: LimitsFigures | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        limits_ok = self.limits is None or self.limits.ok
        return (
            self.error is None and self.completed == self.clients and self.lost == 0 and limits_ok
        )


def verdict(value: float, target: float, *, below: bool) -> str:
    """ "ok" when `value` is below (or at least, for below=False) `target`; never an assertion."""
    if math.isnan(value):
        return "n/a"
    return "ok" if (value < target if below else value >= target) else "MISSED"


def summary_rows(r: Result) -> list[str]:
    ratio = r.updates_per_second / r.floor_updates_per_second
    over_floor = (
        (r.peak_rss - r.floor_peak_rss) / MB if r.peak_rss and r.floor_peak_rss else math.nan
    )
    parked = math.nan if r.parked_added is None else r.parked_added / MB
    card_ms = r.p99_card * 1000
    paced_ms = r.p99_card_paced * 1000
    return [
        f"{r.completed}/{r.clients}, lost {r.lost} [{'ok' if r.ok else 'MISSED'}]",
        f"{r.requests_per_second:.1f} ({r.updates_per_second:.0f})",
        f"{ratio:.2f}x of {r.floor_updates_per_second:.0f} "
        f"[{verdict(ratio, TARGET_FLOOR_RATIO, below=False)}]",
        f"{paced_ms:.1f} ms [{verdict(paced_ms, TARGET_P99_CARD_MS, below=True)}]"
        if r.paced_think
        else "n/a (--paced-think 0)",
        f"{card_ms:.1f} ms [{verdict(card_ms, TARGET_P99_CARD_MS, below=True)}]",
        f"{r.floor_p99_reply * 1000:.1f} ms",
        f"{mb(r.peak_rss)} = floor + {over_floor:.1f} MB "
        f"[{verdict(over_floor, TARGET_RSS_OVER_FLOOR_MB + 1e-9, below=True)}]",
        f"{parked:.1f} MB for {r.parked_completed}/{r.parked} "
        f"[{verdict(parked, TARGET_PARKED_MB, below=True)}]"
        if r.parked_added is not None
        else "n/a (--parked 0)",
        *limits_rows(r.limits),
    ]


def limits_rows(f: LimitsFigures | None) -> list[str]:
    if f is None:
        return ["n/a (--limits 0)"] + ["-"] * 5
    p50, p95, most = f.wait
    return [
        f"{f.cards}/{f.clients}, lost {f.created - f.cards} "
        f"[{'ok' if f.cards == f.created == f.clients else 'MISSED'}]",
        f"{f.answered}/{f.clients} [{'ok' if f.answered == f.clients else 'MISSED'}]",
        f"{f.seconds_to_cards:.1f} s",
        f"{f.shown_twice}, {f.told_twice} "
        f"[{'ok' if f.shown_twice == f.told_twice == 0 else 'MISSED'}]",
        f"{f.rate_limited.get('outbox', 0)}, {f.rate_limited.get('direct', 0)}",
        f"{p50:.2f} / {p95:.2f} / {most:.2f} s",
    ]


def print_summary(results: list[Result]) -> None:
    labels = [
        ("clients completed, requests lost", f"{results[0].clients}, 0 lost"),
        ("requests/s (updates/s)", "-"),
        ("throughput vs floor (updates/s)", f">= {TARGET_FLOOR_RATIO}x floor"),
        (
            f"p99 Send -> card, pausing {results[0].paced_think:g} s",
            f"< {TARGET_P99_CARD_MS:.0f} ms",
        ),
        ("p99 Send -> card, saturated", f"< {TARGET_P99_CARD_MS:.0f} ms"),
        ("  the floor's p99 reply, saturated", "-"),
        ("peak RSS (VmHWM) vs floor", f"<= floor + {TARGET_RSS_OVER_FLOOR_MB:.0f} MB"),
        ("RSS added by parked sessions", f"< {TARGET_PARKED_MB:.0f} MB"),
        ("real limits: cards shown", f"{limits_target(results)}, 0 lost"),
        ("  clients with every answer", limits_target(results)),
        ("  first Send -> all cards visible", "-"),
        ("  shown twice, «принята» twice", "0, 0"),
        ("  429s: outbox, direct replies", "-"),
        ("  wait for an answer p50/p95/max", "-"),
    ]
    columns = [summary_rows(result) for result in results]
    print()
    print("=== summary (targets are goals to read against, not assertions) ===")
    header = f"{'figure':<36}{'target':<20}" + "".join(f"{r.backend:<38}" for r in results)
    print(header.rstrip())
    print("-" * len(header.rstrip()))
    for index, (label, target) in enumerate(labels):
        cells = "".join(f"{column[index]:<38}" for column in columns)
        print(f"{label:<36}{target:<20}{cells}".rstrip())
    for result in results:
        if result.error:
            print(f"{result.backend}: ERROR {result.error}")


def limits_target(results: list[Result]) -> str:
    return next((str(r.limits.clients) for r in results if r.limits is not None), "-")


def describe_machine() -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}, "
        f"aiogram {aiogram.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
        f"asyncpg {asyncpg.__version__}; load average {load}"
    )


def describe_code() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{head}" + (f" + {len(dirty)} uncommitted change(s) under src/" if dirty else "")
