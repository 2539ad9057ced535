"""Two bot instances on one database never send the same outbox row."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text

from support.delivery_helpers import delivered_cards, submit, ticket_numbers
from support.fake_bot_api import FakeBotAPI
from support.telegram_user import MANAGER_CHAT_ID
from vizteh_bot.app.application import Application
from vizteh_bot.config import Settings


@pytest.fixture
async def two_instances(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[Application, Application]]:
    """Two instances on one database; neither polls (Telegram lets one process poll a token,
    behind a webhook several share the updates), so only their outbox workers compete."""
    settings = make_settings(pace_time_scale=1000.0, telegram_timeout=2.0)
    first, second = Application(settings), Application(settings)
    await first.prepare()
    await second.prepare()
    yield first, second
    for app in (first, second):
        await app.bot.session.close()
        await app.outbox_bot.session.close()
        await app.database.dispose()


async def test_two_workers_share_the_outbox_without_sending_a_row_twice(
    two_instances: tuple[Application, Application], api: FakeBotAPI
) -> None:
    first, second = two_instances
    numbers = [await submit(first, 6000 + i) for i in range(60)]

    workers = [asyncio.create_task(app.delivery.run()) for app in (first, second)]
    try:
        deadline = time.monotonic() + 20
        while set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID))) < set(numbers):
            assert time.monotonic() < deadline, api.dump()
            await asyncio.sleep(0.05)
    finally:
        for app in (first, second):
            app.delivery.stop()
        await asyncio.gather(*workers)

    shown = Counter(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)))
    assert sorted(shown) == numbers
    assert set(shown.values()) == {1}, "a card was sent twice"
    confirmations = Counter(
        call.chat_id for call in api.calls_for("sendMessage") if "принята" in (call.text or "")
    )
    assert len(confirmations) == 60
    assert set(confirmations.values()) == {1}, "a confirmation was sent twice"
    async with first.database.connect() as connection:
        senders = (await connection.execute(text("SELECT DISTINCT locked_by FROM outbox"))).all()
    assert len(senders) == 2, "both instances should have taken part"
