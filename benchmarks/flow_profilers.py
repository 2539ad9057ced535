"""Looking inside the bot during bench_flow.py: bot_probe.py's counters (--probe), py-spy
sampling of the flow (--py-spy) and pyinstrument's reports (--pyinstrument).
"""

# The harness waits on purpose: it starts py-spy with Popen, polls it with sleep, and checks
# small files inline (microseconds, cheaper than a thread hop).
# ruff: noqa: ASYNC110, ASYNC220, ASYNC240

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from flow_harness import now
from flow_processes import Child, die_with_parent
from flow_report import out

BENCH_DIR = Path(__file__).resolve().parent


def bot_command(
    args: argparse.Namespace, backend: str, workdir: Path, env: dict[str, str]
) -> tuple[list[str], Probe | None]:
    """The bot's command line: `python -m vizteh_bot`, or under bot_probe.py (--probe,
    which needs `env`'s BENCH_PROBE_FILE) or pyinstrument (--pyinstrument)."""
    target = ["-m", "vizteh_bot"]
    probe: Probe | None = None
    if args.probe:
        probe = Probe(workdir / "probe.json")
        env["BENCH_PROBE_FILE"] = str(probe.path)
        target = [str(BENCH_DIR / "bot_probe.py")]
    if not args.pyinstrument:
        return [sys.executable, *target], probe
    session = Path(args.profile_dir).resolve() / f"bot-{backend}.pyisession"
    session.parent.mkdir(parents=True, exist_ok=True)
    pyinstrument = ["-m", "pyinstrument", "-r", "pyisession", "-o", str(session)]
    return [sys.executable, *pyinstrument, *target], probe


class Probe:
    """Counters from benchmarks/bot_probe.py, snapshotted with SIGUSR1."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def snapshot(self, child: Child) -> Counter[str]:
        before = self.path.stat().st_mtime_ns if self.path.exists() else 0
        os.kill(child.pid, signal.SIGUSR1)
        deadline = now() + 5
        while now() < deadline:
            if self.path.exists() and self.path.stat().st_mtime_ns != before:
                with contextlib.suppress(ValueError):
                    return Counter(json.loads(self.path.read_text()))
            await asyncio.sleep(0.05)
        return Counter()

    @staticmethod
    def report(tag: str, label: str, counts: Counter[str], updates: int) -> None:
        if not counts or not updates:
            return
        out(tag, f"probe, per update ({label}, {updates} updates):")
        keys = ["sql", "commit", "rollback", "pool checkout", "pool new connection"]
        keys += sorted(k for k in counts if k.startswith("sql: "))
        keys += sorted(k for k in counts if k.startswith(("api: ", "json.", "log records")))
        keys += sorted(k for k in counts if k.startswith(("pydantic", "gc ")))
        keys += sorted(k for k in counts if k not in keys)
        for key in keys:
            if counts.get(key):
                out(tag, f"  {key:<40}{counts[key] / updates:8.2f}")


async def start_py_spy(
    args: argparse.Namespace, bot: Child, backend: str, workdir: Path
) -> tuple[subprocess.Popen[bytes], Path] | None:
    if not args.py_spy:
        return None
    directory = Path(args.profile_dir).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / f"bot-{backend}-flow.pyspy.txt"
    spy = subprocess.Popen(
        [
            args.py_spy,
            "record",
            "--pid",
            str(bot.pid),
            "--rate",
            "250",
            "--format",
            "raw",
            "--gil",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    await asyncio.sleep(1.0)  # let it attach before the load starts
    return spy, output


async def stop_py_spy(tag: str, spy: subprocess.Popen[bytes], output: Path) -> None:
    spy.send_signal(signal.SIGINT)
    deadline = now() + 60
    while spy.poll() is None and now() < deadline:
        await asyncio.sleep(0.1)
    if spy.poll() is None:
        spy.kill()
        spy.wait(timeout=10)
    if not output.exists():
        out(tag, "py-spy wrote nothing")
        return
    summary = output.with_suffix(".summary.txt")
    summary.write_text(summarize_collapsed(output))
    out(tag, f"py-spy: {output} (collapsed stacks), summary in {summary}:")
    for line in summary.read_text().splitlines()[:14]:
        out(tag, f"  {line}")


_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def summarize_collapsed(path: Path) -> str:
    """Self samples by package and by function, inclusive samples of our own functions."""
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = _FRAME.match(frames[-1])
        file = leaf.group("file") if leaf else frames[-1]
        function = leaf.group("function") if leaf else frames[-1]
        by_package[_package(file)] += count
        by_function[f"{function} ({file})"] += count
        seen = set()
        for frame in frames:
            match = _FRAME.match(frame)
            if match and "vizteh_bot" in match.group("file") and frame not in seen:
                seen.add(frame)
                inclusive[f"{match.group('function')} ({match.group('file')})"] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples of the thread holding the GIL; self time by package:"]
    lines += [f"{count / total:6.1%}  {name}" for name, count in by_package.most_common(14)]
    lines += ["", "self time by function:"]
    lines += [f"{count / total:6.1%}  {name}" for name, count in by_function.most_common(40)]
    lines += ["", "inclusive time of vizteh_bot functions:"]
    lines += [f"{count / total:6.1%}  {name}" for name, count in inclusive.most_common(30)]
    return "\n".join(lines) + "\n"


def _package(file: str) -> str:
    """py-spy shortens paths to "package/module.py" (site-packages or stdlib alike)."""
    if "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    if file.startswith("<") or "/" not in file:
        return file.removesuffix(".py")
    return file.split("/", 1)[0]


def render_profile(directory: Path, backend: str) -> None:
    session = directory / f"bot-{backend}.pyisession"
    if not session.exists():
        return
    for suffix, extra in (("tree", []), ("flat", ["-p", "flat=true"])):
        target = directory / f"bot-{backend}-{suffix}.txt"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pyinstrument",
                "--load",
                str(session),
                "-r",
                "text",
                "--no-color",
                "--unicode",
                *extra,
                "-o",
                str(target),
            ],
            check=False,
            capture_output=True,
            timeout=300,
        )
        out(backend, f"profile: {target}")
