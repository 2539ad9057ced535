"""The outbox worker: delivers what the database says Telegram is owed, whatever Telegram says.

Order within a chat is kept: a failure postpones every pending message of that chat, so
they go out in creation order once it is reachable again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import ReplyKeyboardRemove
from sqlalchemy.exc import SQLAlchemyError

from vizteh_bot.db.repositories.outbox import OutboxKind, OutboxMessage
from vizteh_bot.telegram import keyboards
from vizteh_bot.telegram.render import cards

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from aiogram import Bot

    from vizteh_bot.db.repositories.outbox import OutboxRepository
    from vizteh_bot.db.repositories.tickets import TicketRepository
    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.outbox.pacing import Pacer
    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Translations

logger = logging.getLogger(__name__)
TicketsById = dict[int, "Ticket"]

BATCH_SIZE = 50
LEASE = timedelta(seconds=60)
IDLE_POLL_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 60.0
MAX_BAD_REQUEST_ATTEMPTS = 5
# A digest shows at most this many new requests, so each keeps a readable share.
DIGEST_MAX = 10


class OutboxWorker:
    def __init__(
        self,
        *,
        bot: Bot,
        outbox: OutboxRepository,
        tickets: TicketRepository,
        translations: Translations,
        zone: ZoneInfo,
        manager_chat: ManagerChat,
        pacer: Pacer,
        worker_id: str,
        request_timeout: float = 10.0,
        time_scale: float = 1.0,
    ) -> None:
        self._bot = bot
        self._outbox = outbox
        self._tickets = tickets
        self._translations = translations
        self._zone = zone
        self._manager_chat = manager_chat
        self._pacer = pacer
        self._worker_id = worker_id
        self._request_timeout = int(max(1, request_timeout))
        self._time_scale = time_scale
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._chat_ids: dict[int, int] = {}

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        """Finish the batch in hand, then return from run()."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                self._wakeup.clear()
                batch = await self._outbox.claim(self._worker_id, BATCH_SIZE, LEASE)
                if batch:
                    await self._deliver(batch)
                else:
                    await self._idle()
                failures = 0
            except (SQLAlchemyError, OSError):
                failures += 1
                delay = self._backoff(failures)
                logger.exception("Outbox: database unavailable, retrying in %.0f s", delay)
                await self._sleep(delay)

    async def _idle(self) -> None:
        due = await self._outbox.next_due_at()
        timeout = IDLE_POLL_SECONDS
        if due is not None:
            timeout = min(timeout, max(0.0, (due - datetime.now(UTC)).total_seconds()))
        self._pacer.forget_idle()
        await self._sleep(timeout)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=seconds)

    async def _deliver(self, batch: list[OutboxMessage]) -> None:
        by_chat: dict[int, list[OutboxMessage]] = defaultdict(list)
        for message in batch:
            by_chat[message.chat_id].append(message)
        # The batch's tickets in one query: every message renders one or more of them.
        ticket_ids = sorted({message.ticket_id for message in batch if message.ticket_id})
        found = {ticket.id: ticket for ticket in await self._tickets.get_many(ticket_ids)}
        await asyncio.gather(
            *(self._deliver_chat(messages, found) for messages in by_chat.values())
        )

    async def _deliver_chat(self, messages: list[OutboxMessage], found: TicketsById) -> None:
        index = 0
        while index < len(messages):
            first = messages[index]
            chat_id = self._chat_ids.get(first.chat_id, first.chat_id)
            wait = self._pacer.chat_wait(chat_id)
            if wait > 0:
                await self._outbox.postpone_chat(first.chat_id, _after(wait))
                return
            await self._pacer.wait_for_total()
            self._pacer.spend(chat_id)
            done = await self._attempt(self._next_unit(messages, index, chat_id), chat_id, found)
            if done == 0:
                return
            index += done

    def _next_unit(
        self, messages: list[OutboxMessage], index: int, chat_id: int
    ) -> list[OutboxMessage]:
        """What one Telegram message can carry from `index` on.

        Cards waiting in a row for one chat, more than the chat can take right now, go out
        as a digest: a burst of requests then reaches a group within its 20-a-minute limit.
        """
        run = []
        for message in messages[index : index + DIGEST_MAX]:
            if message.kind is not OutboxKind.TICKET_CARD:
                break
            run.append(message)
        if len(run) > 1 and len(run) > self._pacer.chat_capacity(chat_id):
            return run
        return messages[index : index + 1]

    async def _attempt(self, unit: list[OutboxMessage], chat_id: int, found: TicketsById) -> int:
        """Send one Telegram message; how many outbox rows are done (0: the chat must wait)."""
        message = unit[0]
        try:
            return await self._send(unit, chat_id, found)
        except TelegramRetryAfter as error:
            self._pacer.hold(chat_id, error.retry_after)
            logger.warning(
                "Telegram asks to wait %s s before writing to %s", error.retry_after, chat_id
            )
            await self._postpone(message, float(error.retry_after), error)
        except TelegramMigrateToChat as error:
            await self._follow_migration(message.chat_id, error.migrate_to_chat_id)
        except TelegramForbiddenError as error:
            return await self._unreachable(message, chat_id, error)
        except TelegramBadRequest as error:
            return await self._bad_request(message, chat_id, error)
        except TelegramUnauthorizedError as error:
            logger.critical("Telegram rejects the bot token (%s): check TOKEN", error.message)
            await self._postpone(message, MAX_BACKOFF_SECONDS / self._time_scale, error)
        except (TelegramAPIError, TelegramNetworkError, TimeoutError) as error:
            delay = self._backoff(message.attempts + 1)
            logger.warning(
                "Sending outbox message %s failed (%s), retry in %.1f s", message.id, error, delay
            )
            await self._postpone(message, delay, error)
        return 0

    async def _send(self, unit: list[OutboxMessage], chat_id: int, found: TicketsById) -> int:
        message = unit[0]
        if message.kind is OutboxKind.TICKET_CARD:
            return await self._send_cards(unit, chat_id, found)
        ticket = found.get(message.ticket_id) if message.ticket_id else None
        if ticket is None:
            await self._outbox.give_up(message.id, "the ticket no longer exists")
        elif message.kind is OutboxKind.CLIENT_CONFIRMATION:
            texts = self._translations.for_language(ticket.client.language)
            sent = await self._bot.send_message(
                chat_id,
                texts("ticket-accepted", number=ticket.id),
                reply_markup=ReplyKeyboardRemove(),
                request_timeout=self._request_timeout,
            )
            await self._outbox.mark_sent(message.id, sent.message_id)
        elif message.kind is OutboxKind.CARD_REFRESH:
            await self._refresh_card(message, ticket)
        return 1

    async def _send_cards(
        self, unit: list[OutboxMessage], chat_id: int, found: TicketsById
    ) -> int:
        shown: list[Ticket] = []
        for message in unit:  # up to the first missing ticket; the rest wait for a next pass
            if message.ticket_id not in found:
                break
            shown.append(found[message.ticket_id])
        if not shown:
            await self._outbox.give_up(unit[0].id, "the ticket no longer exists")
            return 1
        texts = self._translations.default
        shown = shown[: cards.fit_digest(texts, shown, self._zone, DIGEST_MAX)]
        sent = await self._bot.send_message(
            chat_id,
            cards.manager_message(texts, shown, self._zone),
            reply_markup=keyboards.manager_message(texts, shown),
            request_timeout=self._request_timeout,
        )
        await self._outbox.mark_cards_sent(
            [message.id for message in unit[: len(shown)]],
            sent.message_id,
            ticket_ids=[ticket.id for ticket in shown],
            chat_id=chat_id,
        )
        if len(shown) > 1:
            logger.info("Sent %s new requests to %s as one digest", len(shown), chat_id)
        return len(shown)

    async def _refresh_card(self, message: OutboxMessage, ticket: Ticket) -> None:
        if ticket.manager_message_id is None or ticket.manager_chat_id is None:
            # The card is not out yet; when it goes, it shows the current status.
            await self._outbox.mark_sent(message.id, None)
            return
        shown = await self._tickets.on_manager_message(
            ticket.manager_chat_id, ticket.manager_message_id
        )
        texts = self._translations.default
        try:
            await self._bot.edit_message_text(
                chat_id=self._chat_ids.get(ticket.manager_chat_id, ticket.manager_chat_id),
                message_id=ticket.manager_message_id,
                text=cards.manager_message(texts, shown, self._zone),
                reply_markup=keyboards.manager_message(texts, shown),
                request_timeout=self._request_timeout,
            )
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                raise
        await self._outbox.mark_sent(message.id, ticket.manager_message_id)

    async def _unreachable(
        self, message: OutboxMessage, chat_id: int, error: TelegramAPIError
    ) -> int:
        if message.kind.for_managers:
            delay = self._backoff(message.attempts + 1)
            logger.warning(
                "Cannot write to the manager chat %s (MANAGER_CHAT_ID): %s. Add the bot to that "
                "chat or unblock it; requests wait in the outbox, next try in %.0f s",
                chat_id,
                error.message,
                delay,
            )
            await self._postpone(message, delay, error)
            return 0
        logger.info(
            "Client %s cannot be reached (%s); message %s dropped",
            chat_id,
            error.message,
            message.id,
        )
        if isinstance(error, TelegramForbiddenError):
            await self._outbox.record_blocked_client(chat_id)
        await self._outbox.give_up(message.id, error.message)
        return 1

    async def _bad_request(
        self, message: OutboxMessage, chat_id: int, error: TelegramBadRequest
    ) -> int:
        if "chat not found" in error.message.lower():
            return await self._unreachable(message, chat_id, error)
        if (
            message.kind is OutboxKind.CARD_REFRESH
            and "message to edit not found" in error.message
        ):
            await self._outbox.give_up(message.id, "the card was deleted in the chat")
            return 1
        if message.attempts + 1 >= MAX_BAD_REQUEST_ATTEMPTS:
            logger.error(
                "Telegram keeps refusing outbox message %s: %s", message.id, error.message
            )
            await self._outbox.give_up(message.id, error.message)
            return 1
        await self._postpone(message, self._backoff(message.attempts + 1), error)
        return 0

    async def _follow_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        logger.warning("Chat %s became supergroup %s; following it", old_chat_id, new_chat_id)
        self._chat_ids[old_chat_id] = new_chat_id
        if old_chat_id in self._manager_chat:
            self._manager_chat.moved_to(new_chat_id)
        await self._outbox.move_chat(old_chat_id, new_chat_id)
        self._wakeup.set()

    def _backoff(self, attempt: int) -> float:
        """Exponential, capped, with jitter so many workers do not retry in step."""
        ceiling = min(MAX_BACKOFF_SECONDS, 0.5 * 2.0 ** min(attempt, 10))
        jitter = random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
        return ceiling * jitter / self._time_scale

    async def _postpone(
        self, message: OutboxMessage, seconds: float, error: BaseException
    ) -> None:
        await self._outbox.postpone_chat(
            message.chat_id, _after(seconds), failed_id=message.id, error=str(error)
        )


def _after(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
