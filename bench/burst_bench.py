"""Bursts of parents at once: replies a second, reply latency, CPU per reply, reordered taps.

Real processes over loopback HTTP. The fake Bot API (tests/fakebot/server.py) runs in a thread
of this process and answers every call but the getUpdates long poll --latency seconds late (a
round trip to Telegram; concurrent calls overlap). For each burst size, one after the other:
the bot (`iep-bot db migrate`, then `iep-bot run` with CONCURRENT_UPDATES=--concurrency, on
its own temp database) and a bare PTB bot doing the same visible work per tap
(bench/bare_bot.py, concurrent_updates(--concurrency)). --parents parents send /start at the
same moment and tap through a whole screening, each tap --think seconds after its reply
arrived (default 1-3 s: reading a short question on a phone; 0,0.05 measures capacity); a
quarter of the answer taps (about every fifth tap) are double taps: the intended answer, then
another answer of the same message 3 ms later. A burst is cut after --cap seconds. The bot
runs with an operator's settings (tests/killharness.py bot_env: LOG_LEVEL=INFO, the default
TELEGRAM_RATE unless --telegram-rate) but CONCURRENT_UPDATES.

Per bot and burst size:
- replies/s: messages sent or edited (sendMessage/editMessageText) / the burst's wall time
  (first /start to last reply);
- reply p50/p99: a tap's update queued -> the first message sent or edited in its chat after
  it, as the fake server handled it; shown only from >= 1,000 taps (rounds of fresh parents
  are added until there are that many, or the cap is reached); a tap unanswered at the cut
  counts as its wait so far (a percentile that lands on one is shown as ">=");
- CPU/reply: the bot process's utime+stime (/proc/<pid>/stat) over the burst / replies;
  beside it, how long the bot was ready to run but got no CPU (/proc/<pid>/task/*/schedstat):
  the shared machine's noise;
- reordered: double taps whose two presses were answered (answerCallbackQuery, by its
  callback_query_id, as it reached the server) in the other order than pressed.
Targets: 100 parents p99 reply <= 0.5 s; 500 parents >= 100 replies/s; 0 reordered double
taps (the bot); CPU per reply <= 1.15x the bare bot's.
Run: .venv/bin/python bench/burst_bench.py [--parents 100,500] [--latency 0.05] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.callbacks import Kind, kind_of
from tests.fakebot.api import MESSAGE_METHODS, Button, FakeBotAPI, SentMessage
from tests.fakebot.common import JSON, now
from tests.fakebot.server import Exchange, FakeBotServer
from tests.killharness import bot_command, bot_env
from tests.parents import TO_IEP_EVALUATION

TARGET_P99, TARGET_RATE, TARGET_CPU = 0.5, 100.0, 1.15
MIN_SAMPLES = 1000  # fewer taps give no percentiles
# Seconds a parent takes between a reply and the next tap: reading a short question on a
# phone. At (0, 0.05) a burst measures the bot's capacity instead (--think 0,0.05).
THINK = (1.0, 3.0)
DOUBLE_SHARE = 0.25  # of the answer taps: 9 of a screening's 11 taps are answers
DOUBLE_GAP = 0.003  # seconds between the two presses of a double tap
# The bot's screening after /start: "Start the screening", then the path's answers.
SCREENING_TAPS = 1 + len(TO_IEP_EVALUATION)
MAX_TAPS = 40  # a parent who needs more is lost (counted unfinished)
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
BARE_BOT = Path(__file__).resolve().parent / "bare_bot.py"
TICKS = os.sysconf("SC_CLK_TCK")
# The bot's log lines worth a look after a burst (its INFO lines are routine).
TROUBLE = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")


# --- what the server sees -------------------------------------------------------------------


class Wire:
    """The server hooks: replies per chat, the order presses were answered, calls in flight."""

    def __init__(self) -> None:
        self.polled: asyncio.Event | None = None  # made on the server's loop
        self.reply_times: dict[int, list[float]] = {}
        self.waiters: dict[int, tuple[int, asyncio.Future[None]]] = {}
        self.answer_order: dict[str, int] = {}  # callback_query_id -> arrival number
        self.replies = 0
        self.last_reply = 0.0
        self.last_call = 0.0  # loop time of the last call other than getUpdates
        self.in_flight = self.peak = 0
        self.polls = self.polled_bytes = 0  # getUpdates answers: how many, how much JSON
        self.refused: Counter[str] = Counter()  # "method: description" of error answers

    def before(self, exchange: Exchange) -> None:
        if exchange.method == "getUpdates":
            if self.polled is not None:
                self.polled.set()
            return
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        if exchange.method == "answerCallbackQuery":
            query_id = str(exchange.params.get("callback_query_id"))
            self.answer_order.setdefault(query_id, len(self.answer_order))

    def after(self, exchange: Exchange) -> None:
        if exchange.method == "getUpdates":
            self.polls += 1
            self.polled_bytes += len(exchange.body)
            return
        self.in_flight -= 1
        at = self.last_call = asyncio.get_running_loop().time()
        if exchange.status != 200:
            description = exchange.body.decode(errors="replace")[:120]
            self.refused[f"{exchange.method}: {description}"] += 1
        elif exchange.method in MESSAGE_METHODS:
            self.reply(exchange.params.get("chat_id"), at)

    def reply(self, chat_id: object, at: float) -> None:
        """A message reached a chat: note when, and wake the parent waiting for it."""
        if not isinstance(chat_id, int):
            return
        self.replies += 1
        self.last_reply = at
        times = self.reply_times.setdefault(chat_id, [])
        times.append(at)
        waiter = self.waiters.get(chat_id)
        if waiter is not None and len(times) >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(None)

    async def settle(self, timeout: float = 5.0) -> None:
        """Until no call is in flight (at most `timeout` seconds)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while self.in_flight and loop.time() < until:
            await asyncio.sleep(0.01)

    async def replies_reach(self, chat_id: int, count: int) -> None:
        """Until `count` messages reached this chat."""
        if len(self.reply_times.get(chat_id, ())) >= count:
            return
        future = asyncio.get_running_loop().create_future()
        self.waiters[chat_id] = (count, future)
        try:
            await future
        finally:
            self.waiters.pop(chat_id, None)


