"""A person waiting for an answer is never dropped.

The bot's direct replies share one budget with the outbox and wait for their turn; a 429
or a passing fault is waited out; a reply that still cannot go in time waits in the outbox.
A press is answered once, a failure after the answer is told in a message, a second tap on
a button already in that state changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from support.client_flow import (
    ASK_NAME,
    ASK_PHONE,
    ASK_TEXT,
    RU,
    TRANSLATIONS,
    eventually,
    fill_form,
    open_form,
)
from support.data import RequestFactory
from support.fake_bot_api import FakeBotAPI
from support.fake_faults import Fault, RealisticRateLimiter
from support.fake_objects import command_update
from support.forms import question
from support.running_bot import RunningBot
from support.telegram_user import TelegramUser

SCALE = 10.0
ABOUT = RU("about-text")


async def answered_through_the_form(user: TelegramUser, name: str, phone: str, text: str) -> None:
    """Each step's own answer arrives: the menu, every question, the summary."""
    texts = TRANSLATIONS.for_language(user.user.get("language_code"))
    menu = await user.send_command("/start", timeout=60)
    await user.click(texts("menu-button-new-ticket"), menu, timeout=60)
    questions = [question(field, texts.locale) for field in ("name", "phone", "text")]
    for asked, answer in zip(questions, (name, phone, text), strict=True):
        assert (await user.expect("sendMessage", timeout=60)).text == asked
        user.send_nowait(answer)
    summary = await user.expect("sendMessage", timeout=60)
    assert texts("form-button-send") in str(summary.params.get("reply_markup"))


def client_ids(user: TelegramUser) -> dict[str, int]:
    return {"message_id": user.api.next_message_id(user.chat_id), "chat_id": user.chat_id}


