"""The async engine for PostgreSQL (asyncpg) or the embedded SQLite file (aiosqlite)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from vizteh_bot.config import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url()
    # Every use of a connection ends its transaction (commit, or the rollback of close()),
    # so the pool's own rollback on return would be a second round trip for nothing.
    if settings.uses_postgres:
        # No pre-ping round trip per checkout: a connection the server dropped fails once,
        # SQLAlchemy then invalidates the pool, and the outbox retries on its own.
        return create_async_engine(
            url, pool_size=10, max_overflow=10, pool_recycle=1800, pool_reset_on_return=None
        )
    if settings.sqlite_path.parent != settings.sqlite_path:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    # SQLite writes one at a time anyway; one connection (one aiosqlite thread) spares
    # the thread hand-offs and the busy-waiting of several writers.
    engine = create_async_engine(
        url,
        connect_args={"timeout": 30},
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
        pool_reset_on_return=None,
    )
    event.listen(engine.sync_engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work during a write; busy_timeout makes writers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


async def check_connection(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
