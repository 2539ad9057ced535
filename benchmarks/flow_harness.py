"""The load side of bench_flow.py: simulated people, the fake Bot API that routes to them,
the three clients (whole flow, parked half-way, floor) and `drive`, which runs them at once.
"""

# The harness waits on purpose: `drive` takes a `timeout`.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import random
import re
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support.fake_bot_api import ApiCall, FakeBotAPI  # noqa: E402
from support.fake_objects import (  # noqa: E402
    callback_query_update,
    command_update,
    text_update,
    user_dict,
)

MANAGER_CHAT_ID = -1001234567890
FLOW_STEPS = ("/start", "menu button", "name", "phone", "text", "send")
FLOW_UPDATES = len(FLOW_STEPS)  # updates one client sends through the whole flow
USER_LINK = re.compile(r"tg://user\?id=(\d+)")
SEND = frozenset({"sendMessage"})

now = time.monotonic


async def think(seconds: float) -> None:
    """A person's pause before an answer: `seconds` +-50% (0: answer at once)."""
    if seconds > 0:
        await asyncio.sleep(seconds * random.uniform(0.5, 1.5))


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------- fake server


class Sim:
    """One simulated person: their chat's calls land in `inbox`, in arrival order."""

    __slots__ = ("card_at", "cards", "chat_id", "inbox", "stage", "think", "user", "waiter")

    def __init__(self, user_id: int, first_name: str = "Анна", think: float = 0.0) -> None:
        self.user = user_dict(user_id, first_name, language_code="ru")
        self.chat_id = user_id
        self.inbox: deque[tuple[ApiCall, float]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.card_at: float | None = None
        self.cards = 0
        self.stage = "start"
        self.think = think

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, deadline: float) -> None:
        """Until the next call for this person (or its card) arrives; TimeoutError at deadline."""
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout_at(deadline):
                await self.waiter
        finally:
            self.waiter = None

    async def reply(
        self, deadline: float, methods: frozenset[str] = SEND
    ) -> tuple[ApiCall, float]:
        """The next successful call of `methods` to this chat; others are skipped."""
        while True:
            while self.inbox:
                call, at = self.inbox.popleft()
                if call.method in methods:
                    return call, at
            await self.wait(deadline)


class BenchAPI(FakeBotAPI):
    """The tests' fake Bot API, with O(1) routing of each call to the person it is for.

    The base class keeps every call in a list and wakes every waiter on every call (fine for
    a test, quadratic for 10 000 people); here calls are counted and handed straight to the
    Sim of their chat (or of their callback query), and manager cards are parsed for the
    client links they show, so a digest of several tickets counts for each of them.
    """

    def __init__(self) -> None:
        super().__init__()
        if not callable(getattr(FakeBotAPI, "_record", None)):
            raise BenchError("tests/support/fake_bot_api.py has no FakeBotAPI._record to hook into")
        self.sims: dict[int, Sim] = {}
        self.queries: dict[str, Sim] = {}
        self.polled = asyncio.Event()
        self.methods: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.card_messages = 0
        self.card_tickets = 0
        self.stray_card_tickets = 0

    def _record(self, call: ApiCall) -> None:
        method = call.method
        self.methods[method] += 1
        if method == "getUpdates":
            self.polled.set()
            return
        if call.error is not None or call.fault is not None:
            self.errors[f"{method} -> {call.error or call.fault} {call.description or ''}"] += 1
            return
        at = now()
        if method == "answerCallbackQuery":
            sim = self.queries.pop(str(call.params.get("callback_query_id")), None)
        else:
            chat_id = call.params.get("chat_id")
            if chat_id == MANAGER_CHAT_ID:
                if method == "sendMessage":
                    self._card(call, at)
                return
            sim = self.sims.get(chat_id)  # type: ignore[arg-type]
        if sim is not None:
            sim.inbox.append((call, at))
            sim.wake()

    def _card(self, call: ApiCall, at: float) -> None:
        self.card_messages += 1
        for user_id in USER_LINK.findall(str(call.params.get("text", ""))):
            self.card_tickets += 1
            sim = self.sims.get(int(user_id))
            if sim is None:
                self.stray_card_tickets += 1
                continue
            sim.cards += 1
            if sim.card_at is None:
                sim.card_at = at
            sim.wake()

    def say(self, sim: Sim, text: str) -> None:
        message_id = self.next_message_id(sim.chat_id)
        if text.startswith("/"):
            self.put_update(command_update(sim.user, text, message_id=message_id))
        else:
            self.put_update(text_update(sim.user, text, message_id=message_id))

    def press(self, sim: Sim, call: ApiCall, data: str) -> None:
        """Press the inline button with callback data `data` under the message `call` sent."""
        message = call.result if isinstance(call.result, dict) else {}
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if not any(button.get("callback_data") == data for row in rows for button in row):
            raise BenchError(f"no button {data!r} under the bot's reply: {call.params}")
        update = callback_query_update(sim.user, message, data)
        self.queries[str(update["callback_query"]["id"])] = sim
        self.put_update(update)


# ------------------------------------------------------------------------------ clients