async def test_a_burst_under_telegrams_limits_answers_every_client(
    start_bot: Callable[..., Any], api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    await start_bot(pace_time_scale=SCALE, telegram_timeout=5.0)
    api.rate_limiter = RealisticRateLimiter(time_scale=SCALE)
    requests = RequestFactory(seed=8).requests(60)
    clients = [
        TelegramUser(api, 60_000 + i, first_name=f"K{i}", language_code=request.language)
        for i, request in enumerate(requests)
    ]
    await asyncio.gather(
        *(
            answered_through_the_form(client, r.name, r.phone, r.text)
            for client, r in zip(clients, requests, strict=True)
        )
    )

    for client in clients:
        texts = [call.text or "" for call in client.sent()]
        assert RU("error-internal") not in texts
        assert RU("error-db-unavailable") not in texts
    assert "Could not tell the user" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_reply_telegram_holds_back_too_long_comes_from_the_outbox(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    bot = await start_bot(pace_time_scale=SCALE, telegram_timeout=5.0)
    await open_form(client)
    # Longer than the bot waits for one reply (30 s, scaled): it goes to the outbox.
    api.inject("sendMessage", chat_id=client.chat_id, error=Fault.too_many_requests(5))

    ask_phone = await client.send("Анна", timeout=30)

    assert ask_phone.text == ASK_PHONE
    await eventually(
        lambda: bot.rows("SELECT kind, state FROM outbox WHERE kind = 'deferred_call'"),
        [{"kind": "deferred_call", "state": "sent"}],
    )
    assert (await client.send("+7 916 123-45-67")).text == ASK_TEXT
    assert RU("error-internal") not in [call.text for call in client.sent()]


async def test_a_failure_after_the_press_was_answered_is_told_in_a_message(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    summary = await fill_form(client)
    api.inject(
        "editMessageReplyMarkup",
        chat_id=client.chat_id,
        error=Fault.bad_request("message can't be edited"),
    )
    mark = api.mark()
    answer = await client.click("✏️ Изменить", summary)

    apology = await client.expect("sendMessage")
    assert apology.text == RU("error-internal")
    answers = [c for c in api.calls_for("answerCallbackQuery") if c.seq >= mark]
    assert [c.params.get("callback_query_id") for c in answers] == [
        answer.params["callback_query_id"]
    ], "one answer per press: Telegram refuses a second"


async def test_a_second_tap_on_a_button_already_in_that_state_changes_nothing(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, caplog: pytest.LogCaptureFixture
) -> None:
    summary = await fill_form(client)
    edit = client.callback_data("✏️ Изменить", summary)
    await client.click("✏️ Изменить", summary)
    await client.expect("editMessageReplyMarkup")
    mark = api.mark()
    # The same button again (two quick taps): the summary already shows the field choice.
    answer = await client.press_callback(edit, summary.message_id or 0)

    assert answer.params.get("text") == RU("form-choose-field")
    await api.wait_for_call(lambda call: call.method == "editMessageReplyMarkup", start=mark)
    again = [c for c in api.calls[mark:] if c.method == "editMessageReplyMarkup"]
    assert [c.description for c in again] == [
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message"
    ]
    await client.quiet(0.3, methods={"sendMessage"})
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    "fault", [Fault.server_error(), Fault.timeout(8), Fault.bad_gateway_html()], ids=str
)
async def test_about_sends_the_text_alone_whenever_the_photo_fails(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser, fault: Any
) -> None:
    await start_bot(photo_id="AgACAgIAAxkBAAIBZ2Zf_company_photo", telegram_timeout=2.0)
    api.inject("sendPhoto", chat_id=client.chat_id, times=100, error=fault)

    client.put(command_update(client.user, "/about", **client_ids(client)))

    # (A photo held past the timeout may still arrive later, as on Telegram.)
    about = await client.expect("sendMessage", timeout=30)
    assert about.text == ABOUT


async def test_the_name_question_is_asked_once_per_album(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    ask_name = await open_form(client)
    assert ask_name.text == ASK_NAME
    client.send_album(4, caption="вот фото")

    reask = await client.expect("sendMessage")
    assert reask.text == RU("error-not-text", question=ASK_NAME)
    await client.quiet(0.5)


async def test_a_press_telegram_will_not_let_us_answer_still_does_its_work(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    await start_bot(telegram_timeout=3)
    menu = await client.send_command("/start")
    api.inject("answerCallbackQuery", times=5, error=Fault.server_error())
    api.inject("answerCallbackQuery", times=1, error=Fault.timeout(20))

    client.press_nowait(client.callback_data("📝 Оставить заявку", menu), menu.message_id or 0)
    ask_name = await client.expect("sendMessage", timeout=20)
    assert ask_name.text == ASK_NAME


async def test_an_edited_form_whose_summary_came_late_can_still_be_sent(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    bot = await start_bot(pace_time_scale=SCALE)
    summary = await fill_form(client, "Анна", "+7 916 123-45-67", "Нужен сайт")
    await client.click("✏️ Изменить", summary)
    await client.expect("editMessageReplyMarkup")
    await client.press_callback(
        client.callback_data("📝 Что нужно", summary), summary.message_id or 0
    )
    await client.expect("sendMessage")
    # The new summary is held back by Telegram past the bot's patience: the outbox sends it.
    api.inject("sendMessage", chat_id=client.chat_id, error=Fault.too_many_requests(5))
    client.send_nowait("Нужен новый сайт")
    new_summary = await client.expect(
        "sendMessage", timeout=30, predicate=lambda c: "Нужен новый сайт" in (c.text or "")
    )

    answer = await client.click("✅ Отправить", new_summary)
    assert answer.params.get("text") == RU("form-sending")
    assert await bot.rows("SELECT text FROM tickets") == [{"text": "Нужен новый сайт"}]


async def test_a_reply_telegram_took_but_answered_unreadably_is_not_repeated(
    start_bot: Callable[..., Any], api: FakeBotAPI, client: TelegramUser
) -> None:
    await start_bot(pace_time_scale=SCALE)
    api.inject("sendMessage", chat_id=client.chat_id, times=1000, error=Fault.unparseable_result())

    client.put(command_update(client.user, "/start", **client_ids(client)))
    await client.expect("sendMessage")
    await client.quiet(1.0)