# --- parents --------------------------------------------------------------------------------


@dataclass
class Tap:
    """One tap (a double tap counts once): when its update was queued, when the reply came."""

    pushed: float
    replied: float | None = None
    queries: tuple[str, ...] = ()  # callback_query_ids, in the order pressed
    complete: bool = False  # every press of it had its reply


@dataclass
class Parent:
    """One parent in a private chat, tapping through a screening as replies come."""

    chat_id: int
    api: FakeBotAPI
    wire: Wire
    rng: random.Random
    think: tuple[float, float] = THINK
    taps: list[Tap] = field(default_factory=list)
    answered: int = 0  # answer taps so far: where they are on TO_IEP_EVALUATION
    done: bool = False

    @property
    def user(self) -> JSON:
        return {"id": self.chat_id, "is_bot": False, "first_name": "Parent", "language_code": "en"}

    async def visit(self) -> None:
        """/start, then a tap per screen until a result is on screen."""
        await self.tap([self.text("/start")])
        while not self.done and len(self.taps) < MAX_TAPS:
            await asyncio.sleep(self.rng.uniform(*self.think))
            await self.tap(self.next_presses())
            self.done = self.sees_result()

    def next_presses(self) -> list[JSON]:
        """The updates of the next tap: what the newest keyboard asks for on the path."""
        msg = next((m for m in reversed(self.messages()) if m.reply_markup), None)
        if msg is None:
            return [self.text("/start")]
        buttons = [b for row in msg.reply_markup for b in row if b.callback_data]
        answers = [b for b in buttons if kind_of(b.callback_data) == Kind.ANSWER]
        if answers:
            return self.answer(msg, answers)
        for kind in (Kind.CONTINUE, Kind.SCREEN):
            button = next((b for b in buttons if kind_of(b.callback_data) == kind), None)
            if button is not None:
                return [self.press(msg, button)]
        return [self.text("/start")]

    def answer(self, msg: SentMessage, answers: list[Button]) -> list[JSON]:
        """The path's answer (the bare bot's first one), and maybe a second one right after."""
        wanted = TO_IEP_EVALUATION[self.answered] if self.answered < len(TO_IEP_EVALUATION) else ""
        first = next((b for b in answers if b.text == wanted), answers[0])
        self.answered += 1
        presses = [self.press(msg, first)]
        others = [b for b in answers if b is not first]
        if others and self.rng.random() < DOUBLE_SHARE:
            presses.append(self.press(msg, self.rng.choice(others)))
        return presses

    async def tap(self, updates: list[JSON]) -> None:
        """Queue the update(s), then wait for one reply per update (each press is answered)."""
        loop = asyncio.get_running_loop()
        seen = len(self.wire.reply_times.get(self.chat_id, ()))
        queries = tuple(u["callback_query"]["id"] for u in updates if "callback_query" in u)
        tap = Tap(loop.time(), queries=queries)
        self.taps.append(tap)
        for i, update in enumerate(updates):
            if i:
                await asyncio.sleep(DOUBLE_GAP)
            self.api.push_update({"update_id": self.api.next_update_id(), **update})
        await self.wire.replies_reach(self.chat_id, seen + 1)
        tap.replied = self.wire.reply_times[self.chat_id][seen]
        # A double tap's second reply must be in before the next tap, or it would pass for
        # that tap's reply.
        await self.wire.replies_reach(self.chat_id, seen + len(updates))
        tap.complete = True

    def messages(self) -> list[SentMessage]:
        return [m for m in self.api.chats.get(self.chat_id, ()) if not m.deleted]

    def sees_result(self) -> bool:
        """A result is on screen: a message with its Next steps (details) button."""
        return any(
            kind_of(b.callback_data) == Kind.DETAILS
            for m in self.messages()
            for row in m.reply_markup
            for b in row
        )

    def text(self, text: str) -> JSON:
        message: JSON = {
            "message_id": self.api.next_message_id(self.chat_id),
            "from": self.user,
            "chat": {"id": self.chat_id, "type": "private", "first_name": "Parent"},
            "date": now(),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        }
        return {"message": message}

    def press(self, msg: SentMessage, button: Button) -> JSON:
        return {
            "callback_query": self.api.callback_query(
                self.chat_id, self.user, msg, button.callback_data
            )
        }


