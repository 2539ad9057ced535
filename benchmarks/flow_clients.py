"""The people bench_flow.py simulates: through the whole form, parked half-way, or writing
to the floor. Each types its Sim's request (tests/support/data.py: realistic names, phones
and texts of 100-2000 characters, Russian and English, emoji and `<>&`) and waits for the
bot's answer to each step before the next, as a person does.
"""

from __future__ import annotations

from flow_harness import FLOW_UPDATES, BenchAPI, BenchError, Run, Sim, now, think

from support.fake_bot_api import ApiCall
from support.scenarios import NEW_REQUEST, SEND, confirmation_number


def question(call: ApiCall, stage: str) -> ApiCall:
    """The bot's answer to a form step must be its next question (or the summary): those
    come with a keyboard, a refusal ("the name is too long") does not."""
    if "reply_markup" not in call.params:
        text = str(call.params.get("text", ""))[:160]
        raise BenchError(f"step {stage!r}: the bot answered without a keyboard: {text!r}")
    return call


async def form_steps(
    api: BenchAPI, sim: Sim, run: Run, deadline: float, *, stop_after: str = "text"
) -> tuple[ApiCall, float]:
    """/start, «📝 Оставить заявку», name, phone[, text]: the last answer (the summary to
    the text) and when it came."""
    sim.stage = "/start"
    sent = now()
    api.say(sim, "/start", command=True)
    menu, at = await sim.reply(deadline)
    run.step("/start", at - sent)

    await think(sim.think)
    sim.stage = "menu button"
    sent = now()
    api.press(sim, menu, NEW_REQUEST)
    answer, at = await sim.reply(deadline)
    run.step("menu button", at - sent)
    question(answer, sim.stage)

    request = sim.request
    for stage, text in (("name", request.name), ("phone", request.phone), ("text", request.text)):
        await think(sim.think)
        sim.stage = stage
        sent = now()
        api.say(sim, text)
        answer, at = await sim.reply(deadline)
        run.step(stage, at - sent)
        question(answer, stage)
        if stage == stop_after:
            break
    return answer, at


async def flow_client(api: BenchAPI, sim: Sim, index: int, run: Run, deadline: float) -> None:
    """One person through the whole form, waiting for each answer before the next step."""
    summary, _ = await form_steps(api, sim, run, deadline)
    await think(sim.think)
    sim.stage = "send"
    sent = now()
    api.press(sim, summary, SEND)
    answered = confirmed = None
    while answered is None or confirmed is None or sim.card_at is None:
        while sim.inbox:
            call, at = sim.inbox.popleft()
            if call.method == "answerCallbackQuery" and answered is None:
                answered = at
            elif call.method == "sendMessage" and confirmed is None:
                if confirmation_number(str(call.params.get("text", ""))) is None:
                    run.unexpected[f"after Send: {str(call.params.get('text'))[:100]!r}"] += 1
                else:
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
    _, at = await form_steps(api, sim, run, deadline, stop_after="phone")
    run.done(at)


async def floor_client(api: BenchAPI, sim: Sim, index: int, run: Run, deadline: float) -> None:
    """The same number of updates as the flow, with the same words, as plain messages the
    bare bot answers."""
    request = sim.request
    words = ("/start", "📝 Оставить заявку", request.name, request.phone, request.text, "✅")
    assert len(words) == FLOW_UPDATES
    at = now()
    for step, text in enumerate(words):
        if step:
            await think(sim.think)
        sim.stage = f"message {step + 1}"
        sent = now()
        api.say(sim, text, command=step == 0)
        _, at = await sim.reply(deadline)
        run.step("message", at - sent)
    run.done(at)
