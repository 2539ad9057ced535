"""Benchmark the whole request flow of the real bot against an in-process fake Bot API.

    uv run python benchmarks/bench_flow.py [--clients 200] [--parked 10000]
                                           [--backend sqlite|postgres|all]

For each backend it starts the FakeBotAPI (tests/fake_bot_api.py) in this process and the
real bot as a subprocess (`python -m vizteh_bot`) on a fresh SQLite file or a fresh
PostgreSQL database (a throwaway cluster from tests/postgres_server.py), then:

1. runs N clients at once through the whole flow (/start, «📝 Оставить заявку», name,
   phone, text, «✅ Отправить»), each waiting for the bot's reply before its next step;
2. counts requests created against manager cards received, in the harness and in the DB;
3. prints requests/s, updates/s, the Send → manager card latency and per-step latencies;
4. measures the bot's peak RSS and the RSS that --parked clients, stopped half-way through
   the form (name and phone given), add;
5. runs the floor, benchmarks/bare_bot.py (a bare aiogram bot), with the same clients and
   updates, and compares;
and ends with a summary table of the figures next to their targets. It prints figures and
never asserts timings; it exits 1 only when a client could not finish or a request was lost.

Everything talks to 127.0.0.1; every loop is bounded by count and by --timeout; every
process and server it starts is stopped at the end, on error too.
"""

# The harness waits on purpose: helpers take a `timeout`, poll a subprocess with sleep, and
# read small files in /proc inline (microseconds, cheaper than a thread hop).
# ruff: noqa: ASYNC109, ASYNC110, ASYNC220, ASYNC240

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
sys.path.insert(0, str(ROOT / "tests"))

import aiogram  # noqa: E402
import asyncpg  # noqa: E402
import sqlalchemy  # noqa: E402

from fake_bot_api import ApiCall, FakeBotAPI  # noqa: E402
from fake_objects import (  # noqa: E402
    callback_query_update,
    command_update,
    text_update,
    user_dict,
)

TOKEN = "123456789:BENCH-token-for-the-fake-bot-api-only"
MANAGER_CHAT_ID = -1001234567890
PACE_TIME_SCALE = 1000
WARMUP_CLIENTS = 5
FLOOR_RUNS = 3
FLOW_STEPS = ("/start", "menu button", "name", "phone", "text", "send")
FLOW_UPDATES = len(FLOW_STEPS)  # updates one client sends through the whole flow
PARK_UPDATES = 4  # /start, menu button, name, phone
FLOW_USER_BASE = 100_000_000
PARK_USER_BASE = 200_000_000
FLOOR_USER_BASE = 300_000_000
PACED_USER_BASE = 400_000_000
USER_LINK = re.compile(r"tg://user\?id=(\d+)")
SEND = frozenset({"sendMessage"})
MB = 1024 * 1024

TARGET_P99_CARD_MS = 150.0
TARGET_FLOOR_RATIO = 0.5
TARGET_RSS_OVER_FLOOR_MB = 30.0
TARGET_PARKED_MB = 50.0

now = time.monotonic


async def think(seconds: float) -> None:
    """A person's pause before an answer: `seconds` +-50% (0: answer at once)."""
    if seconds > 0:
        await asyncio.sleep(seconds * random.uniform(0.5, 1.5))


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------- fake server


class Sim:
    """One simulated person: their chat's calls land in `inbox`, in arrival order."""

    __slots__ = ("card_at", "cards", "chat_id", "inbox", "stage", "think", "user", "waiter")

    def __init__(self, user_id: int, first_name: str = "Анна", think: float = 0.0) -> None:
        self.user = user_dict(user_id, first_name, language_code="ru")
        self.chat_id = user_id
        self.inbox: deque[tuple[ApiCall, float]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.card_at: float | None = None
        self.cards = 0
        self.stage = "start"
        self.think = think

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, deadline: float) -> None:
        """Until the next call for this person (or its card) arrives; TimeoutError at deadline."""
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout_at(deadline):
                await self.waiter
        finally:
            self.waiter = None

    async def reply(
        self, deadline: float, methods: frozenset[str] = SEND
    ) -> tuple[ApiCall, float]:
        """The next successful call of `methods` to this chat; others are skipped."""
        while True:
            while self.inbox:
                call, at = self.inbox.popleft()
                if call.method in methods:
                    return call, at
            await self.wait(deadline)


