"""Benchmark the whole request flow of the real bot against an in-process fake Bot API.

    uv run python benchmarks/bench_flow.py [--clients 200] [--parked 10000]
                                           [--backend sqlite|postgres|all]

For each backend it starts the FakeBotAPI (tests/support/fake_bot_api.py) in this process and the
real bot as a subprocess (`python -m vizteh_bot`) on a fresh SQLite file or a fresh
PostgreSQL database (a throwaway cluster from tests/support/postgres_server.py), then:

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

# The harness touches its work and profile directories inline (mkdir, stat: microseconds).
# ruff: noqa: ASYNC240

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from flow_harness import (  # noqa: E402
    FLOW_STEPS,
    FLOW_UPDATES,
    BenchAPI,
    BenchError,
    Run,
    drive,
    floor_client,
    flow_client,
    park_client,
)
from flow_processes import (  # noqa: E402
    PACE_TIME_SCALE,
    TOKEN,
    Child,
    Database,
    bot_env,
    count_delta,
    machine_busy_cpu,
    postgres_cpu,
)
from flow_profilers import Probe, render_profile, start_py_spy, stop_py_spy  # noqa: E402
from flow_report import (  # noqa: E402
    Result,
    describe_code,
    describe_machine,
    mb,
    ms,
    out,
    percentile,
    print_card_latency,
    print_failures,
    print_latencies,
    print_summary,
)

WARMUP_CLIENTS = 5
FLOOR_RUNS = 5
PARK_UPDATES = 4  # /start, menu button, name, phone
FLOW_USER_BASE = 100_000_000
PARK_USER_BASE = 200_000_000
FLOOR_USER_BASE = 300_000_000
PACED_USER_BASE = 400_000_000


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
        delta = count_delta(after, before)
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
        print_card_latency(tag, run)
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
    lost = count_delta(after, before)["tickets"] - (api.card_tickets - cards_before)
    result.paced_think = args.paced_think
    result.p99_card_paced = percentile(run.card, 99)
    result.lost = (result.lost or 0) + lost
    result.completed = min(result.completed, run.completed)
    out(tag, f"completed {run.completed}/{args.clients} clients in {run.wall:.2f} s; LOST: {lost}")
    print_failures(tag, run, api)
    print_card_latency(tag, run)
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
