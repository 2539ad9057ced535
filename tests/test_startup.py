"""`python -m vizteh_bot` as a real process: settings errors, no token in the logs, migrate."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from support.fake_bot_api import FakeBotAPI, Fault
from support.telegram_user import TelegramUser
from vizteh_bot.__main__ import main as bot_main
from vizteh_bot.config import Settings
from vizteh_bot.db.models import metadata
from vizteh_bot.logging_setup import setup_logging
from vizteh_bot.migrations import alembic_config

TOKEN = "987654321:AAH-real-looking_secret-token-value-42"
MANAGER_CHAT_ID = "-1002233445566"
VALID = {"TOKEN": TOKEN, "MANAGER_CHAT_ID": MANAGER_CHAT_ID}
CONFIG_ERROR = 2
# Should the settings pass by mistake, the bot fails fast instead of reaching Telegram.
NOWHERE = {"TELEGRAM_API_URL": "http://127.0.0.1:9", "SQLITE_PATH": "bot.sqlite3"}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty start directory: no .env to pick settings up from."""
    path = tmp_path / "start"
    path.mkdir()
    return path


def minimal_env(home: Path, **variables: str) -> dict[str, str]:
    """PATH and HOME only, plus what the test sets; nothing leaks in from the test run."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), **variables}


def run_bot(
    workdir: Path, *args: str, timeout: float = 60, **variables: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizteh_bot", *args],
        cwd=workdir,
        env=minimal_env(workdir, **{**NOWHERE, **variables}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_config_error(result: subprocess.CompletedProcess[str], *names: str) -> list[str]:
    """Exit code 2, nothing on stdout, and exactly one stderr line per named variable."""
    lines = result.stderr.splitlines()
    assert result.returncode == CONFIG_ERROR, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert len(lines) == len(names), result.stderr
    for line, name in zip(lines, names, strict=True):
        assert line.startswith(f"vizteh-bot: {name} "), line
    return lines


# ------------------------------------------------------------- settings, real process


def test_missing_token(workdir: Path) -> None:
    result = run_bot(workdir, MANAGER_CHAT_ID=MANAGER_CHAT_ID)
    assert assert_config_error(result, "TOKEN") == ["vizteh-bot: TOKEN is not set"]
    assert not list(workdir.iterdir()), "nothing is created before the settings are valid"


@pytest.mark.parametrize("token", ["abc", "bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"])
def test_malformed_token_is_named_but_not_echoed(workdir: Path, token: str) -> None:
    result = run_bot(workdir, TOKEN=token, MANAGER_CHAT_ID=MANAGER_CHAT_ID)
    [line] = assert_config_error(result, "TOKEN")
    assert "invalid" in line
    assert token not in result.stderr
    assert token.split(":")[-1] not in result.stderr


def test_missing_manager_chat_id(workdir: Path) -> None:
    result = run_bot(workdir, TOKEN=TOKEN)
    assert assert_config_error(result, "MANAGER_CHAT_ID") == [
        "vizteh-bot: MANAGER_CHAT_ID is not set"
    ]
    assert TOKEN not in result.stderr


def test_non_numeric_manager_chat_id(workdir: Path) -> None:
    result = run_bot(workdir, TOKEN=TOKEN, MANAGER_CHAT_ID="@vizteh_managers")
    [line] = assert_config_error(result, "MANAGER_CHAT_ID")
    assert "invalid" in line
    assert TOKEN not in result.stderr


def test_token_and_manager_chat_id_missing(workdir: Path) -> None:
    result = run_bot(workdir)
    assert sorted(assert_config_error(result, "TOKEN", "MANAGER_CHAT_ID")) == [
        "vizteh-bot: MANAGER_CHAT_ID is not set",
        "vizteh-bot: TOKEN is not set",
    ]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("TIMEZONE", "Mars/Olympus_Mons", id="tz-unknown"),
        pytest.param("TIMEZONE", "Europe", id="tz-a-region-not-a-zone"),
        pytest.param("DB_PORT", "abc", id="port-not-a-number"),
        pytest.param("LOG_LEVEL", "verbose", id="log-level-unknown"),
        pytest.param("DEFAULT_LOCALE", "de", id="locale-unsupported"),
    ],
)
def test_other_malformed_settings(workdir: Path, variable: str, value: str) -> None:
    result = run_bot(workdir, **VALID, **{variable: value})
    [line] = assert_config_error(result, variable)
    assert "invalid" in line
    assert TOKEN not in result.stderr


# ----------------------------------------------------- settings, more values in-process


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> pytest.MonkeyPatch:
    """No setting from the outer environment or a .env file reaches main()."""
    for name in Settings.model_fields:
        for spelling in (name.upper(), name.lower()):
            monkeypatch.delenv(spelling, raising=False)
    monkeypatch.chdir(workdir)
    return monkeypatch


@pytest.mark.parametrize(
    ("variables", "bad"),
    [
        pytest.param({"TOKEN": "123456789:tooShort"}, "TOKEN", id="token-short-secret"),
        pytest.param(
            {"TOKEN": "123456789:AAH dqTcvCH1vGWJxfSeofSAs0K5"}, "TOKEN", id="token-space"
        ),
        pytest.param({"MANAGER_CHAT_ID": "-100abc"}, "MANAGER_CHAT_ID", id="chat-id-letters"),
        pytest.param({"MANAGER_CHAT_ID": "1.5"}, "MANAGER_CHAT_ID", id="chat-id-fraction"),
        pytest.param({"MANAGER_CHAT_ID": "0"}, "MANAGER_CHAT_ID", id="chat-id-zero"),
        pytest.param({"MANAGER_CHAT_ID": ""}, "MANAGER_CHAT_ID", id="chat-id-empty"),
        pytest.param({"TIMEZONE": "/etc/localtime"}, "TIMEZONE", id="tz-absolute-path"),
        pytest.param({"TIMEZONE": "../zoneinfo/UTC"}, "TIMEZONE", id="tz-relative-path"),
        pytest.param({"TIMEZONE": "America"}, "TIMEZONE", id="tz-another-region"),
        pytest.param({"TIMEZONE": ""}, "TIMEZONE", id="tz-empty"),
        pytest.param({"DB_PORT": "70000"}, "DB_PORT", id="port-too-big"),
        pytest.param({"DB_PORT": "0"}, "DB_PORT", id="port-zero"),
        pytest.param({"DB_PORT": ""}, "DB_PORT", id="port-empty"),
        pytest.param({"LOG_LEVEL": ""}, "LOG_LEVEL", id="log-level-empty"),
        pytest.param({"DEFAULT_LOCALE": "RU-ru"}, "DEFAULT_LOCALE", id="locale-unknown"),
        pytest.param({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL", id="api-url"),
        pytest.param({"TICKETS_PER_HOUR": "0"}, "TICKETS_PER_HOUR", id="tickets-per-hour"),
    ],
)
def test_more_malformed_settings_in_process(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    bad: str,
) -> None:
    for name, value in {**NOWHERE, **VALID, **variables}.items():
        clean_env.setenv(name, value)
    assert bot_main([]) == CONFIG_ERROR
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == ""
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"vizteh-bot: {bad} is invalid"), lines[0]
    if bad == "TOKEN":
        assert variables["TOKEN"].split(":")[-1] not in captured.err
    assert TOKEN not in captured.err


def test_several_bad_variables_get_a_line_each(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "TOKEN": "abc",
        "MANAGER_CHAT_ID": "x",
        "DB_PORT": "port",
        "TIMEZONE": "Nowhere",
    }.items():
        clean_env.setenv(name, value)
    assert bot_main([]) == CONFIG_ERROR
    lines = capsys.readouterr().err.splitlines()
    assert [line.split()[1] for line in lines] == [
        "TOKEN",
        "MANAGER_CHAT_ID",
        "DB_PORT",
        "TIMEZONE",
    ]


def test_env_file_in_the_start_directory_is_read(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    (workdir / ".env").write_text(f"TOKEN={TOKEN}\nMANAGER_CHAT_ID=\nTIMEZONE=Mars/Base\n")
    assert bot_main([]) == CONFIG_ERROR
    lines = capsys.readouterr().err.splitlines()
    assert [line.split()[1] for line in lines] == ["MANAGER_CHAT_ID", "TIMEZONE"]


# ------------------------------------------------------------------------------ migrate


def test_migrate_creates_the_tables(workdir: Path) -> None:
    # Relative to the start directory, in a directory that does not exist yet.
    variables = {**VALID, "SQLITE_PATH": "data/bot.sqlite3"}
    script = Path(sys.executable).with_name("vizteh-bot")
    assert script.exists(), "the vizteh-bot console script is installed"
    result = subprocess.run(
        [str(script), "migrate"],
        cwd=workdir,
        env=minimal_env(workdir, **variables),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Database schema is up to date" in result.stderr
    assert TOKEN not in result.stdout + result.stderr

    path = workdir / "data" / "bot.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert set(metadata.tables) <= tables
    head = ScriptDirectory.from_config(alembic_config(f"sqlite:///{path}")).get_current_head()
    assert versions == [(head,)]

    again = run_bot(workdir, "migrate", **variables)
    assert again.returncode == 0, again.stderr


def test_migrate_refuses_a_schema_newer_than_the_bot(workdir: Path) -> None:
    path = workdir / "bot.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999')")
        connection.commit()

    # (The bot itself stops before it migrates: test_startup_checks.py.)
    result = run_bot(workdir, "migrate", **VALID, SQLITE_PATH=str(path))

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert "Cannot migrate the database: Can't locate revision identified by '9999'" in errors[0]


# ------------------------------------------------------------------- the token in logs


async def test_token_never_appears_in_the_logs_of_a_running_bot(
    workdir: Path, api: FakeBotAPI
) -> None:
    stdout_path, stderr_path = workdir / "stdout.log", workdir / "stderr.log"
    env = minimal_env(
        workdir,
        **VALID,
        TELEGRAM_API_URL=api.url,
        SQLITE_PATH=str(workdir / "bot.sqlite3"),
        LOG_LEVEL="DEBUG",
    )
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "vizteh_bot", cwd=workdir, env=env, stdout=stdout, stderr=stderr
        )
    try:
        await api.wait_for_call(lambda call: call.method == "getUpdates", timeout=60)
        assert {call.token for call in api.calls} == {TOKEN}

        client = TelegramUser(api, 5001, first_name="Анна")
        menu = await client.send_command("/start")
        assert "Здравствуйте, Анна" in (menu.text or "")
        # A failing call too: its error is logged with a traceback, which must not carry the
        # token either. (A 5xx would be retried; a 400 is not.)
        api.inject("sendMessage", chat_id=5002, error=Fault.bad_request("message is too long"))
        stranger = TelegramUser(api, 5002, first_name="Гость")
        stranger.send_nowait("привет")
        await api.wait_for_call(lambda call: call.chat_id == 5002 and not call.ok)

        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    output = stdout_path.read_text() + stderr_path.read_text()
    assert returncode == 0, output[-3000:]
    assert "DEBUG" in output, "the bot did log at DEBUG"
    assert TOKEN not in output
    assert TOKEN.split(":", 1)[1] not in output
    assert re.search(r"Update \d+ failed", output), "the injected failure was logged"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_token_is_masked_in_messages_arguments_and_tracebacks() -> None:
    setup_logging("DEBUG", TOKEN)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)

    log = logging.getLogger("vizteh_bot.test")
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    log.info("Calling %s", url)
    log.warning(f"Direct {url}")
    try:
        raise RuntimeError(f"request to {url} failed")
    except RuntimeError:
        log.exception("Request failed")

    output = stream.getvalue()
    assert output.count("bot***/getMe") >= 3, output
    assert "Request failed" in output
    assert "RuntimeError" in output
    assert TOKEN not in output
