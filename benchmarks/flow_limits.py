"""bench_flow.py's last phase: the whole flow at Telegram's real limits.

`--limits N` people start at once: /start, «📝 Оставить заявку», name, phone, text, «✅
Отправить», each waiting for the bot's answer before the next step. The fake Bot API
answers 429 as Telegram does (tests/support/fake_faults.py: RealisticRateLimiter at
time_scale=1: 1 message a second to a private chat with bursts of 3, 20 a minute to a
group, 30 a second in all), and the bot runs in a process of its own with PACE_TIME_SCALE=1,
pacing as it does in production, on a fresh database. Figures only, never assertions.
"""

# The harness waits on purpose: the phase is bounded by --timeout.

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from flow_clients import question
from flow_harness import FLOW_UPDATES, BenchAPI, BenchError, Run, Sim, drive, now
from flow_phases import drop_database, make_database
from flow_processes import Child, bot_env
from flow_report import LimitsFigures, Result, out, percentile, print_failures

from support.fake_faults import RealisticRateLimiter
from support.scenarios import NEW_REQUEST, SEND, confirmation_number

LIMITS_USER_BASE = 500_000_000
# A person who has had no answer for this long is counted as not answered and stops.
ANSWER_PATIENCE = 120.0
# After the outbox has nothing left to send, cards still missing are given this long.
SETTLE_SECONDS = 10.0
PROGRESS_EVERY = 30.0  # seconds between progress lines, the phase being minutes long
ANSWERS = (
    "menu",
    "name question",
    "phone question",
    "text question",
    "summary",
    "Send answered",
    "«принята»",
)


@dataclass
class LimitsRun(Run):
    first_send: float = math.inf
    whole: list[float] = field(default_factory=list)  # each client's /start -> «принята»


async def limits_client(
    api: BenchAPI, sim: Sim, index: int, run: LimitsRun, deadline: float
) -> None:
    """One person through the whole form; gives up after ANSWER_PATIENCE without an answer."""

    async def answer(stage: str, act: Any) -> Any:
        sim.stage = stage
        sent = now()
        act()
        call, at = await sim.reply(min(deadline, now() + ANSWER_PATIENCE))
        run.step(stage, at - sent)
        return call

    started = now()
    menu = await answer("menu", partial(api.say, sim, "/start", command=True))
    pressed = partial(api.press, sim, menu, NEW_REQUEST)
    reply = question(await answer("name question", pressed), "name question")
    request = sim.request
    for stage, text in zip(ANSWERS[2:5], (request.name, request.phone, request.text), strict=True):
        reply = question(await answer(stage, partial(api.say, sim, text)), stage)

    sim.stage = "Send answered"
    sent = now()
    run.first_send = min(run.first_send, sent)
    api.press(sim, reply, SEND)
    until = min(deadline, sent + ANSWER_PATIENCE)
    answered = confirmed = None
    while answered is None or confirmed is None:
        while sim.inbox:
            call, at = sim.inbox.popleft()
            if call.method == "answerCallbackQuery" and answered is None:
                answered = at
            elif call.method == "sendMessage" and confirmed is None:
                if confirmation_number(str(call.params.get("text", ""))) is None:
                    run.unexpected[f"after Send: {str(call.params.get('text'))[:100]!r}"] += 1
                else:
                    confirmed = at
        if answered is None or confirmed is None:
            sim.stage = "Send answered" if answered is None else "«принята»"
            await sim.wait(until)
    run.step("Send answered", answered - sent)
    run.step("«принята»", confirmed - sent)
    run.whole.append(confirmed - started)
    run.done(confirmed)


async def limits_phase(
    tag: str, args: argparse.Namespace, postgres: Any, workdir: Path, result: Result
) -> None:
    clients = args.limits
    out(
        tag,
        f"--- Telegram's limits: {clients} clients at once through the whole flow; fake Bot "
        "API at Telegram's limits (time_scale=1: 1 msg/s per chat, burst 3; 20/min per group; "
        "30/s overall); a new bot process with PACE_TIME_SCALE=1 ---",
    )
    figures = result.limits = LimitsFigures(clients)
    database = await make_database(tag, postgres, workdir, "limits")
    api = BenchAPI()
    api.rate_limiter = RealisticRateLimiter(time_scale=1.0)
    await api.start()
    env = bot_env(api.url, database, args.log_level, pace_time_scale=1)
    env.update(item.split("=", 1) for item in args.bot_env)
    bot = Child(f"bot-limits-{tag}", [sys.executable, "-m", "vizteh_bot"], env, workdir)
    try:
        bot.start()
        startup = await bot.wait_polling(api, 120)
        out(tag, f"bot pid {bot.pid} polling after {startup:.2f} s")
        deadline = now() + args.timeout
        run = LimitsRun(clients, FLOW_UPDATES)
        ticker = asyncio.create_task(progress(tag, api, run, clients))
        try:
            await drive(
                api,
                limits_client,
                count=clients,
                concurrency=clients,
                first_user=LIMITS_USER_BASE,
                updates_per_client=FLOW_UPDATES,
                timeout=args.timeout,
                run=run,
            )
            ids, counts = await wait_for_cards(api, database, deadline)
        finally:
            ticker.cancel()
        report(tag, api, run, ids, counts, figures)
        errors, warnings = bot.log_lines("ERROR"), bot.log_lines("WARNING")
        out(tag, f"bot log: {errors} ERROR, {warnings} WARNING lines")
        if errors:
            out(tag, f"bot log tail:\n{bot.tail()}")
    except BenchError as error:
        out(tag, f"limits ERROR: {error}")
        result.error = result.error or f"limits: {error}"
    finally:
        code = await bot.stop()
        await api.stop()
        if code not in (0, None):
            out(tag, f"limits bot exited with code {code}; log tail:\n{bot.tail()}")
        await drop_database(postgres, database)


