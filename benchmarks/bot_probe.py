"""Run the real bot (`python -m vizteh_bot`) with counters, for `bench_flow.py --probe`.

Counts, process-wide, without touching src/: SQL statements sent to the database (by verb
and table), transactions committed, pool connection checkouts, Bot API requests made, JSON
encodes/decodes and log records emitted. On SIGUSR1, and at exit, it writes the counters
as JSON to $BENCH_PROBE_FILE, so the benchmark can take a snapshot per phase.

It also counts the parametrised pydantic models aiogram builds at run time (its
`Response[T]` per call) and the garbage collector's runs and pauses by generation.

BENCH_TRACEMALLOC=1 traces Python allocations (slow) and appends, at each snapshot, what
grew since the previous one by allocation site to $BENCH_PROBE_FILE.tracemalloc.txt.

The hooks cost a microsecond or so per event; the timings of a probed run are still
reported, but quote the timings of an unprobed run.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import re
import signal
import sys
import time
from collections import Counter
from typing import Any

COUNTS: Counter[str] = Counter()
_ORIGINAL_DUMPS = json.dumps
_VERB_TABLE = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|PRAGMA)\b"
    r"(?:.*?\b(?:FROM|INTO|UPDATE)\s+\"?(\w+))?",
    re.IGNORECASE | re.DOTALL,
)


def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    COUNTS["sql"] += 1
    match = _VERB_TABLE.match(statement)
    if match is None:
        COUNTS["sql: other"] += 1
        return
    verb = match.group(1).upper()
    table = match.group(2) or ""
    if verb == "UPDATE":
        updated = re.match(r"\s*UPDATE\s+\"?(\w+)", statement, re.IGNORECASE)
        table = updated.group(1) if updated else ""
    COUNTS[f"sql: {verb} {table}".rstrip()] += 1


def _install() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    event.listen(Engine, "before_cursor_execute", _statement)
    event.listen(Engine, "commit", lambda *_: COUNTS.update(("commit",)))
    event.listen(Engine, "rollback", lambda *_: COUNTS.update(("rollback",)))
    event.listen(Pool, "checkout", lambda *_: COUNTS.update(("pool checkout",)))
    event.listen(Pool, "connect", lambda *_: COUNTS.update(("pool new connection",)))

    original_dumps, original_loads = _ORIGINAL_DUMPS, json.loads

    def dumps(*args: Any, **kwargs: Any) -> str:
        COUNTS["json.dumps"] += 1
        return original_dumps(*args, **kwargs)

    def loads(*args: Any, **kwargs: Any) -> Any:
        COUNTS["json.loads"] += 1
        return original_loads(*args, **kwargs)

    json.dumps, json.loads = dumps, loads

    from aiogram.client.session.aiohttp import AiohttpSession

    original_request = AiohttpSession.make_request

    async def make_request(self: Any, bot: Any, method: Any, timeout: Any = None) -> Any:  # noqa: ASYNC109
        COUNTS[f"api: {type(method).__name__}"] += 1
        return await original_request(self, bot, method, timeout)

    AiohttpSession.make_request = make_request  # type: ignore[method-assign]

    original_handle = logging.Logger.handle

    def handle(self: logging.Logger, record: logging.LogRecord) -> None:
        COUNTS[f"log records {record.levelname}"] += 1
        original_handle(self, record)

    logging.Logger.handle = handle  # type: ignore[method-assign]

    # Parametrised pydantic generics (aiogram's Response[T] per API call) live in a weak
    # cache: count how often one is built again, and how long that takes.
    from pydantic._internal import _generics

    original_submodel = _generics.create_generic_submodel

    def create_generic_submodel(model_name: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_submodel(model_name, *args)
        finally:
            COUNTS["pydantic generic model built"] += 1
            COUNTS["pydantic generic model build ms"] += round(
                (time.perf_counter() - started) * 1000
            )

    _generics.create_generic_submodel = create_generic_submodel  # type: ignore[assignment]

    # aiogram runs every synchronous callable (a magic filter such as F.text included)
    # through asyncio.to_thread: count those thread hops.
    import asyncio

    original_to_thread = asyncio.to_thread

    async def to_thread(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        COUNTS["asyncio.to_thread"] += 1
        return await original_to_thread(func, *args, **kwargs)

    asyncio.to_thread = to_thread

    gc_started: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
            return
        generation = info.get("generation")
        COUNTS[f"gc gen{generation} collections"] += 1
        COUNTS[f"gc gen{generation} pause ms"] += round(
            (time.perf_counter() - gc_started[0]) * 1000
        )

    gc.callbacks.append(on_gc)


_SNAPSHOTS: list[Any] = []


def _tracemalloc_report(path: str) -> None:
    """With BENCH_TRACEMALLOC=1: what grew since the previous snapshot, by allocation site."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
    )
    lines = [f"traced now: {sum(s.size for s in snapshot.statistics('filename')) / 1e6:.1f} MB"]
    if _SNAPSHOTS:
        for stat in snapshot.compare_to(_SNAPSHOTS[-1], "traceback")[:25]:
            lines.append(f"{stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+8d} blocks")
            lines.extend(f"      {line}" for line in stat.traceback.format(limit=6))
    _SNAPSHOTS[:] = [snapshot]
    with open(f"{path}.tracemalloc.txt", "a", encoding="utf-8") as file:
        file.write("\n".join(["=" * 30, *lines, ""]))


def _dump(*_: Any) -> None:
    path = os.environ.get("BENCH_PROBE_FILE")
    if not path:
        return
    _tracemalloc_report(path)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as file:
        file.write(_ORIGINAL_DUMPS(dict(COUNTS)))
    os.replace(tmp, path)


def main() -> int:
    if os.environ.get("BENCH_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start(4)
    _install()
    signal.signal(signal.SIGUSR1, _dump)
    atexit.register(_dump)
    from vizteh_bot.__main__ import main as bot_main

    return bot_main([])


if __name__ == "__main__":
    sys.exit(main())
