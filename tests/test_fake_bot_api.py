"""Tests of the test infrastructure: the fake Bot API, the user driver and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import Response
from aiogram.types import (
    CallbackQuery,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    MessageEntity,
    MessageId,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    ReactionTypeUnion,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from pydantic import ValidationError

from support.fake_bot_api import (
    REPLY_METHODS,
    STANDARD_REACTIONS,
    ApiCall,
    FakeBotAPI,
    Fault,
    FaultSpec,
    RealisticRateLimiter,
)
from support.fake_messages import (
    CAPTION_KINDS,
    MESSAGE_KINDS,
    album_updates_of,
    edited_message_update,
    media_update,
)
from support.fake_objects import (
    BOT_USER,
    callback_query_update,
    chat_dict,
    forwarded_text_update,
    new_media_group_id,
    photo_update,
    render_html,
    text_update,
    unknown_forward_origin,
    user_dict,
)
from support.postgres_server import start_postgres
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser

GROUP = MANAGER_CHAT_ID
USER = 555000111


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=label, callback_data=f"cb:{label}")] for label in labels]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def make_bot(api: FakeBotAPI, timeout: float = 5.0) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.url), timeout=timeout)
    return Bot(token="123456:TEST", session=session)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = make_bot(api)
    yield bot
    await bot.session.close()


# ------------------------------------------------------------------------------ basics


async def test_get_me_and_case_insensitive_raw_requests(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (1000000001, True, "vizteh_test_bot")

    async with aiohttp.ClientSession() as http:
        url = f"{api.url}/bot123456:TEST/SENDMESSAGE"
        async with http.get(url, params={"chat_id": "42", "text": "по GET"}) as response:
            assert (await response.json())["result"]["chat"] == {
                "id": 42,
                "type": "private",
                "first_name": "User",
            }
        async with http.post(f"{api.url}/bot123456:TEST/getme", json={}) as response:
            assert (await response.json())["result"]["first_name"] == "VizTeh"
        async with http.get(f"{api.url}/file/bot123456:TEST/photos/x.jpg") as response:
            assert response.status == 404
        async with http.get(f"{api.url}/bot123456:TEST/noSuchMethod") as response:
            assert response.status == 404

    raw_send = api.calls[1]
    assert (raw_send.method, raw_send.params, raw_send.token) == (
        "sendMessage",
        {"chat_id": 42, "text": "по GET"},
        "123456:TEST",
    )
    assert [call.method for call in api.calls] == ["getMe", "sendMessage", "getMe", "noSuchMethod"]


async def test_send_and_edit_round_trip(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Выберите услугу", reply_markup=keyboard("Ремонт"))
    assert sent.from_user is not None
    assert sent.from_user.id == 1000000001
    assert sent.chat.type == "private"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "cb:Ремонт"
    call = api.calls[-1]
    assert call.chat_id == USER  # multipart "555000111" became an int
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Ремонт", "callback_data": "cb:Ремонт"}]]
    }

    edited = await bot.edit_message_text(
        text="Услуга: ремонт",
        chat_id=USER,
        message_id=sent.message_id,
        reply_markup=keyboard("Ок"),
    )
    assert isinstance(edited, Message)
    assert (edited.message_id, edited.text) == (sent.message_id, "Услуга: ремонт")
    assert edited.edit_date is not None
    stored = api.get_message(USER, sent.message_id)
    assert stored is not None
    assert stored["text"] == "Услуга: ремонт"

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Услуга: ремонт",
            chat_id=USER,
            message_id=sent.message_id,
            reply_markup=keyboard("Ок"),
        )
    markup_only = await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    assert isinstance(markup_only, Message)
    assert markup_only.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=999)
    assert await bot.delete_message(USER, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)

    second = await bot.send_message(USER, "ещё")
    in_group = await bot.send_message(GROUP, "в группу")
    assert second.message_id == sent.message_id + 1
    assert in_group.message_id == 1
    assert (in_group.chat.type, in_group.chat.title) == ("supergroup", "Managers")
    assert (await bot.send_message(-4567, "basic group")).chat.type == "group"


async def test_html_is_rendered_and_validated(api: FakeBotAPI, bot: Bot) -> None:
    message = await bot.send_message(USER, "<b>Заявка №5</b> от &lt;Анна&gt;", parse_mode="HTML")
    assert message.text == "Заявка №5 от <Анна>"
    assert api.calls[-1].text == "<b>Заявка №5</b> от &lt;Анна&gt;"
    assert api.calls[-1].visible_text == "Заявка №5 от <Анна>"

    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_message(USER, "Клиент <Анна>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start tag"):
        await bot.send_message(USER, "<b>жирный", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "я" * 4097)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "кнопка", reply_markup=markup)
    assert render_html("a &amp; b <i>c</i>") == "a & b c"


async def test_media_copy_forward_and_reply(api: FakeBotAPI, bot: Bot) -> None:
    photo = await bot.send_photo(USER, "AgACphoto123", caption="Схема")
    assert photo.photo is not None
    assert photo.photo[-1].file_id == "AgACphoto123"
    assert photo.caption == "Схема"
    sticker = await bot.send_sticker(USER, "CAACsticker")
    assert sticker.sticker is not None
    assert sticker.sticker.file_id == "CAACsticker"
    document = await bot.send_document(USER, "BQACdoc")
    assert document.document is not None
    assert document.document.file_id == "BQACdoc"

    client = user_dict(USER)
    message_id = api.next_message_id(USER)
    api.put_update(photo_update(client, message_id=message_id, file_id="AgACclient", caption="!"))
    copied = await bot.copy_message(GROUP, from_chat_id=USER, message_id=message_id)
    stored = api.get_message(GROUP, copied.message_id)
    assert stored is not None
    assert stored["photo"][-1]["file_id"] == "AgACclient"
    forwarded = await bot.forward_message(GROUP, from_chat_id=USER, message_id=message_id)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(GROUP, from_chat_id=USER, message_id=10_000)

    reply = await bot.send_message(USER, "Получили фото", reply_to_message_id=message_id)
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(USER, "ответ", reply_to_message_id=10_000)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_caption(chat_id=USER, message_id=message_id, caption="чужое")

    assert [call.method for call in api.sent_to(GROUP)] == ["copyMessage", "forwardMessage"]
    assert len(api.calls_for("sendMessage", chat_id=USER)) == 2


async def test_service_methods(api: FakeBotAPI, bot: Bot) -> None:
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    await bot.set_my_commands([])
    assert await bot.get_my_commands() == []
    assert await bot.send_chat_action(USER, "typing") is True
    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.type, chat.title) == (GROUP, "supergroup", "Managers")
    assert await bot.set_webhook("https://example.invalid/hook") is True
    assert api.webhook_url == "https://example.invalid/hook"
    with pytest.raises(TelegramAPIError, match="webhook is active"):
        await bot.get_updates()


# ------------------------------------------------------------------------ long polling


async def test_get_updates_long_poll(api: FakeBotAPI, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 3

    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    client = user_dict(USER, "Анна")
    update_id = api.put_update(text_update(client, "Привет", message_id=api.next_message_id(USER)))
    updates = await asyncio.wait_for(poll, 2)
    assert [update.update_id for update in updates] == [update_id]
    message = updates[0].message
    assert message is not None
    assert message.text == "Привет"
    assert message.from_user is not None
    assert message.from_user.first_name == "Анна"

    # Not confirmed yet: delivered again; confirmed by offset: gone.
    assert [u.update_id for u in await bot.get_updates()] == [update_id]
    assert await bot.get_updates(offset=update_id + 1) == []
    assert api.pending_updates == []

    second = api.put_update({"message": {**message.model_dump(by_alias=True), "text": "два"}})
    assert second == update_id + 1
    assert [u.update_id for u in await bot.get_updates(offset=update_id + 1, limit=5)] == [second]


async def test_redelivered_update_and_conflicting_polls(api: FakeBotAPI, bot: Bot) -> None:
    client = user_dict(USER)
    update = text_update(client, "дубль", message_id=api.next_message_id(USER))
    update_id = api.put_update(update)
    assert [u.update_id for u in await bot.get_updates(offset=0)] == [update_id]
    assert await bot.get_updates(offset=update_id + 1) == []

    api.put_update_raw({**update, "update_id": update_id})  # Telegram sends it again
    again = await bot.get_updates(offset=update_id + 1)
    assert [u.update_id for u in again] == [update_id]
    assert await bot.get_updates(offset=update_id + 1) == []

    first_poll = asyncio.create_task(bot.get_updates(offset=update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    second_poll = asyncio.create_task(bot.get_updates(offset=update_id + 1, timeout=1))
    with pytest.raises(TelegramAPIError, match="terminated by other getUpdates request"):
        await first_poll
    assert await second_poll == []


async def test_callback_query_carries_the_stored_message(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(GROUP, "Заявка №1", reply_markup=keyboard("Взять"))
    stored = api.get_message(GROUP, sent.message_id)
    assert stored is not None
    manager = user_dict(777, "Олег")
    update_id = api.put_update(callback_query_update(manager, stored, "cb:Взять"))
    [update] = await bot.get_updates(offset=update_id)
    query = update.callback_query
    assert query is not None
    assert query.data == "cb:Взять"
    assert isinstance(query.message, Message)
    assert query.message.reply_markup is not None
    assert query.message.reply_markup.inline_keyboard[0][0].text == "Взять"

    assert await bot.answer_callback_query(query.id, text="Взято") is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)


async def test_callback_queries_expire(api: FakeBotAPI, bot: Bot) -> None:
    assert api.callback_answer_timeout == 15.0
    api.callback_answer_timeout = 0.3
    sent = await bot.send_message(GROUP, "Заявка №2", reply_markup=keyboard("Взять"))
    stored = api.get_message(GROUP, sent.message_id)
    assert stored is not None
    manager = user_dict(777, "Олег")
    late = api.put_update(callback_query_update(manager, stored, "cb:Взять"))
    await asyncio.sleep(0.4)  # waiting in the queue counts: the press happened when queued
    fresh = api.put_update(callback_query_update(manager, stored, "cb:Взять"))
    updates = await bot.get_updates(offset=late)
    assert [update.update_id for update in updates] == [late, fresh]
    late_query, fresh_query = (update.callback_query for update in updates)
    assert late_query is not None
    assert fresh_query is not None
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout"):
        await bot.answer_callback_query(late_query.id)
    assert await bot.answer_callback_query(fresh_query.id) is True
    assert api.calls[-2].error == 400


# ------------------------------------------------------------------------------ faults


@pytest.mark.parametrize(
    ("fault", "exception", "check"),
    [
        (Fault.too_many_requests(7), TelegramRetryAfter, lambda e: e.retry_after == 7),
        (Fault.chat_not_found(), TelegramBadRequest, lambda e: "chat not found" in e.message),
        (Fault.forbidden(), TelegramForbiddenError, lambda e: "blocked by the user" in e.message),
        (Fault.server_error(), TelegramServerError, lambda e: "Internal Server" in e.message),
        (
            Fault.migrated(-1009876543210),
            TelegramMigrateToChat,
            lambda e: e.migrate_to_chat_id == -1009876543210,
        ),
        (
            Fault.bad_request("wrong file identifier/HTTP URL specified"),
            TelegramBadRequest,
            lambda e: e.message == "Bad Request: wrong file identifier/HTTP URL specified",
        ),
        (
            Fault.not_enough_rights(),
            TelegramBadRequest,
            lambda e: (
                e.message == "Bad Request: not enough rights to send text messages to the chat"
            ),
        ),
    ],
)
async def test_injected_errors_raise_aiogram_exceptions(
    api: FakeBotAPI,
    bot: Bot,
    fault: FaultSpec,
    exception: type[TelegramAPIError],
    check: Callable[[Any], bool],
) -> None:
    api.inject("sendmessage", chat_id=USER, times=1, error=fault)
    other_chat = await bot.send_message(USER + 1, "другому")  # other chats are unaffected
    assert other_chat.text == "другому"
    with pytest.raises(exception) as raised:
        await bot.send_message(USER, "первая попытка")
    assert check(raised.value)
    retried = await bot.send_message(USER, "вторая попытка")  # times=1: only once
    assert retried.text == "вторая попытка"
    failed = api.calls_for("sendMessage", chat_id=USER)[0]
    assert (failed.error, failed.fault) == (fault.status, "injected")
    assert api.sent_to(USER) == [api.calls[-1]]
    assert len(api.sent_to(USER, include_failed=True)) == 2


async def test_dropped_connection_is_a_network_error(api: FakeBotAPI, bot: Bot) -> None:
    api.inject("sendMessage", error=Fault.drop())
    with pytest.raises(TelegramNetworkError, match="ServerDisconnected"):
        await bot.send_message(USER, "потеряется")
    assert api.calls[-1].fault == "drop"
    assert not api.calls[-1].ok
    assert api.messages_in(USER) == []
    assert (await bot.send_message(USER, "дойдёт")).text == "дойдёт"


async def test_timeout_is_a_network_error_but_the_message_arrives(api: FakeBotAPI) -> None:
    impatient = make_bot(api, timeout=0.3)
    try:
        api.inject("sendMessage", error=Fault.timeout(0.8))
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await impatient.send_message(USER, "медленно")
        call = await api.wait_for_call(lambda c: c.result is not None, timeout=2)
        assert call.fault == "timeout"
        assert [m["text"] for m in api.messages_in(USER)] == ["медленно"]
    finally:
        await impatient.session.close()


async def test_unreachable_and_blocked_chats(api: FakeBotAPI, bot: Bot) -> None:
    api.unreachable_chats.add(GROUP)
    api.blocked_chats.add(USER)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(GROUP, "в никуда")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_photo(GROUP, "AgACphoto")
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(USER, "заблокирован")
    api.unreachable_chats.clear()
    assert (await bot.send_message(GROUP, "снова")).chat.id == GROUP
    assert [call.fault for call in api.calls] == ["unreachable", "unreachable", "blocked", None]


async def test_rate_limiter_answers_429_to_21st_group_message(api: FakeBotAPI, bot: Bot) -> None:
    api.rate_limiter = RealisticRateLimiter()
    for number in range(20):
        await bot.send_message(GROUP, f"сообщение {number}")
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(GROUP, "21-е")
    assert 1 <= raised.value.retry_after <= 3
    assert api.calls[-1].fault == "rate_limited"
    assert (await bot.send_message(USER, "в личку можно")).text == "в личку можно"
    assert await bot.send_chat_action(GROUP, "typing") is True  # not a message: not limited


def test_rate_limiter_buckets_with_a_fake_clock() -> None:
    now = [0.0]
    limiter = RealisticRateLimiter(clock=lambda: now[0])
    assert [limiter.acquire(USER) for _ in range(4)] == [None, None, None, 1]
    now[0] = 1.0
    assert limiter.acquire(USER) is None
    assert limiter.acquire(USER) == 1

    fast = RealisticRateLimiter(time_scale=10, clock=lambda: now[0])
    assert all(fast.acquire(GROUP) is None for _ in range(20))
    assert fast.acquire(GROUP) == 1  # 3 s per message / 10, rounded up to 1
    now[0] += 0.3
    assert fast.acquire(GROUP) is None

    total = RealisticRateLimiter(clock=lambda: now[0])
    assert all(total.acquire(chat) is None for chat in range(1, 31))
    assert total.acquire(31) == 1  # 30 messages per second overall


async def test_bad_gateway_html_is_a_decode_error(api: FakeBotAPI, bot: Bot) -> None:
    api.inject("sendMessage", chat_id=USER, error=Fault.bad_gateway_html())
    with pytest.raises(ClientDecodeError, match="Failed to decode object"):
        await bot.send_message(USER, "через прокси")
    failed = api.calls[-1]
    assert (failed.error, failed.fault, failed.ok) == (502, "non_json", False)
    assert api.messages_in(USER) == []  # the proxy never reached the Bot API server

    api.inject("getMe", error=Fault.bad_gateway_html())
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{api.url}/bot123456:TEST/getMe") as response,
    ):
        assert response.status == 502
        assert response.content_type == "text/html"
        assert await response.text() == (
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>"
            "502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
        )
    assert (await bot.send_message(USER, "снова")).text == "снова"


async def test_unparseable_result_is_performed_but_undecodable(api: FakeBotAPI, bot: Bot) -> None:
    api.inject("sendMessage", chat_id=USER, error=Fault.unparseable_result())
    with pytest.raises(ClientDecodeError, match="Failed to deserialize object"):
        await bot.send_message(USER, "дошло, но не прочитано")
    call = api.calls[-1]
    assert (call.ok, call.fault, call.error) == (True, "unparseable", None)
    [stored] = api.messages_in(USER)
    assert stored["text"] == "дошло, но не прочитано"
    assert call.result == stored
    assert api.sent_to(USER) == [call]

    api.inject("sendMessage", error=Fault.unparseable_result())
    api.inject("copyMessage", error=Fault.unparseable_result())
    async with aiohttp.ClientSession() as http:
        url = f"{api.url}/bot123456:TEST"
        async with http.post(f"{url}/sendMessage", json={"chat_id": USER, "text": "ещё"}) as r:
            sent = await r.json()
        copy_params = {"chat_id": GROUP, "from_chat_id": USER, "message_id": stored["message_id"]}
        async with http.post(f"{url}/copyMessage", json=copy_params) as r:
            copied = await r.json()
    assert sent["ok"] is True
    assert sent["result"]["message_id"] == stored["message_id"] + 1
    with pytest.raises(ValidationError):
        Response[Message].model_validate(sent)
    assert copied["ok"] is True
    assert "message_id" in copied["result"]
    with pytest.raises(ValidationError):
        Response[MessageId].model_validate(copied)
    assert [m["text"] for m in api.messages_in(GROUP)] == ["дошло, но не прочитано"]


async def test_muted_chats_refuse_new_messages_only(api: FakeBotAPI, bot: Bot) -> None:
    earlier = await bot.send_message(GROUP, "до ограничения", reply_markup=keyboard("Взять"))
    source = await bot.send_message(USER, "от клиента")
    api.muted_chats.add(GROUP)
    rights = "Bad Request: not enough rights to send text messages to the chat"
    with pytest.raises(TelegramBadRequest) as raised:
        await bot.send_message(GROUP, "молчи")
    assert raised.value.message == rights
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.send_photo(GROUP, "AgACphoto")
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.copy_message(GROUP, from_chat_id=USER, message_id=source.message_id)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.forward_message(GROUP, from_chat_id=USER, message_id=source.message_id)
    assert [call.fault for call in api.calls[-4:]] == ["muted"] * 4
    assert {call.error for call in api.calls[-4:]} == {400}

    edited = await bot.edit_message_text("изменено", chat_id=GROUP, message_id=earlier.message_id)
    assert isinstance(edited, Message)
    stored = api.get_message(GROUP, earlier.message_id)
    assert stored is not None
    api.put_update(callback_query_update(user_dict(777), stored, "cb:Взять"))
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    assert await bot.answer_callback_query(update.callback_query.id) is True
    assert (await bot.send_message(USER, "в личку можно")).text == "в личку можно"
    api.muted_chats.clear()
    assert (await bot.send_message(GROUP, "снова можно")).chat.id == GROUP


async def test_get_chat_member_follows_the_bots_membership(api: FakeBotAPI, bot: Bot) -> None:
    # The bot is itself by getMe's id and by its token's (Telegram's are the same).
    assert bot.id == 123456
    for bot_id in (1000000001, bot.id):
        assert isinstance(await bot.get_chat_member(GROUP, bot_id), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(USER, bot.id), ChatMemberMember)

    api.mute_bot(GROUP)
    muted = await bot.get_chat_member(GROUP, bot.id)
    assert isinstance(muted, ChatMemberRestricted)
    assert (muted.is_member, muted.can_send_messages, muted.can_send_photos) == (
        True,
        False,
        False,
    )
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.send_message(GROUP, "молчи")

    api.remove_bot(GROUP)
    assert isinstance(await bot.get_chat_member(GROUP, bot.id), ChatMemberLeft)
    assert (await bot.get_chat(GROUP)).title == "Managers", "a public group stays readable"
    with pytest.raises(TelegramForbiddenError) as raised:
        await bot.send_message(GROUP, "меня удалили")
    assert raised.value.message == "Forbidden: bot is not a member of the supergroup chat"
    api.remove_bot(GROUP, kicked=True)
    assert isinstance(await bot.get_chat_member(GROUP, bot.id), ChatMemberBanned)
    with pytest.raises(TelegramForbiddenError) as raised:
        await bot.edit_message_text("правка", chat_id=GROUP, message_id=1)
    assert raised.value.message == "Forbidden: bot was kicked from the supergroup chat"
    api.remove_bot(-42)
    with pytest.raises(TelegramForbiddenError, match="not a member of the group chat"):
        await bot.send_message(-42, "в обычную группу")
    assert [call.fault for call in api.calls_for("sendMessage")] == ["muted"] + ["removed"] * 2

    api.add_bot(GROUP)
    assert isinstance(await bot.get_chat_member(GROUP, bot.id), ChatMemberMember)
    assert (await bot.send_message(GROUP, "снова в группе")).chat.id == GROUP


async def test_get_chat_member_of_people_and_unknown_chats(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_member(GROUP, 777)
    api.put_update(text_update(user_dict(777, "Олег"), "привет", message_id=1, chat_id=GROUP))
    person = await bot.get_chat_member(GROUP, 777)
    assert isinstance(person, ChatMemberMember)
    assert person.user.first_name == "Олег"
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_member(USER, 777)  # a private chat has two sides only
    api.unreachable_chats.add(GROUP)
    for call in (bot.get_chat(GROUP), bot.get_chat_member(GROUP, bot.id)):
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await call


async def test_a_revoked_token_is_refused_by_every_method(api: FakeBotAPI, bot: Bot) -> None:
    api.revoked_tokens.add("123456:TEST")
    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await bot.get_me()
    with pytest.raises(TelegramUnauthorizedError):
        await bot.send_message(USER, "с отозванным токеном")
    assert [(call.error, call.fault) for call in api.calls] == [(401, "revoked")] * 2
    other = Bot("654321:OTHER", session=AiohttpSession(api=TelegramAPIServer.from_base(api.url)))
    try:
        assert (await other.get_me()).is_bot
    finally:
        await other.session.close()

    api.revoked_tokens.clear()
    api.inject("getMe", error=Fault.unauthorized())
    with pytest.raises(TelegramUnauthorizedError):
        await bot.get_me()
    assert (await bot.get_me()).username == "vizteh_test_bot"


# ------------------------------------------------------------------- the user driver


async def test_telegram_user_drives_a_polling_bot(api: FakeBotAPI, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(F.text == "/start")
    async def start(message: Message) -> None:
        markup = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Оставить заявку")]])
        await message.answer("Здравствуйте!", reply_markup=markup)
        await message.answer("Что случилось?", reply_markup=keyboard("Поломка", "Другое"))

    @dispatcher.callback_query(F.data.startswith("cb:"))
    async def chosen(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Выбрано: {query.data}")
        await query.answer()
        await bot.send_message(GROUP, "Новая заявка", reply_markup=keyboard("Взять"))

    @dispatcher.callback_query()
    async def forged(query: CallbackQuery) -> None:
        await query.answer("Кнопка устарела", show_alert=True)

    @dispatcher.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        await message.answer(f"Телефон {message.contact.phone_number}")

    @dispatcher.message(F.sticker)
    async def sticker(message: Message) -> None:
        await message.reply("Стикеры не принимаем")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1)
    )
    try:
        anna = TelegramUser(api, USER, "Анна")
        greeting = await anna.send_command("/start")
        assert greeting.visible_text == "Здравствуйте!"
        assert anna.reply_keyboard_texts(greeting) == [["Оставить заявку"]]
        question = await anna.expect("sendMessage")
        assert anna.inline_buttons(question) == [["Поломка"], ["Другое"]]
        assert anna.callback_data("Другое") == "cb:Другое"

        answer = await anna.click("Поломка")
        assert answer.ok
        edit = await anna.expect("editMessageText")
        assert edit.visible_text == "Выбрано: cb:Поломка"
        assert anna.last_text() == "Выбрано: cb:Поломка"

        manager = ManagerChat(api, 777)
        await manager.expect(predicate=lambda call: call.text == "Новая заявка", timeout=2)
        await manager.quiet(0.1)

        alert = await anna.press_callback("forged:1", message_id=9999)
        assert alert.params["show_alert"] is True

        phone = await anna.share_contact("+79990001122")
        assert phone.visible_text == "Телефон +79990001122"
        reply = await anna.send_sticker()
        assert reply.result["reply_to_message"]["sticker"]["file_id"]
        await anna.quiet(0.2)
        with pytest.raises(AssertionError, match="no matching API call"):
            await anna.send("никто не ответит", timeout=0.3)
    finally:
        await dispatcher.stop_polling()
        await polling


async def test_wait_for_call_reports_recent_calls_on_timeout(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(USER, "видно в отчёте")
    mark = api.mark()
    with pytest.raises(AssertionError, match="видно в отчёте"):
        await api.wait_for_call(lambda call: call.method == "sendPhoto", timeout=0.1, start=mark)

    waiter = asyncio.create_task(
        api.wait_for_call(lambda call: call.method == "sendSticker", timeout=2, start=mark)
    )
    await asyncio.sleep(0.05)
    await bot.send_sticker(USER, "CAACx")
    found: ApiCall = await waiter
    assert found.seq == mark
    assert found.params["sticker"] == "CAACx"


# --------------------------------------------------------------------- unusual updates


async def test_album_as_telegram_sends_it(api: FakeBotAPI, bot: Bot) -> None:
    anna = TelegramUser(api, USER, "Анна")
    update_ids = anna.send_album(3, caption="Вот фото поломки")
    assert update_ids == sorted(update_ids)
    assert len(set(update_ids)) == 3
    updates = await bot.get_updates()
    assert [update.update_id for update in updates] == update_ids
    messages = [update.message for update in updates]
    assert all(message is not None for message in messages)
    [first, *rest] = [message for message in messages if message is not None]
    group_ids = {message.media_group_id for message in (first, *rest)}
    assert len(group_ids) == 1
    assert isinstance(first.media_group_id, str)
    ids = [message.message_id for message in (first, *rest)]
    assert ids == list(range(ids[0], ids[0] + 3))
    assert first.caption == "Вот фото поломки"
    assert [message.caption for message in rest] == [None, None]
    assert all(message.photo for message in (first, *rest))
    assert len({message.photo[-1].file_id for message in (first, *rest) if message.photo}) == 3
    assert len({message.date for message in (first, *rest)}) == 1
    assert [m["message_id"] for m in api.messages_in(USER)] == ids
    assert api.next_message_id(USER) == ids[-1] + 1


async def test_forward_with_an_unknown_origin_breaks_parsing(api: FakeBotAPI, bot: Bot) -> None:
    anna = TelegramUser(api, USER, "Анна")
    hidden = {"type": "hidden_user", "sender_user_name": "Иван", "date": 1}
    known = anna.send_forwarded("переслано", hidden)
    [update] = await bot.get_updates()
    assert update.update_id == known
    assert update.message is not None
    assert update.message.forward_origin is not None
    assert update.message.forward_origin.type == "hidden_user"

    origin = unknown_forward_origin()
    assert origin["type"] == "future_kind"
    unknown = anna.send_forwarded("из будущего", origin)
    assert unknown == known + 1
    with pytest.raises(ClientDecodeError, match="Failed to deserialize object"):
        await bot.get_updates(offset=unknown)
    assert api.pending_updates[-1]["message"]["forward_origin"] == origin
    built = forwarded_text_update(user_dict(USER), "x", message_id=99, origin={"type": "x"})
    with pytest.raises(ValidationError):
        Update.model_validate({**built, "update_id": 1})


async def test_raw_json_update_is_delivered_as_given(api: FakeBotAPI, bot: Bot) -> None:
    broken = {"message": {"message_id": 7, "text": "без чата и даты"}, "custom": [1, 2]}
    first = api.put_raw_json_update(broken)
    assert api.pending_updates == [{**broken, "update_id": first}]
    with pytest.raises(ClientDecodeError):
        await bot.get_updates()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{api.url}/bot123456:TEST/getUpdates") as response,
    ):
        assert (await response.json())["result"] == [{**broken, "update_id": first}]

    # Telegram keeps the message whatever the bot's library makes of it: readable parts count.
    message = text_update(user_dict(USER), "текст", message_id=api.next_message_id(USER))
    message["message"]["entities"] = "not a list"
    second = api.put_raw_json_update(message)
    assert second == first + 1
    assert api.put_raw_json_update({"update_id": 50, "message": "строка"}) == 50
    assert api.put_update({}) == 51
    stored = api.get_message(USER, message["message"]["message_id"])
    assert stored is not None
    assert stored["entities"] == "not a list"
    assert [u.update_id for u in await bot.get_updates(offset=52)] == []


# ------------------------------------------------------------------------- the relay


async def _raw(api: FakeBotAPI, method: str, params: dict[str, Any]) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{api.url}/bot123456:TEST/{method}", json=params) as response,
    ):
        answer: dict[str, Any] = await response.json()
        return answer


def _plain(entities: list[MessageEntity] | None) -> list[dict[str, Any]]:
    return [entity.model_dump(exclude_none=True) for entity in entities or []]


def _stored(api: FakeBotAPI, chat_id: int, message_id: int) -> dict[str, Any]:
    message = api.get_message(chat_id, message_id)
    assert message is not None, f"no message {message_id} in {chat_id}"
    return message


def _reaction(emoji: str) -> list[ReactionTypeUnion]:
    return [ReactionTypeEmoji(emoji=emoji)]


def _put(api: FakeBotAPI, kind: str, chat: int = USER, **fields: Any) -> int:
    """A message of ``kind`` from the client in ``chat``; returns its id."""
    message_id = api.next_message_id(chat)
    api.put_update(media_update(user_dict(USER), kind, message_id=message_id, chat=chat, **fields))
    return message_id


async def test_copy_message_replaces_the_caption(api: FakeBotAPI, bot: Bot) -> None:
    photo = _put(api, "photo", caption="фото", media_group_id=new_media_group_id())
    text = _put(api, "text", text="просто текст")
    bold = [MessageEntity(type="bold", offset=0, length=5)]

    html = await bot.copy_message(GROUP, USER, photo, caption="Н<b>овая</b>", parse_mode="HTML")
    copied = _stored(api, GROUP, html.message_id)
    assert (copied["caption"], "media_group_id" in copied) == ("Новая", False)  # no album
    entities = await bot.copy_message(GROUP, USER, photo, caption="Жирно", caption_entities=bold)
    copied = _stored(api, GROUP, entities.message_id)
    assert copied["caption_entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    kept = await bot.copy_message(GROUP, USER, photo)
    assert _stored(api, GROUP, kept.message_id)["caption"] == "фото"
    # An empty caption removes it (aiogram leaves "" out of a request: send it raw).
    params = {"chat_id": GROUP, "from_chat_id": USER, "message_id": photo, "caption": ""}
    removed = (await _raw(api, "copyMessage", params))["result"]["message_id"]
    assert "caption" not in _stored(api, GROUP, removed)
    of_text = await bot.copy_message(GROUP, USER, text, caption="не к месту")
    copied = _stored(api, GROUP, of_text.message_id)
    assert (copied["text"], "caption" in copied) == ("просто текст", False)
    assert await bot.copy_message(GROUP, USER, photo, caption="😀" * 512)  # 1024 UTF-16 units

    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.copy_message(GROUP, USER, photo, caption="😀" * 512 + "!")
    with pytest.raises(TelegramBadRequest, match="ends after the end of the text at UTF-16"):
        await bot.copy_message(GROUP, USER, photo, caption="Жирн", caption_entities=bold)
    missing = ReplyParameters(message_id=999)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.copy_message(GROUP, USER, photo, reply_parameters=missing)
    lenient = ReplyParameters(message_id=999, allow_sending_without_reply=True)
    unreplied = await bot.copy_message(GROUP, USER, photo, reply_parameters=lenient)
    assert "reply_to_message" not in _stored(api, GROUP, unreplied.message_id)


async def test_copy_messages_keeps_albums_and_skips_missing(api: FakeBotAPI, bot: Bot) -> None:
    album = new_media_group_id()
    photos = [_put(api, "photo", media_group_id=album, caption="альбом")]
    photos += [_put(api, "photo", media_group_id=album) for _ in range(2)]
    voice = _put(api, "voice", caption="голос")

    copied = await bot.copy_messages(GROUP, USER, [*photos, voice, 999], protect_content=True)
    assert all(isinstance(item, MessageId) for item in copied)
    stored = [_stored(api, GROUP, item.message_id) for item in copied]
    assert len(stored) == 4  # 999 is skipped
    groups = [message.get("media_group_id") for message in stored]
    assert groups[0] == groups[1] == groups[2] not in (None, album)  # one new album
    assert groups[3] is None
    assert [m.get("caption") for m in stored] == ["альбом", None, None, "голос"]
    assert all(m["has_protected_content"] for m in stored)
    assert api.calls[-1].result == [{"message_id": m["message_id"]} for m in stored]
    assert api.sent_to(GROUP) == [api.calls[-1]]

    again = await bot.copy_messages(GROUP, USER, [photos[0], voice], remove_caption=True)
    stored = [_stored(api, GROUP, item.message_id) for item in again]
    assert [("caption" in m, "media_group_id" in m) for m in stored] == [(False, False)] * 2
    documents = [_put(api, "document"), _put(api, "document")]
    pair = [
        _stored(api, GROUP, i.message_id) for i in await bot.copy_messages(GROUP, USER, documents)
    ]
    assert pair[0]["media_group_id"] == pair[1]["media_group_id"]  # TDLib groups documents

    order = "Bad Request: message identifiers must be in a strictly increasing order"
    for ids, error in [
        ([voice, photos[0]], order),
        ([photos[0], 999, photos[0]], order),
        ([997, 998], "Bad Request: there are no messages to forward"),
        ([], "Bad Request: message identifiers are not specified"),
        (list(range(1, 102)), "Bad Request: too many message identifiers specified"),
        ([0], "Bad Request: invalid message identifier specified"),
    ]:
        with pytest.raises(TelegramBadRequest) as raised:
            await bot.copy_messages(GROUP, USER, ids)
        assert raised.value.message == error

    api.rate_limiter = RealisticRateLimiter()
    for number in range(18):
        await bot.send_message(GROUP, f"сообщение {number}")
    with pytest.raises(TelegramRetryAfter):  # three copies count three: two are left
        await bot.copy_messages(GROUP, USER, photos)
    assert len(await bot.copy_messages(GROUP, USER, photos[:2])) == 2
    api.rate_limiter = None
    api.mute_bot(GROUP)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.copy_messages(GROUP, USER, photos)


async def test_set_message_reaction(api: FakeBotAPI, bot: Bot) -> None:
    assert len(STANDARD_REACTIONS) == 73
    assert "setMessageReaction" not in REPLY_METHODS
    message_id = _put(api, "text", text="спасибо")
    ok, fire, like, smile, heart = map(_reaction, ("👌", "🔥", "👍", "🙂", "❤️"))
    assert await bot.set_message_reaction(USER, message_id, ok, is_big=True) is True
    assert api.reactions(USER, message_id) == ["👌"]
    assert await bot.set_message_reaction(USER, message_id, []) is True
    assert api.reactions(USER, message_id) == []

    custom: list[ReactionTypeUnion] = [ReactionTypeCustomEmoji(custom_emoji_id="5368324170")]
    for reaction, error in [
        (smile, "Bad Request: REACTION_INVALID"),
        (heart, "Bad Request: REACTION_INVALID"),  # "❤" + U+FE0F is not the standard "❤"
        (custom, "Bad Request: REACTION_INVALID"),
        ([*ok, *fire], "Bad Request: REACTIONS_TOO_MANY"),
    ]:
        with pytest.raises(TelegramBadRequest) as raised:
            await bot.set_message_reaction(USER, message_id, reaction)
        assert raised.value.message == error
    with pytest.raises(TelegramBadRequest) as raised:
        await bot.set_message_reaction(USER, 999, ok)
    assert raised.value.message == "Bad Request: message to react not found"
    bad_type = {"chat_id": USER, "message_id": message_id, "reaction": [{"type": "paid"}]}
    assert (await _raw(api, "setMessageReaction", bad_type))["description"] == (
        "Bad Request: can't parse ReactionType: invalid reaction type specified"
    )

    card = await bot.send_message(GROUP, "Заявка №7")
    api.restrict_reactions(GROUP, ["👍"])
    available = (await bot.get_chat(GROUP)).available_reactions or []
    assert [reaction.model_dump(mode="json") for reaction in available] == [
        {"type": "emoji", "emoji": "👍"}
    ]
    with pytest.raises(TelegramBadRequest, match="REACTION_INVALID"):
        await bot.set_message_reaction(GROUP, card.message_id, ok)
    assert await bot.set_message_reaction(GROUP, card.message_id, like)
    api.restrict_reactions(GROUP, [])
    with pytest.raises(TelegramBadRequest, match="REACTION_INVALID"):
        await bot.set_message_reaction(GROUP, card.message_id, like)
    api.restrict_reactions(GROUP, None)
    assert (await bot.get_chat(GROUP)).available_reactions is None
    assert await bot.set_message_reaction(GROUP, card.message_id, fire)
    assert api.reactions(GROUP, card.message_id) == ["🔥"]
    assert "🔥" not in str(api.get_message(GROUP, card.message_id))  # not part of the Message
    await bot.delete_message(GROUP, card.message_id)
    assert api.reactions(GROUP, card.message_id) == []
    with pytest.raises(ValueError, match="not standard"):
        api.restrict_reactions(GROUP, ["🙂"])


async def test_entities_are_checked_and_kept(api: FakeBotAPI, bot: Bot) -> None:
    def entity(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
        return {"type": kind, "offset": offset, "length": length, **extra}

    bold = [MessageEntity(type="bold", offset=0, length=6)]
    sent = await bot.send_message(USER, "Привет, мир", entities=bold)
    assert _plain(sent.entities) == [entity("bold", 0, 6)]
    assert _stored(api, USER, sent.message_id)["entities"] == [entity("bold", 0, 6)]
    link = entity("text_link", 3, 2, url="https://example.org")  # "😀" is 2 UTF-16 units
    answer = await _raw(
        api, "sendMessage",
        {"chat_id": USER, "text": "😀 ok", "entities": [link, entity("italic", 0, 0)]},
    )  # fmt: skip
    assert answer["result"]["entities"] == [link]  # the empty entity is dropped
    html = await bot.send_message(USER, "<b>Жирный</b>", parse_mode="HTML", entities=bold)
    assert (html.text, html.entities) == ("Жирный", None)  # a parse_mode wins

    ends = "entity beginning at UTF-16 offset 3 ends after the end of the text at UTF-16 offset 6"
    for entities, error in [
        ([entity("bold", 3, 3)], ends),
        ([entity("bold", 9, 1)], "entity begins after the end of the text at UTF-16 offset 9"),
        ([entity("bold", -1, 1)], "receive an entity with incorrect offset -1"),
        ([entity("bold", 0, -2)], "receive an entity with incorrect length -2"),
        ([entity("shiny", 0, 1)], "can't parse MessageEntity: Unsupported type specified"),
        ([entity("text_link", 0, 1)], "can't parse MessageEntity: Can't find field \"url\""),
        (
            [{"type": "bold", "length": 1}],
            "can't parse MessageEntity: Can't find field \"offset\"",
        ),
    ]:
        params = {"chat_id": USER, "text": "😀 ok", "entities": entities}
        assert (await _raw(api, "sendMessage", params))["description"] == f"Bad Request: {error}"

    italic = [MessageEntity(type="italic", offset=0, length=4)]
    where: dict[str, Any] = {"chat_id": USER, "message_id": sent.message_id}
    edited = await bot.edit_message_text("Пока, мир", entities=italic, **where)
    assert isinstance(edited, Message)
    assert _plain(edited.entities) == [entity("italic", 0, 4)]
    plain = await bot.edit_message_text("Пока, мир", **where)  # the entities go: modified
    assert isinstance(plain, Message)
    assert plain.entities is None
    with pytest.raises(TelegramBadRequest, match="ends after the end of the text"):
        await bot.edit_message_text("Пока", entities=bold, **where)

    underline = [MessageEntity(type="underline", offset=0, length=5)]
    photo = await bot.send_photo(USER, "AgACphoto", caption="Схема", caption_entities=underline)
    assert _plain(photo.caption_entities) == [entity("underline", 0, 5)]
    where = {"chat_id": USER, "message_id": photo.message_id}
    code = [MessageEntity(type="code", offset=6, length=1)]
    recaptioned = await bot.edit_message_caption(caption="Схема 2", caption_entities=code, **where)
    assert isinstance(recaptioned, Message)
    assert _plain(recaptioned.caption_entities) == [entity("code", 6, 1)]
    wrong = [MessageEntity(type="code", offset=-1, length=1)]
    with pytest.raises(TelegramBadRequest, match="incorrect offset -1"):
        await bot.edit_message_caption(caption="x", caption_entities=wrong, **where)


def test_user_messages_of_every_kind_parse() -> None:
    anna, group = user_dict(USER), chat_dict(GROUP)
    card = text_update(BOT_USER, "Заявка", message_id=5, chat_id=GROUP)["message"]
    card["reply_to_message"] = {"message_id": 1, "chat": group, "date": 0}
    for kind in MESSAGE_KINDS:
        fields: dict[str, Any] = {}
        if kind == "text":
            fields = {"text": "текст", "entities": [{"type": "bold", "offset": 0, "length": 5}]}
        if kind in CAPTION_KINDS:
            caption_entities = [{"type": "italic", "offset": 0, "length": 3}]
            fields = {"caption": "подпись", "caption_entities": caption_entities}
        built = media_update(anna, kind, message_id=7, chat=group, reply_to=card, **fields)
        message = Update.model_validate({**built, "update_id": 1}).message
        assert message is not None
        assert (message.content_type, message.chat.type) == (kind, "supergroup")
        assert message.reply_to_message is not None
        assert message.reply_to_message.reply_to_message is None  # one level, as Telegram
    assert media_update(anna, "animation", message_id=1)["message"]["document"]  # as Telegram

    updates = album_updates_of(anna, ["photo", "video"], first_message_id=3, caption="два")
    [group_id] = {update["message"]["media_group_id"] for update in updates}
    assert [update["message"].get("caption") for update in updates] == ["два", None]
    edited = Update.model_validate(
        edited_message_update(updates[0]["message"], caption="", update_id=2)
    ).edited_message
    assert edited is not None
    assert (edited.caption, edited.media_group_id) == (None, group_id)
    assert edited.edit_date is not None
    for bad, why in (
        (lambda: media_update(anna, "sticker", message_id=1, caption="нет"), "no caption"),
        (lambda: media_update(anna, "voice", message_id=1, media_group_id="1"), "album"),
        (lambda: media_update(anna, "hologram", message_id=1), "unknown message kind"),
        (lambda: album_updates_of(anna, ["photo", "audio"], first_message_id=1), "not group"),
        (lambda: edited_message_update(updates[1]["message"], text="нет"), "only a text"),
    ):
        with pytest.raises(ValueError, match=why):
            bad()


async def test_relay_helpers_send_without_waiting(api: FakeBotAPI, bot: Bot) -> None:
    anna = TelegramUser(api, USER, "Анна")
    bold = [{"type": "bold", "offset": 0, "length": 6}]
    first = anna.send_text_nowait("Привет, нужна помощь", entities=bold)
    voice = anna.send_media_nowait("voice", caption="послушайте")
    album = anna.send_album_nowait(["photo", "video", "photo"], caption="вот")
    updates = await bot.get_updates()
    assert [update.update_id for update in updates] == [first, voice, *album]  # one batch
    messages = [update.message for update in updates if update.message is not None]
    assert [m.content_type for m in messages] == ["text", "voice", "photo", "video", "photo"]
    assert _plain(messages[0].entities) == bold
    assert anna.own_message_ids == [m.message_id for m in messages] == [1, 2, 3, 4, 5]

    edit = anna.edit_nowait(1, text="Привет, уже не нужна")
    [update] = await bot.get_updates(offset=album[-1] + 1)
    assert update.update_id == edit
    assert update.edited_message is not None
    assert update.edited_message.text == "Привет, уже не нужна"
    assert update.edited_message.entities is None
    assert _stored(api, USER, 1)["text"] == "Привет, уже не нужна"

    card = await bot.send_message(GROUP, "Заявка №1 от Анны")
    oleg = ManagerChat(api, 777, "Олег")
    ivan = oleg.as_manager(778, "Иван")
    card_dict = api.get_message(GROUP, card.message_id)
    document = ivan.send_media_nowait("document", caption="инструкция", reply_to=card_dict)
    text = oleg.send_text_nowait("Сейчас посмотрим", reply_to=card.message_id)
    updates = await bot.get_updates(offset=edit + 1)
    assert [update.update_id for update in updates] == [document, text]
    messages = [update.message for update in updates if update.message is not None]
    senders = [(m.chat.id, m.from_user.id if m.from_user else None) for m in messages]
    assert senders == [(GROUP, 778), (GROUP, 777)]
    assert all(
        m.reply_to_message and m.reply_to_message.message_id == card.message_id for m in messages
    )
    copied = await bot.copy_message(USER, GROUP, ivan.own_message_ids[-1])
    assert _stored(api, USER, copied.message_id)["caption"] == "инструкция"
    oleg.edit_nowait(oleg.own_message_ids[-1], text="Уже посмотрели")
    assert _stored(api, GROUP, oleg.own_message_ids[-1])["text"] == "Уже посмотрели"
    with pytest.raises(AssertionError, match="has no message"):
        oleg.edit_nowait(ivan.own_message_ids[-1], caption="чужое")


# ---------------------------------------------------------------------------- postgres


async def test_postgres_server_round_trip() -> None:
    server = await asyncio.to_thread(start_postgres)
    try:
        connection = await asyncpg.connect(server.dsn())
        try:
            assert await connection.fetchval("SELECT 1") == 1
            assert await connection.fetchval("SELECT current_user") == server.user
        finally:
            await connection.close()

        dsn = await server.create_database("vizteh_module_db")
        connection = await asyncpg.connect(dsn)
        try:
            assert await connection.fetchval("SELECT current_database()") == "vizteh_module_db"
        finally:
            await connection.close()
        await server.drop_database("vizteh_module_db")

        assert server.password_role is not None
        role, password = server.password_role
        address = f"{server.host}:{server.port}/{server.database}"
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(f"postgresql://{role}:wrong@{address}")
        connection = await asyncpg.connect(f"postgresql://{role}:{password}@{address}")
        try:
            assert await connection.fetchval("SELECT current_user") == role
        finally:
            await connection.close()
        assert server.sqlalchemy_url().startswith("postgresql+asyncpg://vizteh:vizteh@")
    finally:
        data_dir = server.data_dir
        await asyncio.to_thread(server.stop)
    assert data_dir is None or not data_dir.exists()
