"""`vizteh-bot` (run the bot) and `vizteh-bot migrate` (only apply migrations)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pydantic import ValidationError

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

            asyncio.run(apply_migrations(settings))
            logger.info("Database schema is up to date")
            return 0
        from vizteh_bot.app import Application

        asyncio.run(Application(settings).run())
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        logger.error("Cannot reach the database or Telegram: %s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
