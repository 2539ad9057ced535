"""Every background task runs under one supervisor: a crash is logged at once, with its
traceback, and the task restarted after a backoff; a task that keeps crashing stops the
process with a non-zero exit, so that systemd (or whoever runs it) starts it afresh."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

FIRST_RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 30.0
# This many crashes within the window means restarting in-process does not help.
MAX_CRASHES = 5
CRASH_WINDOW_SECONDS = 300.0


class TaskKeepsCrashing(RuntimeError):
    def __init__(self, name: str, crashes: int) -> None:
        super().__init__(f"the background task {name!r} crashed {crashes} times in a row")
        self.name = name


@dataclass
class _Supervised:
    name: str
    run: Callable[[], Awaitable[None]]
    stop: Callable[[], None] | None
    crashes: list[float] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    stopping: bool = False
    stopped: asyncio.Event = field(default_factory=asyncio.Event)


class Supervisor:
    def __init__(
        self,
        *,
        max_crashes: int = MAX_CRASHES,
        window: float = CRASH_WINDOW_SECONDS,
        first_delay: float = FIRST_RESTART_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_crashes = max_crashes
        self._window = window
        self._first_delay = first_delay
        self._clock = clock
        self._tasks: dict[str, _Supervised] = {}
        self.failed: asyncio.Future[TaskKeepsCrashing] | None = None

    def start(
        self,
        name: str,
        run: Callable[[], Awaitable[None]],
        *,
        stop: Callable[[], None] | None = None,
    ) -> None:
        """Run `run()` until stop(name); if it raises or returns early, run it again.

        `stop`, if given, asks a running `run()` to return; otherwise it is cancelled.
        """
        if self.failed is None:
            self.failed = asyncio.get_running_loop().create_future()
        supervised = _Supervised(name, run, stop)
        supervised.task = asyncio.create_task(self._keep(supervised), name=name)
        self._tasks[name] = supervised

    async def stop(self, *names: str, grace: float = 30.0) -> None:
        """Stop the named tasks (all when none is named) and wait for them."""
        chosen = [self._tasks[name] for name in names] if names else list(self._tasks.values())
        for supervised in chosen:
            supervised.stopping = True
            supervised.stopped.set()
            if supervised.stop is not None:
                supervised.stop()
            elif supervised.task is not None:
                supervised.task.cancel()
        tasks = [s.task for s in chosen if s.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            logger.warning("Background task %r did not stop in time; cancelled", task.get_name())
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep(self, supervised: _Supervised) -> None:
        delay = self._first_delay
        while not supervised.stopping:
            try:
                await supervised.run()
            except asyncio.CancelledError:
                if supervised.stopping:
                    return
                raise
            except Exception:
                logger.exception("Background task %r crashed", supervised.name)
            else:
                if supervised.stopping:
                    return
                logger.error("Background task %r returned while it should run", supervised.name)
            if self._gave_up(supervised):
                return
            logger.warning("Restarting background task %r in %.1f s", supervised.name, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(supervised.stopped.wait(), delay)
            delay = min(MAX_RESTART_DELAY, delay * 2)

    def _gave_up(self, supervised: _Supervised) -> bool:
        now = self._clock()
        supervised.crashes = [t for t in supervised.crashes if now - t < self._window]
        supervised.crashes.append(now)
        if len(supervised.crashes) < self._max_crashes:
            return False
        logger.critical(
            "Background task %r crashed %s times within %.0f s; stopping the bot so that it "
            "is started afresh",
            supervised.name,
            len(supervised.crashes),
            self._window,
        )
        if self.failed is not None and not self.failed.done():
            self.failed.set_result(TaskKeepsCrashing(supervised.name, len(supervised.crashes)))
        return True
