"""Applying the Alembic migrations shipped inside the package."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from vizteh_bot.config import Settings
    from vizteh_bot.db.engine import Database

# The newest revision in db/migrations/versions (a test keeps the two in step). Checking
# it with one query lets a bot whose schema is current never import Alembic (~9 MB).
SCHEMA_HEAD = "0004"


def alembic_config(database_url: str) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "vizteh_bot.db:migrations")
    # ConfigParser treats "%" as interpolation; a password may contain one.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")  # type: ignore[arg-type]


class MigrationFailed(RuntimeError):
    pass


async def apply_migrations(settings: Settings) -> None:
    """Upgrade the schema; Alembic runs its own event loop, so it gets its own thread."""
    await asyncio.to_thread(upgrade_to_head, settings.database_url())


async def apply_migrations_in_child(settings: Settings) -> None:
    """Upgrade the schema by running `vizteh-bot migrate` as a child process.

    For a bot whose settings come from the environment, as the child's do: Alembic and
    the async engine it migrates with stay out of the long-running process (about 15 MB
    of modules that would otherwise be kept for its whole life). The child logs its own
    errors.
    """
    del settings  # the child reads the same environment and .env file
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", "vizteh_bot", "migrate")
    code = await child.wait()
    if code != 0:
        raise MigrationFailed(f"`vizteh-bot migrate` exited with code {code}")


async def schema_is_current(database: Database) -> bool:
    try:
        async with database.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        return False  # no alembic_version table: a new database
    return bool(version == SCHEMA_HEAD)
