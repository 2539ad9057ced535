"""bench_flow.py's phases after the saturated flow: the paced flow, parking and the floor;
and the fresh database each bot process of a phase gets.
"""

# The harness touches its work directory inline (mkdir: microseconds).
# ruff: noqa: ASYNC240

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from flow_clients import floor_client, flow_client, park_client
from flow_harness import FLOW_STEPS, FLOW_UPDATES, BenchAPI, BenchError, Run, drive
from flow_processes import TOKEN, Child, Database, count_delta
from flow_profilers import Probe
from flow_report import (
    Result,
    mb,
    out,
    percentile,
    print_card_latency,
    print_failures,
    print_latencies,
)

BENCH_DIR = Path(__file__).resolve().parent
WARMUP_CLIENTS = 5
FLOOR_RUNS = 5
PARK_UPDATES = 4  # /start, menu button, name, phone
FLOW_USER_BASE = 100_000_000
PARK_USER_BASE = 200_000_000
FLOOR_USER_BASE = 300_000_000
PACED_USER_BASE = 400_000_000


async def make_database(tag: str, postgres: Any, workdir: Path, name: str) -> Database:
    """A fresh SQLite file `name`.sqlite3 in `workdir`, or a fresh database in the cluster."""
    workdir.mkdir(parents=True, exist_ok=True)
    if postgres is None:
        path = workdir / f"{name}.sqlite3"
        out(tag, f"database: fresh SQLite file {path} (WAL, synchronous=NORMAL)")
        return Database("sqlite", {"SQLITE_PATH": str(path), "DB_HOST": ""}, sqlite_path=path)
    db_name = f"bench_{uuid.uuid4().hex[:10]}"
    await postgres.create_database(db_name)
    out(
        tag,
        f"database: fresh PostgreSQL database {db_name} on {postgres.host}:{postgres.port} "
        "(throwaway cluster: fsync=off, synchronous_commit=off)",
    )
    env = {
        "DB_HOST": postgres.host,
        "DB_PORT": str(postgres.port),
        "DB_NAME": db_name,
        "DB_USER": postgres.user,
        "DB_PASSWORD": postgres.password,
    }
    return Database("postgres", env, dsn=postgres.dsn(db_name))


async def drop_database(postgres: Any, database: Database) -> None:
    if postgres is not None and database.backend == "postgres":
        try:
            await postgres.drop_database(database.env["DB_NAME"])
        except Exception as error:
            print(f"could not drop {database.env['DB_NAME']}: {error}", file=sys.stderr)


async def paced_flow(
    tag: str, args: argparse.Namespace, api: BenchAPI, database: Database, result: Result
) -> None:
    """The flow again, with each person pausing before each answer, as people do.

    The saturated flow measures throughput; its latencies are the queue of 200 clients who
    answer instantly (even the floor's replies wait hundreds of ms there). Latency of a bot
    serving people is measured here, with the same 200 at once.
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
    lost = count_delta(after, before)["tickets"] - (api.card_tickets - cards_before)
    result.paced_think = args.paced_think
    result.p99_card_paced = percentile(run.card, 99)
    result.lost = (result.lost or 0) + lost
    result.completed = min(result.completed, run.completed)
    out(tag, f"completed {run.completed}/{args.clients} clients in {run.wall:.2f} s; LOST: {lost}")
    print_failures(tag, run, api)
    print_card_latency(tag, run)
    print_latencies(tag, run, FLOW_STEPS)


async def park(
    tag: str,
    args: argparse.Namespace,
    api: BenchAPI,
    bot: Child,
    database: Database,
    result: Result,
    probe: Probe | None,
    probe_before: Counter[str],
) -> None:
    """--parked people stop half-way (name and phone given): what their sessions cost."""
    out(
        tag,
        f"--- parking {args.parked} clients half-way (name and phone given), "
        f"{args.clients} at a time ---",
    )
    await asyncio.sleep(1.0)
    rss_before = bot.memory()["VmRSS"]
    run = await drive(
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
    result.parked_completed = run.completed
    result.parked_added = memory["VmRSS"] - rss_before
    out(
        tag,
        f"parked {run.completed}/{args.parked} clients in {run.wall:.1f} s "
        f"({run.updates_per_second:.1f} updates/s); fsm rows in the DB: "
        f"{parked_db['fsm states']}",
    )
    print_failures(tag, run, api)
    print_latencies(tag, run, FLOW_STEPS[:4])
    out(
        tag,
        f"bot RSS before parking {mb(rss_before)}, after {mb(memory['VmRSS'])}: "
        f"parked sessions add {mb(result.parked_added)} "
        f"({result.parked_added / max(run.completed, 1):.0f} bytes per session); "
        f"peak RSS now {mb(memory['VmHWM'])}",
    )
    if probe:
        Probe.report(tag, "parking", probe_park - probe_before, run.updates)


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
                seed=FLOW_USER_BASE,  # the flow's names, phones and texts
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
