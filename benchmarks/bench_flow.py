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
6. runs --limits clients through the whole flow against Telegram's real limits, with a new
   bot process pacing as in production (flow_limits.py);
and ends with a summary table of the figures next to their targets. The clients type
realistic requests (tests/support/data.py). It prints figures and never asserts timings; it
exits 1 only when a client could not finish or a request was lost.

Everything talks to 127.0.0.1; every loop is bounded by count and by --timeout; every
process and server it starts is stopped at the end, on error too.
"""

# The harness touches its work and profile directories inline (mkdir, stat: microseconds).
# ruff: noqa: ASYNC240

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from flow_clients import flow_client  # noqa: E402
from flow_harness import FLOW_STEPS, FLOW_UPDATES, BenchAPI, BenchError, drive  # noqa: E402
from flow_limits import limits_phase  # noqa: E402
from flow_options import parse_args  # noqa: E402
from flow_phases import (  # noqa: E402
    FLOW_USER_BASE,
    WARMUP_CLIENTS,
    bench_floor,
    drop_database,
    make_database,
    paced_flow,
    park,
)
from flow_processes import (  # noqa: E402
    PACE_TIME_SCALE,
    Child,
    bot_env,
    count_delta,
    machine_busy_cpu,
    postgres_cpu,
)
from flow_profilers import (  # noqa: E402
    Probe,
    bot_command,
    render_profile,
    start_py_spy,
    stop_py_spy,
)
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


async def bench_backend(
    backend: str, args: argparse.Namespace, postgres: Any, workdir: Path
) -> Result:
    tag = backend
    result = Result(backend, args.clients, parked=args.parked)
    database = await make_database(tag, postgres, workdir, "bot")
    api = BenchAPI()
    await api.start()
    env = bot_env(api.url, database, args.log_level)
    env.update(item.split("=", 1) for item in args.bot_env)
    argv, probe = bot_command(args, backend, workdir, env)
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
        calls_before = Counter(api.methods)
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
        calls = Counter(api.methods)
        calls.subtract(calls_before)
        out(
            tag,
            "Bot API calls during the flow, per update: "
            + ", ".join(
                f"{method} {count / max(1, run.updates):.2f}"
                for method, count in calls.most_common()
                if count > 0
            ),
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

        if args.parked:
            await park(tag, args, api, bot, database, result, probe, probe_flow)
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
        await drop_database(postgres, database)
    if args.pyinstrument:
        render_profile(Path(args.profile_dir).resolve(), backend)
    await bench_floor(tag, args, workdir, result)
    if args.limits:
        await limits_phase(tag, args, postgres, workdir, result)
    return result


async def main_async(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    print("=== VizTeh bot: whole request flow benchmark ===", flush=True)
    print(f"machine: {describe_machine()}")
    print(f"code: {describe_code()}")
    print(
        f"load: {args.clients} concurrent clients through the whole flow "
        f"({FLOW_UPDATES} updates each, "
        f"{f'think time {args.think:g} s +-50%' if args.think else 'no think time'}), "
        f"then {args.parked} clients parked half-way"
        + (f", then {args.limits} at Telegram's real limits" if args.limits else "")
        + f"; clients type realistic requests (tests/support/data.py); backends: "
        f"{', '.join(backends)}"
    )
    print(
        f"Bot API: FakeBotAPI in this process on 127.0.0.1; the bot runs with "
        f"PACE_TIME_SCALE={PACE_TIME_SCALE}, i.e. as against an unlimited Bot API server "
        "(the bot paces itself to 25 msg/s overall and 18/min per group against Telegram: "
        "the last phase, --limits, runs it so against Telegram's real limits)"
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
            from support.postgres_server import start_postgres

            postgres = await asyncio.to_thread(start_postgres)
        for backend in backends:
            print(flush=True)
            server = postgres if backend == "postgres" else None
            results.append(await bench_backend(backend, args, server, workdir / backend))
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
    args = parse_args(__doc__.split("\n\n")[0])

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
