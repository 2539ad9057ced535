"""`vizteh-bot` (run the bot), `vizteh-bot migrate` (only apply migrations),
`vizteh-bot status` (how delivery stands) and `vizteh-bot check` (the settings against
Telegram, the database and the form file)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from vizteh_bot.config import Settings, describe_errors
from vizteh_bot.logging_setup import setup_logging
from vizteh_bot.migrations import MigrationFailed

logger = logging.getLogger("vizteh_bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vizteh-bot", description="VizTeh request bot")
    parser.add_argument(
        "command", nargs="?", choices=("run", "migrate", "status", "check"), default="run"
    )
    parser.add_argument(
        "--form",
        type=Path,
        metavar="FILE",
        help="check: show how this form file's questions look (default: FORM_FILE)",
    )
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
            return _migrate(settings)
        if args.command == "status":
            return _status(settings)
        if args.command == "check":
            from vizteh_bot.checks.run import check_command

            return check_command(settings, args.form or settings.form_file)
        return _run(settings)
    except KeyboardInterrupt:
        return 0
    except MigrationFailed:
        logger.error("The database schema could not be brought up to date (see above)")
        return 1
    except (SQLAlchemyError, OSError) as error:
        where = "PostgreSQL at DB_HOST" if settings.uses_postgres else "the SQLite file"
        logger.error("Cannot use the database (%s): %s", where, _first_line(error))
        return 1


def _migrate(settings: Settings) -> int:
    # Imports neither aiogram nor the bot: the bot runs this as a child process at start-up.
    from alembic.util import CommandError

    from vizteh_bot.migrations import apply_migrations

    if not settings.uses_postgres:
        # As the bot does when it opens the database: SQLite creates the file, not its folder.
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(apply_migrations(settings))
    except CommandError as error:
        # E.g. a database a newer version of the bot has migrated past what this one knows.
        logger.error("Cannot migrate the database: %s", _first_line(error))
        return 1
    logger.info("Database schema is up to date")
    return 0


def _run(settings: Settings) -> int:
    from aiogram.exceptions import TelegramUnauthorizedError

    from vizteh_bot.app.supervisor import TaskKeepsCrashing

    try:
        return asyncio.run(_checked_run(settings))
    except TelegramUnauthorizedError:
        # The token was revoked after the start-up checks passed.
        logger.error("Telegram refuses TOKEN: get a valid one from @BotFather (/token)")
        return 2
    except TaskKeepsCrashing as error:
        logger.error("Stopped: %s (see the tracebacks above)", error)
        return 1


async def _checked_run(settings: Settings) -> int:
    """The start-up checks, then the bot; the checks use the bot's own Bot and Database."""
    from vizteh_bot.app.application import Application
    from vizteh_bot.checks.run import CONFIG_ERROR, check_at_start
    from vizteh_bot.forms.loader import FormFileError
    from vizteh_bot.migrations import apply_migrations_in_child

    try:
        app = Application(settings, migrate=apply_migrations_in_child)
    except FormFileError:
        # The checks say what is wrong with it, and with whatever else.
        return await check_at_start(settings) or CONFIG_ERROR
    code = await check_at_start(settings, bot=app.bot, database=app.database)
    if code is not None:
        await app.close()
        return code
    await app.run()
    return 0


def _status(settings: Settings) -> int:
    """Print how delivery stands; exit 1 if messages sit in quarantine."""
    from vizteh_bot.db.engine import create_database
    from vizteh_bot.db.uow import Store
    from vizteh_bot.migrations import schema_is_current
    from vizteh_bot.services.delivery_status import delivery_report, report_lines

    if not settings.uses_postgres and not settings.sqlite_path.is_file():
        # A report must not create the file it reports on.
        logger.error(
            "No database at SQLITE_PATH=%s: check the path, or start the bot once",
            settings.sqlite_path,
        )
        return 1

    async def report() -> list[str] | None:
        database = create_database(settings)
        try:
            if not await schema_is_current(database):
                return None
            found = await delivery_report(Store(database))
        finally:
            await database.dispose()
        return [*report_lines(found), "quarantined" if found.quarantined else "ok"]

    result = asyncio.run(report())
    if result is None:
        logger.error("The database has no tables of this bot's version: run `vizteh-bot migrate`")
        return 1
    *lines, verdict = result
    print("\n".join(lines))
    return 1 if verdict == "quarantined" else 0


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__


if __name__ == "__main__":
    sys.exit(main())
