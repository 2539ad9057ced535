"""Load scenarios on the real bot process, shared by the tests and the figures scripts.

Each returns what happened to the requests; the tests assert on it, and
benchmarks/delivery_figures.py prints it for a run at Telegram's real pace.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from support.bot_process import BotProcess
from support.data import Request, RequestFactory
from support.fake_bot_api import ApiCall, FakeBotAPI
from support.fake_faults import RealisticRateLimiter
from support.forms import DEFAULT_FORM, default_answers
from support.telegram_user import MANAGER_CHAT_ID, TelegramUser
from vizteh_bot.domain.tickets import Client
from vizteh_bot.services.tickets import submit_ticket

if TYPE_CHECKING:
    from vizteh_bot.app.application import Application

# A client's name or text may say «Заявка №7» too; in a card it is HTML-escaped, so only
# the template's own bold heading (a card's, or a digest line's) has a tag around it.
CARD_HEADING = re.compile(r"<b>(?:Заявка №|Request #)(\d+)</b>")
# A fallback card (plain text: values unescaped) is recognised by how it starts.
FALLBACK_HEADING = re.compile(r"\A⚠️ (?:Заявка №|Request #|#)(\d+)\b")
# «✅ Заявка №N принята!» names its ticket on its first line, where no value of the
# client's is (a summary's first line is its title).
CONFIRMATION = re.compile(r"\A[^\n]*?(?:Заявка №|Request #)(\d+)[^\n]*?(?:принята|accepted)")
# Buttons by their callback data: a client's language changes their labels.
NEW_REQUEST = "m:new"
SEND = "f:send"
BURST_SEED = 1
CRASH_SEED = 2


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


def profile_names(request: Request) -> tuple[str, str | None]:
    """The Telegram profile of the person who typed `request`: the name they typed as first
    and last name, at most 64 characters each (as Telegram allows)."""
    first, _, last = " ".join(request.name.split()).partition(" ")
    return first[:64] or request.name[:64], last[:64] or None


def make_user(api: FakeBotAPI, user_id: int, request: Request) -> TelegramUser:
    """The person who types `request`, with a Telegram profile and language to match."""
    first, last = profile_names(request)
    return TelegramUser(api, user_id, first, language_code=request.language, last_name=last)


async def submit_request(app: Application, user_id: int, request: Request) -> int:
    """Commit `request` as the form stores it (cleaned) through the service Send calls."""
    cleaned = request.cleaned()
    first, last = profile_names(request)
    submission = await submit_ticket(
        app.store,
        app.delivery,
        client=Client(user_id, f"{first} {last or ''}".strip(), None, request.language),
        request_form=DEFAULT_FORM,
        answers=default_answers(cleaned.name, cleaned.phone, cleaned.text),
        form_id=uuid.uuid4().hex,
        manager_chat_id=app.manager_chat.current_id,
        limit_per_hour=1000,
    )
    return submission.ticket.id


def button_data(user: TelegramUser, message: ApiCall, action: str) -> str:
    """The callback data of the button for `action` (e.g. "f:send") under `message`."""
    stored = user.api.get_message(user.chat_id, message.message_id or 0) or {}
    rows = (stored.get("reply_markup") or {}).get("inline_keyboard") or []
    for button in (button for row in rows for button in row):
        data = str(button.get("callback_data", ""))
        if data == action or data.startswith(f"{action}:"):
            return data
    raise AssertionError(f"no {action!r} button under {message.describe()}")


async def fill_until_text(user: TelegramUser, request: Request) -> None:
    """/start, «Оставить заявку», `request`'s name and phone: the text is owed now."""
    menu = await user.send_command("/start", timeout=10)
    data = button_data(user, menu, NEW_REQUEST)
    await user.press_callback(data, menu.message_id or 0, timeout=10)
    await user.expect("sendMessage", timeout=10)
    await user.send(request.name, timeout=10)
    await user.send(request.phone, timeout=10)


async def fill_request(user: TelegramUser, request: Request) -> ApiCall:
    """The whole form with `request`'s name, phone and text; returns the summary."""
    await fill_until_text(user, request)
    return await user.send(request.text, timeout=10)


async def press_send(user: TelegramUser, summary: ApiCall) -> ApiCall:
    """«✅ Отправить» (or «✅ Send») under `summary`; returns the bot's answer to the press."""
    data = button_data(user, summary, SEND)
    return await user.press_callback(data, summary.message_id or 0, timeout=10)


def press_send_nowait(user: TelegramUser, summary: ApiCall) -> None:
    """Press Send and do not wait for the bot (a burst, or a crash test)."""
    user.press_nowait(button_data(user, summary, SEND), summary.message_id or 0)


def card_numbers(text: str, *, html: bool = True) -> list[int]:
    """The tickets a manager-chat message shows (a digest shows several)."""
    if not html:
        return [int(match.group(1)) for match in [FALLBACK_HEADING.match(text)] if match]
    return [int(number) for number in CARD_HEADING.findall(text)]


def confirmation_number(text: str) -> int | None:
    """The ticket a «Заявка №N принята» message names; None for any other message."""
    match = CONFIRMATION.match(text)
    return int(match.group(1)) if match else None


