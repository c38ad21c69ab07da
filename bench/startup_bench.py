"""Start-up benchmark: `iep-bot run` to its first long poll, its idle memory, `iep-bot --help`.

The real `iep-bot run` process (as tests/killharness.py starts it) polls the fake Bot API
(tests/fakebot/server.py) over loopback HTTP; the server's `before` hook timestamps each
process's first getUpdates, and its RSS (/proc/<pid>/status VmRSS) is read after it has
polled idle for a while. Its CPU time up to the first getUpdates (/proc/<pid>/stat) is shown
too: on a busy machine it varies less than the wall time. Baselines in the same run,
alternating with the bot so the machine's noise hits both alike: a bare python-telegram-bot
Application doing run_polling against the same server, and `python -c "import click"` for
`--help`. Medians of --runs runs each.
Targets: start-up < 0.6 s, idle RSS < 55 MB, `iep-bot --help` < 0.25 s.
Run: .venv/bin/python bench/startup_bench.py [--runs 5] [--idle 2] [--latency 0] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakebot import FakeBotAPI
from tests.fakebot.server import Exchange, FakeBotServer
from tests.killharness import bot_command, bot_env

ROOT = Path(__file__).resolve().parent.parent
TARGET_START, TARGET_MB, TARGET_HELP = 0.6, 55.0, 0.25
READY_TIMEOUT = 30.0
T = TypeVar("T")
# The least a PTB bot is: an Application with PTB's defaults (its JobQueue included, as the
# bot has one), long polling, no handlers.
BARE_PTB = """
import os
from telegram.ext import ApplicationBuilder
url = os.environ["TELEGRAM_API_URL"]
token = os.environ["TELEGRAM_BOT_TOKEN"]
ApplicationBuilder().token(token).base_url(f"{url}/bot").build().run_polling()
"""


class Run(NamedTuple):
    """One process, measured."""

    start: float  # seconds from spawning the process to its first getUpdates
    cpu: float  # CPU seconds (user + system) it had used by then
    rss_mb: float  # after `idle` seconds of polling


class FirstPolls:
    """The server hook: when each process (told apart by its URL prefix) first long-polled,
    and the CPU time it had used by then."""

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}
        self.seen: dict[str, tuple[float, float]] = {}

    def __call__(self, exchange: Exchange) -> None:
        prefix = exchange.path.partition("/bot")[0]
        if exchange.method == "getUpdates" and prefix not in self.seen:
            self.seen[prefix] = (time.monotonic(), cpu_seconds(self.pids[prefix]))


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far, user and system, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def rss_mb(pid: int) -> float:
    """The process's resident set size now, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Bench:
    """Starts processes against one server, each under its own URL prefix."""

    def __init__(self, server: FakeBotServer, folder: Path, idle: float, root: Path) -> None:
        self.server, self.folder, self.idle = server, folder, idle
        self.polls = FirstPolls()
        server.before = self.polls
        # PYTHONPATH: the tree measured comes before the one installed in the venv.
        self.env = bot_env(
            folder / "bot.sqlite3", STAFF_IDS="777", LOG_LEVEL="WARNING", PYTHONPATH=str(root)
        )
        self.count = 0

    def run(self, argv: Sequence[str]) -> Run:
        """Spawn, wait for the first long poll, let it idle, read its memory, stop it."""
        self.count += 1
        prefix = f"/p{self.count}"
        env = {**self.env, "TELEGRAM_API_URL": f"{self.server.url}{prefix}"}
        log_path = self.folder / f"process{self.count}.log"
        with log_path.open("wb") as log:
            began = time.monotonic()
            proc = subprocess.Popen(
                list(argv), cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.polls.pids[prefix] = proc.pid  # long before it can poll
        try:
            polled, cpu = self._first_poll(proc, prefix, log_path)
            time.sleep(self.idle)
            memory = rss_mb(proc.pid)
        finally:
            _stop(proc)
        return Run(polled - began, cpu, memory)

    def _first_poll(
        self, proc: subprocess.Popen[bytes], prefix: str, log: Path
    ) -> tuple[float, float]:
        deadline = time.monotonic() + READY_TIMEOUT
        while (polled := self.polls.seen.get(prefix)) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{proc.args} did not poll:\n{log.read_text()[-2000:]}")
            time.sleep(0.002)
        return polled


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as an operator stops the bot; killed if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wall(argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds one command takes, output discarded."""
    began = time.perf_counter()
    subprocess.run(list(argv), env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def alternate(
    runs: int, first: Callable[[], T], second: Callable[[], T]
) -> tuple[list[T], list[T]]:
    """Call two measurements in turn, `runs` times each, swapping which goes first."""
    a: list[T] = []
    b: list[T] = []
    for i in range(runs):
        order = [(first, a), (second, b)] if i % 2 == 0 else [(second, b), (first, a)]
        for measure, into in order:
            into.append(measure())
    return a, b


def line(name: str, value: float, base: float, unit: str, target: float | None) -> str:
    """One figure: the bot, its baseline, the difference, and the target."""
    digits = 1 if unit == "MB" else 3
    cells = (
        f"{v:+.{digits}f}" if i == 2 else f"{v:.{digits}f}"
        for i, v in enumerate((value, base, value - base))
    )
    text = f"{name:40}" + "".join(f"{c:>10} {unit:3}" for c in cells)
    if target is None:
        return text
    return text + f" < {target:g} {unit}: " + ("met" if value < target else "NOT met")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=2.0, help="seconds of polling before RSS")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the fake takes per Bot API call"
    )
    # Another checkout, e.g. `git worktree add /tmp/before HEAD~5`, for before/after figures.
    parser.add_argument("--root", type=Path, default=ROOT, help="tree to measure (default: this)")
    args = parser.parse_args()
    iep_bot = [*bot_command(), "run"]
    bare = [sys.executable, "-c", BARE_PTB]
    with (
        tempfile.TemporaryDirectory() as name,
        FakeBotServer(FakeBotAPI(latency=args.latency, keep_history=False)) as server,
    ):
        bench = Bench(server, Path(name), args.idle, args.root.resolve())
        # Not counted: creates and migrates the database, writes .pyc files, warms the disk.
        bench.run(iep_bot)
        bench.run(bare)
        bots, bares = alternate(args.runs, lambda: bench.run(iep_bot), lambda: bench.run(bare))
        help_env = {k: v for k, v in bench.env.items() if k != "TELEGRAM_BOT_TOKEN"}
        helps, clicks = alternate(
            args.runs,
            lambda: wall([*bot_command(), "--help"], help_env),
            lambda: wall([sys.executable, "-c", "import click"], help_env),
        )
    figures = [
        (
            "iep-bot run: spawn to first getUpdates",
            statistics.median(r.start for r in bots),
            statistics.median(r.start for r in bares),
            "s",
            TARGET_START,
        ),
        (
            "  its CPU time by then (no target)",
            statistics.median(r.cpu for r in bots),
            statistics.median(r.cpu for r in bares),
            "s",
            None,
        ),
        (
            f"idle RSS after {args.idle:g} s of polling",
            statistics.median(r.rss_mb for r in bots),
            statistics.median(r.rss_mb for r in bares),
            "MB",
            TARGET_MB,
        ),
        (
            "iep-bot --help",
            statistics.median(helps),
            statistics.median(clicks),
            "s",
            TARGET_HELP,
        ),
    ]
    print(
        f"{os.cpu_count()} CPUs; median of {args.runs} runs, alternating; Bot API latency"
        f" {args.latency * 1000:g} ms a call; tree {args.root}. Baselines: a bare PTB"
        " Application polling the same server; `python -c 'import click'` for --help."
    )
    print(f"{'':40}{'bot':>10}{'':4}{'baseline':>10}{'':4}{'difference':>10}{'':4} target")
    for figure in figures:
        print(line(*figure))
    return 0  # a missed target is a figure to read, not a failure of `make bench`


if __name__ == "__main__":
    raise SystemExit(main())
