"""`vizteh-bot check`: every check with ✓, ✗, ! or –, an exit code, and a form's questions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory

from support.bot_process import bot_environment, described, run_cli
from support.fake_bot_api import FakeBotAPI, Fault
from support.fake_objects import DEFAULT_PHOTO_ID
from support.telegram_user import MANAGER_CHAT_ID
from vizteh_bot.checks.database import known_revisions
from vizteh_bot.checks.telegram import EXAMPLE_MANAGER_CHAT_ID, EXAMPLE_TOKEN
from vizteh_bot.migrations import SCHEMA_HEAD, alembic_config

ROOT = Path(__file__).resolve().parents[1]
TOKEN_OK = "✓ TOKEN: Telegram accepts it: the bot is @vizteh_test_bot (id 1000000001)"
CHAT_OK = f"✓ MANAGER_CHAT_ID: the bot can post in supergroup «Managers» ({MANAGER_CHAT_ID})"
NO_PHOTO = "– PHOTO_ID: skipped because it is not set («О компании» is sent as text alone)"
DEFAULT_FORM = "✓ FORM_FILE: not set: the default form, 3 questions"


async def test_a_good_setup_is_all_ticks(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    env = bot_environment(api, database, PHOTO_ID=DEFAULT_PHOTO_ID)
    assert (await run_cli(env, "migrate", cwd=tmp_path)).code == 0
    run = await run_cli(env, "check", cwd=tmp_path)
    assert run.out.splitlines() == [
        TOKEN_OK,
        CHAT_OK,
        "✓ PHOTO_ID: Telegram knows the file",
        f"✓ database: {described(database)}: schema {SCHEMA_HEAD}, current",
        DEFAULT_FORM,
    ]
    assert "Traceback" not in run.err
    assert run.code == 0, run.err
    assert api.calls_for("getUpdates") == [], "check does not start the bot"


async def test_check_creates_no_database(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    run = await run_cli(bot_environment(api, database), "check", cwd=tmp_path)
    if "sqlite_path" in database:
        found = f"SQLite file {database['sqlite_path']} does not exist yet: the bot creates it"
        assert not database["sqlite_path"].exists()
    else:
        found = f"{described(database)}: no tables yet, the bot creates them when it starts"
    assert run.out.splitlines() == [
        TOKEN_OK,
        CHAT_OK,
        NO_PHOTO,
        f"✓ database: {found}",
        DEFAULT_FORM,
    ]
    assert run.code == 0, run.err


async def test_problems_are_crosses_and_exit_code_2(api: FakeBotAPI, tmp_path: Path) -> None:
    api.mute_bot(MANAGER_CHAT_ID)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    env = bot_environment(api, {"sqlite_path": notes}, PHOTO_ID="AgACfromAnotherBot")
    api.inject("getFile", error=Fault.bad_request("wrong file identifier/HTTP URL specified"))
    run = await run_cli(env, "check", cwd=tmp_path)
    assert run.out.splitlines() == [
        TOKEN_OK,
        f"✗ MANAGER_CHAT_ID: the bot is muted in supergroup «Managers» ({MANAGER_CHAT_ID}): "
        "let it send messages (the group's permissions), or make it an administrator",
        "! PHOTO_ID: Telegram refuses it (Bad Request: wrong file identifier/HTTP URL "
        "specified): «О компании» is sent as text alone; send the photo in the manager chat "
        "for a new id",
        f"✗ database: SQLITE_PATH={notes} is not an SQLite database (file is not a database): "
        "point SQLITE_PATH at the bot's database, or move this file away",
        DEFAULT_FORM,
    ]
    assert "Traceback" not in run.err
    assert run.code == 2, run.err


async def test_telegram_out_of_reach_is_exit_code_1(api: FakeBotAPI, tmp_path: Path) -> None:
    env = bot_environment(
        api, {"sqlite_path": tmp_path / "bot.sqlite3"}, TELEGRAM_API_URL="http://127.0.0.1:9"
    )
    run = await run_cli(env, "check", cwd=tmp_path)
    lines = run.out.splitlines()
    assert re.fullmatch(
        r"✗ Telegram: cannot reach Telegram at http://127\.0\.0\.1:9 \(.*Connect call failed.*\):"
        r" check the network",
        lines[0],
    ), lines[0]
    assert lines[1:4] == [
        "– TOKEN: skipped because Telegram could not be reached",
        "– MANAGER_CHAT_ID: skipped because Telegram could not be reached",
        NO_PHOTO,
    ]
    assert run.code == 1, run.err


async def test_the_example_values_of_env_example(api: FakeBotAPI, tmp_path: Path) -> None:
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert example["TOKEN"] == EXAMPLE_TOKEN
    assert int(example["MANAGER_CHAT_ID"]) == EXAMPLE_MANAGER_CHAT_ID
    values = {name: example[name] for name in ("TOKEN", "MANAGER_CHAT_ID")}
    env = bot_environment(api, {"sqlite_path": tmp_path / "bot.sqlite3"}, **values)
    run = await run_cli(env, "check", cwd=tmp_path)
    assert run.out.splitlines()[:3] == [
        "✗ TOKEN: still the example value from .env.example: write your bot's token from "
        "@BotFather (/newbot or /token) into .env",
        "✗ MANAGER_CHAT_ID: still the example value from .env.example: write the id of your "
        'managers\' chat into .env (see "Finding MANAGER_CHAT_ID" in README.md)',
        NO_PHOTO,
    ]
    assert api.calls == [], "nothing asked with the example token"
    assert run.code == 2


FORM = """
[[fields]]
id = "name"
type = "text"
max_length = 100
multiline = false
label = { ru = "Имя", en = "Name" }
question.ru = "Как вас зовут?"
question.en = "Your name?"

