"""What the worker does around a relayed message: one album as one unit, the pairs that
lead replies and edits to their request, the 👌 once delivered, the report when not."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from vizteh_bot.outbox import messages
from vizteh_bot.outbox.messages import Audience, OutboxKind, OutboxMessage, RelayPayload

if TYPE_CHECKING:
    from collections.abc import Collection

    from vizteh_bot.db.uow import UnitOfWork
    from vizteh_bot.outbox.messages import Outgoing
    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Texts

# A relayed message is marked with this once delivered (one of Telegram's reaction emoji).
DELIVERED_REACTION = "👌"
# The same message again (an edit, a refresh), or no message at all: nothing new to pair.
_NOT_PAIRED = frozenset(
    {OutboxKind.CARD_REFRESH.value, OutboxKind.RELAY_EDIT.value, OutboxKind.REACTION.value}
)


def album_unit(
    remaining: list[OutboxMessage], most: int, alone: Collection[int]
) -> list[OutboxMessage]:
    """The first relay, with the copies after it of the same album (one copyMessages), in
    the order of their message ids, as Telegram wants them. An album Telegram refused
    (its rows in `alone`) goes one copy at a time."""
    first = remaining[0].parsed(RelayPayload)
    if first.media_group_id is None or first.text is not None or first.caption is not None:
        return remaining[:1]
    if remaining[0].id in alone:
        return remaining[:1]
    unit = []
    for message in remaining[:most]:
        if message.kind != OutboxKind.RELAY.value:
            break
        payload = message.parsed(RelayPayload)
        if (
            payload.media_group_id != first.media_group_id
            or payload.from_chat_id != first.from_chat_id
            or payload.caption is not None
            or message.id in alone
        ):
            break
        unit.append(message)
    return sorted(unit, key=lambda m: m.parsed(RelayPayload).message_id or 0)


async def record_pairs(
    uow: UnitOfWork,
    unit: list[OutboxMessage],
    chat_id: int,
    made_ids: list[int],
    manager_chat: ManagerChat,
) -> None:
    """Pair what was posted with its request (and with the message it relays), and mark a
    relayed person's message as delivered."""
    now = datetime.now(UTC)
    if unit[0].kind in _NOT_PAIRED:
        return
    if unit[0].kind != OutboxKind.RELAY.value:
        for message in unit:
            if message.ticket_id is not None:
                await uow.conversation.add_pairs(
                    message.ticket_id, chat_id, made_ids[:1], [None], now
                )
        return
    # copyMessages skips what it cannot copy: then no copy can be told to be whose.
    matched = len(made_ids) == len(unit)
    if not matched and unit[0].ticket_id is not None:
        await uow.conversation.add_pairs(
            unit[0].ticket_id, chat_id, made_ids, [None] * len(made_ids), now
        )
        return
    for message, made_id in zip(unit, made_ids, strict=False):
        payload = message.parsed(RelayPayload)
        source = _source(payload)
        if message.ticket_id is not None:
            await uow.conversation.add_pairs(message.ticket_id, chat_id, [made_id], [source], now)
        if payload.react and source is not None:
            audience = Audience.MANAGERS if source[0] in manager_chat else Audience.CLIENT
            await uow.outbox.enqueue(
                messages.reaction(source[0], audience, source[1], DELIVERED_REACTION), now=now
            )


def not_delivered(
    texts: Texts, message: OutboxMessage, reason: str, error: str
) -> Outgoing | None:
    """For a manager's message that could not reach the client: a reply saying why."""
    if message.kind != OutboxKind.RELAY.value or message.for_managers:
        return None
    try:
        payload = message.parsed(RelayPayload)
    except ValidationError:
        return None  # unreadable: the generic fallback shows it
    if payload.report_chat_id is None:
        return None
    return messages.notice(
        payload.report_chat_id,
        Audience.MANAGERS,
        "conversation-not-delivered",
        locale=texts.locale,
        ticket_id=message.ticket_id,
        reply_to_message_id=payload.report_message_id,
        reason=texts(reason, error=html.escape(error[:200])),
    )


def _source(payload: RelayPayload) -> tuple[int, int] | None:
    if payload.source_chat_id is None or payload.source_message_id is None:
        return None
    return payload.source_chat_id, payload.source_message_id
