"""The outbox's kinds each reach Telegram as they should, new requests go before cosmetics,
and a lease belongs to the one process that took it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.db_faults import table_locked
from support.delivery_helpers import submit
from support.fake_bot_api import FakeBotAPI
from support.fake_faults import Fault
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser
from vizteh_bot.app.application import Application
from vizteh_bot.config import Settings
from vizteh_bot.outbox import messages
from vizteh_bot.outbox.messages import Audience

FAST = {"pace_time_scale": 50.0, "telegram_timeout": 1.0}


async def enqueue(bot: RunningBot, *outgoing: messages.Outgoing) -> None:
    async with bot.app.store.transaction() as uow:
        await uow.outbox.enqueue(*outgoing)
    bot.app.delivery.wake()


async def test_a_copy_and_a_reply_reach_their_chats_as_asked(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    bot = await start_bot(**FAST)
    number = await submit(bot.app, client.user_id)
    card = await api.wait_for_call(lambda c: c.chat_id == MANAGER_CHAT_ID and c.ok)
    original = await client.send_command("/start")

    await enqueue(
        bot,
        messages.copy(
            MANAGER_CHAT_ID,
            Audience.MANAGERS,
            from_chat_id=client.chat_id,
            message_id=original.message_id or 0,
            ticket_id=number,
            reply_to_message_id=card.message_id,
        ),
        messages.text(client.chat_id, Audience.CLIENT, "Готово <b>&</b>", reply_to_message_id=1),
    )

    copied = await api.wait_for_call(lambda c: c.method == "copyMessage" and c.ok)
    assert copied.params["from_chat_id"] == client.chat_id
    assert copied.params["message_id"] == original.message_id
    assert copied.params["reply_parameters"]["message_id"] == card.message_id
    plain = await client.expect("sendMessage", predicate=lambda c: "Готово" in (c.text or ""))
    assert "parse_mode" not in plain.params, "plain text: nothing in it can break"
    assert plain.visible_text == "Готово <b>&</b>"


async def test_a_new_request_goes_before_the_refreshes_of_an_old_card(
    start_bot: Callable[..., Any], api: FakeBotAPI, manager: ManagerChat
) -> None:
    bot = await start_bot(**FAST)
    first = await submit(bot.app, 5001)
    card = await api.wait_for_call(lambda c: c.chat_id == MANAGER_CHAT_ID and c.ok)
    # Telegram holds the card's edits back; meanwhile two managers toggle it 50 times.
    api.inject("editMessageText", chat_id=MANAGER_CHAT_ID, error=Fault.too_many_requests(2))
    other = ManagerChat(api, 7002, first_name="Мария")
    for press in range(50):
        who = manager if press % 2 else other
        # The buttons as the card shows them once refreshed: close, then reopen, in turn.
        action = "close" if press % 2 == 0 else "reopen"
        await who.press_callback(f"t:{action}:{first}", card.message_id or 0)
        if press == 0:
            await api.wait_for_call(lambda c: c.method == "editMessageText" and c.error == 429)
    second = await submit(bot.app, 5002)

    new_card = await api.wait_for_call(
        lambda c: c.chat_id == MANAGER_CHAT_ID and f"№{second}<" in (c.text or "") and c.ok
    )
    final = await api.wait_for_call(
        lambda c: c.method == "editMessageText" and c.ok and c.seq > new_card.seq, timeout=10
    )
    refreshes = await bot.rows("SELECT id FROM outbox WHERE kind = 'card_refresh'")
    assert len(refreshes) <= 3, "50 changes of one card are a refresh or two, not 50"
    state = await bot.ticket(first)
    assert state is not None
    closed = state.status.value == "closed"
    await asyncio.sleep(0.3)
    edits = [c for c in api.calls_for("editMessageText") if c.ok]
    assert edits[-1].seq == final.seq
    assert ("Закрыть" in str(final.params["reply_markup"])) is not closed


async def test_a_second_process_leaves_the_leases_of_the_first_alone(
    make_settings: Callable[..., Settings], api: FakeBotAPI
) -> None:
    settings = make_settings(**FAST)
    first, second = Application(settings), Application(settings)
    try:
        await first.prepare()
        await submit(first, 5001)
        async with first.store.read() as uow:
            claimed = await uow.outbox.claim("first-process", 10, timedelta(seconds=30))
        assert len(claimed) == 2

        await second.prepare()  # a second bot started on the same host

        async with second.store.read() as uow:
            assert await uow.outbox.claim("second-process", 10, timedelta(seconds=30)) == []
        rows = await RunningBot(first, asyncio.create_task(asyncio.sleep(0))).rows(
            "SELECT locked_by FROM outbox"
        )
        assert {row["locked_by"] for row in rows} == {"first-process"}
    finally:
        for app in (first, second):
            await close(app)


async def test_postponing_a_chat_leaves_another_workers_leases_alone(
    make_settings: Callable[..., Settings],
) -> None:
    app = Application(make_settings(**FAST))
    try:
        await app.prepare()
        async with app.store.transaction() as uow:
            await uow.outbox.enqueue(
                *(messages.text(-100, Audience.MANAGERS, f"card {i}") for i in range(3))
            )
            held = await uow.outbox.claim("A", 2, timedelta(seconds=30))  # A is sending
        # B finds the group's budget spent and postpones the chat for a moment.
        async with app.store.transaction() as uow:
            await uow.outbox.postpone_chat(
                -100, datetime.now(UTC) + timedelta(seconds=0.1), worker_id="B"
            )
        await asyncio.sleep(0.2)
        async with app.store.transaction() as uow:
            taken = await uow.outbox.claim("B", 10, timedelta(seconds=30))
        assert not {m.id for m in held} & {m.id for m in taken}
    finally:
        await close(app)


async def test_two_claims_at_once_keep_a_chats_order(
    make_settings: Callable[..., Settings], backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has one writer: claims cannot overlap there")
    app = Application(make_settings(**FAST))
    try:
        await app.prepare()
        async with app.store.transaction() as uow:
            await uow.outbox.enqueue(
                *(messages.text(42, Audience.CLIENT, f"part {i}") for i in range(4))
            )
        first_claimed = asyncio.Event()

        async def first() -> list[Any]:
            async with app.store.transaction() as uow:
                claimed = await uow.outbox.claim("A", 2, timedelta(seconds=30))
                first_claimed.set()
                await asyncio.sleep(0.5)  # still committing while B claims
                return claimed

        async def second() -> list[Any]:
            await first_claimed.wait()
            async with app.store.transaction() as uow:
                return await uow.outbox.claim("B", 10, timedelta(seconds=30))

        taken_first, taken_second = await asyncio.gather(first(), second())
        assert len(taken_first) == 2
        assert taken_second == [], "B took a chat's later messages while A sends the first"
    finally:
        await close(app)


async def test_a_database_that_stalls_mid_batch_costs_no_second_copies(
    start_bot: Callable[..., Any], api: FakeBotAPI, database: dict[str, Any], backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite's lock stops the whole process, sends included: nothing is mid-way")
    bot = await start_bot(telegram_timeout=5)
    api.inject("sendMessage", times=10, error=Fault.timeout(1.5))  # Telegram answers slowly
    await enqueue(
        bot,
        *(
            messages.notice(5000 + i, Audience.CLIENT, "ticket-accepted", locale="ru", number=i)
            for i in range(10)
        ),
    )
    await api.wait_for_call(lambda call: call.method == "sendMessage")
    async with table_locked(database, "outbox", seconds=0):
        await asyncio.sleep(7)  # PostgreSQL does not answer the bot's outbox writes

    async def all_recorded() -> bool:
        return await bot.count_pending() == 0

    deadline = asyncio.get_running_loop().time() + 60
    while not await all_recorded():
        assert asyncio.get_running_loop().time() < deadline, "never recorded"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)
    told = Counter(
        c.chat_id for c in api.calls_for("sendMessage") if c.ok and "принята" in (c.text or "")
    )
    assert set(told.values()) == {1}, told
    assert len(told) == 10


async def close(app: Application) -> None:
    await app.bot.session.close()
    await app.outbox_bot.session.close()
    await app.database.dispose()
