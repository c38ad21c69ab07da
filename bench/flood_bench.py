"""Parents first under Telegram's flood limit: taps answered, and how fast, during a broadcast.

A fake Bot API that answers in --latency seconds and enforces Telegram's bot-wide limit
(--limit messages in any second; more get 429). The bot's own engine sends a broadcast at the
everyday BROADCAST_RATE (25/s) while --parents parents tap through screenings, each waiting
--think seconds between taps. The same parents tap first with no broadcast (idle), then
during it, in one run. A tap is unanswered when no new or edited message reached its chat.
Targets: 0 unanswered taps; p99 reply latency during <= 2x idle; 0 messages refused (429).
Run: .venv/bin/python bench/flood_bench.py [--parents 10] [--seconds 115] (each phase >= 1,000 taps)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, load_content
from bot.storage import Storage
from bot.tg.app import build_application
from tests.fakebot import ChatClient, FakeBotAPI
from tests.parents import SCREENING_LOOP

PATH = SCREENING_LOOP


class Parent:
    """One parent tapping through screenings, again and again, with a pause between taps."""

    def __init__(self, app: Any, api: FakeBotAPI, chat_id: int, think: float) -> None:
        self.client = ChatClient(app, api, chat_id=chat_id, user_id=chat_id)
        self.think = think
        self.random = random.Random(chat_id)
        self.step = 0
        self.latencies: list[float] = []
        self.unanswered = 0

    async def start(self) -> None:
        await self.client.send("/start")
        await self.client.press("Start the screening")

    async def tap(self) -> None:
        mark = self.client.mark()
        began = time.perf_counter()
        try:
            await self.client.press(PATH[self.step % len(PATH)])
        except AssertionError:  # an earlier tap went unanswered: the screen is not the one
            self.step = 0  # expected; like a parent, start again
            await self.client.send("/restart")
            return
        self.latencies.append(time.perf_counter() - began)
        self.step += 1
        if not self.client.new_since(mark):
            self.unanswered += 1

    async def tap_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.tap()
            await asyncio.sleep(self.think * self.random.uniform(0.5, 1.5))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def phase(parents: list[Parent], seconds: float) -> tuple[list[float], int]:
    """Every parent taps for `seconds`; their latencies and unanswered taps in that time."""
    for parent in parents:
        parent.latencies, parent.unanswered = [], 0
    stop = asyncio.Event()
    tasks = [asyncio.create_task(p.tap_until(stop)) for p in parents]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    latencies = [x for p in parents for x in p.latencies]
    return latencies, sum(p.unanswered for p in parents)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parents", type=int, default=10)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between one's taps")
    parser.add_argument("--seconds", type=float, default=115.0, help="length of each phase")
    parser.add_argument("--latency", type=float, default=0.05, help="fake API seconds/call")
    parser.add_argument("--limit", type=int, default=30, help="Telegram's messages a second")
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--budget", type=int, default=28, help="the bot's TELEGRAM_RATE")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        storage = Storage(db)
        storage.migrate()
        with storage.db.atomic():
            storage.db.conn.executemany(
                "INSERT INTO subscribers (chat_key, chat_id, lang, opted_in_day)"
                " VALUES (?, ?, 'en', '2026-11-28')",
                ((f"k{i}", 1_000_000 + i) for i in range(args.subscribers)),
            )
        api = FakeBotAPI(latency=args.latency)
        flood = api.limit_flood(args.limit)
        settings = Settings(
            token="999:TEST",
            database_path=db,
            booking_url="https://book.example.org",
            pseudonym_key=b"bench-key-0123456789abcdef0123456789",
            broadcast_rate=25.0,
            telegram_rate=args.budget,
        )
        content = load_content(Path(os.environ.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR))
        app = build_application(settings, storage, content, request=api, sweep_expired=False)
        await app.initialize()
        parents = [Parent(app, api, 1 + n, args.think) for n in range(args.parents)]
        for parent in parents:
            await parent.start()

        idle, idle_missed = await phase(parents, args.seconds)
        svc = app.services
        broadcast_id = svc.broadcasts.queue(
            audience="all", texts={"*": "<b>Tip</b>: keep a log, with dates."},
            created_by=None, origin="cli",
        )  # fmt: skip
        sending = asyncio.create_task(app.engine.deliver(broadcast_id))
        began = time.perf_counter()
        during, during_missed = await phase(parents, args.seconds)
        elapsed = time.perf_counter() - began
        sending.cancel()
        sent = storage.db.execute(
            "SELECT count(*) FROM deliveries WHERE broadcast_id = ? AND status = 'sent'",
            [broadcast_id],
        ).fetchone()[0]
        refused = flood.refused
        await app.shutdown()
        storage.close()

    print(
        f"{args.parents} parents tapping every ~{args.think:.1f} s; fake Bot API"
        f" {args.latency * 1000:.0f} ms a call, {args.limit} messages/s enforced;"
        f" broadcast at 25/s to {args.subscribers}"
    )
    print(
        f"  idle    taps {len(idle):5d}  unanswered {idle_missed}"
        f"  p50 {pct(idle, 0.5):6.1f} ms  p99 {pct(idle, 0.99):6.1f} ms"
    )
    print(
        f"  during  taps {len(during):5d}  unanswered {during_missed}"
        f"  p50 {pct(during, 0.5):6.1f} ms  p99 {pct(during, 0.99):6.1f} ms"
    )
    print(f"  broadcast meanwhile: {sent} sent in {elapsed:.0f} s ({sent / elapsed:.1f}/s)")
    print(
        f"  unanswered taps {idle_missed + during_missed} (target 0);"
        f" p99 during / idle {pct(during, 0.99) / pct(idle, 0.99):.2f} (target <= 2.0);"
        f" messages refused by the flood limit {refused} (target 0)"
    )


if __name__ == "__main__":
    asyncio.run(main())
