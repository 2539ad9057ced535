"""A database brought to a given schema revision, as an older version of the bot left it."""

from __future__ import annotations

from vizteh_bot.config import Settings
from vizteh_bot.migrations import alembic_config


def upgrade(settings: Settings, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(settings.database_url()), revision)  # type: ignore[arg-type]
