"""The outbox worker: delivers what the database says Telegram is owed, whatever Telegram says.

Each message is handled on its own: whatever one raises is classified (outbox/failures.py)
and costs the others nothing. Order within a chat and priority is kept: a failure
postpones every pending message of that chat, so they go out in creation order once it is
reachable again; a new request's card is not held back by card refreshes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from vizteh_bot.db.repositories.outbox import FAILED, QUARANTINED
from vizteh_bot.db.repositories.tickets import UnreadableTicket
from vizteh_bot.domain.tickets import Ticket
from vizteh_bot.outbox import messages
from vizteh_bot.outbox.failures import Failure, Outcome, classify
from vizteh_bot.outbox.messages import (
    OutboxKind,
    OutboxMessage,
    RelayEditPayload,
)
from vizteh_bot.outbox.quarantine import fallback_for
from vizteh_bot.outbox.relays import album_unit, not_delivered, record_pairs
from vizteh_bot.outbox.senders import UnknownKind
from vizteh_bot.telegram.render import cards

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from zoneinfo import ZoneInfo

    from vizteh_bot.db.uow import Store
    from vizteh_bot.outbox.messages import Outgoing
    from vizteh_bot.outbox.pacing import SendBudget
    from vizteh_bot.outbox.senders import Senders
    from vizteh_bot.telegram.manager_chat import ManagerChat
    from vizteh_bot.texts import Translations

logger = logging.getLogger(__name__)
Found = dict[int, Ticket | UnreadableTicket]

BATCH_SIZE = 50
# Long enough for a batch's sends; a process that died frees its messages this late.
LEASE = timedelta(seconds=30)
IDLE_POLL_SECONDS = 5.0
# Due messages that could not be claimed (held back behind a waiting one of their chat)
# are looked at again after this, not in a busy loop.
MIN_IDLE_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 60.0
# A chat that must wait longer than this for its next message is postponed in the
# database instead, and the worker goes on with the others.
MAX_INLINE_WAIT_SECONDS = 1.0
# A digest shows at most this many new requests, so each keeps a readable share.
DIGEST_MAX = 10
# Telegram's largest album.
ALBUM_MAX = 10
_TICKET_KINDS = frozenset({OutboxKind.CARD.value, OutboxKind.CARD_REFRESH.value})
_GIVE_UP_ON_REACTION = frozenset(
    {Outcome.QUARANTINE, Outcome.CHAT_UNREACHABLE, Outcome.GONE, Outcome.MIGRATED}
)
# What one send made: a message, an album's messages, or nothing to point at.
Made = int | list[int] | None


class OutboxWorker:
    def __init__(
        self,
        *,
        store: Store,
        senders: Senders,
        translations: Translations,
        zone: ZoneInfo,
        manager_chat: ManagerChat,
        budget: SendBudget,
        worker_id: str,
        time_scale: float = 1.0,
    ) -> None:
        self._store = store
        self._senders = senders
        self._translations = translations
        self._zone = zone
        self._manager_chat = manager_chat
        self._budget = budget
        self._worker_id = worker_id
        self._time_scale = time_scale
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._chat_ids: dict[int, int] = {}
        # Cards whose digest Telegram refused: they go one by one, so only the bad one
        # ends in quarantine.
        self._alone: set[int] = set()
        # Sent, but the database failed when told so: recorded before anything else is
        # claimed, so that a database that stalls mid-batch costs no second copies.
        self._unrecorded: list[_Sent] = []

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        """Finish the batch in hand, then return from run()."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        failures = 0
        self._stopping = False
        while not self._stopping:
            woken = self._wakeup.is_set()
            self._wakeup.clear()
            try:
                await self._record_unrecorded()
                batch = await self._claim() if woken or await self._anything_due() else []
                if batch:
                    await self._deliver(batch)
                else:
                    await self._idle(at_least=0.0 if woken else MIN_IDLE_SECONDS)
                failures = 0
            except (SQLAlchemyError, OSError, TimeoutError):
                failures += 1
                delay = self._backoff(failures)
                logger.exception("Outbox: database unavailable, retrying in %.1f s", delay)
                await self._sleep(delay)
        with contextlib.suppress(SQLAlchemyError, OSError, TimeoutError):
            async with self._store.read() as uow:
                await uow.outbox.release_worker(self._worker_id)

    async def _claim(self) -> list[OutboxMessage]:
        async with self._store.transaction() as uow:
            return await uow.outbox.claim(self._worker_id, BATCH_SIZE, LEASE)

    async def _anything_due(self) -> bool:
        """A read, so that an idle worker takes no write lock (SQLite has one for all)."""
        async with self._store.read() as uow:
            due = await uow.outbox.next_due_at()
        return due is not None and due <= datetime.now(UTC)

    async def _idle(self, at_least: float) -> None:
        async with self._store.read() as uow:
            due = await uow.outbox.next_due_at()
        timeout = IDLE_POLL_SECONDS
        if due is not None:
            timeout = min(timeout, max(at_least, (due - datetime.now(UTC)).total_seconds()))
        self._budget.forget_idle()
        await self._sleep(timeout)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=seconds)

    async def _deliver(self, batch: list[OutboxMessage]) -> None:
        by_chat: dict[int, list[OutboxMessage]] = defaultdict(list)
        for message in batch:
            by_chat[message.chat_id].append(message)
        ticket_ids = sorted(
            {m.ticket_id for m in batch if m.ticket_id is not None and m.kind in _TICKET_KINDS}
        )
        async with self._store.read() as uow:
            found = await uow.tickets.get_many(ticket_ids)
        await asyncio.gather(*(self._deliver_chat(rows, found) for rows in by_chat.values()))

    async def _deliver_chat(self, rows: list[OutboxMessage], found: Found) -> None:
        remaining = list(rows)
        while remaining:
            first = remaining[0]
            chat_id = self._chat_ids.get(first.chat_id, first.chat_id)
            wait = self._budget.chat_wait(chat_id)
            if wait > MAX_INLINE_WAIT_SECONDS or not await self._budget.acquire(
                chat_id, urgent=False, limit=MAX_INLINE_WAIT_SECONDS
            ):
                await self._database(
                    self._postpone(first.chat_id, max(wait, MAX_INLINE_WAIT_SECONDS))
                )
                return
            try:
                unit = self._next_unit(remaining, chat_id, found)
            except Exception:
                # Sizing a digest renders its cards; the one that fails is found alone.
                logger.exception("Could not group the cards for %s; sending one", chat_id)
                unit = [first]
            if not await self._attempt(unit, chat_id, found):
                await self._database(self._release([m for m in remaining if m not in unit]))
                return
            remaining = [message for message in remaining if message not in unit]

    def _next_unit(
        self, remaining: list[OutboxMessage], chat_id: int, found: Found
    ) -> list[OutboxMessage]:
        """What one Telegram message can carry from the start of `remaining`.

        Cards waiting in a row for one chat, more than the chat can take right now, go out
        as a digest: a burst of requests then reaches a group within its 20-a-minute limit.
        Refreshes of tickets shown in one message become one edit.
        """
        first = remaining[0]
        if first.kind == OutboxKind.CARD_REFRESH.value:
            target = _shown_in(found.get(first.ticket_id or 0))
            if target is None:
                return [first]
            return [
                m
                for m in remaining
                if m.kind == first.kind and _shown_in(found.get(m.ticket_id or 0)) == target
            ]
        if first.kind == OutboxKind.RELAY.value:
            return album_unit(remaining, ALBUM_MAX, self._alone)
        if first.kind != OutboxKind.CARD.value or first.id in self._alone:
            return [first]
        run: list[OutboxMessage] = []
        tickets: list[Ticket] = []
        for message in remaining[:DIGEST_MAX]:
            ticket = found.get(message.ticket_id or 0)
            if message.kind != first.kind or message.id in self._alone:
                break
            if not isinstance(ticket, Ticket):
                break
            run.append(message)
            tickets.append(ticket)
        if len(run) <= 1 or len(run) <= self._budget.chat_capacity(chat_id):
            return [first]
        return run[
            : cards.digest_size(self._translations.default, tickets, self._zone, DIGEST_MAX)
        ]

    async def _attempt(self, unit: list[OutboxMessage], chat_id: int, found: Found) -> bool:
        """Send one Telegram message for `unit`; False when the chat must wait."""
        try:
            message_id = await self._send(unit, chat_id, found)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            return await self._failed(unit, chat_id, found, classify(error), error)
        return await self._record_sent(unit, chat_id, message_id)

    async def _send(self, unit: list[OutboxMessage], chat_id: int, found: Found) -> Made:
        message = unit[0]
        kind = message.known_kind()
        if kind is OutboxKind.CARD:
            return await self._senders.cards(chat_id, _tickets(unit, found))
        if kind is OutboxKind.CARD_REFRESH:
            tickets = _tickets(unit, found)
            shown = _shown_in(tickets[0])
            if shown is None:
                return None  # the card is not out yet; when it goes, it shows this state
            async with self._store.read() as uow:
                in_message = await uow.tickets.on_manager_message(*shown)
            return await self._senders.refresh(
                self._chat_ids.get(shown[0], shown[0]), shown[1], in_message
            )
        if kind is OutboxKind.NOTICE:
            return await self._senders.notice(chat_id, message)
        if kind is OutboxKind.TEXT:
            return await self._senders.text(chat_id, message)
        if kind is OutboxKind.COPY:
            return await self._senders.copy(chat_id, message)
        if kind is OutboxKind.DEFERRED_CALL:
            return await self._senders.deferred_call(chat_id, message)
        if kind is OutboxKind.RELAY:
            if len(unit) > 1:
                return await self._senders.relay_album(chat_id, unit)
            return await self._senders.relay(chat_id, message)
        if kind is OutboxKind.RELAY_EDIT:
            edit = message.parsed(RelayEditPayload)
            async with self._store.read() as uow:
                copies = await uow.conversation.copies_of(
                    edit.source_chat_id, edit.source_message_id
                )
            here = [c for c in copies if c[1] in (message.chat_id, chat_id)]
            if len(here) != 1:
                return None  # never delivered, or split over several messages: none to edit
            return await self._senders.relay_edit(chat_id, here[0][2], edit)
        if kind is OutboxKind.REACTION:
            await self._senders.reaction(chat_id, message)
            return None
        raise UnknownKind(f"unknown outbox kind {message.kind!r} (written by a newer version?)")

    async def _sent(self, unit: list[OutboxMessage], chat_id: int, made: Made) -> None:
        self._alone.difference_update(message.id for message in unit)
        made_ids = made if isinstance(made, list) else [] if made is None else [made]
        message_id = made_ids[0] if made_ids else None
        card = unit[0].kind == OutboxKind.CARD.value
        about_ticket = message_id is not None and any(m.ticket_id for m in unit)
        # A card's place, the pairs that lead a reply to its request and the row together;
        # anything else is one statement.
        together = card or about_ticket
        async with self._store.transaction() if together else self._store.read() as uow:
            if card:
                ticket_ids = [m.ticket_id for m in unit if m.ticket_id is not None]
                await uow.tickets.shown_in(ticket_ids, chat_id, message_id)
            if about_ticket:
                await record_pairs(uow, unit, chat_id, made_ids, self._manager_chat)
            await uow.outbox.mark_sent([m.id for m in unit], message_id)
        if len(unit) > 1 and unit[0].kind == OutboxKind.CARD.value:
            logger.info("Sent %s new requests to %s as one digest", len(unit), chat_id)

    async def _failed(
        self,
        unit: list[OutboxMessage],
        chat_id: int,
        found: Found,
        failure: Failure,
        error: BaseException,
    ) -> bool:
        message = unit[0]
        outcome = failure.outcome
        if message.kind == OutboxKind.REACTION.value and outcome in _GIVE_UP_ON_REACTION:
            # A mark only: a chat that does not allow it, or a message gone, costs nothing.
            logger.info("Reaction in %s not set: %s", chat_id, failure.error)
            await self._database(self._finish(unit, FAILED, failure.error))
            return True
        if outcome is Outcome.SENT_UNREADABLE:
            logger.warning(
                "Telegram took outbox message %s but its answer was unreadable (%s)",
                message.id,
                failure.error,
            )
            return await self._record_sent(unit, chat_id, failure.message_id)
        if outcome is Outcome.NOT_MODIFIED:
            return await self._record_sent(unit, chat_id, None)
        if outcome is Outcome.GONE:
            await self._database(self._finish(unit, FAILED, "the message to edit was deleted"))
            return True
        if outcome is Outcome.RATE_LIMITED:
            self._budget.hold(chat_id, failure.delay)
            logger.warning(
                "Telegram asks to wait %s s before writing to %s", failure.delay, chat_id
            )
            await self._database(self._postpone(message.chat_id, failure.delay, message, failure))
            return False
        if outcome is Outcome.MIGRATED and failure.migrate_to is not None:
            if message.kind == OutboxKind.CARD_REFRESH.value:
                # The card stays in the group as it was before the upgrade, where it can
                # no longer be edited; the supergroup gets the next messages.
                await self._database(self._finish(unit, FAILED, failure.error))
                return True
            if failure.migrate_to != message.chat_id:
                await self._database(self._follow_migration(message.chat_id, failure.migrate_to))
                return False
            delay = self._backoff(message.attempts + 1)
            await self._database(self._postpone(message.chat_id, delay, message, failure))
            return False
        if outcome is Outcome.CHAT_UNREACHABLE:
            return await self._unreachable(unit, chat_id, failure, error)
        if outcome is Outcome.QUARANTINE:
            return await self._quarantine(unit, found, failure)
        if outcome is Outcome.UNAUTHORIZED:
            logger.critical("Telegram rejects the bot token (%s): check TOKEN", failure.error)
            delay = MAX_BACKOFF_SECONDS / self._time_scale
            await self._database(self._postpone(message.chat_id, delay, message, failure))
            return False
        delay = self._backoff(message.attempts + 1)
        logger.warning(
            "Sending outbox message %s (%s) failed: %s; retry in %.1f s",
            message.id,
            _about(message),
            failure.error,
            delay,
        )
        await self._database(self._postpone(message.chat_id, delay, message, failure))
        return False

    async def _unreachable(
        self, unit: list[OutboxMessage], chat_id: int, failure: Failure, error: BaseException
    ) -> bool:
        message = unit[0]
        if message.for_managers:
            delay = self._backoff(message.attempts + 1)
            logger.warning(
                "Cannot write to the manager chat %s (MANAGER_CHAT_ID): %s. Add the bot to "
                "that chat, let it post there (not muted) or check the id; messages wait in "
                "the outbox, next try in %.0f s",
                chat_id,
                failure.error,
                delay,
            )
            await self._database(self._postpone(message.chat_id, delay, message, failure))
            return False
        logger.info(
            "Client %s cannot be reached (%s); %s kept as failed",
            chat_id,
            failure.error,
            _about(message),
        )
        blocked = "blocked" in failure.error.lower() or "deactivated" in failure.error.lower()
        reason = "conversation-reason-blocked" if blocked else "conversation-reason-unreachable"
        await self._database(
            self._finish(
                unit,
                FAILED,
                failure.error,
                fallback=self._not_delivered(message, reason, failure.error),
                blocked_client=chat_id if blocked else None,
            )
        )
        if blocked and message.ticket_id is not None:
            # The card says so: managers stop writing into the void.
            refresh = messages.card_refresh(message.ticket_id, self._manager_chat.current_id)
            await self._database(self._enqueue(refresh))
        return True

    async def _quarantine(self, unit: list[OutboxMessage], found: Found, failure: Failure) -> bool:
        if len(unit) > 1:
            # One card of the digest may be the cause: each goes alone next.
            self._alone.update(message.id for message in unit)
            logger.warning(
                "A digest of %s requests was refused (%s); sending them one by one",
                len(unit),
                failure.error,
            )
            await self._database(self._release(unit))
            return True
        message = unit[0]
        logger.error(
            "Outbox message %s (%s, chat %s) cannot be sent: %s; kept in quarantine and "
            "shown to the managers",
            message.id,
            _about(message),
            message.chat_id,
            failure.error,
        )
        ticket = found.get(message.ticket_id) if message.ticket_id is not None else None
        fallback = self._not_delivered(
            message, "conversation-reason-refused", failure.error
        ) or fallback_for(
            self._translations.default,
            message,
            ticket,
            failure.error,
            self._manager_chat.current_id,
        )
        await self._database(self._finish(unit, QUARANTINED, failure.error, fallback=fallback))
        self._alone.discard(message.id)
        self.wake()
        return True

    def _not_delivered(self, message: OutboxMessage, reason: str, error: str) -> Outgoing | None:
        return not_delivered(self._translations.default, message, reason, error)

    async def _finish(
        self,
        unit: list[OutboxMessage],
        state: str,
        error: str,
        *,
        fallback: Outgoing | None = None,
        blocked_client: int | None = None,
    ) -> None:
        async with self._store.transaction() as uow:
            for message in unit:
                await uow.outbox.finish(message.id, state, error)
            if fallback is not None:
                await uow.outbox.enqueue(fallback)
            if blocked_client is not None:
                await uow.outbox.record_blocked_client(blocked_client)

    async def _enqueue(self, message: Outgoing) -> None:
        async with self._store.read() as uow:
            await uow.outbox.enqueue(message)
        self.wake()

    async def _follow_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        logger.warning("Chat %s became supergroup %s; following it", old_chat_id, new_chat_id)
        self._chat_ids[old_chat_id] = new_chat_id
        if old_chat_id in self._manager_chat:
            self._manager_chat.moved_to(new_chat_id)
        async with self._store.transaction() as uow:
            await uow.outbox.move_chat(old_chat_id, new_chat_id)
        self._wakeup.set()

    async def _postpone(
        self,
        chat_id: int,
        seconds: float,
        message: OutboxMessage | None = None,
        failure: Failure | None = None,
    ) -> None:
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        async with self._store.transaction() as uow:
            await uow.outbox.postpone_chat(
                chat_id,
                until,
                worker_id=self._worker_id,
                failed_id=None if message is None else message.id,
                error="" if failure is None else failure.error,
            )

    async def _release(self, unit: list[OutboxMessage]) -> None:
        async with self._store.read() as uow:
            await uow.outbox.release([message.id for message in unit])

    async def _database(self, work: Coroutine[Any, Any, None]) -> bool:
        """Record an outcome; False if the database failed (the lease brings the rows back)."""
        try:
            await work
        except (SQLAlchemyError, OSError, TimeoutError):
            logger.exception("Outbox: could not record a delivery outcome; it will be retried")
            return False
        return True

    async def _record_sent(
        self, unit: list[OutboxMessage], chat_id: int, message_id: Made
    ) -> bool:
        """Record a send; if the database fails, keep it here and stop this chat's pass:
        sending on would only make more messages that their lease would send again."""
        try:
            await self._sent(unit, chat_id, message_id)
        except (SQLAlchemyError, OSError, TimeoutError):
            self._unrecorded.append(_Sent(unit, chat_id, message_id))
            logger.exception("Outbox: sent %s but could not record it yet", _about(unit[0]))
            return False
        return True

    async def _record_unrecorded(self) -> None:
        """What was sent while the database failed, recorded before anything new goes."""
        while self._unrecorded:
            sent = self._unrecorded[0]
            await self._sent(sent.unit, sent.chat_id, sent.message_id)
            self._unrecorded.pop(0)

    def _backoff(self, attempt: int) -> float:
        """Exponential, capped, with jitter so many workers do not retry in step."""
        ceiling = min(MAX_BACKOFF_SECONDS, 0.5 * 2.0 ** min(attempt, 10))
        jitter = random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
        return ceiling * jitter / self._time_scale


@dataclass(frozen=True, slots=True)
class _Sent:
    unit: list[OutboxMessage]
    chat_id: int
    message_id: Made


def _tickets(unit: list[OutboxMessage], found: Found) -> list[Ticket]:
    """The unit's tickets; a missing or unreadable one is raised, for its message alone."""
    tickets = []
    for message in unit:
        ticket = found.get(message.ticket_id or 0)
        if ticket is None:
            raise LookupError(f"ticket {message.ticket_id} no longer exists")
        if isinstance(ticket, UnreadableTicket):
            raise ticket
        tickets.append(ticket)
    return tickets


def _shown_in(ticket: Ticket | UnreadableTicket | None) -> tuple[int, int] | None:
    if ticket is None or isinstance(ticket, UnreadableTicket):
        return None
    if ticket.manager_chat_id is None or ticket.manager_message_id is None:
        return None
    return ticket.manager_chat_id, ticket.manager_message_id


def _about(message: OutboxMessage) -> str:
    if message.ticket_id is None:
        return message.kind
    return f"{message.kind} of request #{message.ticket_id}"
