"""Applying the Alembic migrations shipped inside the package."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vizteh_bot.config import Settings


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
