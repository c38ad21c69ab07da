"""Screening answers per second through the full bot vs a bare PTB Application.

Both run in this process on the same fake Bot API (tests/fakes.py), so the machine's noise
hits both alike; rounds alternate and the median of each is compared. Target: >= 0.6.
Run: .venv/bin/python bench/screening_bench.py [--answers 3000] [--rounds 3]
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

from bot.app import build_application
from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, load_content
from bot.storage import Storage
from tests.fakes import ChatClient, FakeBotAPI

PATH = ["Neither", "Yes", "Yes", "No", "Sometimes", "No", "No", "Yes", "Yes", "Start over"]
CHATS = 20  # parents taking turns, as in real traffic


async def bare_round(answers: int) -> float:
    """A PTB app that only answers the query and edits the message."""
    api = FakeBotAPI()
    counter = {"n": 0}
    # The same shape of message the bot shows: a question, three answers, Back and Why.
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"1|a|0123456789ab|progress|{label}|tag")
                for label in ("Yes", "No", "Not sure")
            ],
            [
                InlineKeyboardButton("Back", callback_data="1|b|0123456789ab|progress|tagtag"),
                InlineKeyboardButton("Why we ask", callback_data="1|w|0123456789ab|progress|tag"),
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
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    await app.initialize()
    clients = [ChatClient(app, api, chat_id=1000 + i) for i in range(CHATS)]
    for c in clients:
        await c.send("/start")
    began = time.perf_counter()
    for i in range(answers):
        await clients[i % CHATS].press("Yes")
    elapsed = time.perf_counter() - began
    await app.shutdown()
    return answers / elapsed


async def full_round(answers: int, folder: Path) -> float:
    """The real bot: guards, handlers, codec, flow, storage, rendering."""
    api = FakeBotAPI()
    db = folder / f"bench-{time.monotonic_ns()}.sqlite3"
    settings = Settings(
        token="999:TEST",
        database_path=db,
        booking_url="https://book.example.org",
        pseudonym_key=b"bench-key-0123456789abcdef0123456789",
    )
    storage = Storage(db)
    storage.migrate()
    app = build_application(
        settings,
        storage,
        load_content(Path(os.environ.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR)),
        request=api,
        sweep_expired=False,
    )
    await app.initialize()
    clients = [ChatClient(app, api, chat_id=1000 + i) for i in range(CHATS)]
    for c in clients:
        await c.send("/start")
        await c.press("Start the screening")
    began = time.perf_counter()
    for i in range(answers):
        await clients[i % CHATS].press(PATH[(i // CHATS) % len(PATH)])
    elapsed = time.perf_counter() - began
    await app.shutdown()
    storage.close()
    return answers / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bare, full = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            bare.append(await bare_round(args.answers))
            full.append(await full_round(args.answers, Path(tmp)))
    b, f = statistics.median(bare), statistics.median(full)
    print(f"bare PTB : {b:8.0f} answers/s  (rounds: {', '.join(f'{x:.0f}' for x in bare)})")
    print(f"full bot : {f:8.0f} answers/s  (rounds: {', '.join(f'{x:.0f}' for x in full)})")
    print(f"ratio full/bare: {f / b:.2f}  (target >= 0.60)")


if __name__ == "__main__":
    asyncio.run(main())
