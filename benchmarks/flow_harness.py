"""The load side of bench_flow.py: simulated people, the fake Bot API that routes to them,
what a phase measured (`Run`) and `drive`, which runs many people at once. The people's
steps are in flow_clients.py.
"""

# The harness waits on purpose: `drive` takes a `timeout`.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support.data import Request, RequestFactory  # noqa: E402
from support.fake_bot_api import ApiCall, FakeBotAPI  # noqa: E402
from support.fake_objects import (  # noqa: E402
    callback_query_update,
    command_update,
    text_update,
    user_dict,
)
from support.scenarios import card_numbers, confirmation_number, profile_names  # noqa: E402

MANAGER_CHAT_ID = -1002233445566
FLOW_STEPS = ("/start", "menu button", "name", "phone", "text", "send")
FLOW_UPDATES = len(FLOW_STEPS)  # updates one client sends through the whole flow
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
    """One simulated person typing `request`: their chat's calls land in `inbox`."""

    __slots__ = (
        "card_at",
        "cards",
        "chat_id",
        "inbox",
        "number",
        "request",
        "stage",
        "think",
        "user",
        "waiter",
    )

    def __init__(self, user_id: int, request: Request, think: float = 0.0) -> None:
        first, last = profile_names(request)
        self.user = user_dict(user_id, first, last_name=last, language_code=request.language)
        self.request = request
        self.chat_id = user_id
        self.inbox: deque[tuple[ApiCall, float]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.number: int | None = None  # the ticket «Заявка №N принята» named
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
    Sim of their chat (or of their callback query). Manager cards are read for the ticket
    numbers they show (a digest counts for each), and a client's «Заявка №N принята» tells
    whose ticket N is: tickets are matched by number, never by the client's own words.
    """

    def __init__(self) -> None:
        super().__init__()
        if not callable(getattr(FakeBotAPI, "_record", None)):
            raise BenchError(
                "tests/support/fake_bot_api.py has no FakeBotAPI._record to hook into"
            )
        self.sims: dict[int, Sim] = {}
        self.queries: dict[str, Sim] = {}
        self.polled = asyncio.Event()
        self.methods: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.card_messages = 0
        self.card_tickets = 0  # tickets shown, counted once per message that shows them
        self.card_sizes: Counter[int] = Counter()  # tickets a message shows -> messages
        self.shown: Counter[int] = Counter()  # ticket number -> messages showing it
        self.shown_at: dict[int, float] = {}
        self.owners: dict[int, Sim] = {}  # ticket number -> the person told it was accepted
        self.told: Counter[tuple[int, int]] = Counter()  # (chat, number) -> «принята» sent
        self.rate_limited: Counter[str] = Counter()  # "outbox" / "direct" -> 429 answers

    @property
    def stray_card_tickets(self) -> int:
        """Tickets shown to managers that no simulated person was told about."""
        return sum(1 for number in self.shown if number not in self.owners)

    def _record(self, call: ApiCall) -> None:
        method = call.method
        self.methods[method] += 1
        if method == "getUpdates":
            self.polled.set()
            return
        if call.error is not None or call.fault is not None:
            if call.fault == "rate_limited":
                self.rate_limited[self._sender(call)] += 1
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
            if method == "sendMessage" and isinstance(chat_id, int):
                self._confirmation(call, chat_id, sim)
        if sim is not None:
            sim.inbox.append((call, at))
            sim.wake()

    @staticmethod
    def _sender(call: ApiCall) -> str:
        """Whether a refused call came from the outbox (cards, «принята») or a handler.

        A handler's reply that waited longer than its patience is sent by the outbox
        too, and counts as a direct reply here: only its text is seen.
        """
        if call.chat_id == MANAGER_CHAT_ID:
            return "outbox"
        if call.method == "sendMessage" and confirmation_number(call.text or "") is not None:
            return "outbox"
        return "direct"

    def _confirmation(self, call: ApiCall, chat_id: int, sim: Sim | None) -> None:
        number = confirmation_number(call.text or "")
        if number is None:
            return
        self.told[(chat_id, number)] += 1
        if sim is None:
            return
        self.owners.setdefault(number, sim)
        sim.number = number
        if sim.card_at is None and number in self.shown_at:
            sim.card_at = self.shown_at[number]

    def _card(self, call: ApiCall, at: float) -> None:
        self.card_messages += 1
        html = call.params.get("parse_mode") is not None
        numbers = card_numbers(str(call.params.get("text", "")), html=html)
        self.card_sizes[len(numbers)] += 1
        for number in numbers:
            self.card_tickets += 1
            self.shown[number] += 1
            self.shown_at.setdefault(number, at)
            sim = self.owners.get(number)
            if sim is None:
                continue
            sim.cards += 1
            if sim.card_at is None:
                sim.card_at = at
            sim.wake()

    def say(self, sim: Sim, text: str, *, command: bool = False) -> None:
        message_id = self.next_message_id(sim.chat_id)
        if command:
            self.put_update(command_update(sim.user, text, message_id=message_id))
        else:
            self.put_update(text_update(sim.user, text, message_id=message_id))

    def press(self, sim: Sim, call: ApiCall, action: str) -> None:
        """Press the inline button for `action` ("m:new", "f:send") under the message
        `call` sent; the button's data may carry more (Send names its form)."""
        message = call.result if isinstance(call.result, dict) else {}
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        for button in (button for row in rows for button in row):
            data = str(button.get("callback_data", ""))
            if data == action or data.startswith(f"{action}:"):
                update = callback_query_update(sim.user, message, data)
                self.queries[str(update["callback_query"]["id"])] = sim
                self.put_update(update)
                return
        text = str(call.params.get("text", ""))[:200]
        raise BenchError(f"no button {action!r} under the bot's reply: {text!r}")


# -------------------------------------------------------------------------------- runs


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
    unexpected: Counter[str] = field(default_factory=Counter)  # replies nobody asked for
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
    seed: int | None = None,
    run: Run | None = None,
) -> Run:
    """`count` people, at most `concurrency` at a time, all within `timeout` seconds.

    Person i types `RequestFactory(seed)`'s i-th request (seed: `first_user` unless given),
    so the same phase sends the same names, phones and texts in every run.
    """
    run = run or Run(clients=count, updates_per_client=updates_per_client)
    requests = RequestFactory(first_user if seed is None else seed).requests(count)
    sims = [Sim(first_user + i, request, think_seconds) for i, request in enumerate(requests)]
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
