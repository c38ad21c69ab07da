"""Broadcast benchmark: achieved rate, peak memory, and a parent's reply latency meanwhile.

100,000 subscribers through the fake Bot API (a few milliseconds per call, like a nearby
Bot API server). Two broadcasts in one run: the whole list at a high configured rate (so it
ends in about two minutes), then a short window at Telegram's everyday rate (25/s). A parent
keeps answering screening questions throughout; their reply latency is measured idle and
during each broadcast, in the same run. No tracemalloc during the timed parts (it slows
every line of Python, the parent's too): memory is the process's peak RSS.
Targets: achieved/configured >= 0.95; parent p99 during <= 2x idle.
Run: .venv/bin/python bench/broadcast_bench.py [--subscribers 100000] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.broadcast.engine import DeliveryEngine, EngineSettings
from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, load_content
from bot.storage import Storage
from bot.tg.app import build_application
from bot.tg.sender import SenderSettings, TelegramSender
from tests.fakebot import ChatClient, FakeBotAPI
from tests.parents import SCREENING_LOOP

PATH = SCREENING_LOOP
GAP = 0.05  # seconds between the parent's presses: a brisk parent, 15-20 presses a second


class ParentProbe:
    """One parent answering questions in a loop; records how long each reply takes."""

    def __init__(self, app: Any, api: FakeBotAPI) -> None:
        self.client = ChatClient(app, api, chat_id=1, user_id=1)
        self.step = 0

    async def start(self) -> None:
        await self.client.send("/start")
        await self.client.press("Start the screening")

    async def answer(self) -> float:
        began = time.perf_counter()
        await self.client.press(PATH[self.step % len(PATH)])
        self.step += 1
        return time.perf_counter() - began

    async def sample(self, count: int) -> list[float]:
        latencies = []
        for _ in range(count):
            latencies.append(await self.answer())
            await asyncio.sleep(GAP)
        return latencies

    async def during(self, task: asyncio.Task[Any]) -> list[float]:
        latencies: list[float] = []
        while not task.done():
            latencies += await self.sample(5)
        return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def report(label: str, idle: list[float], during: list[float]) -> None:
    print(
        f"  parent reply idle    p50 {pct(idle, 0.5):6.2f} ms  p99 {pct(idle, 0.99):6.2f} ms"
        f"  (n={len(idle)})"
    )
    print(
        f"  parent reply during  p50 {pct(during, 0.5):6.2f} ms  p99 {pct(during, 0.99):6.2f} ms"
        f"  (n={len(during)})"
    )
    print(
        f"  {label}: p99 during / idle {pct(during, 0.99) / pct(idle, 0.99):.2f} (target <= 2.0),"
        f" p50 {pct(during, 0.5) / pct(idle, 0.5):.2f}"
    )


async def timed(engine: DeliveryEngine, broadcast_id: int) -> float:
    """Send one broadcast; return how long it took (the parent's loop may still be busy)."""
    began = time.perf_counter()
    await engine.deliver(broadcast_id)
    return time.perf_counter() - began


async def broadcast(
    svc: Any, bot: Any, activity: Any, audience: str, rate: float, workers: int
) -> tuple[int, asyncio.Task[float]]:
    sender = TelegramSender(
        bot,
        svc.codec,
        activity=activity,  # the parents' application: broadcasts step aside for it
        clock=svc.storage.clock,
        # A bot whose limit Telegram raised (paid broadcasts): the budget is not the cap here.
        settings=SenderSettings(rate=rate, budget=max(28.0, rate * 1.2)),
    )
    engine = DeliveryEngine(
        svc.broadcasts,
        sender,
        svc.content,
        settings=EngineSettings(workers=workers),
        tz=svc.settings.tz,
    )
    broadcast_id = svc.broadcasts.queue(
        audience=audience,
        texts={"*": "<b>Tip</b>: keep a log, with dates."},
        created_by=None,
        origin="cli",
    )
    return broadcast_id, asyncio.create_task(timed(engine, broadcast_id))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="configured messages/s")
    parser.add_argument("--latency", type=float, default=0.003, help="fake API seconds/call")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--window", type=float, default=20.0, help="seconds at --slow-rate")
    parser.add_argument("--slow-rate", type=float, default=25.0, help="the everyday rate")
    args = parser.parse_args()
    window_size = int(args.window * args.slow_rate) + 1

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        storage = Storage(db)
        storage.migrate()
        with storage.db.atomic():
            storage.db.conn.executemany(
                "INSERT INTO subscribers (chat_key, chat_id, lang, interest, opted_in_day)"
                " VALUES (?, ?, ?, ?, '2026-11-28')",
                (
                    # The first few are the short window's audience (interest has_iep).
                    (
                        f"k{i}",
                        10_000 + i,
                        "es" if i % 3 else "en",
                        "has_iep" if i < window_size else None,
                    )
                    for i in range(args.subscribers)
                ),
            )
        # The parent's replies go through a keep-history fake (to find buttons); the
        # broadcast through a lean one with the same latency. Same process, same loop.
        parent_api = FakeBotAPI(latency=args.latency)
        broadcast_api = FakeBotAPI(latency=args.latency, keep_history=False)
        settings = Settings(
            token="999:TEST",
            database_path=db,
            booking_url="https://book.example.org",
            pseudonym_key=b"bench-key-0123456789abcdef0123456789",
        )
        content = load_content(Path(os.environ.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR))
        app = build_application(settings, storage, content, request=parent_api, sweep_expired=False)
        await app.initialize()
        broadcast_app = build_application(
            settings, storage, content, request=broadcast_api, sweep_expired=False
        )
        await broadcast_app.initialize()
        svc = app.services
        probe = ParentProbe(app, parent_api)
        await probe.start()
        await probe.sample(20)  # warm-up

        # 1. The whole list, fast.
        idle = await probe.sample(200)
        rss_before = rss_mb()
        fast_id, task = await broadcast(
            svc, broadcast_app.bot, app.activity, "all", args.rate, args.workers
        )
        during = await probe.during(task)
        elapsed = await task
        rss_after = rss_mb()
        fast = svc.broadcasts.get(fast_id)

        # 2. A short window at the everyday rate.
        idle_slow = await probe.sample(100)
        slow_id, task = await broadcast(
            svc, broadcast_app.bot, app.activity, "interest:has_iep", args.slow_rate, args.workers
        )
        during_slow = await probe.during(task)
        slow_elapsed = await task
        slow = svc.broadcasts.get(slow_id)

        await app.shutdown()
        await broadcast_app.shutdown()
        storage.close()

    assert fast is not None and slow is not None
    achieved = fast.sent / elapsed
    print(
        f"{args.subscribers} subscribers, fake Bot API {args.latency * 1000:.0f} ms a call,"
        f" {args.workers} sends in flight"
    )
    print(f"broadcast to everyone at a configured {args.rate:.0f}/s:")
    print(f"  sent {fast.sent} (failed {fast.failed}) in {elapsed:.1f} s: {achieved:.0f}/s")
    print(f"  achieved / configured rate {achieved / args.rate:.3f}  (target >= 0.95)")
    print(
        f"  peak RSS {rss_after:.0f} MB, {rss_after - rss_before:+.1f} MB over the broadcast"
        " (recipients are streamed, not loaded)"
    )
    report(f"{args.rate:.0f}/s", idle, during)
    # The first message goes at once, so n messages take (n - 1) intervals.
    slow_achieved = (slow.sent - 1) / slow_elapsed
    print(f"a {args.window:.0f} s window at a configured {args.slow_rate:.0f}/s:")
    print(f"  sent {slow.sent} in {slow_elapsed:.1f} s: {slow_achieved:.1f}/s")
    print(f"  achieved / configured rate {slow_achieved / args.slow_rate:.3f}  (target >= 0.95)")
    report(f"{args.slow_rate:.0f}/s", idle_slow, during_slow)


if __name__ == "__main__":
    asyncio.run(main())
