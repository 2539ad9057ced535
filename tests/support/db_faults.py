"""A database that stops answering: another program holding a lock the bot needs.

On SQLite, a write transaction on the file (the bot waits its busy timeout, then fails);
on PostgreSQL, a table lock (the bot's statement waits its command timeout, then fails).
Either way the bot meets a real database failure, not a stand-in of our own code.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg


class WriteLock:
    """Another program's write transaction on the SQLite file, held from a thread of its own
    (the bot blocks the event loop this test shares with it)."""

    def __init__(self, path: Path, seconds: float, *, until_exit: bool = False) -> None:
        self._path = path
        self._seconds = seconds
        self._until_exit = until_exit
        self._held = threading.Event()
        self._released = threading.Event()
        self.released_at = 0.0
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def __enter__(self) -> WriteLock:
        self._thread.start()
        assert self._held.wait(5), "the other program could not take the lock"
        return self

    def __exit__(self, *_: object) -> None:
        if self._until_exit:
            self._released.set()
        self._thread.join(self._seconds + 5)

    def _hold(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            self._held.set()
            self._released.wait(self._seconds)
            self.released_at = time.monotonic()
            connection.execute("COMMIT")
        finally:
            connection.close()


@contextlib.asynccontextmanager
async def table_locked(
    database: dict[str, Any], table: str, seconds: float, *, until_exit: bool = False
) -> AsyncIterator[None]:
    """`table` locked against the bot: on SQLite for `seconds` (with `until_exit`, until the
    block ends if that is sooner), on PostgreSQL until the block ends."""
    if "sqlite_path" in database:
        with WriteLock(database["sqlite_path"], seconds, until_exit=until_exit):
            yield
        return
    connection = await asyncpg.connect(
        host=database["db_host"],
        port=database["db_port"],
        user=database["db_user"],
        password=database["db_password"],
        database=database["db_name"],
    )
    try:
        async with connection.transaction():
            await connection.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
            yield
    finally:
        await connection.close()
