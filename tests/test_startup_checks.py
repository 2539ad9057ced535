"""The checks every start runs, as the real `vizteh-bot` process prints them: one line per
problem and exit code 2 (1 when the database cannot be reached), never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from support.bot_process import Run, bot_environment, described, run_cli
from support.fake_bot_api import FakeBotAPI, Fault
from support.postgres_server import PostgresServer
from support.running_bot import BOT_TOKEN
from support.telegram_user import MANAGER_CHAT_ID
from vizteh_bot.config import Settings
from vizteh_bot.db.engine import create_database
from vizteh_bot.migrations import SCHEMA_HEAD

ID_HINT = "a group's id starts with a minus sign, a supergroup's with -100"
WHERE = f"supergroup «Managers» ({MANAGER_CHAT_ID})"


def assert_stops(run: Run, line: str, code: int = 2) -> None:
    assert "Traceback" not in run.err, run.err
    assert run.lines() == [f"vizteh-bot: {line}"], run.err
    assert run.code == code, run.err


@pytest.fixture
def sqlite_env(api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    """A good setup on SQLite; a test breaks one thing in it."""
    return bot_environment(api, {"sqlite_path": tmp_path / "bot.sqlite3"})


async def sql(database: dict[str, Any], *statements: str) -> None:
    values = {"token": BOT_TOKEN, "manager_chat_id": MANAGER_CHAT_ID, **database}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    opened = create_database(settings)
    try:
        async with opened.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await opened.dispose()


# ------------------------------------------------------------------------------ Telegram


@pytest.mark.parametrize(
    ("variables", "line"),
    [
        pytest.param(
            {"TOKEN": "123456789:replace-with-your-token-from-BotFather"},
            "TOKEN: still the example value from .env.example: write your bot's token from "
            "@BotFather (/newbot or /token) into .env",
            id="example-token",
        ),
        pytest.param(
            {"MANAGER_CHAT_ID": "-1001234567890"},
            "MANAGER_CHAT_ID: still the example value from .env.example: write the id of your "
            'managers\' chat into .env (see "Finding MANAGER_CHAT_ID" in README.md)',
            id="example-chat-id",
        ),
    ],
)
async def test_an_example_value_stops_the_bot_before_it_asks_telegram(
    api: FakeBotAPI,
    sqlite_env: dict[str, str],
    tmp_path: Path,
    variables: dict[str, str],
    line: str,
) -> None:
    run = await run_cli({**sqlite_env, **variables}, cwd=tmp_path)
    assert_stops(run, line)
    if "TOKEN" in variables:
        assert api.calls == []
    assert api.calls_for("getUpdates") == []


async def test_a_token_telegram_refuses_names_botfather(
    api: FakeBotAPI, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    api.revoked_tokens.add(BOT_TOKEN)
    run = await run_cli(sqlite_env, cwd=tmp_path)
    assert_stops(
        run, "TOKEN: Telegram refuses this token: get a valid one from @BotFather (/token)"
    )
    assert not (tmp_path / "bot.sqlite3").exists(), "stopped before it created the database"


@pytest.mark.parametrize(
    ("chat_id", "fix"),
    [
        pytest.param(MANAGER_CHAT_ID, "add the bot to the group", id="group"),
        pytest.param(
            7001,
            "the person must send /start to the bot first (a group: add the bot to it)",
            id="person",
        ),
    ],
)
async def test_a_chat_telegram_does_not_know_says_to_add_the_bot_and_check_the_minus(
    api: FakeBotAPI, sqlite_env: dict[str, str], tmp_path: Path, chat_id: int, fix: str
) -> None:
    api.unreachable_chats.add(chat_id)
    run = await run_cli({**sqlite_env, "MANAGER_CHAT_ID": str(chat_id)}, cwd=tmp_path)
    assert_stops(
        run,
        f"MANAGER_CHAT_ID: the bot cannot reach chat {chat_id}: {fix}, "
        f"and check the id ({ID_HINT})",
    )


@pytest.mark.parametrize("kicked", [False, True], ids=["left", "kicked"])
async def test_a_group_the_bot_is_not_in(
    api: FakeBotAPI, sqlite_env: dict[str, str], tmp_path: Path, kicked: bool
) -> None:
    api.remove_bot(MANAGER_CHAT_ID, kicked=kicked)
    run = await run_cli(sqlite_env, cwd=tmp_path)
    assert_stops(run, f"MANAGER_CHAT_ID: the bot is not a member of {WHERE}: add it to the group")


async def test_a_group_where_the_bot_is_muted(
    api: FakeBotAPI, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    api.mute_bot(MANAGER_CHAT_ID)
    run = await run_cli(sqlite_env, cwd=tmp_path)
    assert_stops(
        run,
        f"MANAGER_CHAT_ID: the bot is muted in {WHERE}: let it send messages "
        "(the group's permissions), or make it an administrator",
    )


async def test_a_photo_id_telegram_refuses_is_a_warning_and_the_bot_starts(
    api: FakeBotAPI, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    api.inject("getFile", error=Fault.bad_request("wrong file identifier/HTTP URL specified"))
    env = {**sqlite_env, "PHOTO_ID": "AgACfromAnotherBot"}
    run = await run_cli(env, cwd=tmp_path, until_polling=api)
    assert "Traceback" not in run.err
    assert run.lines() == []
    warnings = [line for line in run.err.splitlines() if " WARNING " in line]
    assert [line.split(" WARNING ", 1)[1] for line in warnings] == [
        "vizteh_bot.checks.run: PHOTO_ID: Telegram refuses it (Bad Request: wrong file "
        "identifier/HTTP URL specified): «О компании» is sent as text alone; send the photo "
        "in the manager chat for a new id"
    ]
    assert run.code == 0, run.err


async def test_a_good_start_asks_telegram_once_and_at_once(
    api: FakeBotAPI, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    await run_cli(sqlite_env, cwd=tmp_path, until_polling=api)
    first_poll = api.calls_for("getUpdates")[0]
    before = [call for call in api.calls if call.seq < first_poll.seq]
    # getMe, getChat and getChatMember go out together; no getFile without a PHOTO_ID.
    assert sorted(call.method for call in before) == ["getChat", "getChatMember", "getMe"]
    assert max(c.at for c in before) - min(c.at for c in before) < 0.5


# ------------------------------------------------------------------------------ database


async def test_a_schema_newer_than_the_bot(
    api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    await sql(
        database,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('9999')",
    )
    run = await run_cli(bot_environment(api, database), cwd=tmp_path)
    assert_stops(
        run,
        f"database: {described(database)}: the schema (revision 9999) is newer than this bot "
        f"(up to {SCHEMA_HEAD}): update the bot, or point it at another database",
    )
    assert api.calls_for("getUpdates") == []


async def test_an_sqlite_path_that_is_not_a_database(
    api: FakeBotAPI, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, only notes\n" * 100)
    run = await run_cli({**sqlite_env, "SQLITE_PATH": str(notes)}, cwd=tmp_path)
    assert_stops(
        run,
        f"database: SQLITE_PATH={notes} is not an SQLite database (file is not a database): "
        "point SQLITE_PATH at the bot's database, or move this file away",
    )
    assert notes.read_text() == "not a database, only notes\n" * 100


async def test_a_wrong_postgres_password(
    api: FakeBotAPI, postgres: PostgresServer, tmp_path: Path
) -> None:
    assert postgres.password_role is not None
    user, _ = postgres.password_role
    database = {"db_host": postgres.host, "db_port": postgres.port, "db_name": postgres.database}
    env = bot_environment(api, {**database, "db_user": user, "db_password": "wrong"})
    run = await run_cli(env, cwd=tmp_path)
    assert_stops(
        run,
        f"database: PostgreSQL at {postgres.host}:{postgres.port} refuses the password of "
        f"user {user}: check DB_PASSWORD",
    )


async def test_a_postgres_database_that_does_not_exist(
    api: FakeBotAPI, postgres: PostgresServer, tmp_path: Path
) -> None:
    database = {
        "db_host": postgres.host,
        "db_port": postgres.port,
        "db_user": postgres.user,
        "db_password": postgres.password,
        "db_name": "no_such_database",
    }
    run = await run_cli(bot_environment(api, database), cwd=tmp_path)
    assert_stops(
        run,
        f"database: PostgreSQL at {postgres.host}:{postgres.port} has no database "
        "'no_such_database': check DB_NAME, or create it (see \"Preparing the database\" in "
        "README.md)",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_postgres_out_of_reach_is_waited_for_then_exit_code_1(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    port = free_port()
    database = {"db_host": "127.0.0.1", "db_port": port, "db_name": "vizteh"}
    env = bot_environment(api, database, DB_WAIT_SECONDS=1)
    run = await run_cli(env, cwd=tmp_path)
    reached = (
        f"cannot reach PostgreSQL at 127.0.0.1:{port} ([Errno 111] Connect call failed "
        f"('127.0.0.1', {port})): is it running? Check DB_HOST and DB_PORT"
    )
    assert_stops(run, f"database: {reached}", code=1)
    waits = [line for line in run.err.splitlines() if "DB_WAIT_SECONDS" in line]
    assert [line.split(" WARNING ", 1)[1] for line in waits] == [
        f"vizteh_bot.checks.database: database: {reached}; waiting up to 1 s (DB_WAIT_SECONDS)"
    ]
    assert api.calls_for("getUpdates") == []


async def test_a_start_waits_for_postgres_that_comes_up(
    api: FakeBotAPI, postgres: PostgresServer, tmp_path: Path
) -> None:
    """PostgreSQL starting along with the bot: its port answers only after a while."""
    port, name = free_port(), f"t_{uuid.uuid4().hex[:12]}"
    await postgres.create_database(name)

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await asyncio.open_connection(postgres.host, postgres.port)

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await source.read(65536):
                    target.write(chunk)
                    await target.drain()
            target.close()

        await asyncio.gather(pipe(reader, upstream[1]), pipe(upstream[0], writer))

    database = {
        "db_host": "127.0.0.1",
        "db_port": port,
        "db_user": postgres.user,
        "db_password": postgres.password,
        "db_name": name,
    }
    env = bot_environment(api, database, DB_WAIT_SECONDS=30)
    log = tmp_path / "bot.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "vizteh_bot", env=env, cwd=tmp_path, stderr=output
        )
    server: asyncio.Server | None = None
    try:
        for _ in range(300):
            if "DB_WAIT_SECONDS" in log.read_text() or process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        server = await asyncio.start_server(forward, "127.0.0.1", port)
        await api.wait_for_call(lambda call: call.method == "getUpdates", timeout=30)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if server is not None:
            server.close()
        await postgres.drop_database(name)
    output = log.read_text()
    assert "Traceback" not in output
    [waited] = [line for line in output.splitlines() if "DB_WAIT_SECONDS" in line]
    assert waited.endswith(
        "is it running? Check DB_HOST and DB_PORT; waiting up to 30 s (DB_WAIT_SECONDS)"
    )
    assert code == 0, output


# ----------------------------------------------------------------------------- form file


async def test_a_form_file_that_is_not_toml_is_named(
    api: FakeBotAPI, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    form = tmp_path / "form.toml"
    form.write_text('[[fields]]\nid = "name"\ntype = "text"\nquestion = "Как вас зовут?\n')
    with pytest.raises(tomllib.TOMLDecodeError) as parsed:
        tomllib.loads(form.read_text())
    run = await run_cli({**sqlite_env, "FORM_FILE": str(form)}, cwd=tmp_path)
    assert_stops(run, f"FORM_FILE: {form}: not valid TOML: {parsed.value}")
