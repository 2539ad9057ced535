"""Long polling that acknowledges an update only once it is handled.

In place of aiogram's `start_polling`, which confirms each batch as soon as it is fetched
(an update in hand at SIGKILL was gone) and parses a batch as a whole (one update of a
kind the library does not know stopped polling for everyone, the same batch failing
forever). Each update is parsed on its own here; one that cannot be read is logged,
repaired where a part of it can be dropped, else skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramUnauthorizedError
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from vizteh_bot.app.updates import UpdateTracker

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

    from vizteh_bot.db.uow import Store

logger = logging.getLogger(__name__)

POLLING_TIMEOUT = 25
# With updates in hand Telegram answers at once (they are unconfirmed): poll again only
# after one of them finished, or this long, to pick up new ones.
RECHECK_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
# Parts of an update dropped, at most, to read the rest (an unknown forward origin, say).
MAX_REPAIRS = 3
SAVE_RETRY_SECONDS = 10.0


class GetUpdatesRaw(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates answered as plain dicts: each update is parsed apart."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class Poller:
    def __init__(
        self,
        *,
        bot: Bot,
        dispatcher: Dispatcher,
        store: Store,
        allowed_updates: list[str],
        concurrency: int,
        workflow_data: dict[str, Any],
        polling_timeout: int = POLLING_TIMEOUT,
    ) -> None:
        self._bot = bot
        self._dispatcher = dispatcher
        self._store = store
        self._allowed_updates = allowed_updates
        self._concurrency = concurrency
        self._workflow_data = workflow_data
        self._polling_timeout = polling_timeout
        self._tracker = UpdateTracker()
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished = asyncio.Event()
        self._stop = asyncio.Event()
        self._next_save_at = 0.0
        self._resumed = False

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Fetch and hand out updates until stop(); returns with the offset saved."""
        self._stop.clear()
        if not self._resumed:
            # Once: after a crash of this task, what is in hand here is still in hand.
            await self._resume()
            self._resumed = True
        failures = 0
        while not self._stop.is_set():
            self._tracker.forget_if_quiet()
            await self.save()
            try:
                batch = await self._fetch()
            except TelegramUnauthorizedError:
                raise
            except (TelegramAPIError, ClientDecodeError, OSError, TimeoutError) as error:
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures)
                logger.error("Failed to fetch updates (%s); retrying in %.1f s", error, delay)
                await self._pause(delay)
                continue
            if batch is None:
                break
            if failures:
                logger.info("Fetching updates works again")
                failures = 0
            fresh = sum(self._hand_out(raw) for raw in batch)
            if self._tracker.in_hand and (not fresh or len(self._tasks) >= self._concurrency):
                await self._wait_for_one(RECHECK_SECONDS if fresh == 0 else None)
        await self.save()

    async def drain(self, seconds: float) -> bool:
        """Wait for the updates in hand; False if some were still running after `seconds`."""
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
        return not pending

    async def _resume(self) -> None:
        try:
            async with self._store.read() as uow:
                state = await uow.updates.load(self._bot.id)
        except SQLAlchemyError:
            logger.exception("Could not read where polling stopped; starting from Telegram's")
            state = None
        self._tracker = UpdateTracker.resumed(state)

    async def save(self, *, now: bool = False) -> None:
        """Record how far polling got (a no-op when nothing changed); after a failure, not
        again for a while unless `now`."""
        loop = asyncio.get_running_loop()
        if not self._tracker.dirty or (loop.time() < self._next_save_at and not now):
            return
        self._tracker.offset()
        watermark, done = self._tracker.state()
        self._tracker.dirty = False
        try:
            async with self._store.read() as uow:
                await uow.updates.save(self._bot.id, watermark, done)
        except (SQLAlchemyError, OSError, TimeoutError):
            self._tracker.dirty = True
            # Not again at once: a database that does not answer should cost the people
            # waiting for answers one wait, not one per poll.
            self._next_save_at = loop.time() + SAVE_RETRY_SECONDS
            logger.warning("Could not save how far polling got; a crash now may redo updates")

    async def _fetch(self) -> list[dict[str, Any]] | None:
        """The next batch, or None when stopped while waiting for it."""
        method = GetUpdatesRaw(
            offset=self._tracker.offset(),
            timeout=0 if self._tracker.in_hand else self._polling_timeout,
            allowed_updates=self._allowed_updates,
        )
        request = asyncio.ensure_future(
            self._bot(method, request_timeout=self._polling_timeout + 10)
        )
        stopping = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not request.done():
            request.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await request
            return None
        return [item for item in request.result() if isinstance(item, dict)]

    def _hand_out(self, raw: dict[str, Any]) -> bool:
        update_id = raw.get("update_id")
        if not isinstance(update_id, int) or self._tracker.known(update_id):
            return False
        self._tracker.take(update_id)
        update = self._parse(update_id, raw)
        if update is None:
            self._tracker.finish(update_id)
            return True
        task = asyncio.create_task(self._handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _handle(self, update: Update) -> None:
        try:
            await self._dispatcher.feed_update(self._bot, update, **self._workflow_data)
        except Exception:
            # The error router handles what it can; this is what even it let through.
            logger.exception("Update %s failed", update.update_id)
        finally:
            self._tracker.finish(update.update_id)
            self._finished.set()

    def _parse(self, update_id: int, raw: dict[str, Any]) -> Update | None:
        data = raw
        for _ in range(MAX_REPAIRS + 1):
            try:
                return Update.model_validate(data, context={"bot": self._bot})
            except ValidationError as error:
                location = error.errors()[0]["loc"]
                if data is raw:
                    data = copy.deepcopy(raw)
                dropped = _drop(data, location)
                if dropped is None:
                    logger.error(
                        "Update %s cannot be read and is skipped: %s", update_id, _first(error)
                    )
                    return None
                logger.warning(
                    "Update %s: dropped %s, which this version cannot read", update_id, dropped
                )
        logger.error("Update %s cannot be read and is skipped", update_id)
        return None

    async def _wait_for_one(self, seconds: float | None) -> None:
        self._finished.clear()
        waiters = {
            asyncio.ensure_future(self._finished.wait()),
            asyncio.ensure_future(self._stop.wait()),
        }
        _, pending = await asyncio.wait(
            waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in pending:
            waiter.cancel()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


def _drop(data: dict[str, Any], location: tuple[int | str, ...]) -> str | None:
    """Remove the field at the second level of `location` (a part of the event), if any."""
    if len(location) < 2 or not isinstance(location[0], str) or not isinstance(location[1], str):
        return None
    event = data.get(location[0])
    if not isinstance(event, dict) or location[1] not in event:
        return None
    if location[1] in ("message_id", "date", "chat", "id", "from"):
        return None  # what the event cannot do without
    del event[location[1]]
    return f"{location[0]}.{location[1]}"


def _first(error: ValidationError) -> str:
    detail = error.errors()[0]
    return f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
