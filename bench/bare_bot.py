"""A bare python-telegram-bot process: the baseline bench/burst_bench.py measures the bot against.

The same visible work per tap as the bot's screening, and nothing else (no storage, no
checks, no logging): /start sends a question with an inline keyboard of the bot's size (three
answers, then Back and Why); a press is answered, then the message is edited to the next
question; after --taps presses the chat shows a result. A press of a button from an earlier
question (the second of a double tap) is answered with a toast and the current screen is sent
again, as the bot does with a stale button. PTB handles --concurrency updates at a time.
Run: TELEGRAM_BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT .venv/bin/python
bench/bare_bot.py [--taps 10] [--concurrency 16]   (stop it with SIGTERM)
"""

from __future__ import annotations

import argparse
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

ANSWERS = ("Yes", "No", "Not sure")
# The shape of the bot's question screen (bench/screening_bench.py copies it too).
QUESTION = (
    "<i>Question {n} of about 9</i>\n\n<b>Is your child passing, but not really making"
    " progress in reading, writing, math or other skills?</b>"
)
RESULT = (
    "<b>An IEP evaluation looks worth asking for</b>\n\nYour answers after {n} questions point"
    " to asking the school for an evaluation, in writing."
)
STALE = "That button is from an earlier question. Here is where you are."


def data(kind: str, step: int, arg: str) -> str:
    """Callback data as long as the bot's (version|kind|session|question|arg|tag)."""
    return f"1|{kind}|{step:012d}|progress|{arg}|t3Kq9z"


def question_markup(step: int) -> InlineKeyboardMarkup:
    """Three answers, then Back and Why we ask: the bot's question keyboard."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(a, callback_data=data("a", step, a)) for a in ANSWERS],
            [
                InlineKeyboardButton("Back", callback_data=data("b", step, "-")),
                InlineKeyboardButton("Why we ask", callback_data=data("w", step, "-")),
            ],
        ]
    )


def result_markup(step: int) -> InlineKeyboardMarkup:
    """Next steps and Start over: what a finished screening shows (kind "d": done)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Next steps and details", callback_data=data("d", step, "-"))],
            [InlineKeyboardButton("Start over", callback_data=data("o", step, "-"))],
        ]
    )


class Screening:
    """Taps per chat; a screening ends after `taps` of them."""

    def __init__(self, taps: int) -> None:
        self.taps = taps
        self.steps: dict[int, int] = {}

    def screen(self, step: int) -> tuple[str, InlineKeyboardMarkup]:
        """The text and keyboard shown at `step`."""
        if step >= self.taps:
            return RESULT.format(n=step), result_markup(step)
        return QUESTION.format(n=step + 1), question_markup(step)

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start: a fresh screening, its first question as a new message."""
        message = update.effective_message
        assert message is not None
        self.steps[message.chat_id] = 0
        text, markup = self.screen(0)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An answer to the current question moves on; any other press is stale."""
        query = update.callback_query
        assert query is not None and query.message is not None and query.data is not None
        chat_id = query.message.chat.id
        step = self.steps.get(chat_id, 0)
        _, kind, pressed, *_ = query.data.split("|")
        if kind != "a" or int(pressed) != step or step >= self.taps:
            await query.answer(STALE)
            text, markup = self.screen(step)
            await context.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            return
        # Taken before the first await: a second press of this chat sees the new step.
        self.steps[chat_id] = step + 1
        await query.answer()
        text, markup = self.screen(step + 1)
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--taps", type=int, default=10, help="presses in a screening")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("CONCURRENT_UPDATES") or 16),
        help="updates handled at once (default: $CONCURRENT_UPDATES, else 16)",
    )
    args = parser.parse_args()
    screening = Screening(args.taps)
    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{os.environ['TELEGRAM_API_URL']}/bot")
        .concurrent_updates(args.concurrency)
        .build()
    )
    app.add_handler(CommandHandler("start", screening.start))
    app.add_handler(CallbackQueryHandler(screening.press))
    app.run_polling(allowed_updates=Update.ALL_TYPES)  # stops on SIGTERM


if __name__ == "__main__":
    main()