# --- one bot, one burst size ------------------------------------------------------------------


@dataclass
class Figures:
    """What one bot did in one burst size (its rounds added up)."""

    bot: str
    parents: int
    cap: float  # seconds the burst may take
    think: tuple[float, float] = THINK
    rounds: int = 0
    replies: int = 0
    wall: float = 0.0
    cpu: float = 0.0  # the bot process's CPU seconds
    starved: float = 0.0  # seconds it was ready to run but the machine had no CPU for it
    bench_cpu: float = 0.0  # this process's (fake server and parents)
    latencies: list[float] = field(default_factory=list)
    waiting: list[float] = field(default_factory=list)  # taps unanswered at the cut: so far
    doubles: int = 0
    reordered: int = 0
    unanswered_doubles: int = 0
    finished: int = 0
    visits: int = 0
    cut: bool = False
    peak_in_flight: int = 0
    polls: int = 0
    polled_bytes: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    log_trouble: list[str] = field(default_factory=list)

    @property
    def taps(self) -> int:
        return len(self.latencies) + len(self.waiting)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of stat(5)


def run_delay(pid: int) -> float:
    """Seconds the process's threads were ready to run but waited for a CPU (schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (FileNotFoundError, ProcessLookupError):  # a thread that just ended
            continue
    return total / 1e9


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def one_round(
    api: FakeBotAPI, wire: Wire, figures: Figures, first_chat: int, deadline: float, seed: int
) -> None:
    """`figures.parents` fresh parents at once, until all are done or the deadline."""
    loop = asyncio.get_running_loop()
    parents = [
        Parent(first_chat + i, api, wire, random.Random(seed * 100_003 + i), figures.think)
        for i in range(figures.parents)
    ]
    began = loop.time()
    tasks = [asyncio.create_task(p.visit()) for p in parents]
    _, late = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
    cut_at = loop.time()
    for task in late:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]  # a bench bug: say so
    figures.cut = figures.cut or bool(late)
    figures.wall += (wire.last_reply if not late else cut_at) - began
    if not late:
        await wire.settle()  # the last presses' answers may still be on their way
    tally(figures, parents, wire, cut_at)


def tally(figures: Figures, parents: list[Parent], wire: Wire, cut_at: float) -> None:
    """Add a round's taps, double taps and finished parents to the figures."""
    for parent in parents:
        figures.visits += 1
        figures.finished += parent.done
        for tap in parent.taps:
            if tap.replied is None:
                figures.waiting.append(cut_at - tap.pushed)
            else:
                figures.latencies.append(tap.replied - tap.pushed)
            if len(tap.queries) == 2:
                first, second = (wire.answer_order.get(q) for q in tap.queries)
                if first is not None and second is not None:
                    figures.doubles += 1
                    figures.reordered += second < first
                elif tap.complete:  # both replies came, an answer did not
                    figures.unanswered_doubles += 1


