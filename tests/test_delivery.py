"""The outbox delivers every request whatever Telegram answers: 429, 400, 403, 5xx, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from support.data import RequestFactory
from support.delivery_helpers import delivered_cards, submit, ticket_numbers
from support.fake_bot_api import FakeBotAPI
from support.fake_faults import Fault, RealisticRateLimiter
from support.fake_objects import BOT_USER
from support.running_bot import RunningBot
from support.scenarios import (
    accepted_numbers,
    cards_shown,
    shown_numbers,
    submit_request,
    wait_until_shown,
    wait_until_told,
)
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser

FAST = {"pace_time_scale": 50.0, "telegram_timeout": 1.0}


async def wait_for_cards(api: FakeBotAPI, numbers: list[int], timeout: float = 10.0) -> None:
    async def all_there() -> None:
        while not set(numbers) <= set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID))):
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(all_there(), timeout)
    except TimeoutError:
        seen = ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID))
        raise AssertionError(
            f"cards {numbers} not all delivered, saw {seen}\n{api.dump()}"
        ) from None


async def outbox_states(bot: RunningBot) -> dict[str, int]:
    rows = await bot.rows("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


async def wait_for_outbox(
    bot: RunningBot, expected: dict[str, int], timeout: float = 10.0
) -> None:
    async def settled() -> None:
        while await outbox_states(bot) != expected:
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(settled(), timeout)
    except TimeoutError:
        raise AssertionError(f"outbox is {await outbox_states(bot)}, not {expected}") from None


async def test_card_waits_out_a_429_and_is_delivered_once(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(**FAST)
    api.inject("sendMessage", chat_id=MANAGER_CHAT_ID, error=Fault.too_many_requests(1))
    number = await submit(bot.app, 5001)

    await wait_for_cards(api, [number])

    attempts = api.calls_for("sendMessage", chat_id=MANAGER_CHAT_ID)
    assert [call.error for call in attempts] == [429, None]
    assert attempts[1].at - attempts[0].at >= 0.9, "retry_after was not honoured"
    rows = await bot.rows("SELECT kind, state, attempts FROM outbox WHERE kind = 'card'")
    assert rows == [{"kind": "card", "state": "sent", "attempts": 2}]


async def test_5xx_timeouts_and_dropped_connections_are_retried(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(**FAST)
    api.inject("sendMessage", chat_id=MANAGER_CHAT_ID, error=Fault.server_error())
    api.inject("sendMessage", chat_id=MANAGER_CHAT_ID, error=Fault.drop())
    api.inject("sendMessage", chat_id=MANAGER_CHAT_ID, error=Fault.timeout(1.5))
    number = await submit(bot.app, 5001)

    await wait_for_outbox(bot, {"sent": 2})

    faults = [call.fault for call in api.calls_for("sendMessage", chat_id=MANAGER_CHAT_ID)]
    assert faults == ["injected", "drop", "timeout", None]
    # The timed-out send did reach the chat (as on Telegram), so the card shows twice:
    # the one message in flight at the failure, never more.
    assert ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)).count(number) == 2


async def test_unreachable_manager_chat_keeps_requests_and_delivers_them_in_order(
    start_bot: Callable[..., Any], api: FakeBotAPI, caplog: Any
) -> None:
    bot = await start_bot(**FAST)
    api.unreachable_chats.add(MANAGER_CHAT_ID)
    numbers = [await submit(bot.app, 5000 + i) for i in range(4)]
    await api.wait_for_call(
        lambda call: call.chat_id == MANAGER_CHAT_ID and call.fault == "unreachable"
    )
    await asyncio.sleep(0.3)
    assert delivered_cards(api, MANAGER_CHAT_ID) == []
    assert "Cannot write to the manager chat" in caplog.text
    confirmations = api.calls_for("sendMessage")
    assert sum("принята" in (call.text or "") for call in confirmations) == 4

    api.unreachable_chats.discard(MANAGER_CHAT_ID)
    await wait_for_cards(api, numbers, timeout=15)

    assert ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)) == numbers
    await wait_for_outbox(bot, {"sent": 8})


async def test_client_who_blocked_the_bot_is_recorded_and_not_retried(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(**FAST)
    api.blocked_chats.add(5001)
    number = await submit(bot.app, 5001)

    await wait_for_cards(api, [number])
    await api.wait_for_call(lambda call: call.chat_id == 5001 and call.fault == "blocked")
    await asyncio.sleep(0.5)

    assert len(api.calls_for("sendMessage", chat_id=5001)) == 1
    assert await bot.rows("SELECT user_id FROM blocked_clients") == [{"user_id": 5001}]
    failed = await bot.rows("SELECT kind, state, last_error FROM outbox WHERE state = 'failed'")
    assert failed == [
        {
            "kind": "notice",
            "state": "failed",
            "last_error": "TelegramForbiddenError: Forbidden: bot was blocked by the user",
        }
    ]


async def test_manager_group_upgraded_to_supergroup_is_followed(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    old_group, supergroup = -4242, -1004242
    bot = await start_bot(manager_chat_id=old_group, **FAST)
    api.inject("*", chat_id=old_group, times=100, error=Fault.migrated(supergroup))
    first = await submit(bot.app, 5001)

    await api.wait_for_call(
        lambda call: call.method == "sendMessage" and call.chat_id == supergroup and call.ok
    )
    second = await submit(bot.app, 5002)
    await api.wait_for_call(
        lambda call: call.chat_id == supergroup and f"№{second}" in (call.text or "")
    )

    assert ticket_numbers(delivered_cards(api, supergroup)) == [first, second]
    migrations = await bot.rows("SELECT old_chat_id, new_chat_id FROM chat_migrations")
    assert migrations == [{"old_chat_id": old_group, "new_chat_id": supergroup}]
    # Managers now press buttons in the supergroup, and that counts as the manager chat.
    manager = ManagerChat(api, 7001, chat_id=supergroup)
    answer = await manager.click("✅ Закрыть")
    assert answer.params["text"] == f"Заявка №{second} закрыта"


async def test_burst_of_200_requests_reaches_a_rate_limited_group_without_loss(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    scale = 20.0
    api.rate_limiter = RealisticRateLimiter(time_scale=scale)
    bot = await start_bot(pace_time_scale=scale, telegram_timeout=5.0)
    requests = RequestFactory(4).requests(200)
    numbers = list(
        await asyncio.gather(
            *(submit_request(bot.app, 10_000 + i, request) for i, request in enumerate(requests))
        )
    )

    await wait_until_shown(api, set(numbers), timeout=120)
    await wait_until_told(api, set(numbers), timeout=60)

    shown = shown_numbers(cards_shown(api))
    assert sorted(set(shown)) == sorted(numbers), "a request is missing in the manager chat"
    assert len(shown) == len(numbers), "a request was shown twice"
    told = accepted_numbers(api)
    assert sorted(told) == [10_000 + i for i in range(200)], "a client was never told"
    assert all(len(told_here) == 1 for told_here in told.values()), "«принята» sent twice"
    # How many messages (digests) and 429s it took depends on the machine's speed:
    # benchmarks/bench_flow.py --limits prints them at Telegram's real pace.


async def test_cards_waiting_for_a_wrong_manager_chat_go_to_the_corrected_one(
    start_bot: Callable[..., Any], api: FakeBotAPI, caplog: Any
) -> None:
    wrong_chat = -1009999
    api.unreachable_chats.add(wrong_chat)
    first = await start_bot(manager_chat_id=wrong_chat, **FAST)
    number = await submit(first.app, 5001)
    await api.wait_for_call(lambda call: call.chat_id == wrong_chat and call.fault)
    await first.stop()

    await start_bot(**FAST)

    await wait_for_cards(api, [number])
    assert "messages for managers were waiting for another chat" in caplog.text


async def test_bot_added_to_a_group_logs_the_id_to_configure(
    bot: RunningBot, api: FakeBotAPI, caplog: Any
) -> None:
    update_id = api.put_update(
        {
            "my_chat_member": {
                "chat": {"id": -100777, "type": "supergroup", "title": "Sales"},
                "from": {"id": 7001, "is_bot": False, "first_name": "Олег"},
                "date": 1,
                "old_chat_member": {"status": "left", "user": BOT_USER},
                "new_chat_member": {"status": "member", "user": BOT_USER},
            }
        }
    )
    await api.wait_confirmed(update_id)
    for _ in range(50):
        if "set MANAGER_CHAT_ID=-100777" in caplog.text:
            break
        await asyncio.sleep(0.02)
    assert "The bot was added to supergroup 'Sales'; to receive requests there" in caplog.text
    assert "set MANAGER_CHAT_ID=-100777" in caplog.text
    assert api.calls_for("sendMessage", chat_id=-100777) == []


async def test_direct_reply_waits_out_a_short_retry_after(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    client = TelegramUser(api, 5001)
    api.inject("sendMessage", chat_id=5001, error=Fault.too_many_requests(1))

    menu = await client.send_command("/start")

    attempts = api.calls_for("sendMessage", chat_id=5001)
    assert [call.error for call in attempts] == [429, None]
    assert attempts[1].at - attempts[0].at >= 0.9
    assert "Здравствуйте" in (menu.text or "")


async def test_a_card_created_while_an_earlier_one_waits_does_not_overtake_it(
    start_bot: Callable[..., Any], api: FakeBotAPI
) -> None:
    bot = await start_bot(pace_time_scale=2.0, telegram_timeout=1.0)
    api.inject("sendMessage", chat_id=MANAGER_CHAT_ID, error=Fault.server_error())
    first = await submit(bot.app, 5001)
    await api.wait_for_call(lambda call: call.chat_id == MANAGER_CHAT_ID and call.fault)
    second = await submit(bot.app, 5002)

    await wait_for_cards(api, [first, second])

    assert ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)) == [first, second]
