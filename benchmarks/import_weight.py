"""How much importing costs: RSS and time after importing aiogram alone vs the bot.

    uv run python benchmarks/import_weight.py [--top 15]

Each measurement is a fresh interpreter. RSS is VmRSS from /proc/self/status right after
the imports; time is the wall time of the imports. The top list comes from
`python -X importtime -c "import vizteh_bot.app.application"`: the slowest top-level packages by
cumulative import time (a package's children included).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

STEPS = {
    "python alone": "pass",
    "aiogram (Bot, Dispatcher, types)": (
        "from aiogram import Bot, Dispatcher; import aiogram.types"
    ),
    "aiogram + aiohttp session": (
        "from aiogram import Bot, Dispatcher; import aiogram.types; "
        "from aiogram.client.session.aiohttp import AiohttpSession"
    ),
    "sqlalchemy core (what the bot uses on SQLite)": "import sqlalchemy, sqlite3",
    "sqlalchemy asyncio + asyncpg (PostgreSQL only)": (
        "import sqlalchemy.ext.asyncio, asyncpg, sqlalchemy.dialects.postgresql.asyncpg"
    ),
    "vizteh_bot.app.application (the bot, before it runs; SQLite)": (
        "import vizteh_bot.app.application"
    ),
    "vizteh_bot.app.application + the PostgreSQL engine": (
        "import vizteh_bot.app.application, sqlalchemy.ext.asyncio, asyncpg, "
        "sqlalchemy.dialects.postgresql.asyncpg"
    ),
    "vizteh_bot.app.application + alembic (kept by in-process migration)": (
        "import vizteh_bot.app.application; from alembic import command; "
        "from alembic.config import Config; import alembic.runtime.migration, alembic.script"
    ),
}

PROBE = """
import time, sys
started = time.perf_counter()
{code}
elapsed = time.perf_counter() - started
rss = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmRSS'))
print(rss * 1024, elapsed, len(sys.modules))
"""


def measure(code: str) -> tuple[int, float, int]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rss, elapsed, modules = result.stdout.split()
    return int(rss), float(elapsed), int(modules)


def top_imports(limit: int) -> list[tuple[str, int]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import vizteh_bot.app.application"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    line_re = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
    best: dict[str, int] = {}
    for line in result.stderr.splitlines():
        match = line_re.match(line)
        if not match:
            continue
        cumulative, indent, name = int(match.group(2)), len(match.group(3)), match.group(4)
        if indent <= 1 or "." not in name:  # imported directly, or a top-level package
            top = name.split(".")[0]
            best[top] = max(best.get(top, 0), cumulative)
    return sorted(best.items(), key=lambda item: item[1], reverse=True)[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    measure("pass")  # warm the file cache
    print(f"{'after importing':<48}{'RSS':>10}{'time':>10}{'modules':>9}")
    for label, code in STEPS.items():
        rss, elapsed, modules = measure(code)
        print(f"{label:<48}{rss / 1048576:>7.1f} MB{elapsed * 1000:>7.0f} ms{modules:>9}")
    print()
    print(
        "slowest packages under `import vizteh_bot.app.application` (-X importtime, cumulative):"
    )
    for name, micros in top_imports(args.top):
        print(f"  {name:<40}{micros / 1000:>8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
