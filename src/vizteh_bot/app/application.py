"""The composition root: the one place that builds concrete objects and wires them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import uuid
from typing import TYPE_CHECKING, Any

from aiogram import Dispatcher
from aiogram.exceptions import TelegramNetworkError
from aiogram.fsm.storage.memory import SimpleEventIsolation

from vizteh_bot.app.polling import Poller
from vizteh_bot.app.supervisor import Supervisor
from vizteh_bot.db.engine import check_connection, create_database
from vizteh_bot.db.fsm_storage import DatabaseStorage
from vizteh_bot.db.uow import Store
from vizteh_bot.forms.loader import load_form
from vizteh_bot.migrations import apply_migrations, schema_is_current
from vizteh_bot.outbox import messages
from vizteh_bot.outbox.pacing import PaceLimits, Pacer
from vizteh_bot.outbox.senders import Senders
from vizteh_bot.outbox.worker import OutboxWorker
from vizteh_bot.telegram.bot import create_bot
from vizteh_bot.telegram.flood import ThrottleClients
from vizteh_bot.telegram.handlers import get_routers
from vizteh_bot.telegram.handlers.client import form
from vizteh_bot.telegram.manager_chat import ManagerChat
from vizteh_bot.telegram.middlewares import (
    BatchStateWrites,
    FlushStateBeforeReply,
    NoteCallbackAnswers,
    TextsMiddleware,
    TrackCallbackAnswers,
)
from vizteh_bot.telegram.replay import SkipAnsweredMessages
from vizteh_bot.telegram.replies import IgnoreNotModified, PatientReplies
from vizteh_bot.telegram.response_types import pin_response_types
from vizteh_bot.texts import Translations

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from vizteh_bot.config import Settings
    from vizteh_bot.db.engine import Database
    from vizteh_bot.domain.form import Form

logger = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20
MAX_CONCURRENT_UPDATES = 100


class Application:
    """Everything one running bot instance owns, built from the settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        migrate: Callable[[Settings], Awaitable[None]] = apply_migrations,
        form: Form | None = None,
    ) -> None:
        self.settings = settings
        # Raises FormFileError (one line saying what to fix) before anything else is built.
        self.form = form or load_form(settings.form_file, settings.default_locale)
        self._migrate = migrate
        self._response_types = pin_response_types()
        self.database: Database = create_database(settings)
        self.store = Store(self.database)
        self.storage = DatabaseStorage(self.database)
        self.translations = Translations(settings.default_locale)
        self.manager_chat = ManagerChat(settings.manager_chat_id)
        # One budget for everything this process sends: Telegram's 30 a second is for all.
        self.budget = Pacer(PaceLimits().scaled(settings.pace_time_scale))
        # The outbox has a bot of its own: on "retry after" it postpones the chat rather
        # than waiting inside the request, and it paces itself.
        self.outbox_bot = create_bot(settings)
        self.delivery = OutboxWorker(
            store=self.store,
            senders=Senders(
                bot=self.outbox_bot,
                translations=self.translations,
                zone=settings.zone,
                request_timeout=settings.telegram_timeout,
            ),
            translations=self.translations,
            zone=settings.zone,
            manager_chat=self.manager_chat,
            budget=self.budget,
            # This process alone: a lease it holds is never freed by another process.
            # (At most 64 characters, as the column: host names can be long.)
            worker_id=f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            time_scale=settings.pace_time_scale,
        )
        self.bot = create_bot(settings)
        self.bot.session.middleware(FlushStateBeforeReply(self.storage))
        self.bot.session.middleware(NoteCallbackAnswers())
        self.bot.session.middleware(IgnoreNotModified())
        self.bot.session.middleware(
            PatientReplies(self.budget, self._defer_reply, time_scale=settings.pace_time_scale)
        )
        self.dispatcher = self._create_dispatcher()
        self.supervisor = Supervisor()
        self.poller = Poller(
            bot=self.bot,
            dispatcher=self.dispatcher,
            store=self.store,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
            concurrency=MAX_CONCURRENT_UPDATES,
            workflow_data={},
        )
        self._stop_requested = asyncio.Event()

    def _create_dispatcher(self) -> Dispatcher:
        dispatcher = Dispatcher(
            storage=self.storage,
            # Registered below, after the middlewares that should run before it reads state.
            disable_fsm=True,
            # One chat's updates are handled one after another, in order: a client who
            # types the name and the phone in quick succession gets both read right.
            events_isolation=SimpleEventIsolation(),
            settings=self.settings,
            store=self.store,
            delivery=self.delivery,
            manager_chat=self.manager_chat,
            translations=self.translations,
            zone=self.settings.zone,
            form=self.form,
        )
        dispatcher.update.outer_middleware(TrackCallbackAnswers())
        dispatcher.update.outer_middleware(TextsMiddleware(self.translations))
        # Floods are dropped before they cost a state lookup.
        dispatcher.update.outer_middleware(ThrottleClients(self.manager_chat))
        dispatcher.update.outer_middleware(dispatcher.fsm)
        dispatcher.update.outer_middleware(BatchStateWrites(self.storage))
        dispatcher.message.outer_middleware(SkipAnsweredMessages(form.ask_again))
        dispatcher.include_routers(*get_routers(self.manager_chat, self.translations))
        return dispatcher

    async def _defer_reply(self, chat_id: int, method: str, params: dict[str, Any]) -> None:
        """A direct reply Telegram would not take in time: the outbox sends it later."""
        audience = (
            messages.Audience.MANAGERS
            if chat_id in self.manager_chat
            else messages.Audience.CLIENT
        )
        async with self.store.transaction() as uow:
            await uow.outbox.enqueue(messages.deferred_call(chat_id, audience, method, params))
        self.delivery.wake()

    async def prepare(self) -> None:
        """Check the database, bring its schema up to date, pick up where the last run stopped."""
        await check_connection(self.database)
        if not await schema_is_current(self.database):
            await self._migrate(self.settings)
        async with self.store.read() as uow:
            current = await uow.outbox.migrated_chat_id(self.settings.manager_chat_id)
            if current != self.settings.manager_chat_id:
                self.manager_chat.moved_to(current)
            moved = await uow.outbox.readdress_manager_messages(self.manager_chat.current_id)
        if moved:
            logger.warning(
                "%s messages for managers were waiting for another chat; sent to %s now",
                moved,
                self.manager_chat.current_id,
            )

    async def run(self, *, handle_signals: bool = True) -> None:
        """Serve until stopped (SIGTERM/SIGINT or stop()): finish handlers, then the outbox.

        Raises TaskKeepsCrashing when a background task crashed too often to go on.
        """
        await self.prepare()
        await self._introduce()
        # aiogram builds about a million objects at import; frozen, the collector stops
        # walking them on every full collection.
        gc.collect()
        gc.freeze()
        self._stop_requested.clear()
        if handle_signals:
            loop = asyncio.get_running_loop()
            for number in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(number, self._stop_requested.set)
        self.supervisor.start("outbox", self.delivery.run, stop=self.delivery.stop)
        self.supervisor.start("polling", self.poller.run, stop=self.poller.stop)
        failed = self.supervisor.failed
        assert failed is not None
        stopping: asyncio.Future[Any] = asyncio.ensure_future(self._stop_requested.wait())
        either: set[asyncio.Future[Any]] = {stopping, failed}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            await self._shutdown()
        if failed.done():
            raise failed.result()

    async def _introduce(self) -> None:
        try:
            me = await self.bot.me()  # known already when the start-up checks asked
        except TelegramNetworkError as error:
            # Not a reason to stop: polling retries until Telegram answers.
            logger.warning("Telegram does not answer yet (%s); polling retries", error.message)
            logger.info("Polling as bot id %s", self.bot.id)
            return
        logger.info("Polling as @%s (id %s)", me.username, me.id)

    async def _shutdown(self) -> None:
        await self.supervisor.stop("polling")
        if not await self.poller.drain(SHUTDOWN_GRACE_SECONDS):
            logger.warning("Stopping with updates still being handled")
        await self.poller.save(now=True)
        await self.supervisor.stop("outbox")
        await self.supervisor.stop()
        await self.close()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop = asyncio.get_running_loop()
            for number in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(number)

    async def close(self) -> None:
        """Close the Telegram sessions and the database (all an application that never ran
        holds)."""
        await self.bot.session.close()
        await self.outbox_bot.session.close()
        await self.database.dispose()

    async def stop(self) -> None:
        self._stop_requested.set()
