"""Screening answers per second: the full bot against a bare PTB bot doing the same visible work.

Both run in this process over the same lean Bot API (bench/lean.py: it answers at once and
does nothing else, so the test fake's own work pads neither side), in small alternating
batches, so the machine's noise hits both alike. Per tap, the bare bot answers the button
and edits the message with HTML and a keyboard of the same size; the full bot does that
after its guards, the signed buttons, the flow, SQLite and the rendering. Each parent's
Update JSON is parsed by PTB on both sides, as polling would.
Target: full/bare >= 0.65.
Run: .venv/bin/python bench/screening_bench.py [--answers 5000] [--batch 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler

from bench.lean import LeanBotAPI, LeanChat
from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, load_content
from bot.storage import Storage
from bot.tg.app import build_application
from tests.parents import SCREENING_LOOP

# In school, no plan, ..., never evaluated; then the details and start over from there.
PATH = SCREENING_LOOP
CHATS = 20  # parents taking turns, as in real traffic
TARGET = 0.65


class Runner:
    """An initialized app, its parents, and a way to time the next `n` answers."""

    def __init__(self, app: Any, clients: list[LeanChat], labels: list[str]) -> None:
        self.app, self.clients, self.labels, self.done = app, clients, labels, 0

    async def timed(self, n: int) -> float:
        began = time.perf_counter()
        for _ in range(n):
            i = self.done
            client = self.clients[i % CHATS]
            await client.press(self.labels[(i // CHATS) % len(self.labels)])
            self.done += 1
        return time.perf_counter() - began


async def bare_app() -> Runner:
    """A PTB app that only answers the query and edits the message."""
    api = LeanBotAPI()
    counter = {"n": 0}
    # The same shape of message the bot shows: a question, three answers, Back and Why.
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"1|a|0123456789ab|progress|{label}|t")
                for label in ("Yes", "No", "Not sure")
            ],
            [
                InlineKeyboardButton("Back", callback_data="1|b|0123456789ab|progress|tagtag"),
                InlineKeyboardButton("Why we ask", callback_data="1|w|0123456789ab|progress|t"),
            ],
        ]
    )
    question = (
        "<i>Question {n} of about 9</i>\n\n<b>Is your child passing, but not really making"
        " progress in reading, writing, math or other skills?</b>"
    )

    async def start(update: Update, context: Any) -> None:
        await update.effective_message.reply_text("Question", reply_markup=markup)  # type: ignore[union-attr]

    async def button(update: Update, context: Any) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        counter["n"] += 1
        await query.edit_message_text(
            question.format(n=counter["n"]), parse_mode="HTML", reply_markup=markup
        )

    app = ApplicationBuilder().token("999:TEST").request(api).get_updates_request(api).build()
    # As the full bot: no PTB Defaults, HTML given per call.
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    await app.initialize()
    clients = [LeanChat(app, api, chat_id=1000 + i) for i in range(CHATS)]
    for c in clients:
        await c.send("/start")
    return Runner(app, clients, ["Yes"])


async def full_app(folder: Path) -> tuple[Runner, Storage]:
    """The real bot: guards, handlers, codec, flow, storage, rendering."""
    api = LeanBotAPI()
    db = folder / "bench.sqlite3"
    settings = Settings(
        token="999:TEST",
        database_path=db,
        booking_url="https://book.example.org",
        pseudonym_key=b"bench-key-0123456789abcdef0123456789",
        # This measures the work per answer, not Telegram's limit: the bot-wide budget
        # (TELEGRAM_RATE, 28 a second) would cap the full bot and nothing else.
        telegram_rate=10**6,
    )
    storage = Storage(db)
    storage.migrate()
    content = load_content(Path(os.environ.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR))
    app = build_application(settings, storage, content, request=api, sweep_expired=False)
    await app.initialize()
    clients = [LeanChat(app, api, chat_id=1000 + i) for i in range(CHATS)]
    for c in clients:
        await c.send("/start")
        await c.press("Start the screening")
    return Runner(app, clients, PATH), storage


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=5000, help="answers per app")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = await bare_app()
        full, storage = await full_app(Path(tmp))
        await bare.timed(200)  # warm-up: imports, caches, first SQLite pages
        await full.timed(200)
        ratios, bare_s, full_s = [], 0.0, 0.0
        # Small alternating batches: a noisy neighbour slows both alike.
        for _ in range(args.answers // args.batch):
            b = await bare.timed(args.batch)
            f = await full.timed(args.batch)
            bare_s, full_s = bare_s + b, full_s + f
            ratios.append(b / f)
        await bare.app.shutdown()
        await full.app.shutdown()
        storage.close()
    n = args.batch * (args.answers // args.batch)
    print(f"bare PTB : {n / bare_s:8.0f} answers/s, {bare_s / n * 1e6:6.0f} us each ({n} answers)")
    print(f"full bot : {n / full_s:8.0f} answers/s, {full_s / n * 1e6:6.0f} us each ({n} answers)")
    print(
        f"ratio full/bare: {bare_s / full_s:.2f} overall, median of {len(ratios)} batches"
        f" {statistics.median(ratios):.2f}  (target >= {TARGET})"
    )


if __name__ == "__main__":
    asyncio.run(main())
