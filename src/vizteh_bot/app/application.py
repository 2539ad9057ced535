"""The composition root: the one place that builds concrete objects and wires them."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import uuid
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import SimpleEventIsolation

from vizteh_bot.db.engine import check_connection, create_database
from vizteh_bot.db.fsm_storage import DatabaseStorage
from vizteh_bot.db.repositories.outbox import OutboxRepository
from vizteh_bot.db.repositories.tickets import TicketRepository
from vizteh_bot.migrations import apply_migrations, schema_is_current
from vizteh_bot.outbox.pacing import PaceLimits, Pacer
from vizteh_bot.outbox.worker import OutboxWorker
from vizteh_bot.telegram.flood import DropRepeatedUpdates, ThrottleClients
from vizteh_bot.telegram.handlers import get_routers
from vizteh_bot.telegram.manager_chat import ManagerChat
from vizteh_bot.telegram.middlewares import (
    BatchStateWrites,
    FlushStateBeforeReply,
    InFlightUpdates,
    TextsMiddleware,
)
from vizteh_bot.telegram.response_types import pin_response_types
from vizteh_bot.telegram.retry import CountDirectReplies, RetryAfterMiddleware
from vizteh_bot.texts import Translations

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from vizteh_bot.config import Settings
    from vizteh_bot.db.engine import Database

logger = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20
MAX_CONCURRENT_UPDATES = 100


def create_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=settings.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


class Application:
    """Everything one running bot instance owns, built from the settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        migrate: Callable[[Settings], Awaitable[None]] = apply_migrations,
    ) -> None:
        self.settings = settings
        self._migrate = migrate
        self._response_types = pin_response_types()
        self.database: Database = create_database(settings)
        self.bot = create_bot(settings)
        self.storage = DatabaseStorage(self.database)
        self.bot.session.middleware(FlushStateBeforeReply(self.storage))
        self.bot.session.middleware(RetryAfterMiddleware())
        pacer = Pacer(PaceLimits().scaled(settings.pace_time_scale))
        self.bot.session.middleware(CountDirectReplies(pacer))
        # The outbox has a bot of its own: on "retry after" it postpones the chat rather
        # than waiting inside the request.
        self.outbox_bot = create_bot(settings)
        self.translations = Translations(settings.default_locale)
        self.tickets = TicketRepository(self.database)
        self.outbox = OutboxRepository(self.database)
        self.manager_chat = ManagerChat(settings.manager_chat_id)
        self.instance = f"{socket.gethostname()}:{settings.manager_chat_id}"
        self.delivery = OutboxWorker(
            bot=self.outbox_bot,
            outbox=self.outbox,
            tickets=self.tickets,
            translations=self.translations,
            zone=settings.zone,
            manager_chat=self.manager_chat,
            pacer=pacer,
            worker_id=f"{self.instance}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            request_timeout=settings.telegram_timeout,
            time_scale=settings.pace_time_scale,
        )
        self.in_flight = InFlightUpdates()
        self.dispatcher = self._create_dispatcher()

    def _create_dispatcher(self) -> Dispatcher:
        dispatcher = Dispatcher(
            storage=self.storage,
            # Registered below, after the middlewares that should run before it reads state.
            disable_fsm=True,
            # One chat's updates are handled one after another, in order: a client who
            # types the name and the phone in quick succession gets both read right.
            events_isolation=SimpleEventIsolation(),
            settings=self.settings,
            tickets=self.tickets,
            delivery=self.delivery,
            manager_chat=self.manager_chat,
            translations=self.translations,
            zone=self.settings.zone,
        )
        # Counted first, so shutdown waits for every update past this point; replays and
        # floods are dropped before they cost a state lookup.
        dispatcher.update.outer_middleware(self.in_flight)
        dispatcher.update.outer_middleware(DropRepeatedUpdates())
        dispatcher.update.outer_middleware(TextsMiddleware(self.translations))
        dispatcher.update.outer_middleware(ThrottleClients(self.manager_chat))
        dispatcher.update.outer_middleware(dispatcher.fsm)
        dispatcher.update.outer_middleware(BatchStateWrites(self.storage))
        dispatcher.include_routers(*get_routers(self.manager_chat, self.translations))
        return dispatcher

    async def prepare(self) -> None:
        """Check the database, bring its schema up to date, pick up where the last run stopped."""
        await check_connection(self.database)
        if not await schema_is_current(self.database):
            await self._migrate(self.settings)
        current = await self.outbox.migrated_chat_id(self.settings.manager_chat_id)
        if current != self.settings.manager_chat_id:
            self.manager_chat.moved_to(current)
        await self.outbox.release_leases(f"{self.instance}:")
        moved = await self.outbox.readdress_manager_messages(self.manager_chat.current_id)
        if moved:
            logger.warning(
                "%s messages for managers were waiting for another chat; sent to %s now",
                moved,
                self.manager_chat.current_id,
            )

    async def run(self, *, handle_signals: bool = True) -> None:
        """Serve until stopped (SIGTERM/SIGINT or stop()): finish handlers, then the outbox."""
        await self.prepare()
        # aiogram builds about a million objects at import; frozen, the collector stops
        # walking them on every full collection.
        gc.collect()
        gc.freeze()
        worker = asyncio.create_task(self.delivery.run(), name="outbox")
        try:
            await self.dispatcher.start_polling(
                self.bot,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
                handle_signals=handle_signals,
                close_bot_session=False,
                # Bounds the updates in hand, so a burst waits in Telegram's queue rather
                # than in the database pool's.
                tasks_concurrency_limit=MAX_CONCURRENT_UPDATES,
            )
        finally:
            if not await self.in_flight.drained(SHUTDOWN_GRACE_SECONDS):
                logger.warning("Stopping with updates still being handled")
            self.delivery.stop()
            await worker
            await self.bot.session.close()
            await self.outbox_bot.session.close()
            await self.database.dispose()

    async def stop(self) -> None:
        await self.dispatcher.stop_polling()