def cards_shown(api: FakeBotAPI) -> list[ApiCall]:
    """The messages that reached the manager chat and show at least one ticket."""
    return [call for call in api.calls_for("sendMessage", chat_id=MANAGER_CHAT_ID) if shows(call)]


def shows(call: ApiCall) -> list[int]:
    if not call.ok:
        return []
    return card_numbers(call.text or "", html=call.params.get("parse_mode") is not None)


def shown_numbers(calls: list[ApiCall]) -> list[int]:
    """Every ticket number the managers could read, in the order the messages arrived."""
    return [number for call in calls for number in shows(call)]


def accepted_numbers(api: FakeBotAPI) -> dict[int, list[int]]:
    """The ticket numbers each client was told were accepted, by chat."""
    told: dict[int, list[int]] = {}
    for call in api.calls_for("sendMessage"):
        if call.ok and (call.chat_id or 0) > 0:
            number = confirmation_number(call.text or "")
            if number is not None:
                told.setdefault(call.chat_id or 0, []).append(number)
    return told


async def wait_until_shown(api: FakeBotAPI, numbers: set[int], timeout: float) -> None:
    async def shown() -> None:
        while not numbers <= set(shown_numbers(cards_shown(api))):
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(shown(), timeout)
    except TimeoutError:
        seen = set(shown_numbers(cards_shown(api)))
        raise AssertionError(f"never shown to managers: {sorted(numbers - seen)}") from None


async def wait_until_told(api: FakeBotAPI, numbers: set[int], timeout: float) -> None:
    """Until every ticket in `numbers` was confirmed to its client, or `timeout` passed
    (the caller asserts on what it then finds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        told = {number for each in accepted_numbers(api).values() for number in each}
        if numbers <= told:
            return
        await asyncio.sleep(0.1)


def outcome(api: FakeBotAPI, stored: set[int], started: float) -> Outcome:
    cards = cards_shown(api)
    shown = Counter(shown_numbers(cards))
    twice = sorted(number for number, count in shown.items() if count > 1)
    # At most the one message in flight at a failure may repeat: a card or one digest.
    one_message = not twice or any(set(twice) <= set(shows(call)) for call in cards)
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


async def burst(
    api: FakeBotAPI, bot: BotProcess, *, clients: int, scale: float, seed: int = BURST_SEED
) -> Outcome:
    """`clients` people fill the form, then all press Send at once against Telegram's limits.

    Their names, phones, texts and languages are `RequestFactory(seed)`'s."""
    requests = RequestFactory(seed).requests(clients)
    users = [make_user(api, 50_000 + i, request) for i, request in enumerate(requests)]
    summaries = await asyncio.gather(
        *(fill_request(user, request) for user, request in zip(users, requests, strict=True))
    )
    api.rate_limiter = RealisticRateLimiter(time_scale=scale)
    started = time.time()
    for user, summary in zip(users, summaries, strict=True):
        press_send_nowait(user, summary)
    await wait_until_stored(bot, clients, timeout=60)
    stored = await stored_ticket_ids(bot)
    await wait_until_shown(api, stored, timeout=600 / scale + 60)
    await wait_until_told(api, stored, timeout=60)
    return outcome(api, stored, started)


async def crash(
    api: FakeBotAPI, bot: BotProcess, *, scale: float, seed: int = CRASH_SEED
) -> tuple[Outcome, int]:
    """SIGKILL while requests pour in and cards queue for a rate-limited group; restart.

    Returns what happened and how many requests the managers had seen at the kill. The
    requests are `RequestFactory(seed)`'s: 60 sent, then 10 of people half-way through.
    """
    requests = RequestFactory(seed).requests(70)
    sending, waiting = requests[:60], requests[60:]
    clients = [make_user(api, 20_000 + i, request) for i, request in enumerate(sending)]
    parked = [make_user(api, 30_000 + i, request) for i, request in enumerate(waiting)]
    summaries = await asyncio.gather(
        *(fill_request(c, request) for c, request in zip(clients, sending, strict=True))
    )
    await asyncio.gather(*(fill_until_text(p, r) for p, r in zip(parked, waiting, strict=True)))

    api.rate_limiter = RealisticRateLimiter(time_scale=scale)
    started = time.time()
    first_wave = list(zip(clients[:40], summaries[:40], strict=True))
    await asyncio.gather(*(press_send(c, s) for c, s in first_wave))
    for client, summary in zip(clients[40:], summaries[40:], strict=True):
        press_send_nowait(client, summary)
    await asyncio.sleep(0.05)
    bot.kill()
    shown_at_kill = len(set(shown_numbers(cards_shown(api))))

    await bot.start()
    for person, request in zip(parked, waiting, strict=True):
        summary = await person.send(request.text, timeout=10)
        if request.cleaned().name not in (summary.visible_text or ""):
            raise AssertionError(f"the half-filled form of {person.user_id} was lost")
        await press_send(person, summary)
    stored = await stored_ticket_ids(bot)
    await wait_until_shown(api, stored, timeout=600 / scale + 60)
    await wait_until_told(api, stored, timeout=60)
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
