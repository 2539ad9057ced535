"""Applying the Alembic migrations shipped inside the package."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from vizteh_bot.config import Settings
    from vizteh_bot.db.engine import Database

# The newest revision in db/migrations/versions (a test keeps the two in step). Checking
# it with one query lets a bot whose schema is current never import Alembic (~9 MB).
SCHEMA_HEAD = "0001"


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


async def apply_migrations(settings: Settings) -> None:
    """Upgrade the schema; Alembic runs its own event loop, so it gets its own thread."""
    await asyncio.to_thread(upgrade_to_head, settings.database_url())


async def schema_is_current(database: Database) -> bool:
    try:
        async with database.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        return False  # no alembic_version table: a new database
    return bool(version == SCHEMA_HEAD)
