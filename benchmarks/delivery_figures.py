"""Figures for "never lose a request": a burst of 200 and a SIGKILL mid-load, at Telegram's pace.

    uv run python benchmarks/delivery_figures.py [--backend sqlite|postgres|all] [--scale 1]

Starts the fake Bot API (with Telegram's limits: 20 messages a minute to a group, one a
second to a chat, 30 a second overall) and the real bot process, runs the scenarios in
tests/support/scenarios.py and prints what happened to every request. --scale speeds up both
the fake's clock and the bot's pacing (the tests use 10). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.bot_process import BotProcess, bot_environment
from support.fake_bot_api import FakeBotAPI
from support.postgres_server import PostgresServer, start_postgres
from support.scenarios import burst, crash, figures_block


async def run_backend(backend: str, scale: float, postgres: PostgresServer | None) -> None:
    for name in ("burst", "crash"):
        workdir = Path(tempfile.mkdtemp(prefix=f"vizteh-{name}-"))
        database: dict[str, Any] = {"sqlite_path": workdir / "bot.sqlite3"}
        if postgres is not None:
            database = {
                "db_host": postgres.host,
                "db_port": postgres.port,
                "db_user": postgres.user,
                "db_password": postgres.password,
                "db_name": f"figures_{uuid.uuid4().hex[:8]}",
            }
            await postgres.create_database(database["db_name"])
        async with FakeBotAPI() as api:
            environment = bot_environment(
                api, database, PACE_TIME_SCALE=scale, LOG_LEVEL="WARNING"
            )
            bot = BotProcess(api, environment, workdir / "bot.log")
            await bot.start()
            try:
                if name == "burst":
                    outcome = await burst(api, bot, clients=200, scale=scale)
                    print(figures_block(f"[{backend}] burst of 200 requests", outcome))
                else:
                    outcome, shown_at_kill = await crash(api, bot, scale=scale)
                    extra = {
                        "Send presses made": 70,
                        "requests shown before the SIGKILL": shown_at_kill,
                    }
                    print(figures_block(f"[{backend}] SIGKILL mid-load, restart", outcome, extra))
            finally:
                bot.stop_if_running()
        if postgres is not None:
            await postgres.drop_database(database["db_name"])
        shutil.rmtree(workdir, ignore_errors=True)
        print(flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--scale", type=float, default=1.0, help="clock speed-up (1 = real)")
    args = parser.parse_args()
    print(f"Telegram's limits at clock scale {args.scale:g} (1 = real time)\n")
    backends = ("sqlite", "postgres") if args.backend == "all" else (args.backend,)
    postgres = start_postgres() if "postgres" in backends else None
    try:
        for backend in backends:
            await run_backend(backend, args.scale, postgres if backend == "postgres" else None)
    finally:
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    asyncio.run(main())