async def progress(tag: str, api: BenchAPI, run: LimitsRun, clients: int) -> None:
    started = now()
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        out(
            tag,
            f"  ... {now() - started:.0f} s: {run.completed}/{clients} clients told «принята», "
            f"{len(api.shown)} tickets shown to managers",
        )


async def wait_for_cards(
    api: BenchAPI, database: Any, deadline: float
) -> tuple[set[int], dict[str, int]]:
    """Until every ticket in the database was shown to managers, the outbox has been idle
    for SETTLE_SECONDS with some still missing, or the deadline."""
    idle_since: float | None = None
    while True:
        ids = await database.ticket_ids()
        counts = await database.counts()
        missing = ids - set(api.shown)
        if not missing and not counts["outbox pending"]:
            return ids, counts
        if counts["outbox pending"] or not missing:
            idle_since = None
        elif idle_since is None:
            idle_since = now()
        if now() >= deadline or (idle_since is not None and now() - idle_since > SETTLE_SECONDS):
            return ids, counts
        await asyncio.sleep(0.5)


def report(
    tag: str,
    api: BenchAPI,
    run: LimitsRun,
    ids: set[int],
    counts: dict[str, int],
    figures: LimitsFigures,
) -> None:
    shown = ids & set(api.shown)
    figures.created, figures.cards, figures.answered = len(ids), len(shown), run.completed
    sizes = ", ".join(f"{n} x {size}" for size, n in sorted(api.card_sizes.items()))
    out(
        tag,
        f"cards shown in the manager chat: {len(shown)}/{figures.clients} tickets "
        f"(tickets in the DB: {len(ids)}; LOST: {len(ids - shown)}) in {api.card_messages} "
        f"messages (messages x tickets shown: {sizes or 'none'})",
    )
    out(
        tag,
        f"clients who got every answer: {run.completed}/{figures.clients} (the menu, the "
        "three questions, the summary, the Send press answered, «Заявка №N принята»)",
    )
    print_failures(tag, run, api)
    if shown == ids and ids and math.isfinite(run.first_send):
        figures.seconds_to_cards = max(api.shown_at[number] for number in ids) - run.first_send
        out(
            tag,
            "first Send press -> every card visible in the manager chat: "
            f"{figures.seconds_to_cards:.1f} s",
        )
    else:
        out(tag, f"first Send press -> every card visible: never ({len(ids - shown)} missing)")
    figures.shown_twice = sum(1 for count in api.shown.values() if count > 1)
    figures.told_twice = sum(1 for count in api.told.values() if count > 1)
    out(
        tag,
        f"duplicates: tickets shown twice {figures.shown_twice}; «принята» sent twice "
        f"{figures.told_twice}",
    )
    figures.rate_limited = dict(api.rate_limited)
    sends = Counter({m: api.methods[m] for m in ("sendMessage", "editMessageText")})
    out(
        tag,
        f"429 answers to the bot: outbox {api.rate_limited['outbox']}, direct replies "
        f"{api.rate_limited['direct']} (calls made: sendMessage {sends['sendMessage']}, "
        f"editMessageText {sends['editMessageText']}, answerCallbackQuery "
        f"{api.methods['answerCallbackQuery']})",
    )
    out(
        tag,
        f"DB check: outbox sent {counts['outbox sent']}, pending {counts['outbox pending']}, "
        f"failed {counts['outbox failed']}, quarantined {counts['outbox quarantined']}",
    )
    every = [value for name in ANSWERS for value in run.steps.get(name, [])]
    figures.wait = (percentile(every, 50), percentile(every, 95), max(every, default=math.nan))
    out(tag, "a client's wait for each answer (s)   p50      p95      max")
    rows = [(name, run.steps.get(name, [])) for name in ANSWERS]
    rows += [("any answer", every), ("whole flow: /start -> «принята»", run.whole)]
    for name, values in rows:
        out(
            tag,
            f"  {name:<34}{seconds(percentile(values, 50))}  "
            f"{seconds(percentile(values, 95))}  {seconds(max(values, default=math.nan))}",
        )


def seconds(value: float) -> str:
    return "    n/a" if math.isnan(value) else f"{value:7.2f}"