[[fields]]
id = "kind"
type = "choice"
options = ["Сайт", "Магазин"]
label.ru = "Проект"
question.ru = "Что <b>нужно</b>?"

[[fields]]
id = "budget"
type = "number"
required = false
min = 10000
question = { ru = "Бюджет?", en = "Budget?" }
"""


async def test_a_form_file_shows_its_questions_as_clients_see_them(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    form = tmp_path / "form.toml"
    form.write_text(FORM)
    env = bot_environment(api, {"sqlite_path": tmp_path / "bot.sqlite3"})
    run = await run_cli(env, "check", "--form", str(form), cwd=tmp_path)
    assert run.out.splitlines()[4:] == [
        f"✓ FORM_FILE: {form}: 3 questions",
        "",
        f"The form (FORM_FILE {form}), as clients see it:",
        "[ru]",
        "  1. Имя (text, required, up to 100 characters, one line)",
        "     Как вас зовут?",
        "  2. Проект (choice, required, 2 options)",
        "     Что нужно?",
        "     buttons: Сайт | Магазин",
        "  3. Бюджет (number, optional, at least 10000)",
        "     Бюджет?",
        "[en]",
        "  1. Name (text, required, up to 100 characters, one line)",
        "     Your name?",
        "  2. Проект (choice, required, 2 options)",
        "     (no en text: shown in ru)",
        "     Что нужно?",
        "     buttons: Сайт | Магазин",
        "  3. Budget (number, optional, at least 10000)",
        "     Budget?",
    ]
    assert run.code == 0, run.err


async def test_a_broken_form_file_is_a_cross_without_a_preview(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    form = tmp_path / "form.toml"
    form.write_text(FORM.replace('type = "choice"', 'type = "dropdown"'))
    env = bot_environment(api, {"sqlite_path": tmp_path / "bot.sqlite3"}, FORM_FILE=str(form))
    run = await run_cli(env, "check", cwd=tmp_path)
    assert run.out.splitlines()[4:] == [
        f"✗ FORM_FILE: {form}: field 2 (kind): unknown type 'dropdown'; "
        "expected text, phone, email, choice, number"
    ]
    assert run.code == 2


def test_the_revisions_the_checks_know_are_alembics() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))  # type: ignore[arg-type]
    assert known_revisions() == {revision.revision for revision in script.walk_revisions()}
    assert SCHEMA_HEAD in known_revisions()
