"""Every kind of message both ways, albums as albums, edits mirrored: what copyMessage and
copyMessages were asked, and what the other side's chat holds."""

from __future__ import annotations

import pytest

from support.client_flow import no_failed_updates
from support.fake_bot_api import FakeBotAPI
from support.fake_faults import Fault
from support.fake_messages import CAPTION_KINDS
from support.relay_flow import DELIVERED, reacted, relayed, request_with_card
from support.running_bot import RunningBot
from support.telegram_user import MANAGER_CHAT_ID, ManagerChat, TelegramUser

pytestmark = pytest.mark.usefixtures(no_failed_updates.__name__)

SIGNATURE = "\n\n— Олег, ВизТех"
HEADER = "Заявка №1 — клиент пишет:"
MEDIA = ("photo", "document", "video", "voice", "audio", "sticker", "animation")
PLACES = ("location", "contact", "video_note")


@pytest.mark.parametrize("kind", [*MEDIA, *PLACES])
async def test_each_kind_from_a_manager_is_copied_to_the_client(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat, kind: str
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    caption = "Макет <главной> & цены" if kind in CAPTION_KINDS else None
    manager.send_media_nowait(kind, caption=caption, reply_to=card)
    source = manager.own_message_ids[-1]

    [copy] = await relayed(api, client.chat_id, mark)
    assert copy.method == "copyMessage"
    assert copy.params["from_chat_id"] == MANAGER_CHAT_ID
    assert copy.params["message_id"] == source
    if caption is not None:
        assert copy.params["caption"] == caption + SIGNATURE
        assert "parse_mode" not in copy.params
    else:
        assert "caption" not in copy.params, "a sticker or a place has no caption to sign"
    delivered = api.get_message(client.chat_id, copy.result["message_id"])
    assert delivered is not None
    assert kind in delivered
    await reacted(api, MANAGER_CHAT_ID, source, mark)
    assert api.reactions(MANAGER_CHAT_ID, source) == [DELIVERED]


@pytest.mark.parametrize("kind", [*MEDIA, *PLACES])
async def test_each_kind_from_the_client_reaches_the_card_with_a_header(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, kind: str
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    caption = "Вот так сейчас 👇" if kind in CAPTION_KINDS else None
    client.send_media_nowait(kind, caption=caption)
    source = client.own_message_ids[-1]

    if kind in CAPTION_KINDS:
        [copy] = await relayed(api, MANAGER_CHAT_ID, mark)
        assert copy.params["caption"] == f"{HEADER}\n{caption}"
        assert copy.params["caption_entities"] == [
            {"type": "bold", "offset": 0, "length": len(HEADER)}
        ]
    else:
        header, copy = await relayed(api, MANAGER_CHAT_ID, mark, count=2)
        assert header.params["text"] == HEADER
        assert header.params["reply_parameters"]["message_id"] == card["message_id"]
    assert copy.method == "copyMessage"
    assert (copy.params["from_chat_id"], copy.params["message_id"]) == (client.chat_id, source)
    assert copy.params["reply_parameters"]["message_id"] == card["message_id"]
    await reacted(api, client.chat_id, source, mark)


async def test_an_album_goes_as_one_album_both_ways(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    client.send_album_nowait(["photo", "photo", "video"], caption="Три варианта")
    sources = client.own_message_ids[-3:]
    header, album = await relayed(api, MANAGER_CHAT_ID, mark, count=2)
    assert header.params["text"] == HEADER
    # copyMessages cannot reply: the header does, and the album follows it.
    assert header.params["reply_parameters"]["message_id"] == card["message_id"]
    assert album.method == "copyMessages"
    assert album.params["from_chat_id"] == client.chat_id
    assert album.params["message_ids"] == sources
    copies = [api.get_message(MANAGER_CHAT_ID, item["message_id"]) for item in album.result]
    assert len({c["media_group_id"] for c in copies if c}) == 1, "one album in the chat"
    for source in sources:
        await reacted(api, client.chat_id, source, mark)

    # The manager answers one of the album's photos with an album of their own.
    mark = api.mark()
    manager.send_album_nowait(["photo", "photo"], reply_to=copies[1])
    answer = manager.own_message_ids[-2:]
    [back] = await relayed(api, client.chat_id, mark)
    assert back.method == "copyMessages"
    assert back.params["message_ids"] == answer
    assert len(back.result) == 2


async def test_edits_are_mirrored_both_ways(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    mark = api.mark()
    manager.send_text_nowait("Стоимость 50 000 ₽", reply_to=card)
    manager_message = manager.own_message_ids[-1]
    [sent] = await relayed(api, client.chat_id, mark)
    mark = api.mark()
    manager.edit_nowait(manager_message, text="Стоимость 45 000 ₽ <со скидкой>")
    edit = await api.wait_for_call(
        lambda c: c.method == "editMessageText" and c.chat_id == client.chat_id, 10.0, start=mark
    )
    assert edit.params["message_id"] == sent.result["message_id"]
    assert edit.params["text"] == "Стоимость 45 000 ₽ <со скидкой>" + SIGNATURE
    shown = api.get_message(client.chat_id, sent.result["message_id"])
    assert shown is not None
    assert shown["text"].startswith("Стоимость 45 000")

    mark = api.mark()
    client.send_media_nowait("photo", caption="Старая подпись")
    photo = client.own_message_ids[-1]
    [copy] = await relayed(api, MANAGER_CHAT_ID, mark)
    mark = api.mark()
    client.edit_nowait(photo, caption="Новая подпись")
    edit = await api.wait_for_call(
        lambda c: c.method == "editMessageCaption" and c.chat_id == MANAGER_CHAT_ID,
        10.0,
        start=mark,
    )
    assert edit.params["message_id"] == copy.result["message_id"]
    assert edit.params["caption"] == f"{HEADER}\nНовая подпись"


async def test_a_long_text_with_the_header_is_split_never_refused(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    await request_with_card(api, client, 1)
    mark = api.mark()
    text = ("Очень подробное ТЗ 📋 с деталями <и> & символами. " * 90).strip()[:4096]
    client.send_text_nowait(text)
    first, second = await relayed(api, MANAGER_CHAT_ID, mark, count=2)
    assert first.params["text"].startswith(HEADER + "\n")
    joined = first.params["text"].removeprefix(HEADER + "\n") + second.params["text"]
    assert joined.replace(" ", "").replace("\n", "") == text.replace(" ", "")


async def test_an_album_telegram_refuses_as_one_still_goes_item_by_item(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser, manager: ManagerChat
) -> None:
    card = await request_with_card(api, client, 1)
    api.inject(
        "copyMessages",
        chat_id=client.chat_id,
        error=Fault.bad_request("Bad Request: MEDIA_GROUP_INVALID"),
    )
    mark = api.mark()
    manager.send_album_nowait(["photo", "photo"], reply_to=card)
    sources = manager.own_message_ids[-2:]
    copies = await relayed(api, client.chat_id, mark, count=2, timeout=20)
    assert [c.method for c in copies] == ["copyMessage", "copyMessage"]
    assert [c.params["message_id"] for c in copies] == sources
    for source in sources:
        await reacted(api, MANAGER_CHAT_ID, source, mark)


async def test_a_live_location_moving_is_not_edited_into_the_copy(
    bot: RunningBot, api: FakeBotAPI, client: TelegramUser
) -> None:
    await request_with_card(api, client, 1)
    mark = api.mark()
    client.send_media_nowait("location")
    location = client.own_message_ids[-1]
    await relayed(api, MANAGER_CHAT_ID, mark, count=2)
    moved = api.get_message(client.chat_id, location)
    assert moved is not None
    moved = {**moved, "location": {"latitude": 55.76, "longitude": 37.62}, "edit_date": 1}
    mark = api.mark()
    client.put({"edited_message": moved})  # a live location moving is an edit
    await client.quiet(1.5)
    edits = [c for c in api.calls[mark:] if c.method.startswith("editMessage")]
    assert [c for c in edits if c.chat_id == MANAGER_CHAT_ID and "caption" in c.params] == []
    assert await bot.rows("SELECT id FROM outbox WHERE kind = 'relay_edit'") == []
