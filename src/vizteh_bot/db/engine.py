"""The database the repositories talk to: PostgreSQL over asyncpg, or the embedded SQLite file.

Both give the same small interface (`Database`): `connect()` where each statement is a
transaction of its own (reads, and writes that are one statement), `begin()` for a
transaction of several, and connections whose `execute`/`scalar` take Core statements.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event, text

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from contextlib import AbstractAsyncContextManager
    from pathlib import Path

    from sqlalchemy.engine import Connection as SyncConnection
    from sqlalchemy.engine import CursorResult, Dialect
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.sql.base import Executable

    from vizteh_bot.config import Settings

# How long a statement waits for another process's write lock on the SQLite file
# (`vizteh-bot migrate` run next to the bot, say) before it fails.
SQLITE_BUSY_TIMEOUT_SECONDS = 5
POSTGRES_POOL_SIZE = 20
# A PostgreSQL server that does not answer (overloaded, frozen, a network that drops
# packets) fails the one step waiting for it after this long, with a clear answer to the
# person, instead of leaving them and their button press hanging.
POSTGRES_TIMEOUT_SECONDS = 5


class Connection(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    async def execute(
        self, statement: Executable, parameters: Any = None
    ) -> CursorResult[Any]: ...

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any: ...


class Database(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    def connect(self) -> AbstractAsyncContextManager[Connection]:
        """For reads and one-statement writes: no BEGIN/COMMIT around each statement.

        (PostgreSQL runs it in autocommit mode; SQLite commits the block at its end.)
        """

    def begin(self) -> AbstractAsyncContextManager[Connection]:
        """A transaction: committed when the block ends, rolled back if it raises."""

    async def dispose(self) -> None: ...


def create_database(settings: Settings) -> Database:
    if settings.uses_postgres:
        return PostgresDatabase(settings.database_url())
    return SqliteDatabase(settings.sqlite_path)


class PostgresDatabase:
    """asyncpg through SQLAlchemy's async engine and its connection pool."""

    def __init__(self, url: str) -> None:
        # Imported here: the async extension pulls in the ORM, which SQLite never needs.
        from sqlalchemy.ext.asyncio import create_async_engine

        # No pre-ping round trip per checkout: a connection the server dropped fails once,
        # SQLAlchemy then invalidates the pool, and the outbox retries on its own. Every
        # use ends its transaction, so the pool's own rollback on return is skipped too.
        # A fixed pool: overflow connections were opened and closed again under load, and
        # each new asyncpg connection costs a handshake and SQLAlchemy's type set-up.
        self._engine: AsyncEngine = create_async_engine(
            url,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=0,
            pool_timeout=POSTGRES_TIMEOUT_SECONDS,
            pool_recycle=1800,
            pool_reset_on_return=None,
            connect_args={
                "timeout": POSTGRES_TIMEOUT_SECONDS,
                "command_timeout": POSTGRES_TIMEOUT_SECONDS,
            },
        )
        # The same pool without BEGIN and COMMIT: one round trip per statement instead of three.
        self._autocommit = self._engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    def connect(self) -> AbstractAsyncContextManager[Connection]:
        return self._autocommit.connect()

    def begin(self) -> AbstractAsyncContextManager[Connection]:
        return self._engine.begin()

    async def dispose(self) -> None:
        await self._engine.dispose()


class SqliteDatabase:
    """One connection to the file, used from the event loop itself.

    A statement on a local SQLite file takes tens of microseconds, less than handing it to
    a thread and waking the loop for the answer (aiosqlite did that for every call, and
    it was the bot's largest cost per update). A lock keeps a transaction to one task.
    """

    def __init__(self, path: Path) -> None:
        if path.parent != path:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._engine = create_sync_engine(
            f"sqlite+pysqlite:///{path}",
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            pool_size=1,
            max_overflow=0,
        )
        event.listen(self._engine, "connect", _tune_sqlite)
        self._connection: SyncConnection | None = None
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    def connect(self) -> AbstractAsyncContextManager[Connection]:
        # The sqlite3 module opens a transaction before a write and none before a read, so
        # committing at the end makes a block of one statement exactly that statement.
        return self.begin()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Connection]:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            # The lock is not re-entrant: waiting for it here would wait forever.
            raise RuntimeError("the SQLite connection is already in use by this task")
        async with self._lock:
            self._holder = task
            connection = self._open()
            committed = False
            try:
                yield _LoopConnection(connection)
                connection.commit()
                committed = True
            finally:
                self._holder = None
                if not committed:
                    self._rollback(connection)

    async def dispose(self) -> None:
        async with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._engine.dispose()

    def _open(self) -> SyncConnection:
        if self._connection is None or self._connection.closed:
            self._connection = self._engine.connect()
        return self._connection

    def _rollback(self, connection: SyncConnection) -> None:
        try:
            connection.rollback()
        finally:
            if connection.invalidated:
                # The file went away or broke: the next use opens it again.
                connection.close()
                self._connection = None


class _LoopConnection:
    """The synchronous connection behind the async interface the repositories use."""

    __slots__ = ("_connection",)

    def __init__(self, connection: SyncConnection) -> None:
        self._connection = connection

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return self._connection.execute(statement, parameters)

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any:
        return self._connection.scalar(statement, parameters)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work during a write; NORMAL syncs at checkpoints, not every commit.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def check_connection(database: Database) -> None:
    async with database.connect() as connection:
        await connection.execute(text("SELECT 1"))
