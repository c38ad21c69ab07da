"""Follow-through benchmark: 100,000 reminders and check-ins due in the same hour.

They go out through the bot's one Sender (bot/tg/sender.py) at a configured TELEGRAM_RATE to
a fake Bot API that answers in a few milliseconds, for a bounded time (not all of them),
while a parent keeps tapping through the screening on the same bot. Measured in one run:
the parent's reply latency idle (before) and during, the send rate achieved against the
configured one (parents' replies count inside it), and the process's RSS at the start,
the middle and the end of the sending (no tracemalloc: it slows every line, the parent's
too). The notices' words are a stand-in (plain text naming the step): the real ones are
composed in bot/parent/, at a cost of their own.
Targets: parent p99 during <= 2x idle; achieved / configured >= 0.9; RSS flat.
Run: .venv/bin/python bench/followup_bench.py [--notices 100000] [--rate 500] [--seconds 25]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram.request import BaseRequest

from bench.broadcast_bench import PATH, ParentProbe, pct
from bench.lean import LeanBotAPI
from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, load_content
from bot.delivery import Outgoing
from bot.followup.engine import FollowUpEngine, FollowUpEngineSettings
from bot.followup.store import FollowUps, Notice
from bot.storage import Storage
from bot.tg.app import build_application
from flows.schedule import QuietHours
from tests.fakebot import FakeBotAPI

PARENT_CHAT = 1  # ParentProbe's chat
DECLINE = "No thanks"  # the check-in a result offers


class SplitAPI(LeanBotAPI):
    """One Bot API for the one bot: the parent's chat (and calls with no chat, like button
    answers) go to the full fake, which keeps what the parent's buttons need; the notices to
    the lean one, which keeps nothing (its memory stays flat, so the engine's shows)."""

    def __init__(self, parent: FakeBotAPI, latency: float) -> None:
        super().__init__()
        self.parent, self.latency = parent, latency
        self.notices = 0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: Any = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        chat_id = request_data.parameters.get("chat_id") if request_data is not None else None
        if chat_id is None or int(chat_id) == PARENT_CHAT:
            return await self.parent.do_request(url, method, request_data)
        self.notices += 1
        await asyncio.sleep(self.latency)
        return await super().do_request(url, method, request_data)


class Parent(ParentProbe):
    """The broadcast bench's parent, who also says "No thanks" when a result offers a
    check-in (a tap like any other, timed the same way)."""

    async def answer(self) -> float:
        label = PATH[self.step % len(PATH)]
        began = time.perf_counter()
        if label not in self.client.buttons and DECLINE in self.client.buttons:
            await self.client.press(DECLINE)
        else:
            await self.client.press(label)
            self.step += 1
        return time.perf_counter() - began


def compose(notice: Notice) -> Outgoing:
    """A stand-in for the parent-facing words."""
    return Outgoing(notice.chat_id, f"<b>{notice.kind}</b>: {notice.step} ({notice.lang})")


def seed(storage: Storage, count: int, now: float) -> tuple[int, int]:
    """`count` notices due over the last hour: half due-day reminders (each deadline with its
    day-after reminder still ahead), half check-ins. Bulk SQL, as the bot's own rows."""
    reminders = count // 2
    checkins = count - reminders

    def due(i: int) -> int:
        return int(now - 3600 + i * 3600 / count)

    with storage.db.atomic():
        storage.db.conn.executemany(
            "INSERT INTO deadlines (chat_key, chat_id, lang, received_day, state, rule_id,"
            " due_day, created_at) VALUES (?, ?, ?, '2026-10-01', NULL, 'federal',"
            " '2026-11-30', ?)",
            ((f"d{i}", 10_000 + i, "es" if i % 3 else "en", int(now)) for i in range(reminders)),
        )
        storage.db.conn.executemany(
            "INSERT INTO reminders (chat_key, kind, send_at, status, updated_at)"
            " VALUES (?, ?, ?, 'pending', ?)",
            (
                row
                for i in range(reminders)
                for row in (
                    (f"d{i}", "due_day", due(2 * i), int(now)),
                    (f"d{i}", "day_after", int(now) + 86400, int(now)),
                )
            ),
        )
        storage.db.conn.executemany(
            "INSERT INTO checkins (session_id, outcome_id, lang, chat_key, chat_id, offered_day,"
            " send_at, status, updated_at) VALUES (?, 'iep_evaluation', ?, ?, ?, '2026-11-01',"
            " ?, 'pending', ?)",
            (
                (f"s{i}", "en" if i % 2 else "es", f"c{i}", 500_000 + i, due(2 * i + 1), int(now))
                for i in range(checkins)
            ),
        )
    return reminders, checkins


def messages(api: FakeBotAPI) -> int:
    """Messages sent or edited: what Telegram's limit counts (button answers do not)."""
    return api.counts["sendMessage"] + api.counts["editMessageText"]


def rss_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def heap_check(engine: FollowUpEngine, seconds: float) -> list[tuple[int, int]]:
    """The engine sending on its own, untimed, its Python heap traced: (now, peak) bytes at
    the start and at each quarter. Flat: a batch at a time, nothing kept per notice."""
    tracemalloc.start()
    engine.start()
    samples = [tracemalloc.get_traced_memory()]
    for _ in range(4):
        await asyncio.sleep(seconds / 4)
        samples.append(tracemalloc.get_traced_memory())
    await engine.stop(drain=5.0)
    tracemalloc.stop()
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=500, help="TELEGRAM_RATE, messages/s")
    parser.add_argument("--seconds", type=float, default=25.0, help="how long to send")
    parser.add_argument("--latency", type=float, default=0.003, help="fake API seconds/call")
    parser.add_argument("--workers", type=int, default=8, help="notices in flight")
    parser.add_argument("--heap-seconds", type=float, default=8.0, help="untimed heap check")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        storage = Storage(db, timezone="America/Chicago")
        storage.migrate()
        began = time.perf_counter()
        reminders, checkins = seed(storage, args.notices, time.time())
        seeded = time.perf_counter() - began
        parent_api = FakeBotAPI(latency=args.latency)
        api = SplitAPI(parent_api, args.latency)
        settings = Settings(
            token="999:TEST",
            database_path=db,
            booking_url="https://book.example.org",
            pseudonym_key=b"bench-key-0123456789abcdef0123456789",
            telegram_rate=args.rate,
            quiet_hours=QuietHours.parse("off"),  # the bench runs at any hour
        )
        content = load_content(Path(os.environ.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR))
        app = build_application(settings, storage, content, request=api, sweep_expired=False)
        await app.initialize()
        probe = Parent(app, parent_api)
        await probe.start()
        await probe.sample(20)  # warm-up
        idle = await probe.sample(200)

        def new_engine() -> FollowUpEngine:
            return FollowUpEngine(
                FollowUps(storage),
                app.sender,  # the bot's one Sender: the parent's replies and the notices
                compose=compose,
                settings=settings,
                engine_settings=FollowUpEngineSettings(workers=args.workers),
            )

        engine = new_engine()
        replies_before = messages(parent_api)
        parent_api.calls.clear()
        rss_start = rss_mb()
        started = time.perf_counter()
        engine.start()
        during: list[float] = []
        rss_middle = 0.0
        trend: list[float] = []  # RSS every 5 s
        while time.perf_counter() - started < args.seconds:
            during += await probe.sample(5)
            # The parent's fake keeps a record of every call; only its chat is needed.
            parent_api.calls.clear()
            running = time.perf_counter() - started
            if not rss_middle and running >= args.seconds / 2:
                rss_middle = rss_mb()
            if running >= 5 * len(trend):
                trend.append(rss_mb())
        clean = await engine.stop(drain=5.0)
        elapsed = time.perf_counter() - started
        sent = api.notices
        rss_end = rss_mb()
        replies = messages(parent_api) - replies_before
        left = storage.db.execute(
            "SELECT (SELECT COUNT(*) FROM reminders WHERE status = 'pending'"
            " AND kind = 'due_day') + (SELECT COUNT(*) FROM checkins WHERE status = 'pending')"
        ).fetchone()[0]
        unrecorded = storage.db.execute(
            "SELECT (SELECT COUNT(*) FROM reminders WHERE status = 'attempted')"
            " + (SELECT COUNT(*) FROM checkins WHERE status = 'attempted')"
        ).fetchone()[0]
        heap = await heap_check(new_engine(), args.heap_seconds)
        await app.shutdown()
        storage.close()

    print(
        f"{args.notices} notices due within the hour ({reminders} reminders, {checkins}"
        f" check-ins; seeded in {seeded:.1f} s); fake Bot API {args.latency * 1000:.0f} ms a"
        f" call; {args.workers} notices in flight; TELEGRAM_RATE {args.rate}/s"
    )
    print(
        f"  sent {sent} in {elapsed:.1f} s: {sent / elapsed:.0f}/s, plus the parent's"
        f" {replies / elapsed:.0f} messages/s; {left} still due when stopped"
    )
    print(
        f"  achieved / configured rate {sent / elapsed / args.rate:.3f} notices alone,"
        f" {(sent + replies) / elapsed / args.rate:.3f} with the parent's (target >= 0.9)"
    )
    print(
        f"  stopped cleanly: {clean} ({unrecorded} claimed and not recorded)"
        f"; RSS start {rss_start:.1f} MB, middle {rss_middle:.1f} MB, end {rss_end:.1f} MB"
        f" (peak {peak_mb():.0f} MB)"
    )
    print(
        "  untimed, the engine alone under tracemalloc: Python heap allocated since its start"
        f" {', '.join(f'{now / 2**20:.2f}' for now, _ in heap)} MB"
        f" (at 0, 1/4, ... of {args.heap_seconds:.0f} s; peak {heap[-1][1] / 2**20:.2f} MB)"
    )
    print(f"  RSS every 5 s: {', '.join(f'{mb:.1f}' for mb in trend)} MB")
    print(
        f"  parent reply idle    p50 {pct(idle, 0.5):6.2f} ms  p99 {pct(idle, 0.99):6.2f} ms"
        f"  (n={len(idle)})"
    )
    print(
        f"  parent reply during  p50 {pct(during, 0.5):6.2f} ms  p99 {pct(during, 0.99):6.2f} ms"
        f"  (n={len(during)})"
    )
    print(
        f"  p99 during / idle {pct(during, 0.99) / pct(idle, 0.99):.2f} (target <= 2.0),"
        f" p50 {pct(during, 0.5) / pct(idle, 0.5):.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
