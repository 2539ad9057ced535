"""The real bot as a separate process, for crash, restart and shutdown tests, and the
`vizteh-bot` command run to its end (start-up checks, `check`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from support.fake_bot_api import FakeBotAPI
from support.running_bot import BOT_TOKEN
from support.telegram_user import MANAGER_CHAT_ID
from vizteh_bot.config import Settings
from vizteh_bot.db.engine import create_database


def bot_environment(api: FakeBotAPI, database: dict[str, Any], **extra: Any) -> dict[str, str]:
    """Environment variables, as in `.env`, for a bot talking to the fake server."""
    values: dict[str, Any] = {
        "TOKEN": BOT_TOKEN,
        "MANAGER_CHAT_ID": MANAGER_CHAT_ID,
        "TELEGRAM_API_URL": api.url,
        "TICKETS_PER_HOUR": 1000,
        "LOG_LEVEL": "INFO",
        **{key.upper(): value for key, value in database.items()},
        **extra,
    }
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")}
    environment.update({key: str(value) for key, value in values.items()})
    return environment


class BotProcess:
    def __init__(self, api: FakeBotAPI, environment: dict[str, str], log: Path) -> None:
        self._api = api
        self._environment = environment
        self._log_path = log
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        mark = self._api.mark()
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                [sys.executable, "-m", "vizteh_bot"],
                env=self._environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._log_path.parent,
            )
        await self._api.wait_for_call(
            lambda call: call.method == "getUpdates", start=mark, timeout=30
        )

    def kill(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(10)

    async def terminate(self, timeout: float = 30.0) -> int:
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        for _ in range(int(timeout * 20)):
            code = self._process.poll()
            if code is not None:
                return code
            await asyncio.sleep(0.05)
        self._process.kill()
        raise AssertionError(f"the bot did not stop within {timeout} s of SIGTERM")

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        """Read the process's database through a short-lived connection of our own."""
        values = {key.lower(): value for key, value in self._environment.items()}
        values.pop("path"), values.pop("home")
        database = create_database(Settings(_env_file=None, **values))  # type: ignore[call-arg]
        try:
            async with database.connect() as connection:
                return [dict(row._mapping) for row in await connection.execute(text(sql))]
        finally:
            await database.dispose()

    def log(self) -> str:
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    def stop_if_running(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)


@dataclass
class Run:
    """A finished `vizteh-bot` command: its exit code, stdout and stderr."""

    code: int
    out: str
    err: str

    def lines(self) -> list[str]:
        """The one-line messages the bot printed (log lines have a time stamp before)."""
        return [line for line in self.err.splitlines() if line.startswith("vizteh-bot: ")]


async def run_cli(
    env: dict[str, str], *args: str, cwd: Path, until_polling: FakeBotAPI | None = None
) -> Run:
    """Run the command to its end; with `until_polling`, until it polls, then stop it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "vizteh_bot", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        if until_polling is not None:
            await until_polling.wait_for_call(lambda c: c.method == "getUpdates", timeout=30)
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return Run(process.returncode or 0, out.decode(), err.decode())


def described(database: dict[str, Any]) -> str:
    """The database as the start-up checks name it."""
    if "db_host" in database:
        return (
            f"PostgreSQL at {database['db_host']}:{database['db_port']}, "
            f"database {database['db_name']} as {database['db_user']}"
        )
    return f"SQLite file {database['sqlite_path']}"
