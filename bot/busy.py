"""A busy database: wait a bounded time, never freeze everyone, then give up kindly.

SQLite lets one writer at a time. Another process holding the write lock (a backup, the
command line, a second bot during a deploy) makes a write wait. Each statement waits at
most STATEMENT_WAIT (the connection's busy timeout, which blocks the thread it runs on);
beyond that, callers on the event loop wait *asynchronously* between tries, so other parents
are answered meanwhile, and give up after PATIENCE seconds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
STATEMENT_WAIT = 0.2  # seconds one statement may block the event loop
PATIENCE = 10.0  # seconds a parent's update keeps trying before the kind "busy" message
STARTUP_PATIENCE = 30.0  # seconds the bot waits for the database at start-up


class DatabaseBusy(Exception):
    """The database stayed locked by someone else for longer than we wait."""


def is_busy(exc: BaseException) -> bool:
    """Whether an error means "locked by someone else, try again" (not a broken database)."""
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


async def patiently(
    action: Callable[[], Awaitable[T]],
    *,
    patience: float = PATIENCE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `action`; while the database is busy, wait (without blocking) and run it again.

    Only for actions that are safe to repeat from the start (they wrote nothing, or write
    the same thing again). Raises DatabaseBusy when patience runs out.
    """
    deadline = clock() + patience
    delay = 0.05
    while True:
        try:
            return await action()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            if clock() + delay > deadline:
                raise DatabaseBusy from None
        await sleep(delay)
        delay = min(delay * 2, 1.0)


def wait_for_database(
    attempt: Callable[[], T],
    *,
    patience: float = STARTUP_PATIENCE,
    on_wait: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """At start-up (no event loop yet): retry `attempt` while the database is locked,
    calling `on_wait` once when waiting starts; DatabaseBusy after `patience` seconds."""
    deadline = clock() + patience
    told = False
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            if clock() >= deadline:
                raise DatabaseBusy from None
            if not told and on_wait is not None:
                on_wait()
                told = True
        sleep(0.5)
