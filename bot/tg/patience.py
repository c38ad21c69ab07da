"""Handlers that wait out a busy database instead of failing or freezing the bot.

Each handler runs again from the start while the database is locked by another program,
sleeping between tries without blocking the event loop (other parents are answered
meanwhile), but only while it has sent the parent nothing: a handler that already replied
is never repeated. After bot/busy.py's PATIENCE it gives up with DatabaseBusy, and the error
handler tells the parent kindly to try again shortly.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from bot.busy import PATIENCE, DatabaseBusy, is_busy, patiently
from bot.tg.activity import REPLIED

if TYPE_CHECKING:
    from telegram import Update

    from bot.tg.context import BotContext
    from bot.tg.handlers.common import Handler


def patient(
    callback: Handler,
    *,
    patience: float = PATIENCE,
    clock: Any = time.monotonic,
    sleep: Any = asyncio.sleep,
) -> Handler:
    """`callback`, run again (from the start) while the database is busy and nothing was sent."""

    @functools.wraps(callback)
    async def run(update: Update, context: BotContext) -> None:
        replied = [False]
        token = REPLIED.set(replied)

        async def attempt() -> None:
            try:
                await callback(update, context)
            except sqlite3.OperationalError as exc:
                if replied[0] and is_busy(exc):
                    raise DatabaseBusy from None  # it replied already: never start over
                raise

        try:
            await patiently(attempt, patience=patience, clock=clock, sleep=sleep)
        finally:
            REPLIED.reset(token)

    return run
