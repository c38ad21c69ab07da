"""How the engines work: a loop that outlives any one error, and a few tasks working
through a list together (the sends in flight at once)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from bot.busy import DatabaseBusy, is_busy
from bot.delivery import BotRefused
from bot.logs import log_failure

T = TypeVar("T")


async def work_through(
    items: Iterable[T], *, workers: int, each: Callable[[T], Awaitable[bool]]
) -> None:
    """Hand `items` to up to `workers` tasks; a task stops when the list is done or when
    `each` returns False (a pause: what is left stays untouched). The first error is raised
    only after every other task has finished the item in hand: one cancelled mid-send would
    stay claimed, and become `unknown` at the next start."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            if not await each(queue.get_nowait()):
                return

    tasks = [asyncio.create_task(worker()) for _ in range(min(workers, queue.qsize()))]
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for task in tasks:
            task.cancel()
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def keep_working(
    work: Callable[[], Awaitable[bool]],
    *,
    what: str,
    log: logging.Logger,
    idle: Callable[[], float],
    refused_pause: float,
    sleep: Callable[[float], Awaitable[None]],
    on_failure: Callable[[BaseException], None],
) -> None:
    """An engine's loop, forever: `work()`, then sleep `idle()` seconds when it found
    nothing. It outlives any one error: a busy database is a warning, anything else is
    logged once and reported (`on_failure`, the staff alerts). A refused bot token sends
    nothing and marks nothing: the engine looks again after `refused_pause`, rather than log
    a traceback at every poll. `what` names the messages in the log ("broadcasts")."""
    while True:
        try:
            worked = await work()
        except asyncio.CancelledError:
            raise
        except BotRefused:
            log.error("Telegram refuses the bot token; %s wait until it works", what)
            await sleep(refused_pause)
            continue
        except (DatabaseBusy, sqlite3.OperationalError) as exc:
            if not isinstance(exc, DatabaseBusy) and not is_busy(exc):
                log_failure(log, f"error while sending {what}; retrying shortly", exc)
                on_failure(exc)
            else:
                log.warning("database busy; %s go on shortly", what)
            worked = False
        except Exception as exc:
            log_failure(log, f"error while sending {what}; retrying shortly", exc)
            on_failure(exc)
            worked = False
        if not worked:
            await sleep(idle())