async def burst(api: FakeBotAPI, wire: Wire, figures: Figures, pid: int) -> None:
    """Rounds of fresh parents until there are MIN_SAMPLES taps or the cap is reached."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + figures.cap
    cpu0, bench0, replies0 = cpu_seconds(pid), own_cpu(), wire.replies
    delay0, polls0, polled0 = run_delay(pid), wire.polls, wire.polled_bytes
    while figures.taps < MIN_SAMPLES and loop.time() < deadline and not figures.cut:
        figures.rounds += 1
        first_chat = 1_000_000 * figures.rounds
        await one_round(api, wire, figures, first_chat, deadline, figures.rounds)
    figures.cpu = cpu_seconds(pid) - cpu0
    figures.starved = run_delay(pid) - delay0
    figures.bench_cpu = own_cpu() - bench0
    figures.replies = wire.replies - replies0
    figures.peak_in_flight = wire.peak
    figures.polls, figures.polled_bytes = wire.polls - polls0, wire.polled_bytes - polled0


async def wait_ready(wire: Wire, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until the process long-polls and its start-up calls are over; a clear error if not."""
    loop = asyncio.get_running_loop()
    wire.polled = asyncio.Event()
    deadline = loop.time() + READY_TIMEOUT
    while not wire.polled.is_set():
        why = None
        if proc.poll() is not None:
            why = f"exited (status {proc.returncode}) before its first getUpdates"
        elif loop.time() > deadline:
            why = f"did not call getUpdates within {READY_TIMEOUT:.0f} s"
        if why is not None:
            raise BenchError(f"{log.stem}: the bot process (pid {proc.pid}) {why}:\n{tail(log)}")
        await asyncio.sleep(0.02)
    # Start-up calls (command menus) may follow the first poll: not the burst's work.
    while loop.time() - wire.last_call < 0.3 and loop.time() < deadline:
        await asyncio.sleep(0.05)
    wire.peak = 0


class BenchError(Exception):
    """A bot did not start (or the bench could not run): one clear message."""


def tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace").splitlines() if log.exists() else ["(no log)"]
    return "\n".join(text[-lines:])


def stop(proc: subprocess.Popen[bytes]) -> str:
    """SIGTERM, as an operator stops a bot, and wait; killed (and said so) if it hangs."""
    if proc.poll() is not None:
        return f"had exited by itself (status {proc.returncode})"
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        status = proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return f"did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM: killed"
    return f"stopped in {time.monotonic() - began:.1f} s, status {status}"


@dataclass(frozen=True)
class BotKind:
    """How to start one of the two bots."""

    name: str
    argv: list[str]
    env: dict[str, str]
    prepare: Callable[[], None] = lambda: None


