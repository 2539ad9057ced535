"""bench_flow.py's command line (its options are documented in benchmarks/README.md)."""

from __future__ import annotations

import argparse


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (200)")
    parser.add_argument("--parked", type=int, default=10_000, help="parked sessions (10000)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument(
        "--limits",
        type=int,
        default=200,
        metavar="N",
        help="last, N clients at once against Telegram's real limits, the bot pacing as in "
        "production (200; 0 skips)",
    )
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
    if args.clients < 1 or args.parked < 0 or args.limits < 0 or args.timeout <= 0:
        parser.error("--clients must be >= 1, --parked and --limits >= 0, --timeout > 0")
    if args.think < 0 or args.paced_think < 0 or any("=" not in item for item in args.bot_env):
        parser.error("--think must be >= 0 and --bot-env NAME=VALUE")
    return args
