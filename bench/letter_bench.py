"""Letters: how long the three forms take, and what the letter step adds to the bot's reply.

Measured in one run, in this process:
1. render: one letter (the evaluation request, sample answers) as the message text, the Word
   file and the PDF; English alone and both languages. The first render pays for loading
   python-docx and ReportLab (the bot loads them only when a letter is made); then the
   median of the rest.
2. reply: the full bot over a lean Bot API (bench/lean.py, plus sendDocument), parents
   taking turns; the time from a parent's last answer (the grade) to the advice after both
   files, against the time of a bare reply to a text (a bare PTB bot sending one message),
   and against the bot's own reply to an earlier detail (the next question).
Target: the three documents ready within 0.5 s of the last answer (the reply, files
included, under 0.5 s; the first letter after a start, with its imports, too).
Run: .venv/bin/python bench/letter_bench.py [--letters 40]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import ApplicationBuilder, MessageHandler, filters

from bench.lean import LeanBotAPI, LeanChat
from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, load_content
from bot.storage import Storage
from bot.tg.app import build_application
from tests.parents import SCREENING_LOOP

TARGET = 0.5  # seconds from the last answer to the documents
CHATS = 10
ANSWERS = SCREENING_LOOP[: SCREENING_LOOP.index("No thanks")]
DETAILS = ("Ana Ruiz", "Zoë Núñez", "March 4, 2016", "Lincoln Elementary School")
LAST = "4th grade"


class LetterBotAPI(LeanBotAPI):
    """The lean API, answering sendDocument with a document message as Telegram would."""

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        if url.endswith("/sendDocument"):
            self.calls += 1
            params = request_data.parameters if request_data else {}
            return 200, json.dumps(
                {
                    "ok": True,
                    "result": {
                        "message_id": next(self.message_ids),
                        "date": 1764633600,
                        "chat": {"id": int(params["chat_id"]), "type": "private"},
                        "document": {"file_id": "F", "file_unique_id": "U"},
                    },
                }
            ).encode()
        return await super().do_request(url, method, request_data, **kw)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def render_times(rounds: int) -> dict[str, float]:
    """Median render of the evaluation request, English and both languages (the first is
    left out: the bot's first letter, measured below, pays for the imports)."""
    from bot.letters.book import load_letters
    from bot.letters.fill import fill_all
    from bot.letters.render import render

    book = load_letters(load_content(DEFAULT_CONTENT_DIR))
    plan, day = book.plans["evaluation"], dt.date(2026, 12, 2)
    found: dict[str, float] = {}
    for name, langs in (("english", ("en",)), ("both", ("en", "es"))):
        times = []
        for _ in range(rounds + 1):
            began = time.perf_counter()
            letters = fill_all(
                book, "evaluation", langs, answers=plan.sample, details=book.sample_details, day=day
            )
            render(letters, day)
            times.append(time.perf_counter() - began)
        found[name] = statistics.median(times[1:])
    return found


async def bare_reply_times(rounds: int) -> list[float]:
    """A bare PTB bot answering a text with one message."""
    api = LetterBotAPI()

    async def echo(update: Update, context: Any) -> None:
        await update.effective_message.reply_text(
            "<b>2 of 5</b> Your child's name?", parse_mode="HTML"
        )  # type: ignore[union-attr]

    app = ApplicationBuilder().token("999:TEST").request(api).get_updates_request(api).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    chat = LeanChat(app, api, chat_id=5000)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        await chat.send("Ana Ruiz")
        times.append(time.perf_counter() - began)
    await app.shutdown()
    return times


async def bot_reply_times(folder: Path, letters: int) -> tuple[list[float], list[float]]:
    """The full bot: each parent's reply to a detail (the next question), and to the last
    answer (the letter, both files, the advice)."""
    api = LetterBotAPI()
    db = folder / "bench.sqlite3"
    settings = Settings(
        token="999:TEST",
        database_path=db,
        booking_url="https://book.example.org",
        pseudonym_key=b"bench-key-0123456789abcdef0123456789",
        telegram_rate=10**6,
    )
    storage = Storage(db)
    storage.migrate()
    app = build_application(
        settings, storage, load_content(DEFAULT_CONTENT_DIR), request=api, sweep_expired=False
    )
    await app.initialize()
    detail, last = [], []
    for i in range(letters):
        chat = LeanChat(app, api, chat_id=1000 + i % CHATS)
        await chat.send("/start")
        await chat.press("Start the screening")
        for label in ANSWERS:
            await chat.press(label)
        await chat.press("✍️ Write the letter")
        await chat.press("English for the school")
        for text in DETAILS:
            began = time.perf_counter()
            await chat.send(text)
            detail.append(time.perf_counter() - began)
        began = time.perf_counter()
        await chat.send(LAST)
        last.append(time.perf_counter() - began)
    made = storage.letters_made()
    await app.shutdown()
    storage.close()
    assert made == {("evaluation", "en"): letters}, made
    return detail, last


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=40, help="letters made by the bot")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # The bot first, in a process that has made no letter yet: its first letter pays
        # for loading python-docx and ReportLab, as after a real start.
        detail, last = await bot_reply_times(Path(tmp), args.letters)
    rendered = render_times(20)
    bare = await bare_reply_times(200)
    bare_m, detail_m, last_m = (statistics.median(x) for x in (bare, detail, last))
    print("render, evaluation request (text + .docx + .pdf):")
    print(f"  english, median      {_ms(rendered['english'])}")
    print(f"  both languages       {_ms(rendered['both'])}")
    print("reply (the parent's update handled, every message and file sent):")
    print(f"  bare PTB reply       {_ms(bare_m)}  (one message)")
    slower = detail_m / bare_m
    print(f"  bot, a detail        {_ms(detail_m)}  (the next question)  {slower:5.1f}x bare")
    print(
        f"  bot, the last answer {_ms(last_m)}  (the letter, 2 files, advice)"
        f"  {last_m / bare_m:5.1f}x bare, {last_m / detail_m:5.1f}x a detail"
    )
    print(f"  first letter after start {_ms(last[0])}  (python-docx and ReportLab loaded)")
    worst = max(last)
    verdict = "met" if worst < TARGET else "MISSED"
    print(
        f"target: documents within {TARGET} s of the last answer: {verdict} (slowest {worst:.3f} s)"
    )


if __name__ == "__main__":
    asyncio.run(main())
