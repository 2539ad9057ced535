"""Load scenarios on the real bot process, shared by the tests and the figures scripts.

Each returns what happened to the requests; the tests assert on it, and
benchmarks/delivery_figures.py prints it for a run at Telegram's real pace.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from support.bot_process import BotProcess
from support.delivery_helpers import TICKET_NUMBER, delivered_cards, ticket_numbers
from support.fake_bot_api import FakeBotAPI
from support.fake_faults import RealisticRateLimiter
from support.form_driver import fill_until_summary, fill_until_text, press_nowait
from support.telegram_user import MANAGER_CHAT_ID, TelegramUser

ACCEPTED = ("принята", "accepted")


@dataclass
class Outcome:
    created: int
    told_accepted: int
    confirmations_repeated: int
    delivered: int
    shown_twice: list[int]
    lost: list[int]
    manager_messages: int
    rate_limited: int
    rate_limited_outbox: int
    seconds_to_deliver: float
    duplicated_messages_ok: bool

    def lines(self) -> list[str]:
        return [
            f"requests created (in the database)   {self.created}",
            f"requests told «принята»              {self.told_accepted}",
            f"«принята» messages sent twice        {self.confirmations_repeated}",
            f"requests shown in the manager chat   {self.delivered}",
            f"requests shown twice                 {len(self.shown_twice)} {self.shown_twice}",
            f"requests lost                        {len(self.lost)}",
            f"messages in the manager chat         {self.manager_messages}",
            f"answers 429 to the outbox's sends    {self.rate_limited_outbox}",
            f"answers 429 to direct replies        {self.rate_limited - self.rate_limited_outbox}",
            f"time to deliver all                  {self.seconds_to_deliver:.1f} s",
        ]


def accepted_numbers(api: FakeBotAPI) -> dict[int, list[int]]:
    """The ticket numbers each client was told were accepted, by chat."""
    told: dict[int, list[int]] = {}
    for call in api.calls_for("sendMessage"):
        text = call.text or ""
        if call.ok and (call.chat_id or 0) > 0 and any(word in text for word in ACCEPTED):
            match = TICKET_NUMBER.search(text)
            if match:
                told.setdefault(call.chat_id or 0, []).append(int(match.group(1)))
    return told


async def wait_until_shown(api: FakeBotAPI, numbers: set[int], timeout: float) -> None:
    async def shown() -> None:
        while not numbers <= set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID))):
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(shown(), timeout)
    except TimeoutError:
        seen = set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID)))
        raise AssertionError(f"never shown to managers: {sorted(numbers - seen)}") from None


def outcome(api: FakeBotAPI, stored: set[int], started: float) -> Outcome:
    cards = delivered_cards(api, MANAGER_CHAT_ID)
    shown = Counter(ticket_numbers(cards))
    twice = sorted(number for number, count in shown.items() if count > 1)
    # At most the one message in flight at a failure may repeat: a card or one digest.
    one_message = not twice or any(set(twice) <= set(ticket_numbers([call])) for call in cards)
    last = max((call.at for call in cards), default=started)
    told = [number for numbers in accepted_numbers(api).values() for number in numbers]
    return Outcome(
        created=len(stored),
        told_accepted=len(set(told)),
        confirmations_repeated=len(told) - len(set(told)),
        delivered=len(set(shown) & stored),
        shown_twice=twice,
        lost=sorted(stored - set(shown)),
        manager_messages=len(cards),
        rate_limited=sum(call.fault == "rate_limited" for call in api.calls),
        # In these scenarios only the outbox sends new messages once Send is pressed;
        # the handlers' direct replies then are edits of the summary.
        rate_limited_outbox=sum(
            call.fault == "rate_limited" and call.method == "sendMessage" for call in api.calls
        ),
        seconds_to_deliver=last - started,
        duplicated_messages_ok=one_message,
    )


async def stored_ticket_ids(bot: BotProcess) -> set[int]:
    return {row["id"] for row in await bot.rows("SELECT id FROM tickets")}


async def burst(api: FakeBotAPI, bot: BotProcess, *, clients: int, scale: float) -> Outcome:
    """`clients` people fill the form, then all press Send at once against Telegram's limits."""
    users = [TelegramUser(api, 50_000 + i, first_name=f"B{i}") for i in range(clients)]
    summaries = await asyncio.gather(
        *(fill_until_summary(user, f"Клиент {i}", f"Заявка {i}") for i, user in enumerate(users))
    )
    api.rate_limiter = RealisticRateLimiter(time_scale=scale)
    started = time.time()
    for user, summary in zip(users, summaries, strict=True):
        press_nowait(user, "✅ Отправить", summary)
    await wait_until_stored(bot, clients, timeout=60)
    stored = await stored_ticket_ids(bot)
    await wait_until_shown(api, stored, timeout=600 / scale + 60)
    return outcome(api, stored, started)


async def crash(api: FakeBotAPI, bot: BotProcess, *, scale: float) -> tuple[Outcome, int]:
    """SIGKILL while requests pour in and cards queue for a rate-limited group; restart.

    Returns what happened and how many requests the managers had seen at the kill.
    """
    clients = [TelegramUser(api, 20_000 + i, first_name=f"C{i}") for i in range(60)]
    parked = [TelegramUser(api, 30_000 + i, first_name=f"P{i}") for i in range(10)]
    summaries = await asyncio.gather(
        *(fill_until_summary(c, f"Клиент {i}", f"Заявка {i}") for i, c in enumerate(clients))
    )
    await asyncio.gather(*(fill_until_text(p, f"Ждущий {i}") for i, p in enumerate(parked)))

    api.rate_limiter = RealisticRateLimiter(time_scale=scale)
    started = time.time()
    first_wave = list(zip(clients[:40], summaries[:40], strict=True))
    await asyncio.gather(*(c.click("✅ Отправить", s, timeout=10) for c, s in first_wave))
    for client, summary in zip(clients[40:], summaries[40:], strict=True):
        press_nowait(client, "✅ Отправить", summary)
    await asyncio.sleep(0.05)
    bot.kill()
    shown_at_kill = len(set(ticket_numbers(delivered_cards(api, MANAGER_CHAT_ID))))

    await bot.start()
    for i, client in enumerate(parked):
        summary = await client.send(f"После перезапуска {i}", timeout=10)
        if f"Ждущий {i}" not in (summary.text or ""):
            raise AssertionError(f"the half-filled form of {client.user_id} was lost")
        await client.click("✅ Отправить", summary, timeout=10)
    stored = await stored_ticket_ids(bot)
    await wait_until_shown(api, stored, timeout=600 / scale + 60)
    return outcome(api, stored, started), shown_at_kill


async def wait_until_stored(bot: BotProcess, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(await stored_ticket_ids(bot)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(await stored_ticket_ids(bot))} of {count} stored")
        await asyncio.sleep(0.1)


def figures_block(title: str, outcome: Outcome, extra: dict[str, Any] | None = None) -> str:
    lines = [title, *("  " + line for line in outcome.lines())]
    lines += [f"  {key:<37}{value}" for key, value in (extra or {}).items()]
    return "\n".join(lines)
