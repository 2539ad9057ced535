"""Fixtures: a fake Bot API, a database per test on each backend, and the running bot."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.fake_bot_api import FakeBotAPI
from support.postgres_server import PostgresServer, start_postgres
from support.running_bot import BOT_TOKEN, RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser
from vizteh_bot.app.application import Application
from vizteh_bot.config import Settings

BACKENDS = ("sqlite", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=(*BACKENDS, "all"),
        default="all",
        help="run database tests on one backend only (default: both)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        backends = BACKENDS if chosen == "all" else (chosen,)
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[dict[str, Any]]:
    """Settings that point the bot at an empty database of this test's backend."""
    if backend == "sqlite":
        yield {"sqlite_path": tmp_path / "bot.sqlite3"}
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    await server.create_database(name)
    try:
        yield {
            "db_host": server.host,
            "db_port": server.port,
            "db_user": server.user,
            "db_password": server.password,
            "db_name": name,
        }
    finally:
        await server.drop_database(name)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
def make_settings(api: FakeBotAPI, database: dict[str, Any]) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "token": BOT_TOKEN,
            "manager_chat_id": MANAGER_CHAT_ID,
            "telegram_api_url": api.url,
            "photo_id": None,
            "tickets_per_hour": 100,
            **database,
            **overrides,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
async def start_bot(
    api: FakeBotAPI, make_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[..., Any]]:
    running: list[RunningBot] = []

    async def start(**overrides: Any) -> RunningBot:
        app = Application(make_settings(**overrides))
        mark = api.mark()
        task = asyncio.create_task(app.run(handle_signals=False))
        await api.wait_for_call(lambda call: call.method == "getUpdates", start=mark, timeout=30)
        bot = RunningBot(app, task)
        running.append(bot)
        return bot

    yield start
    for bot in running:
        await bot.stop()


@pytest.fixture
async def bot(start_bot: Callable[..., Any]) -> RunningBot:
    running: RunningBot = await start_bot()
    return running


@pytest.fixture
def client(api: FakeBotAPI) -> TelegramUser:
    return TelegramUser(api, 5001, first_name="Анна", username="anna_client")


@pytest.fixture
def manager(api: FakeBotAPI) -> ManagerChat:
    return ManagerChat(api, 7001, first_name="Олег", username="oleg_manager")