@dataclass
class Run:
    """What one phase measured."""

    clients: int
    updates_per_client: int
    steps: dict[str, list[float]] = field(default_factory=dict)
    card: list[float] = field(default_factory=list)
    confirmation: list[float] = field(default_factory=list)
    completed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    last_done: float = 0.0
    harness_cpu: float = 0.0

    def step(self, name: str, seconds: float) -> None:
        self.steps.setdefault(name, []).append(seconds)

    def done(self, at: float) -> None:
        self.completed += 1
        self.last_done = max(self.last_done, at)

    @property
    def wall(self) -> float:
        return max(self.last_done - self.started, 1e-9)

    @property
    def updates(self) -> int:
        return self.completed * self.updates_per_client

    @property
    def updates_per_second(self) -> float:
        return self.updates / self.wall

    @property
    def requests_per_second(self) -> float:
        return self.completed / self.wall


async def flow_client(api: BenchAPI, sim: Sim, index: int, run: Run, deadline: float) -> None:
    """One person through the whole form, waiting for each answer before the next step."""
    sim.stage = "/start"
    sent = now()
    api.say(sim, "/start")
    menu, at = await sim.reply(deadline)
    run.step("/start", at - sent)

    await think(sim.think)
    sim.stage = "menu button"
    sent = now()
    api.press(sim, menu, "m:new")
    _, at = await sim.reply(deadline)
    run.step("menu button", at - sent)

    summary = None
    for stage, text in (
        ("name", f"Клиент {index}"),
        ("phone", f"+7916{index % 10_000_000:07d}"),
        ("text", f"Не печатает принтер в кабинете {index}, нужна помощь"),
    ):
        await think(sim.think)
        sim.stage = stage
        sent = now()
        api.say(sim, text)
        summary, at = await sim.reply(deadline)
        run.step(stage, at - sent)

    assert summary is not None
    await think(sim.think)
    sim.stage = "send"
    sent = now()
    api.press(sim, summary, "f:send")
    answered = confirmed = None
    while answered is None or confirmed is None or sim.card_at is None:
        while sim.inbox:
            call, at = sim.inbox.popleft()
            if call.method == "answerCallbackQuery" and answered is None:
                answered = at
            elif call.method == "sendMessage" and confirmed is None:
                confirmed = at  # «Заявка №N принята» from the outbox
        if answered is None or confirmed is None or sim.card_at is None:
            sim.stage = (
                "send: no answer to the press"
                if answered is None
                else "send: no confirmation"
                if confirmed is None
                else "send: no manager card"
            )
            await sim.wait(deadline)
    run.step("send", answered - sent)
    run.confirmation.append(confirmed - sent)
    run.card.append(sim.card_at - sent)
    run.done(max(confirmed, sim.card_at))


async def park_client(api: BenchAPI, sim: Sim, index: int, run: Run, deadline: float) -> None:
    """One person who gives name and phone, gets asked for the text, and goes away."""
    sim.stage = "/start"
    sent = now()
    api.say(sim, "/start")
    menu, at = await sim.reply(deadline)
    run.step("/start", at - sent)
    sim.stage = "menu button"
    sent = now()
    api.press(sim, menu, "m:new")
    _, at = await sim.reply(deadline)
    run.step("menu button", at - sent)
    for stage, text in (("name", f"Гость {index}"), ("phone", f"+7903{index % 10_000_000:07d}")):
        sim.stage = stage
        sent = now()
        api.say(sim, text)
        _, at = await sim.reply(deadline)
        run.step(stage, at - sent)
    run.done(at)


async def floor_client(api: BenchAPI, sim: Sim, index: int, run: Run, deadline: float) -> None:
    """The same number of updates as the flow, as plain messages the bare bot answers."""
    at = now()
    for step in range(FLOW_UPDATES):
        if step:
            await think(sim.think)
        sim.stage = f"message {step + 1}"
        sent = now()
        api.say(sim, f"сообщение {step + 1} от {index}")
        _, at = await sim.reply(deadline)
        run.step("message", at - sent)
    run.done(at)


async def drive(
    api: BenchAPI,
    client: Any,
    *,
    count: int,
    concurrency: int,
    first_user: int,
    updates_per_client: int,
    timeout: float,
    think_seconds: float = 0.0,
) -> Run:
    """`count` people, at most `concurrency` at a time, all within `timeout` seconds."""
    run = Run(clients=count, updates_per_client=updates_per_client)
    sims = [Sim(first_user + index, think=think_seconds) for index in range(count)]
    api.sims.update((sim.chat_id, sim) for sim in sims)
    queue = iter(range(count))
    cpu = time.process_time()
    run.started = now()
    deadline = run.started + timeout

    async def worker() -> None:
        for index in queue:
            sim = sims[index]
            try:
                await client(api, sim, index, run, deadline)
            except TimeoutError:
                run.failures[f"timed out at step {sim.stage!r}"] += 1
            except BenchError as error:
                run.failures[str(error)[:200]] += 1

    try:
        await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    finally:
        run.harness_cpu = time.process_time() - cpu
        for sim in sims:
            api.sims.pop(sim.chat_id, None)
    return run
