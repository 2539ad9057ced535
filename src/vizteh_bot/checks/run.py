"""All checks in one round: for `vizteh-bot check`, and before every start of the bot."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, NamedTuple

from vizteh_bot.checks.database import SUBJECT as DATABASE
from vizteh_bot.checks.database import check_database, wait_for_database
from vizteh_bot.checks.findings import Level
from vizteh_bot.checks.form_preview import check_form, preview_lines
from vizteh_bot.checks.telegram import check_telegram, example_values
from vizteh_bot.telegram.bot import create_bot
from vizteh_bot.texts import SUPPORTED_LOCALES

if TYPE_CHECKING:
    from pathlib import Path

    from aiogram import Bot

    from vizteh_bot.checks.findings import Finding
    from vizteh_bot.config import Settings
    from vizteh_bot.db.engine import Database
    from vizteh_bot.domain.form import Form

logger = logging.getLogger(__name__)
CONFIG_ERROR = 2
UNREACHABLE = 1
_ORDER = ("Telegram", "TOKEN", "MANAGER_CHAT_ID", "PHOTO_ID", DATABASE, "FORM_FILE")


class Checked(NamedTuple):
    found: list[Finding]  # in a fixed order
    database: Finding  # also in `found`: a start may wait for the database
    form: Form | None  # None: the form file cannot be used


async def run_checks(
    settings: Settings, *, bot: Bot, database: Database | None, form_file: Path | None
) -> Checked:
    telegram, data = await asyncio.gather(
        check_telegram(settings, bot), check_database(settings, database)
    )
    form_found, form = check_form(form_file, settings.default_locale)
    found = [*example_values(settings), *telegram, data, form_found]
    return Checked(sorted(found, key=lambda item: _ORDER.index(item.subject)), data, form)


def exit_code(found: list[Finding]) -> int:
    """2 for a problem in the settings; else 1 if Telegram or the database was out of reach."""
    if any(item.is_problem for item in found):
        return CONFIG_ERROR
    return UNREACHABLE if any(item.failed for item in found) else 0


async def check_at_start(
    settings: Settings, *, bot: Bot | None = None, database: Database | None = None
) -> int | None:
    """Print one line per problem to stderr and return the exit code; None: start the bot.

    Given the bot's own Bot and Database, the checks open what the bot goes on using.
    Telegram out of reach is only a warning (polling retries); PostgreSQL out of reach is
    waited for, up to DB_WAIT_SECONDS.
    """
    asking = create_bot(settings) if bot is None else bot
    try:
        found, data, _ = await run_checks(
            settings, bot=asking, database=database, form_file=settings.form_file
        )
    finally:
        if asking is not bot:
            await asking.session.close()
    if data.unreachable and not any(item.is_problem for item in found):
        waited = await wait_for_database(settings, database, settings.db_wait_seconds, data)
        found = [waited if item is data else item for item in found]
        data = waited
    stops = [item for item in found if item.is_problem] or ([data] if data.unreachable else [])
    for item in found:
        if item not in stops and (item.level is Level.WARNING or item.failed):
            logger.warning("%s: %s", item.subject, item.text)
    for item in stops:
        print(f"vizteh-bot: {item.subject}: {item.text}", file=sys.stderr)
    return exit_code(stops) if stops else None


def check_command(settings: Settings, form_file: Path | None) -> int:
    """`vizteh-bot check`: print every finding (and the form's questions); the exit code."""

    async def run() -> Checked:
        bot = create_bot(settings)
        try:
            return await run_checks(settings, bot=bot, database=None, form_file=form_file)
        finally:
            await bot.session.close()

    checked = asyncio.run(run())
    print("\n".join(item.line() for item in checked.found))
    if form_file is not None and checked.form is not None:
        print("\n".join(["", *preview_lines(checked.form, SUPPORTED_LOCALES)]))
    return exit_code(checked.found)
