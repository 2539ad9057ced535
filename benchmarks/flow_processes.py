"""The processes bench_flow.py starts and watches: the bot or the floor as a Child (log,
memory, CPU time), CPU time of the machine and of the PostgreSQL cluster, the bot's
environment, and the row counts of the bot's database.
"""

# The harness waits on purpose: helpers take a `timeout` and poll a subprocess with sleep.
# ruff: noqa: ASYNC109, ASYNC110

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from flow_harness import MANAGER_CHAT_ID, BenchAPI, BenchError, now

TOKEN = "123456789:BENCH-token-for-the-fake-bot-api-only"
PACE_TIME_SCALE = 1000


def die_with_parent() -> None:
    """In the child: get SIGTERM if the benchmark dies, so no bot outlives it."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Child:
    """A subprocess of ours (the bot or the floor) with its log, memory and CPU time."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self) -> None:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.workdir,  # no stray .env of the developer's is read
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def memory(self) -> dict[str, int]:
        """VmRSS, VmHWM… in bytes, from /proc/PID/status."""
        values: dict[str, int] = {}
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Vm"):
                    key, value = line.split(":", 1)
                    values[key] = int(value.split()[0]) * 1024
        return values

    def cpu(self) -> float:
        return _process_cpu(self.pid)

    async def wait_polling(self, api: BenchAPI, timeout: float) -> float:
        """Seconds until the first getUpdates; raises if the process exits or is too slow."""
        started = now()
        while not api.polled.is_set():
            if not self.running():
                raise BenchError(f"{self.name} exited before polling:\n{self.tail()}")
            if now() - started > timeout:
                raise BenchError(
                    f"{self.name} did not poll within {timeout:.0f} s:\n{self.tail()}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(api.polled.wait(), 0.2)
        return now() - started

    async def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            deadline = now() + timeout
            while self.popen.poll() is None and now() < deadline:
                await asyncio.sleep(0.05)
            if self.popen.poll() is None:
                self.popen.kill()
        code = self.popen.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join("    | " + line for line in text.splitlines()[-lines:])

    def log_lines(self, level: str) -> int:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if f" {level} " in line)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        text = stat.read()
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _process_cpu(pid: int, *, with_children: bool = False) -> float:
    """utime + stime (and of waited-for children) of `pid`, in seconds."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _CLOCK_TICKS


def machine_busy_cpu() -> float:
    """CPU seconds all processes on the machine have used (busy time from /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


def postgres_cpu(data_dir: Path | None) -> float:
    """CPU seconds of our cluster: the postmaster, its live children and the reaped ones."""
    if data_dir is None:
        return 0.0
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total = _process_cpu(postmaster, with_children=True)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = _stat_fields(int(entry.name))
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    return total


# ------------------------------------------------------------------------------ database


@dataclass
class Database:
    backend: str
    env: dict[str, str]
    sqlite_path: Path | None = None
    dsn: str | None = None

    async def counts(self) -> dict[str, int]:
        queries = {
            "tickets": "SELECT count(*) FROM tickets",
            "tickets with card": (
                "SELECT count(*) FROM tickets WHERE manager_message_id IS NOT NULL"
            ),
            "outbox pending": "SELECT count(*) FROM outbox WHERE state = 'pending'",
            "outbox sent": "SELECT count(*) FROM outbox WHERE state = 'sent'",
            "outbox failed": "SELECT count(*) FROM outbox WHERE state = 'failed'",
            "outbox quarantined": "SELECT count(*) FROM outbox WHERE state = 'quarantined'",
            "fsm states": "SELECT count(*) FROM fsm_states",
        }
        if self.sqlite_path is not None:
            return await asyncio.to_thread(self._sqlite_counts, queries)
        assert self.dsn is not None
        connection = await asyncpg.connect(self.dsn, timeout=10)
        try:
            return {name: int(await connection.fetchval(sql)) for name, sql in queries.items()}
        finally:
            await connection.close()

    def _sqlite_counts(self, queries: dict[str, str]) -> dict[str, int]:
        assert self.sqlite_path is not None
        connection = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            return {
                name: int(connection.execute(sql).fetchone()[0]) for name, sql in queries.items()
            }
        finally:
            connection.close()

    async def ticket_ids(self) -> set[int]:
        sql = "SELECT id FROM tickets"
        if self.sqlite_path is not None:
            return await asyncio.to_thread(self._sqlite_ids, sql)
        assert self.dsn is not None
        connection = await asyncpg.connect(self.dsn, timeout=10)
        try:
            return {int(row[0]) for row in await connection.fetch(sql)}
        finally:
            await connection.close()

    def _sqlite_ids(self, sql: str) -> set[int]:
        assert self.sqlite_path is not None
        connection = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            return {int(row[0]) for row in connection.execute(sql)}
        finally:
            connection.close()

    async def wait_outbox_empty(self, timeout: float = 15.0) -> dict[str, int]:
        deadline = now() + timeout
        counts = await self.counts()
        while counts["outbox pending"] and now() < deadline:
            await asyncio.sleep(0.2)
            counts = await self.counts()
        return counts


def count_delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before.get(key, 0) for key in after}


def bot_env(
    api_url: str, database: Database, log_level: str, pace_time_scale: float = PACE_TIME_SCALE
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "TEST_DB_"))
        and key not in ("TOKEN", "MANAGER_CHAT_ID", "SQLITE_PATH", "PHOTO_ID")
    }
    env.update(
        TOKEN=TOKEN,
        MANAGER_CHAT_ID=str(MANAGER_CHAT_ID),
        TELEGRAM_API_URL=api_url,
        PACE_TIME_SCALE=f"{pace_time_scale:g}",
        LOG_LEVEL=log_level,
        PYTHONUNBUFFERED="1",
        **database.env,
    )
    return env