class BenchAPI(FakeBotAPI):
    """The tests' fake Bot API, with O(1) routing of each call to the person it is for.

    The base class keeps every call in a list and wakes every waiter on every call (fine for
    a test, quadratic for 10 000 people); here calls are counted and handed straight to the
    Sim of their chat (or of their callback query), and manager cards are parsed for the
    client links they show, so a digest of several tickets counts for each of them.
    """

    def __init__(self) -> None:
        super().__init__()
        if not callable(getattr(FakeBotAPI, "_record", None)):
            raise BenchError("tests/fake_bot_api.py has no FakeBotAPI._record to hook into")
        self.sims: dict[int, Sim] = {}
        self.queries: dict[str, Sim] = {}
        self.polled = asyncio.Event()
        self.methods: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.card_messages = 0
        self.card_tickets = 0
        self.stray_card_tickets = 0

    def _record(self, call: ApiCall) -> None:
        method = call.method
        self.methods[method] += 1
        if method == "getUpdates":
            self.polled.set()
            return
        if call.error is not None or call.fault is not None:
            self.errors[f"{method} -> {call.error or call.fault} {call.description or ''}"] += 1
            return
        at = now()
        if method == "answerCallbackQuery":
            sim = self.queries.pop(str(call.params.get("callback_query_id")), None)
        else:
            chat_id = call.params.get("chat_id")
            if chat_id == MANAGER_CHAT_ID:
                if method == "sendMessage":
                    self._card(call, at)
                return
            sim = self.sims.get(chat_id)  # type: ignore[arg-type]
        if sim is not None:
            sim.inbox.append((call, at))
            sim.wake()

    def _card(self, call: ApiCall, at: float) -> None:
        self.card_messages += 1
        for user_id in USER_LINK.findall(str(call.params.get("text", ""))):
            self.card_tickets += 1
            sim = self.sims.get(int(user_id))
            if sim is None:
                self.stray_card_tickets += 1
                continue
            sim.cards += 1
            if sim.card_at is None:
                sim.card_at = at
            sim.wake()

    def say(self, sim: Sim, text: str) -> None:
        message_id = self.next_message_id(sim.chat_id)
        if text.startswith("/"):
            self.put_update(command_update(sim.user, text, message_id=message_id))
        else:
            self.put_update(text_update(sim.user, text, message_id=message_id))

    def press(self, sim: Sim, call: ApiCall, data: str) -> None:
        """Press the inline button with callback data `data` under the message `call` sent."""
        message = call.result if isinstance(call.result, dict) else {}
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if not any(button.get("callback_data") == data for row in rows for button in row):
            raise BenchError(f"no button {data!r} under the bot's reply: {call.params}")
        update = callback_query_update(sim.user, message, data)
        self.queries[str(update["callback_query"]["id"])] = sim
        self.put_update(update)


# ------------------------------------------------------------------------------ clients


@dataclass
class Run:
    """What one phase measured."""

    clients: int
    updates_per_client: int
    steps: dict[str, list[float]] = field(default_factory=dict)
    card: list[float] = field(default_factory=list)
    confirmation: list[float] = field(default_factory=list)
    completed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    last_done: float = 0.0
    harness_cpu: float = 0.0

    def step(self, name: str, seconds: float) -> None:
        self.steps.setdefault(name, []).append(seconds)

    def done(self, at: float) -> None:
        self.completed += 1
        self.last_done = max(self.last_done, at)

    @property
    def wall(self) -> float:
        return max(self.last_done - self.started, 1e-9)

    @property
    def updates(self) -> int:
        return self.completed * self.updates_per_client

    @property
    def updates_per_second(self) -> float:
        return self.updates / self.wall

    @property
    def requests_per_second(self) -> float:
        return self.completed / self.wall


async def flow_client(api: BenchAPI, sim: Sim, index: int, run: Run, deadline: float) -> None:
    """One person through the whole form, waiting for each answer before the next step."""
    sim.stage = "/start"
    sent = now()
    api.say(sim, "/start")
    menu, at = await sim.reply(deadline)
    run.step("/start", at - sent)

    await think(sim.think)
    sim.stage = "menu button"
    sent = now()
    api.press(sim, menu, "m:new")
    _, at = await sim.reply(deadline)
    run.step("menu button", at - sent)

    summary = None
    for stage, text in (
        ("name", f"Клиент {index}"),
        ("phone", f"+7916{index % 10_000_000:07d}"),
        ("text", f"Не печатает принтер в кабинете {index}, нужна помощь"),
    ):
        await think(sim.think)
        sim.stage = stage
        sent = now()
        api.say(sim, text)
        summary, at = await sim.reply(deadline)
        run.step(stage, at - sent)

    assert summary is not None
    await think(sim.think)
    sim.stage = "send"
    sent = now()
    api.press(sim, summary, "f:send")
    answered = confirmed = None
    while answered is None or confirmed is None or sim.card_at is None:
        while sim.inbox:
            call, at = sim.inbox.popleft()
            if call.method == "answerCallbackQuery" and answered is None:
                answered = at
            elif call.method == "sendMessage" and confirmed is None:
                confirmed = at  # «Заявка №N принята» from the outbox
        if answered is None or confirmed is None or sim.card_at is None:
            sim.stage = (
                "send: no answer to the press"
                if answered is None
                else "send: no confirmation"
                if confirmed is None
                else "send: no manager card"
            )
            await sim.wait(deadline)
    run.step("send", answered - sent)
    run.confirmation.append(confirmed - sent)
    run.card.append(sim.card_at - sent)
    run.done(max(confirmed, sim.card_at))


