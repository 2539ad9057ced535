"""The database the settings point at: can the bot open it, and is its schema one it knows?"""

from __future__ import annotations

import asyncio
import logging
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError, SQLAlchemyError

from vizteh_bot.checks.findings import failed, ok
from vizteh_bot.db.engine import create_database
from vizteh_bot.migrations import SCHEMA_HEAD

if TYPE_CHECKING:
    from vizteh_bot.checks.findings import Finding
    from vizteh_bot.config import Settings
    from vizteh_bot.db.engine import Database

logger = logging.getLogger(__name__)
SUBJECT = "database"
# How often a start that waits for PostgreSQL tries it again.
RETRY_SECONDS = 1.0
# PostgreSQL's error codes (SQLSTATE) for what a person must fix, and for a server that
# is still starting or shutting down (that one passes by itself).
_AUTH_FAILED = "28P01"
_NO_SUCH_ROLE = "28000"
_NO_SUCH_DATABASE = "3D000"
_NOT_YET = {"57P03", "57P01", "57P02", "08006", "08001"}


async def check_database(settings: Settings, database: Database | None = None) -> Finding:
    """Open the database (`database`, or one of its own) and read its schema revision."""
    if not settings.uses_postgres:
        path = settings.sqlite_path
        if not path.exists():
            # A check must not create the file it checks; the bot creates it at start.
            return ok(SUBJECT, f"SQLite file {path} does not exist yet: the bot creates it")
        if not path.is_file():
            return failed(SUBJECT, f"SQLITE_PATH={path} is not a file: point it at a file")
    own = database is None
    opened = create_database(settings) if database is None else database
    try:
        revision = await schema_revision(opened)
    except (SQLAlchemyError, OSError) as error:
        return _refused(settings, error)
    finally:
        if own:
            await opened.dispose()
    return _schema(settings, revision)


async def wait_for_database(
    settings: Settings, database: Database | None, seconds: float, found: Finding
) -> Finding:
    """After `found`, a first check that could not reach the server: try again for up to
    `seconds` (PostgreSQL started by the same systemd or docker compose may be starting)."""
    if not found.unreachable or seconds <= 0:
        return found
    logger.warning("%s: %s; waiting up to %g s (DB_WAIT_SECONDS)", SUBJECT, found.text, seconds)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while found.unreachable and loop.time() < deadline:
        await asyncio.sleep(min(RETRY_SECONDS, max(0.0, deadline - loop.time())))
        found = await check_database(settings, database)
    return found


async def schema_revision(database: Database) -> str | None:
    """The Alembic revision of the schema; None for a database without the bot's tables.

    An error opening the database is raised, not taken for an empty one.
    """
    async with database.connect() as connection:
        try:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        except (OperationalError, ProgrammingError) as error:
            if "alembic_version" not in str(error.orig):
                raise
            return None
    return None if version is None else str(version)


def known_revisions() -> frozenset[str]:
    """The revisions this bot ships, from its migrations' file names (`0002_….py`): the bot
    does not load Alembic to learn them."""
    versions = resources.files("vizteh_bot.db").joinpath("migrations", "versions")
    names = (entry.name for entry in versions.iterdir() if entry.name.endswith(".py"))
    return frozenset(name.split("_", 1)[0] for name in names if name[:1].isdigit())


def _schema(settings: Settings, revision: str | None) -> Finding:
    where = _where(settings)
    if revision is None:
        return ok(SUBJECT, f"{where}: no tables yet, the bot creates them when it starts")
    if revision == SCHEMA_HEAD:
        return ok(SUBJECT, f"{where}: schema {revision}, current")
    if revision in known_revisions():
        return ok(SUBJECT, f"{where}: schema {revision}, the bot updates it when it starts")
    return failed(
        SUBJECT,
        f"{where}: the schema (revision {revision}) is newer than this bot (up to "
        f"{SCHEMA_HEAD}): update the bot, or point it at another database",
    )


def _refused(settings: Settings, error: BaseException) -> Finding:
    reason = _first_line(error)
    if not settings.uses_postgres:
        path = settings.sqlite_path
        if "not a database" in reason:
            return failed(
                SUBJECT,
                f"SQLITE_PATH={path} is not an SQLite database ({reason}): point SQLITE_PATH "
                "at the bot's database, or move this file away",
            )
        return failed(SUBJECT, f"cannot open SQLITE_PATH={path} ({reason})")
    server = f"PostgreSQL at {settings.db_host}:{settings.db_port}"
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    if code == _AUTH_FAILED or "password authentication failed" in reason:
        return failed(
            SUBJECT, f"{server} refuses the password of user {settings.db_user}: check DB_PASSWORD"
        )
    if code == _NO_SUCH_DATABASE:
        return failed(
            SUBJECT,
            f"{server} has no database {settings.db_name!r}: check DB_NAME, or create it "
            '(see "Preparing the database" in README.md)',
        )
    if code == _NO_SUCH_ROLE:
        return failed(
            SUBJECT, f"{server} refuses user {settings.db_user} ({reason}): check DB_USER"
        )
    if isinstance(error, OSError) or code in _NOT_YET or _lost_connection(error):
        return failed(
            SUBJECT,
            f"cannot reach {server} ({reason}): is it running? Check DB_HOST and DB_PORT",
            unreachable=True,
        )
    return failed(SUBJECT, f"{server}: {reason}")


def _where(settings: Settings) -> str:
    if settings.uses_postgres:
        return (
            f"PostgreSQL at {settings.db_host}:{settings.db_port}, "
            f"database {settings.db_name} as {settings.db_user}"
        )
    return f"SQLite file {settings.sqlite_path}"


def _lost_connection(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    if isinstance(cause, TimeoutError) and not lines:
        return "no answer in time"
    return lines[0] if lines else type(cause).__name__
