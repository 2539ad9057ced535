"""Long polling: unreadable updates, the low watermark, and the ledger across a restart."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from support.client_flow import (
    ASK_PHONE,
    assert_question,
    caught_up,
    fsm_state,
    no_failed_updates,
    open_form,
    summary_text,
)
from support.fake_bot_api import ApiCall, FakeBotAPI, Fault
from support.fake_objects import command_update, text_update, unknown_forward_origin
from support.running_bot import RunningBot
from support.telegram_user import TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)

POLLING_LOGGER = "vizteh_bot.app.polling"
PHONE_STEP = "TicketForm:answering:phone"


@pytest.fixture
def other(api: FakeBotAPI) -> TelegramUser:
    return TelegramUser(api, 5002, first_name="Борис", username="boris_client")


def start_nowait(user: TelegramUser) -> int:
    """/start from ``user`` without waiting for the answer; returns the update_id."""
    message_id = user.api.next_message_id(user.chat_id)
    return user.put(command_update(user.user, "/start", message_id=message_id))


def polls(api: FakeBotAPI, start: int = 0, end: int | None = None) -> list[ApiCall]:
    return [call for call in api.calls[start:end] if call.method == "getUpdates"]


def delivered(call: ApiCall) -> set[int]:
    return {update["update_id"] for update in call.result or []}


def logged(caplog: pytest.LogCaptureFixture, level: int, message: str) -> int:
    """How many records of the polling logger at ``level`` start with ``message``."""
    return sum(
        1
        for record in caplog.get_records("call")
        if record.name == POLLING_LOGGER
        and record.levelno == level
        and record.getMessage().startswith(message)
    )


async def test_forward_of_an_unknown_origin_is_read_without_it(
    bot: RunningBot,
    api: FakeBotAPI,
    client: TelegramUser,
    other: TelegramUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await open_form(client)
    update_id = client.send_forwarded("Анна", unknown_forward_origin())
    menu = await other.send_command("/start")  # sent right after it, served too
    assert menu.method == "sendMessage"
    assert_question(await client.expect(), ASK_PHONE)
    assert await fsm_state(bot, client) == PHONE_STEP

    await client.send("89161234567")
    summary = await client.send("Нужен сайт")
    assert summary.text == summary_text("Анна", "+79161234567", "Нужен сайт")
    warning = f"Update {update_id}: dropped message.forward_origin, which this version cannot read"
    assert logged(caplog, logging.WARNING, warning) == 1


async def test_unreadable_update_is_skipped_once_and_polling_goes_on(
    bot: RunningBot,
    api: FakeBotAPI,
    client: TelegramUser,
    other: TelegramUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = start_nowait(client)
    assert (await client.expect()).method == "sendMessage"
    # Nothing below the broken update is in hand, so no poll has a reason to fetch it again.
    await api.wait_confirmed(before)
    broken = api.put_raw_json_update({"message": {"message_id": "not a number", "chat": 5}})
    after = start_nowait(other)
    assert (await other.expect()).method == "sendMessage"
    await api.wait_confirmed(after)

    deliveries = [call for call in polls(api) if broken in delivered(call)]
    assert len(deliveries) == 1
    later = polls(api, deliveries[0].seq + 1)
    assert later
    assert all(call.params["offset"] > broken for call in later)
    assert logged(caplog, logging.ERROR, f"Update {broken} cannot be read and is skipped") == 1


async def test_a_slow_update_holds_the_offset_but_not_the_other_clients(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, other: TelegramUser
) -> None:
    api.inject("sendMessage", chat_id=client.chat_id, error=Fault.timeout(3))
    slow = start_nowait(client)
    held = await api.wait_for_call(
        lambda call: call.method == "sendMessage" and call.chat_id == client.chat_id, timeout=10
    )
    fast = [start_nowait(other)]
    assert (await other.expect()).method == "sendMessage"
    fast.append(other.send_nowait("привет"))
    await other.expect()
    assert held.result is None, "the other client was answered only after the slow reply"
    first = next(call for call in polls(api) if slow in delivered(call))
    in_hand = polls(api, first.seq + 1)
    assert set(fast) <= {update_id for call in in_hand for update_id in delivered(call)}
    assert all(call.params["offset"] <= slow for call in in_hand)

    await api.wait_confirmed(slow, timeout=15)
    assert held.result is not None, "the offset passed the slow update before it was done"
    caught_up(client, held)
    await client.quiet(0.3)
    assert len(client.sent()) == 1, "fetched again while in hand, it was handled again"


async def test_redelivery_after_a_restart_changes_nothing_and_says_nothing(
    start_bot: Callable[..., Any],
    api: FakeBotAPI,
    client: TelegramUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vizteh_bot.telegram.replay")
    first = await start_bot()
    await open_form(client)
    name = text_update(client.user, "Анна", message_id=api.next_message_id(client.chat_id))
    update_id = client.put(name)
    assert_question(await client.expect(), ASK_PHONE)
    assert await fsm_state(first, client) == PHONE_STEP
    await first.stop()

    restart = api.mark()
    second = await start_bot()
    client.cursor = api.mark()
    api.put_update_raw({**name, "update_id": update_id})
    redelivery = await api.wait_for_call(
        lambda call: call.method == "getUpdates" and update_id in delivered(call), start=restart
    )
    # The bot polls again once it has dealt with the redelivered update.
    await api.wait_for_call(lambda call: call.method == "getUpdates", start=redelivery.seq + 1)
    await client.quiet(0.5)
    assert await fsm_state(second, client) == PHONE_STEP
    # Skipped by the poller from the ledger, before the form's own replay guard saw it.
    replayed = [r for r in caplog.records if r.name == "vizteh_bot.telegram.replay"]
    assert replayed == []


async def test_ledger_row_is_saved_past_the_handled_updates(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    await client.send_command("/start")
    update_id = client.send_nowait("привет")
    await client.expect()
    await api.wait_confirmed(update_id)

    [row] = await bot.rows("SELECT bot_id, watermark, done, updated_at FROM update_ledger")
    assert row["bot_id"] == bot.app.bot.id
    assert row["watermark"] > update_id
    assert json.loads(row["done"]) == []  # nothing handled above it: all below the watermark
    assert row["updated_at"] is not None


async def test_telegram_refusing_getupdates_for_a_while_costs_no_update_twice(
    start_bot: Callable[..., Any], api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    await start_bot(telegram_timeout=8)
    caplog.set_level(logging.INFO)
    client = TelegramUser(api, 5001, first_name="Анна")
    # The menu reply hangs, so /start stays in hand while getUpdates keeps failing.
    api.inject("sendMessage", chat_id=client.chat_id, error=Fault.timeout(3))
    api.inject("getUpdates", times=8, error=Fault.server_error())
    update_id = start_nowait(client)

    await api.wait_confirmed(update_id, timeout=60)
    handled = [r for r in caplog.records if f"Update id={update_id} is handled" in r.getMessage()]
    assert len(handled) == 1
    assert "crashed" not in caplog.text
    assert len(api.calls_for("sendMessage", chat_id=client.chat_id)) == 1


async def test_the_last_answer_delivered_again_after_a_crash_leaves_send_working(
    start_bot: Callable[..., Any],
    api: FakeBotAPI,
    client: TelegramUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Killed after the last answer was handled, before the ledger held it: Telegram brings
    the answer again and the summary comes again, but Send on the first summary, which
    the client may have pressed meanwhile, still sends."""
    caplog.set_level(logging.INFO, logger="vizteh_bot.telegram.replay")
    first = await start_bot()
    await open_form(client)
    await client.send("Анна")
    await client.send("+7 916 123-45-67")
    answer = text_update(client.user, "Нужен сайт", message_id=api.next_message_id(client.chat_id))
    update_id = client.put(answer)
    summary = await client.expect()
    await first.stop()
    await first.execute("DELETE FROM update_ledger")  # the crash came before it was written

    second = await start_bot()
    api.put_update_raw({**answer, "update_id": update_id})
    again = await client.expect()
    assert again.text == summary.text
    assert any("came again" in r.getMessage() for r in caplog.records)

    reply = await client.click("✅ Отправить", summary)
    assert reply.params.get("text") == "Отправляем…"
    assert await second.rows("SELECT name, phone, text FROM tickets") == [
        {"name": "Анна", "phone": "+79161234567", "text": "Нужен сайт"}
    ]