async def park_client(api: BenchAPI, sim: Sim, index: int, run: Run, deadline: float) -> None:
    """One person who gives name and phone, gets asked for the text, and goes away."""
    sim.stage = "/start"
    sent = now()
    api.say(sim, "/start")
    menu, at = await sim.reply(deadline)
    run.step("/start", at - sent)
    sim.stage = "menu button"
    sent = now()
    api.press(sim, menu, "m:new")
    _, at = await sim.reply(deadline)
    run.step("menu button", at - sent)
    for stage, text in (("name", f"Гость {index}"), ("phone", f"+7903{index % 10_000_000:07d}")):
        sim.stage = stage
        sent = now()
        api.say(sim, text)
        _, at = await sim.reply(deadline)
        run.step(stage, at - sent)
    run.done(at)


async def floor_client(api: BenchAPI, sim: Sim, index: int, run: Run, deadline: float) -> None:
    """The same number of updates as the flow, as plain messages the bare bot answers."""
    at = now()
    for step in range(FLOW_UPDATES):
        if step:
            await think(sim.think)
        sim.stage = f"message {step + 1}"
        sent = now()
        api.say(sim, f"сообщение {step + 1} от {index}")
        _, at = await sim.reply(deadline)
        run.step("message", at - sent)
    run.done(at)


async def drive(
    api: BenchAPI,
    client: Any,
    *,
    count: int,
    concurrency: int,
    first_user: int,
    updates_per_client: int,
    timeout: float,
    think_seconds: float = 0.0,
) -> Run:
    """`count` people, at most `concurrency` at a time, all within `timeout` seconds."""
    run = Run(clients=count, updates_per_client=updates_per_client)
    sims = [Sim(first_user + index, think=think_seconds) for index in range(count)]
    api.sims.update((sim.chat_id, sim) for sim in sims)
    queue = iter(range(count))
    cpu = time.process_time()
    run.started = now()
    deadline = run.started + timeout

    async def worker() -> None:
        for index in queue:
            sim = sims[index]
            try:
                await client(api, sim, index, run, deadline)
            except TimeoutError:
                run.failures[f"timed out at step {sim.stage!r}"] += 1
            except BenchError as error:
                run.failures[str(error)[:200]] += 1

    try:
        await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    finally:
        run.harness_cpu = time.process_time() - cpu
        for sim in sims:
            api.sims.pop(sim.chat_id, None)
    return run


# ---------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
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
            preexec_fn=_die_with_parent,
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

    async def wait_outbox_empty(self, timeout: float = 15.0) -> dict[str, int]:
        deadline = now() + timeout
        counts = await self.counts()
        while counts["outbox pending"] and now() < deadline:
            await asyncio.sleep(0.2)
            counts = await self.counts()
        return counts


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before.get(key, 0) for key in after}


# ----------------------------------------------------------------------------- figures


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


def print_failures(tag: str, run: Run, api: BenchAPI) -> None:
    for reason, count in run.failures.most_common(8):
        out(tag, f"  FAILED {count} clients: {reason}")
    for error, count in api.errors.most_common(8):
        out(tag, f"  Bot API error answers: {count} x {error.strip()}")


# ------------------------------------------------------------------------------ phases


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
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.completed == self.clients and self.lost == 0


def bot_env(api_url: str, database: Database, log_level: str) -> dict[str, str]:
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
        PACE_TIME_SCALE=str(PACE_TIME_SCALE),
        LOG_LEVEL=log_level,
        PYTHONUNBUFFERED="1",
        **database.env,
    )
    return env


