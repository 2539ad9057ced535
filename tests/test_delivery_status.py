"""`vizteh-bot status` and the manager chat's /start say how delivery stands."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from support.bot_process import bot_environment
from support.delivery_helpers import submit
from support.fake_bot_api import FakeBotAPI
from support.fake_faults import Fault
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat
from vizteh_bot.db.models import outbox

FAST = {"pace_time_scale": 50.0, "telegram_timeout": 1.0}
SCRIPT = Path(sys.executable).with_name("vizteh-bot")
PARSE_ERROR = "can't parse entities: Unsupported start tag"
CLEAN = [
    "waiting: nothing",
    "quarantined: 0 (kept, not retried; see below)",
    "given up (client unreachable): 0",
]


async def run_status(env: dict[str, str], cwd: Path) -> tuple[int, list[str], str]:
    """`vizteh-bot status` as its own process: exit code, stdout lines, stderr."""
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "status",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines(), err.decode()


async def outbox_states(bot: RunningBot) -> dict[str, int]:
    rows = await bot.rows("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


async def wait_for_outbox(bot: RunningBot, expected: dict[str, int]) -> None:
    async def settled() -> None:
        while await outbox_states(bot) != expected:
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(settled(), 10)
    except TimeoutError:
        raise AssertionError(f"outbox is {await outbox_states(bot)}, not {expected}") from None


async def age_waiting(bot: RunningBot, minutes: int) -> None:
    """Test set-up: the waiting messages were written `minutes` ago."""
    written = datetime.now(UTC) - timedelta(minutes=minutes)
    async with bot.app.database.begin() as connection:
        await connection.execute(
            update(outbox).where(outbox.c.state == "pending").values(created_at=written)
        )


async def last_sent_stamp(bot: RunningBot) -> str:
    [row] = await bot.rows("SELECT MAX(sent_at) AS at FROM outbox WHERE state = 'sent'")
    at = row["at"]
    at = datetime.fromisoformat(at) if isinstance(at, str) else at
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M:%S} UTC"


def delivered_nothing_to_managers(api: FakeBotAPI) -> bool:
    return all(not call.ok for call in api.calls_for("sendMessage", chat_id=MANAGER_CHAT_ID))


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


async def test_nothing_wrong_exits_0_and_start_shows_no_problem(
    start_bot: Callable[..., Any],
    api: FakeBotAPI,
    manager: ManagerChat,
    database: dict[str, Any],
    tmp_path: Path,
) -> None:
    bot = await start_bot(**FAST)
    number = await submit(bot.app, 5001)
    await wait_for_outbox(bot, {"sent": 2})
    assert any(f"№{number}" in (c.text or "") for c in api.sent_to(MANAGER_CHAT_ID))

    answer = await manager.send_command("/start")
    assert "Режим менеджера" in (answer.text or "")
    assert "Доставка" not in (answer.text or ""), answer.text

    code, lines, stderr = await run_status(bot_environment(api, database), tmp_path)
    print("\n".join(lines))
    assert code == 0, stderr
    assert_no_traceback(stderr)
    assert lines[:3] == CLEAN
    [last] = lines[3:]
    assert last.startswith(f"last successful send: {await last_sent_stamp(bot)} ("), last
    assert last.endswith(" s ago)"), last


async def test_quarantined_card_is_listed_by_status_and_announced_in_start(
    start_bot: Callable[..., Any],
    api: FakeBotAPI,
    manager: ManagerChat,
    database: dict[str, Any],
    tmp_path: Path,
) -> None:
    bot = await start_bot(**FAST)
    api.inject("sendMessage", chat_id=MANAGER_CHAT_ID, error=Fault.bad_request(PARSE_ERROR))
    number = await submit(bot.app, 5001)
    await wait_for_outbox(bot, {"quarantined": 1, "sent": 2})

    # Telegram refused the card once; the managers got a plain-text card instead.
    refused, fallback = api.calls_for("sendMessage", chat_id=MANAGER_CHAT_ID)
    assert (refused.error, fallback.error) == (400, None)
    assert refused.params.get("parse_mode") == "HTML"
    assert "parse_mode" not in fallback.params
    assert f"Заявка №{number}: обычная карточка не отправилась" in (fallback.text or "")
    assert PARSE_ERROR in (fallback.text or "")
    [kept] = await bot.rows(
        "SELECT id, kind, ticket_id, chat_id, last_error FROM outbox WHERE state = 'quarantined'"
    )
    error = f"TelegramBadRequest: Bad Request: {PARSE_ERROR}"
    assert kept == {
        "id": kept["id"],
        "kind": "card",
        "ticket_id": number,
        "chat_id": MANAGER_CHAT_ID,
        "last_error": error,
    }

    answer = await manager.send_command("/start")
    assert (answer.text or "").endswith(
        "\n\n⚠️ Доставка: не отправлено сообщений: 1 (они сохранены). "
        "Подробности: vizteh-bot status"
    ), answer.text

    code, lines, stderr = await run_status(bot_environment(api, database), tmp_path)
    print("\n".join(lines))
    assert code == 1, stderr
    assert_no_traceback(stderr)
    assert lines[:3] == [
        "waiting: nothing",
        "quarantined: 1 (kept, not retried; see below)",
        f"  #{kept['id']} card request #{number} to chat {MANAGER_CHAT_ID}: {error}",
    ]
    assert lines[3] == "given up (client unreachable): 0"
    assert lines[4].startswith(f"last successful send: {await last_sent_stamp(bot)} (")
    assert len(lines) == 5


async def test_cards_waiting_for_an_unreachable_manager_chat_are_listed_with_their_age(
    start_bot: Callable[..., Any], api: FakeBotAPI, database: dict[str, Any], tmp_path: Path
) -> None:
    bot = await start_bot(**FAST)
    api.unreachable_chats.add(MANAGER_CHAT_ID)
    for client_id in (5001, 5002):
        await submit(bot.app, client_id)
    await api.wait_for_call(
        lambda call: call.chat_id == MANAGER_CHAT_ID and call.fault == "unreachable"
    )
    # The clients' confirmations went out; both cards wait.
    await wait_for_outbox(bot, {"pending": 2, "sent": 2})
    waiting = await bot.rows("SELECT kind, chat_id FROM outbox WHERE state = 'pending'")
    assert waiting == [{"kind": "card", "chat_id": MANAGER_CHAT_ID}] * 2
    await age_waiting(bot, minutes=10)

    code, lines, stderr = await run_status(bot_environment(api, database), tmp_path)
    print("\n".join(lines))
    assert code == 0, stderr  # waiting is not quarantine
    assert_no_traceback(stderr)
    assert lines[0] == "waiting: 2 (card 2); oldest written 10 min ago"
    assert lines[1:3] == CLEAN[1:]
    assert lines[3].startswith(f"last successful send: {await last_sent_stamp(bot)} (")
    assert delivered_nothing_to_managers(api)


async def test_a_message_held_back_for_10_minutes_shows_in_start(
    start_bot: Callable[..., Any],
    api: FakeBotAPI,
    manager: ManagerChat,
    database: dict[str, Any],
    tmp_path: Path,
) -> None:
    bot = await start_bot(**FAST)
    # Telegram asks to wait 10 minutes before writing to this client again.
    api.inject("sendMessage", chat_id=5001, error=Fault.too_many_requests(600))
    await submit(bot.app, 5001)
    await wait_for_outbox(bot, {"pending": 1, "sent": 1})
    assert [call.error for call in api.calls_for("sendMessage", chat_id=5001)] == [429]
    await age_waiting(bot, minutes=10)

    answer = await manager.send_command("/start")
    assert (answer.text or "").endswith(
        "\n\n⚠️ Доставка: ждут отправки: 1, самое старое — 10 мин. Подробности: vizteh-bot status"
    ), answer.text

    code, lines, stderr = await run_status(bot_environment(api, database), tmp_path)
    print("\n".join(lines))
    assert code == 0, stderr
    assert lines[0] == "waiting: 1 (notice 1); oldest written 10 min ago"
    assert lines[1:3] == CLEAN[1:]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_unreachable_database_is_one_line_and_a_non_zero_exit(
    backend: str, api: FakeBotAPI, tmp_path: Path
) -> None:
    if backend == "sqlite":
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a file where the database's folder should be")
        database: dict[str, Any] = {"sqlite_path": blocker / "data" / "bot.sqlite3"}
        # A report must not create the file it reports on: it names the setting instead.
        expected = (" ERROR vizteh_bot: No database at SQLITE_PATH=", str(blocker))
    else:
        database = {"db_host": "127.0.0.1", "db_port": closed_port(), "db_password": "x"}
        expected = (" ERROR vizteh_bot: Cannot use the database (", "PostgreSQL at DB_HOST")

    code, lines, stderr = await run_status(bot_environment(api, database), tmp_path)

    assert code != 0
    assert lines == [], "no report is printed without the database"
    assert_no_traceback(stderr)
    [line] = stderr.splitlines()
    for part in expected:
        assert part in line, line
    if backend == "sqlite":
        assert not blocker.is_dir()
