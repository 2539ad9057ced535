"""`vizteh-bot` (run the bot) and `vizteh-bot migrate` (only apply migrations)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from vizteh_bot.config import Settings, describe_errors
from vizteh_bot.logging_setup import setup_logging

logger = logging.getLogger("vizteh_bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vizteh-bot", description="VizTeh request bot")
    parser.add_argument("command", nargs="?", choices=("run", "migrate"), default="run")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"vizteh-bot: {line}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.token.get_secret_value())
    try:
        if args.command == "migrate":
            from vizteh_bot.migrations import apply_migrations

            if not settings.uses_postgres:
                # As `run` does when it opens the engine: SQLite creates the file, not its folder.
                settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            asyncio.run(apply_migrations(settings))
            logger.info("Database schema is up to date")
            return 0
        from vizteh_bot.app import Application

        asyncio.run(Application(settings).run())
    except KeyboardInterrupt:
        return 0
    except TelegramUnauthorizedError:
        logger.error("Telegram rejects TOKEN: check it with @BotFather")
        return 1
    except TelegramNetworkError as error:
        logger.error("Cannot reach Telegram at TELEGRAM_API_URL: %s", error.message)
        return 1
    except (SQLAlchemyError, OSError) as error:
        where = "PostgreSQL at DB_HOST" if settings.uses_postgres else "the SQLite file"
        logger.error("Cannot use the database (%s): %s", where, _first_line(error))
        return 1
    return 0


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__


if __name__ == "__main__":
    sys.exit(main())
