"""The outbox's kinds each reach Telegram as they should, new requests go before cosmetics,
and a lease belongs to the one process that took it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

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
            await app.bot.session.close()
            await app.outbox_bot.session.close()
            await app.database.dispose()