def bots(args: argparse.Namespace, folder: Path) -> list[BotKind]:
    """The bot and the bare PTB bot, each on a fresh folder (and database) of its own."""
    folder.mkdir(parents=True)
    settings = {"CONCURRENT_UPDATES": str(args.concurrency)}
    if args.telegram_rate is not None:
        settings["TELEGRAM_RATE"] = str(args.telegram_rate)
    env = bot_env(folder / "bot.sqlite3", **settings)

    def migrate() -> None:
        done = subprocess.run(
            [*bot_command(), "db", "migrate"], cwd=folder, env=env, capture_output=True
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise BenchError(f"iep-bot db migrate failed:\n{output}")

    taps = str(SCREENING_TAPS)
    bare = [sys.executable, str(BARE_BOT), "--taps", taps, "--concurrency", str(args.concurrency)]
    return [
        BotKind("bot", [*bot_command(), "run"], env, migrate),
        BotKind("bare", bare, env),
    ]


def measure(
    kind: BotKind, parents: int, cap: float, args: argparse.Namespace, folder: Path
) -> Figures:
    """Start the bot against a fresh fake server, run the burst, stop the bot."""
    figures = Figures(kind.name, parents, cap, think=args.think)
    kind.prepare()
    log = folder / f"{kind.name}-{parents}.log"
    with FakeBotServer(FakeBotAPI(), latency=args.latency) as server:
        wire = Wire()
        server.before, server.after = wire.before, wire.after
        env = {**kind.env, "TELEGRAM_API_URL": server.url}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                kind.argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
        try:
            server.run(wait_ready(wire, proc, log))
            server.run(burst(server.api, wire, figures, proc.pid), timeout=cap + 60)
        finally:
            stopped = stop(proc)
        if server.errors:
            raise BenchError(f"the fake server failed: {server.errors[:3]}")
        figures.refused = wire.refused
    figures.log_trouble = [f"({stopped})"] + [
        line for line in tail(log, 10**6).splitlines() if TROUBLE.search(line)
    ]
    return figures


# --- report -----------------------------------------------------------------------------------


def percentile(figures: Figures, q: float) -> tuple[float, bool] | None:
    """The q-th reply latency over every tap, and whether it is only a lower bound (a tap
    unanswered at the cut counts as its wait so far); None under MIN_SAMPLES taps."""
    n = figures.taps
    if n < MIN_SAMPLES:
        return None
    ranked = sorted([(x, False) for x in figures.latencies] + [(x, True) for x in figures.waiting])
    return ranked[min(n - 1, int(q * n))]


def shown(figures: Figures, q: float) -> str:
    """A percentile with its sample count beside it."""
    found = percentile(figures, q)
    if found is None:
        return f"n/a (n={figures.taps})"
    value, lower_bound = found
    return f"{'>=' if lower_bound else ''}{value:.3f} s (n={figures.taps})"


def row(f: Figures) -> str:
    cpu = f"{f.cpu / f.replies * 1000:.2f}" if f.replies else "n/a"
    rate = f.replies / f.wall if f.wall else 0.0
    return (
        f"{f.parents:>7} {f.bot:<5} {f.replies:>7} {f.wall:>6.1f} {rate:>9.1f}"
        f"  {shown(f, 0.5):<20} {shown(f, 0.99):<20} {cpu:>8}"
        f"  {f.reordered:>3}/{f.doubles:<5} {f.finished:>4}/{f.visits:<4} {f.peak_in_flight:>5}"
        f" {percent(f.starved, f.wall):>6} {percent(f.bench_cpu, f.wall):>6}"
    )


def percent(part: float, whole: float) -> str:
    return f"{part / whole * 100:.0f}%" if whole else "n/a"


def details(f: Figures) -> list[str]:
    """What to know beside the row: cuts, rounds, unanswered presses, refusals, the log."""
    notes = []
    if f.rounds > 1:
        notes.append(f"{f.rounds} rounds of {f.parents} fresh parents (one gave < 1,000 taps)")
    if f.cut:
        slowest = max(f.waiting, default=0.0)
        notes.append(
            f"cut at the {f.cap:g} s cap: {len(f.waiting)} taps still unanswered"
            f" (waiting up to {slowest:.1f} s), {f.visits - f.finished} parents unfinished"
        )
    elif f.finished < f.visits:
        notes.append(f"{f.visits - f.finished} parents never saw a result")
    if f.unanswered_doubles:
        when = "at the cut (maybe still in flight)" if f.cut else "in the end"
        notes.append(f"{f.unanswered_doubles} double taps had a press not answered {when}")
    notes.append(
        f"getUpdates answered {f.polls} times, {f.polled_bytes / 1e6:.1f} MB of updates"
        f" ({f.polled_bytes / max(1, f.taps) / 1000:.1f} KB per tap)"
    )
    for what, count in f.refused.most_common(3):
        notes.append(f"{count} x refused {what}")
    stopped, *trouble = f.log_trouble
    notes.append(f"process {stopped}; {len(trouble)} WARNING/ERROR lines in its log")
    # The same line again and again is one finding: counted once, without its timestamp.
    kinds = Counter(STAMP.sub("", line)[:150] for line in trouble)
    notes.extend(f"  {count} x log: {line}" for line, count in kinds.most_common(5))
    return [f"  {f.bot} x{f.parents}: {note}" for note in notes]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def targets(results: list[Figures]) -> list[str]:
    """The issue's targets beside the figures."""
    by = {(f.bot, f.parents): f for f in results}
    lines = []
    if (full := by.get(("bot", 100))) is not None:
        p99 = percentile(full, 0.99)
        ok = p99 is not None and not p99[1] and p99[0] <= TARGET_P99
        lines.append(
            f"100 parents, bot p99 reply {shown(full, 0.99)}: target <= {TARGET_P99} s:"
            f" {verdict(ok)}"
        )
    if (full := by.get(("bot", 500))) is not None:
        rate = full.replies / full.wall if full.wall else 0.0
        ok = rate >= TARGET_RATE
        lines.append(
            f"500 parents, bot {rate:.1f} replies/s: target >= {TARGET_RATE:g}: {verdict(ok)}"
        )
    for f in (f for f in results if f.bot == "bot"):
        met = verdict(f.reordered == 0) if f.doubles else "not measured (none answered)"
        lines.append(
            f"{f.parents} parents, bot reordered double taps {f.reordered} of {f.doubles}:"
            f" target 0: {met}"
        )
    for (bot, parents), f in by.items():
        bare = by.get(("bare", parents))
        if bot == "bot" and bare is not None and f.replies and bare.replies:
            ratio = (f.cpu / f.replies) / (bare.cpu / bare.replies)
            lines.append(
                f"{parents} parents, CPU per reply bot/bare {ratio:.2f}x:"
                f" target <= {TARGET_CPU}x: {verdict(ratio <= TARGET_CPU)}"
            )
    return lines


def report(results: list[Figures], args: argparse.Namespace) -> None:
    print(
        f"{os.cpu_count()} CPUs; fake Bot API over loopback HTTP, {args.latency * 1000:g} ms a"
        f" call (getUpdates exempt); CONCURRENT_UPDATES={args.concurrency} (bot),"
        f" concurrent_updates({args.concurrency}) (bare);"
        f" TELEGRAM_RATE={args.telegram_rate or 'default'};"
        f" caps {args.cap} s"
    )
    print(
        f"{'parents':>7} {'bot':<5} {'replies':>7} {'wall s':>6} {'replies/s':>9}"
        f"  {'reply p50':<20} {'reply p99':<20} {'CPU ms/r':>8}  {'reordered':<9}"
        f" {'finished':<9} {'peak':>5} {'wait':>6} {'bench':>6}"
    )
    for f in results:
        print(row(f))
    print(
        "peak: Bot API calls in flight at once; wait: the bot ready to run but without a CPU"
        " (the machine's noise); bench: this process's CPU (fake server and parents)."
    )
    for f in results:
        for line in details(f):
            print(line)
    print("Targets:")
    for line in targets(results):
        print(f"  {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--parents", default="100,500", help="burst sizes, comma-separated")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds a Bot API call")
    parser.add_argument("--concurrency", type=int, default=16, help="updates handled at once")
    parser.add_argument(
        "--cap",
        default="45,30",
        help="seconds each burst size may take, in --parents order (the last repeats)",
    )
    parser.add_argument(
        "--telegram-rate", type=int, help="the bot's TELEGRAM_RATE (default: the bot's own)"
    )
    parser.add_argument(
        "--think",
        default=f"{THINK[0]:g},{THINK[1]:g}",
        help="seconds between a reply and a parent's next tap, as low,high",
    )
    parser.add_argument("--keep", metavar="DIR", help="keep the logs and databases (new DIR)")
    args = parser.parse_args()
    low, high = (float(x) for x in args.think.split(","))
    args.think = (low, high)
    sizes = [int(n) for n in args.parents.split(",") if n.strip()]
    caps = [float(c) for c in args.cap.split(",") if c.strip()]
    caps += caps[-1:] * len(sizes)
    results: list[Figures] = []
    if args.keep and Path(args.keep).exists():
        print(f"burst bench: --keep {args.keep} exists; name a new folder", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as name:
        work = Path(args.keep or name)
        try:
            for size, cap in zip(sizes, caps, strict=False):
                # The bot, then the bare bot: the machine's noise of the moment hits both.
                for kind in bots(args, work / f"x{size}"):
                    results.append(measure(kind, size, cap, args, work / f"x{size}"))
        except BenchError as exc:
            print(f"burst bench: {exc}", file=sys.stderr)
            return 1
    report(results, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