class Probe:
    """Counters from benchmarks/bot_probe.py, snapshotted with SIGUSR1."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def snapshot(self, child: Child) -> Counter[str]:
        before = self.path.stat().st_mtime_ns if self.path.exists() else 0
        os.kill(child.pid, signal.SIGUSR1)
        deadline = now() + 5
        while now() < deadline:
            if self.path.exists() and self.path.stat().st_mtime_ns != before:
                with contextlib.suppress(ValueError):
                    return Counter(json.loads(self.path.read_text()))
            await asyncio.sleep(0.05)
        return Counter()

    @staticmethod
    def report(tag: str, label: str, counts: Counter[str], updates: int) -> None:
        if not counts or not updates:
            return
        out(tag, f"probe, per update ({label}, {updates} updates):")
        keys = ["sql", "commit", "rollback", "pool checkout", "pool new connection"]
        keys += sorted(k for k in counts if k.startswith("sql: "))
        keys += sorted(k for k in counts if k.startswith(("api: ", "json.", "log records")))
        keys += sorted(k for k in counts if k.startswith(("pydantic", "gc ")))
        keys += sorted(k for k in counts if k not in keys)
        for key in keys:
            if counts.get(key):
                out(tag, f"  {key:<40}{counts[key] / updates:8.2f}")


async def bench_backend(
    backend: str, args: argparse.Namespace, postgres: Any, workdir: Path
) -> Result:
    tag = backend
    result = Result(backend, args.clients, parked=args.parked)
    workdir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        path = workdir / "bot.sqlite3"
        database = Database(backend, {"SQLITE_PATH": str(path), "DB_HOST": ""}, sqlite_path=path)
        out(tag, f"database: fresh SQLite file {path} (WAL, synchronous=NORMAL)")
    else:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        await postgres.create_database(name)
        database = Database(
            backend,
            {
                "DB_HOST": postgres.host,
                "DB_PORT": str(postgres.port),
                "DB_NAME": name,
                "DB_USER": postgres.user,
                "DB_PASSWORD": postgres.password,
            },
            dsn=postgres.dsn(name),
        )
        out(
            tag,
            f"database: fresh PostgreSQL database {name} on {postgres.host}:{postgres.port} "
            "(throwaway cluster: fsync=off, synchronous_commit=off)",
        )
    api = BenchAPI()
    await api.start()
    target = ["-m", "vizteh_bot"]
    probe: Probe | None = None
    env = bot_env(api.url, database, args.log_level)
    env.update(item.split("=", 1) for item in args.bot_env)
    if args.probe:
        probe = Probe(workdir / "probe.json")
        env["BENCH_PROBE_FILE"] = str(probe.path)
        env["BENCH_EXPERIMENTS"] = args.experiments
        target = [str(BENCH_DIR / "bot_probe.py")]
    argv = [sys.executable, *target]
    if args.pyinstrument:
        session = Path(args.profile_dir).resolve() / f"bot-{backend}.pyisession"
        session.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "pyinstrument",
            "-r",
            "pyisession",
            "-o",
            str(session),
            *target,
        ]
    bot = Child(f"bot-{backend}", argv, env, workdir)
    out(tag, f"bot: {' '.join(argv[1:])} (pid follows), LOG_LEVEL={args.log_level}")
    try:
        bot.start()
        startup = await bot.wait_polling(api, 120)
        out(
            tag,
            f"bot pid {bot.pid} polling after {startup:.2f} s (migrations included); "
            f"RSS at idle {mb(bot.memory()['VmRSS'])}",
        )

        warm = await drive(
            api,
            flow_client,
            count=WARMUP_CLIENTS,
            concurrency=WARMUP_CLIENTS,
            first_user=FLOW_USER_BASE + 9_000_000,
            updates_per_client=FLOW_UPDATES,
            timeout=args.timeout,
        )
        if warm.completed != WARMUP_CLIENTS:
            print_failures(tag, warm, api)
            raise BenchError(f"warm-up: only {warm.completed}/{WARMUP_CLIENTS} clients finished")
        before = await database.wait_outbox_empty()
        probe_before = await probe.snapshot(bot) if probe else Counter()
        cards_before = (api.card_messages, api.card_tickets)
        bot_cpu, pg_cpu = bot.cpu(), postgres_cpu(getattr(postgres, "data_dir", None))
        machine_cpu = machine_busy_cpu()

        # ---------------------------------------------------------------- the flow
        out(
            tag,
            f"--- flow: {args.clients} concurrent clients x {FLOW_UPDATES} updates "
            f"(after {WARMUP_CLIENTS} warm-up clients) ---",
        )
        spy = await start_py_spy(args, bot, backend, workdir)
        run = await drive(
            api,
            flow_client,
            count=args.clients,
            concurrency=args.clients,
            first_user=FLOW_USER_BASE,
            updates_per_client=FLOW_UPDATES,
            timeout=args.timeout,
            think_seconds=args.think,
        )
        bot_cpu = bot.cpu() - bot_cpu
        if spy is not None:
            await stop_py_spy(tag, *spy)
        pg_cpu = postgres_cpu(getattr(postgres, "data_dir", None)) - pg_cpu
        others_cpu = machine_busy_cpu() - machine_cpu - bot_cpu - pg_cpu - run.harness_cpu
        result.peak_rss = bot.memory()["VmHWM"]
        after = await database.wait_outbox_empty()
        probe_flow = await probe.snapshot(bot) if probe else Counter()
        delta = _delta(after, before)
        card_messages = api.card_messages - cards_before[0]
        card_tickets = api.card_tickets - cards_before[1]
        result.completed = run.completed
        result.created = delta["tickets"]
        result.lost = delta["tickets"] - card_tickets
        result.updates_per_second = run.updates_per_second
        result.requests_per_second = run.requests_per_second
        result.p99_card = percentile(run.card, 99)

        out(tag, f"completed {run.completed}/{args.clients} clients in {run.wall:.2f} s")
        print_failures(tag, run, api)
        out(
            tag,
            f"throughput: {run.requests_per_second:.1f} requests/s, "
            f"{run.updates_per_second:.1f} updates/s ({run.updates} updates)",
        )
        out(
            tag,
            f"requests created (DB tickets): {delta['tickets']}; confirmations received: "
            f"{len(run.confirmation)}; tickets shown in manager cards: {card_tickets} "
            f"(in {card_messages} messages); LOST: {result.lost}",
        )
        out(
            tag,
            f"DB check: outbox sent +{delta['outbox sent']}, pending {after['outbox pending']}"
            f", failed {after['outbox failed']}; tickets with a card message id "
            f"+{delta['tickets with card']}; fsm rows left {after['fsm states']}",
        )
        if api.stray_card_tickets:
            out(tag, f"cards for unknown clients: {api.stray_card_tickets}")
        out(
            tag,
            "Send press -> manager card (ms):   "
            f"p50 {ms(percentile(run.card, 50))}  p95 {ms(percentile(run.card, 95))}  "
            f"p99 {ms(percentile(run.card, 99))}  max {ms(max(run.card, default=math.nan))}",
        )
        out(
            tag,
            "Send press -> «Заявка №N принята» (ms): "
            f"p50 {ms(percentile(run.confirmation, 50))}  "
            f"p99 {ms(percentile(run.confirmation, 99))}",
        )
        print_latencies(tag, run, FLOW_STEPS)
        pg_text = f", PostgreSQL {pg_cpu:.2f} s" if backend == "postgres" else ""
        out(
            tag,
            f"CPU during the flow: bot {bot_cpu:.2f} s ({bot_cpu / run.wall:.0%} of a core), "
            f"harness {run.harness_cpu:.2f} s ({run.harness_cpu / run.wall:.0%}){pg_text}, "
            f"other processes on the machine {max(others_cpu, 0):.2f} s "
            f"({max(others_cpu, 0) / run.wall:.0%}); "
            f"bot CPU per update {bot_cpu / max(run.updates, 1) * 1000:.2f} ms",
        )
        out(tag, f"bot peak RSS (VmHWM) after the flow: {mb(result.peak_rss)}")
        if probe:
            Probe.report(tag, "flow", probe_flow - probe_before, run.updates)

        # --------------------------------------------------- the same people, pausing
        if args.paced_think:
            await paced_flow(tag, args, api, database, result)

        # ------------------------------------------------------------- parked sessions
        if args.parked:
            out(
                tag,
                f"--- parking {args.parked} clients half-way (name and phone given), "
                f"{args.clients} at a time ---",
            )
            await asyncio.sleep(1.0)
            rss_before = bot.memory()["VmRSS"]
            park = await drive(
                api,
                park_client,
                count=args.parked,
                concurrency=args.clients,
                first_user=PARK_USER_BASE,
                updates_per_client=PARK_UPDATES,
                timeout=args.timeout,
            )
            await asyncio.sleep(1.0)  # let the last handlers return before measuring
            memory = bot.memory()
            probe_park = await probe.snapshot(bot) if probe else Counter()
            parked_db = await database.counts()
            result.parked_completed = park.completed
            result.parked_added = memory["VmRSS"] - rss_before
            out(
                tag,
                f"parked {park.completed}/{args.parked} clients in {park.wall:.1f} s "
                f"({park.updates_per_second:.1f} updates/s); fsm rows in the DB: "
                f"{parked_db['fsm states']}",
            )
            print_failures(tag, park, api)
            print_latencies(tag, park, FLOW_STEPS[:4])
            out(
                tag,
                f"bot RSS before parking {mb(rss_before)}, after {mb(memory['VmRSS'])}: "
                f"parked sessions add {mb(result.parked_added)} "
                f"({result.parked_added / max(park.completed, 1):.0f} bytes per session); "
                f"peak RSS now {mb(memory['VmHWM'])}",
            )
            if probe:
                Probe.report(tag, "parking", probe_park - probe_flow, park.updates)
        errors = bot.log_lines("ERROR")
        if errors:
            out(tag, f"bot log has {errors} ERROR lines; tail:\n{bot.tail()}")
    except BenchError as error:
        result.error = str(error)
        out(tag, f"ERROR: {error}")
    finally:
        code = await bot.stop()
        await api.stop()
        if code not in (0, None):
            out(tag, f"bot exited with code {code}; log tail:\n{bot.tail()}")
        if backend == "postgres":
            with contextlib.suppress(Exception):
                await postgres.drop_database(database.env["DB_NAME"])
    if args.pyinstrument:
        render_profile(Path(args.profile_dir).resolve(), backend)
    await bench_floor(tag, args, workdir, result)
    return result


async def paced_flow(
    tag: str, args: argparse.Namespace, api: BenchAPI, database: Database, result: Result
) -> None:
    """The flow again, with each person pausing before each answer, as people do.

    The saturated flow above measures throughput; its latencies are the queue of 200
    clients who answer instantly (even the floor's replies wait hundreds of ms there).
    Latency of a bot serving people is measured here, with the same 200 at once.
    """
    out(
        tag,
        f"--- paced flow: {args.clients} concurrent clients pausing {args.paced_think:g} s "
        "+-50% before each answer ---",
    )
    before = await database.counts()
    cards_before = api.card_tickets
    run = await drive(
        api,
        flow_client,
        count=args.clients,
        concurrency=args.clients,
        first_user=PACED_USER_BASE,
        updates_per_client=FLOW_UPDATES,
        timeout=args.timeout,
        think_seconds=args.paced_think,
    )
    after = await database.wait_outbox_empty()
    lost = _delta(after, before)["tickets"] - (api.card_tickets - cards_before)
    result.paced_think = args.paced_think
    result.p99_card_paced = percentile(run.card, 99)
    result.lost = (result.lost or 0) + lost
    result.completed = min(result.completed, run.completed)
    out(tag, f"completed {run.completed}/{args.clients} clients in {run.wall:.2f} s; LOST: {lost}")
    print_failures(tag, run, api)
    out(
        tag,
        "Send press -> manager card (ms):   "
        f"p50 {ms(percentile(run.card, 50))}  p95 {ms(percentile(run.card, 95))}  "
        f"p99 {ms(percentile(run.card, 99))}  max {ms(max(run.card, default=math.nan))}",
    )
    print_latencies(tag, run, FLOW_STEPS)


async def bench_floor(tag: str, args: argparse.Namespace, workdir: Path, result: Result) -> None:
    """benchmarks/bare_bot.py with the same clients and updates as the flow, FLOOR_RUNS times.

    The floor's run is short (about a second), so one run is at the mercy of whatever else
    the machine does in that second: the median of FLOOR_RUNS runs is what is compared.
    """
    api = BenchAPI()
    await api.start()
    env = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    env.update(TOKEN=TOKEN, TELEGRAM_API_URL=api.url)
    floor = Child(f"floor-{tag}", [sys.executable, str(BENCH_DIR / "bare_bot.py")], env, workdir)
    out(
        tag,
        f"--- floor (benchmarks/bare_bot.py: aiogram, one sendMessage per message, no "
        f"database), {args.clients} clients x {FLOW_UPDATES} updates, {FLOOR_RUNS} runs ---",
    )
    try:
        floor.start()
        await floor.wait_polling(api, 60)
        await drive(
            api,
            floor_client,
            count=WARMUP_CLIENTS,
            concurrency=WARMUP_CLIENTS,
            first_user=FLOOR_USER_BASE + 9_000_000,
            updates_per_client=FLOW_UPDATES,
            timeout=args.timeout,
        )
        runs: list[tuple[Run, float]] = []
        for attempt in range(FLOOR_RUNS):
            cpu = floor.cpu()
            run = await drive(
                api,
                floor_client,
                count=args.clients,
                concurrency=args.clients,
                first_user=FLOOR_USER_BASE + attempt * 1_000_000,
                updates_per_client=FLOW_UPDATES,
                timeout=args.timeout,
                think_seconds=args.think,
            )
            cpu = floor.cpu() - cpu
            runs.append((run, cpu))
            out(
                tag,
                f"floor run {attempt + 1}: completed {run.completed}/{args.clients}, "
                f"{run.updates} updates in {run.wall:.2f} s: {run.updates_per_second:.1f} "
                f"updates/s; CPU {cpu / max(run.updates, 1) * 1000:.2f} ms per update",
            )
            print_failures(tag, run, api)
        runs.sort(key=lambda item: item[0].updates_per_second)
        median, _ = runs[len(runs) // 2]
        result.floor_updates_per_second = median.updates_per_second
        result.floor_peak_rss = floor.memory()["VmHWM"]
        result.floor_p99_reply = percentile(median.steps.get("message", []), 99)
        out(
            tag,
            f"floor: median {median.updates_per_second:.1f} updates/s; peak RSS (VmHWM) "
            f"{mb(result.floor_peak_rss)}",
        )
        print_latencies(tag, median, ("message",))
        ratio = result.updates_per_second / result.floor_updates_per_second
        out(
            tag,
            f"{tag} vs floor: {ratio:.2f}x the floor's updates/s; peak RSS "
            f"{mb(result.peak_rss - result.floor_peak_rss)} above the floor's",
        )
    except BenchError as error:
        out(tag, f"floor ERROR: {error}")
        result.error = result.error or f"floor: {error}"
    finally:
        await floor.stop()
        await api.stop()


async def start_py_spy(
    args: argparse.Namespace, bot: Child, backend: str, workdir: Path
) -> tuple[subprocess.Popen[bytes], Path] | None:
    if not args.py_spy:
        return None
    directory = Path(args.profile_dir).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / f"bot-{backend}-flow.pyspy.txt"
    spy = subprocess.Popen(
        [
            args.py_spy,
            "record",
            "--pid",
            str(bot.pid),
            "--rate",
            "250",
            "--format",
            "raw",
            "--gil",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    await asyncio.sleep(1.0)  # let it attach before the load starts
    return spy, output


async def stop_py_spy(tag: str, spy: subprocess.Popen[bytes], output: Path) -> None:
    spy.send_signal(signal.SIGINT)
    deadline = now() + 60
    while spy.poll() is None and now() < deadline:
        await asyncio.sleep(0.1)
    if spy.poll() is None:
        spy.kill()
        spy.wait(timeout=10)
    if not output.exists():
        out(tag, "py-spy wrote nothing")
        return
    summary = output.with_suffix(".summary.txt")
    summary.write_text(summarize_collapsed(output))
    out(tag, f"py-spy: {output} (collapsed stacks), summary in {summary}:")
    for line in summary.read_text().splitlines()[:14]:
        out(tag, f"  {line}")


_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def summarize_collapsed(path: Path) -> str:
    """Self samples by package and by function, inclusive samples of our own functions."""
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = _FRAME.match(frames[-1])
        file = leaf.group("file") if leaf else frames[-1]
        function = leaf.group("function") if leaf else frames[-1]
        by_package[_package(file)] += count
        by_function[f"{function} ({file})"] += count
        seen = set()
        for frame in frames:
            match = _FRAME.match(frame)
            if match and "vizteh_bot" in match.group("file") and frame not in seen:
                seen.add(frame)
                inclusive[f"{match.group('function')} ({match.group('file')})"] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples of the thread holding the GIL; self time by package:"]
    lines += [f"{count / total:6.1%}  {name}" for name, count in by_package.most_common(14)]
    lines += ["", "self time by function:"]
    lines += [f"{count / total:6.1%}  {name}" for name, count in by_function.most_common(40)]
    lines += ["", "inclusive time of vizteh_bot functions:"]
    lines += [f"{count / total:6.1%}  {name}" for name, count in inclusive.most_common(30)]
    return "\n".join(lines) + "\n"


def _package(file: str) -> str:
    """py-spy shortens paths to "package/module.py" (site-packages or stdlib alike)."""
    if "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    if file.startswith("<") or "/" not in file:
        return file.removesuffix(".py")
    return file.split("/", 1)[0]


def render_profile(directory: Path, backend: str) -> None:
    session = directory / f"bot-{backend}.pyisession"
    if not session.exists():
        return
    for suffix, extra in (("tree", []), ("flat", ["-p", "flat=true"])):
        target = directory / f"bot-{backend}-{suffix}.txt"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pyinstrument",
                "--load",
                str(session),
                "-r",
                "text",
                "--no-color",
                "--unicode",
                *extra,
                "-o",
                str(target),
            ],
            check=False,
            capture_output=True,
            timeout=300,
        )
        out(backend, f"profile: {target}")


# ------------------------------------------------------------------------------ summary


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


# --------------------------------------------------------------------------------- main


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


async def main_async(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    print("=== VizTeh bot: whole request flow benchmark ===", flush=True)
    print(f"machine: {describe_machine()}")
    print(f"code: {describe_code()}")
    print(
        f"load: {args.clients} concurrent clients through the whole flow "
        f"({FLOW_UPDATES} updates each, "
        f"{f'think time {args.think:g} s +-50%' if args.think else 'no think time'}), "
        f"then {args.parked} clients parked "
        f"half-way; backends: {', '.join(backends)}"
    )
    print(
        f"Bot API: FakeBotAPI in this process on 127.0.0.1; the bot runs with "
        f"PACE_TIME_SCALE={PACE_TIME_SCALE}, i.e. as against an unlimited Bot API server "
        "(real Telegram: 25 msg/s overall, 15/min per group: the outbox would pace the "
        "cards to the manager chat far below these figures)"
    )
    if args.bot_env:
        print(f"NOTE: extra bot environment: {' '.join(args.bot_env)}")
    if args.probe:
        print("NOTE: --probe counts DB statements etc. inside the bot; its timings are skewed")
        if args.experiments:
            print(f"NOTE: what-if patches applied to the bot: {args.experiments}")
    if args.pyinstrument or args.py_spy:
        print(
            "NOTE: the bot is profiled (--pyinstrument/--py-spy); its timings and memory "
            "are skewed"
        )
    workdir = Path(tempfile.mkdtemp(prefix="vizteh-bench-"))
    postgres = None
    results: list[Result] = []
    try:
        if "postgres" in backends:
            from postgres_server import start_postgres

            postgres = await asyncio.to_thread(start_postgres)
        for backend in backends:
            print(flush=True)
            results.append(await bench_backend(backend, args, postgres, workdir / backend))
    finally:
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if results:
        print_summary(results)
    return 0 if results and all(result.ok for result in results) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (200)")
    parser.add_argument("--parked", type=int, default=10_000, help="parked sessions (10000)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds each phase may take at most (600)"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="a person's pause before each answer, +-50%% (default 0: answer "
        "at once, which saturates the bot: latencies are then queueing)",
    )
    parser.add_argument(
        "--paced-think",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="after the flow, run the same clients pausing SECONDS +-50%% before each answer "
        "and measure latency there (default 1; 0 skips)",
    )
    parser.add_argument(
        "--bot-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the bot (e.g. MALLOC_ARENA_MAX=2); repeatable",
    )
    parser.add_argument("--log-level", default="INFO", help="the bot's LOG_LEVEL (INFO)")
    parser.add_argument(
        "--probe",
        action="store_true",
        help="count DB statements, API calls, JSON and log records per update",
    )
    parser.add_argument(
        "--experiments",
        default="",
        help="with --probe: comma-separated what-if patches of bot_probe.py "
        "(inline-sync-filters, keep-response-types, gc-freeze, "
        "no-pre-ping, sqlite-one-connection, migrate-in-subprocess)",
    )
    parser.add_argument(
        "--pyinstrument",
        action="store_true",
        help="run the bot under pyinstrument (whole run, startup included)",
    )
    parser.add_argument(
        "--py-spy",
        metavar="BIN",
        help="sample the bot with this py-spy binary (--gil) during the flow",
    )
    parser.add_argument(
        "--profile-dir",
        default="/tmp/vizteh-bench-profiles",
        help="where --pyinstrument and --py-spy write (%(default)s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs and SQLite files")
    args = parser.parse_args()
    if args.clients < 1 or args.parked < 0 or args.timeout <= 0:
        parser.error("--clients must be >= 1, --parked >= 0, --timeout > 0")
    if args.think < 0 or args.paced_think < 0 or any("=" not in item for item in args.bot_env):
        parser.error("--think must be >= 0 and --bot-env NAME=VALUE")
    if args.experiments and not args.probe:
        parser.error("--experiments needs --probe (they are applied by benchmarks/bot_probe.py)")

    async def runner() -> int:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        return await main_async(args)

    try:
        return asyncio.run(runner())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; everything started was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
