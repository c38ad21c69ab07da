"""Broadcast benchmark: achieved rate, peak memory, and a parent's reply latency meanwhile.

100,000 subscribers through the fake Bot API (a few milliseconds per call, like a nearby
Bot API server) at a configured rate. A parent keeps answering screening questions; their
reply latency is measured idle and during the broadcast, in the same run.
Targets: achieved/configured >= 0.95; parent p99 during <= 2x idle.
Run: .venv/bin/python bench/broadcast_bench.py [--subscribers 100000] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.app import build_application
from bot.broadcast import DeliveryEngine, EngineSettings
from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, load_content
from bot.storage import Storage
from tests.fakes import ChatClient, FakeBotAPI

PATH = ["Neither", "Yes", "Yes", "No", "Sometimes", "No", "No", "Yes", "Yes", "Start over"]


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

    async def sample(self, count: int, gap: float) -> list[float]:
        latencies = []
        for _ in range(count):
            latencies.append(await self.answer())
            await asyncio.sleep(gap)
        return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="configured messages/s")
    parser.add_argument("--latency", type=float, default=0.003, help="fake API seconds/call")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        storage = Storage(db)
        storage.migrate()
        with storage.db.atomic():
            storage.db.conn.executemany(
                "INSERT INTO subscribers (chat_key, chat_id, lang, opted_in_day)"
                " VALUES (?, ?, ?, '2026-11-28')",
                ((f"k{i}", 10_000 + i, "es" if i % 3 else "en") for i in range(args.subscribers)),
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
            broadcast_rate=args.rate,
        )
        content = load_content(Path(os.environ.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR))
        app = build_application(settings, storage, content, request=parent_api, sweep_expired=False)
        await app.initialize()
        broadcast_app = build_application(
            settings, storage, content, request=broadcast_api, sweep_expired=False
        )
        await broadcast_app.initialize()
        svc = app.bot_data["services"]
        engine = DeliveryEngine(
            svc.broadcasts,
            broadcast_app.bot,
            content,
            svc.codec,
            settings=EngineSettings(rate=args.rate, workers=args.workers),
            activity=app.activity,  # the parents' application: the engine steps aside for it
        )
        probe = ParentProbe(app, parent_api)
        await probe.start()
        await probe.sample(20, 0.01)  # warm-up
        idle = await probe.sample(200, 0.01)

        broadcast_id = svc.broadcasts.queue(
            audience="all",
            texts={"*": "<b>Tip</b>: keep a log, with dates."},
            created_by=None,
            origin="cli",
        )
        tracemalloc.start()
        began = time.perf_counter()
        sending = asyncio.create_task(engine.deliver(broadcast_id))
        during: list[float] = []
        while not sending.done():
            during += await probe.sample(10, 0.05)
        await sending
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        row = svc.broadcasts.get(broadcast_id)
        await app.shutdown()
        await broadcast_app.shutdown()
        storage.close()

    assert row is not None
    achieved = row.sent / elapsed
    fake_ms = args.latency * 1000
    print(
        f"subscribers {args.subscribers}, configured {args.rate:.0f}/s, fake API {fake_ms:.0f} ms"
    )
    print(f"sent {row.sent} (failed {row.failed}) in {elapsed:.1f} s: {achieved:.0f}/s")
    print(f"achieved / configured rate: {achieved / args.rate:.3f}  (target >= 0.95)")
    print(f"peak Python memory during the broadcast: {peak / 1e6:.1f} MB (tracemalloc)")
    print(
        f"parent reply idle   p50 {pct(idle, 0.5):6.2f} ms  p99 {pct(idle, 0.99):6.2f} ms"
        f"  (n={len(idle)})"
    )
    print(
        f"parent reply during p50 {pct(during, 0.5):6.2f} ms  p99 {pct(during, 0.99):6.2f} ms"
        f"  (n={len(during)})"
    )
    print(
        f"p99 during / idle: {pct(during, 0.99) / pct(idle, 0.99):.2f}  (target <= 2.0);"
        f" p50 ratio {statistics.median(during) / statistics.median(idle):.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
