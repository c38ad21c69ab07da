"""Reading updates: never deaf, and never losing one that was fetched but not yet handled.

- PTB parses a whole getUpdates answer at once: a single update in a shape it does not know
  (an older self-hosted Bot API server, a new Telegram feature) raises, the polling offset
  never moves past it, and the bot hears nothing more while logging the raw update (with the
  parent's words in it) again and again. Here each update is parsed on its own; one that
  fails is logged once, by id and type only, and replaced by an empty Update with the same
  id, so polling moves on and no handler sees it.
- PTB confirms a batch to Telegram with its very next getUpdates, before any handler ran: a
  process killed meanwhile loses those updates (a parent's last answer, a crisis message).
  Here an update is confirmed only once it has been handled (BotApplication reports each):
  while some are in flight, the poll asks from the oldest unhandled one, drops what it
  already has, and waits for progress (at most `INFLIGHT_POLL`) rather than spin.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, cast

from telegram import Update
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import Conflict
from telegram.ext import ExtBot
from telegram.request import BaseRequest

log = logging.getLogger(__name__)
INFLIGHT_POLL = (0.05, 0.25)  # while updates are in flight: poll at most / at least this often


class Inbox:
    """Which fetched updates are still being handled, so they are not confirmed yet.

    While `enough` or more are waiting, the next poll waits for progress: it could only fetch
    those same updates again (Telegram answers from the oldest unconfirmed one), and a new
    one would queue behind them anyway. Measured at 500 parents at once, without this the
    bot downloaded every waiting update again on every poll (23 KB per tap instead of 1.5).
    """

    def __init__(self, enough: int = 32) -> None:
        self.enough = enough
        self.unhandled: set[int] = set()
        # Whether polling still hands updates on (bot/tg/app.py points it at the Updater):
        # a poll that returns after the bot began to stop keeps what it fetched unconfirmed
        # (Telegram delivers it again after the restart) instead of handing it on, which
        # PTB would log as CRITICAL "Updater stopped unexpectedly".
        self.accepting: Callable[[], bool] = lambda: True
        self.progress = asyncio.Event()
        self.last_poll = 0.0
        # Set after a 409 Conflict (another process polls with this token): the bot stops,
        # and PTB's last "confirm what was fetched" call on the way out would meet it again.
        self.conflicted = False

    def handled(self, update_id: int) -> None:
        self.unhandled.discard(update_id)
        self.progress.set()

    async def wait_for_progress(self) -> None:
        """While updates are in flight: wait until one is handled (or a little while), and
        never poll more often than INFLIGHT_POLL[0]."""
        loop = asyncio.get_running_loop()
        self.progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.progress.wait(), INFLIGHT_POLL[1])
        pause = self.last_poll + INFLIGHT_POLL[0] - loop.time()
        if pause > 0:
            await asyncio.sleep(pause)
        self.last_poll = loop.time()


class RecentUpdates:
    """Update ids handled or being handled by this process, the latest `KEEP`: a repeated
    delivery (a webhook retried, a duplicate in a batch) is skipped, not answered twice.

    Kept in memory only: an update Telegram delivers again after a restart was left
    unconfirmed by a process that is gone, so it must be handled (bot/tg/updates.py confirms
    an update only once it has been handled), and a record on disk would change nothing but
    cost a write on every update.
    """

    KEEP = 10_000

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._order: deque[int] = deque()

    def first_time(self, update_id: int) -> bool:
        """True the first time this process sees `update_id`; it is remembered from now."""
        if update_id in self._ids:
            return False
        self._ids.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self.KEEP:
            self._ids.discard(self._order.popleft())
        return True


class TolerantBot(ExtBot[None]):
    """An ExtBot whose get_updates skips unreadable updates and confirms only handled ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():  # PTB's objects are frozen after __init__
            self.inbox = Inbox()

    def handled(self, update_id: int) -> None:
        """Called once an update's handlers are done: it may be confirmed to Telegram."""
        self.inbox.handled(update_id)

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: dt.timedelta | int | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        inbox = self.inbox
        if inbox.conflicted:
            await asyncio.sleep(0.1)  # the bot is stopping: let it, rather than spin
            return ()
        fetched_up_to = offset  # PTB asks for what follows what it was given
        if inbox.unhandled:
            await inbox.wait_for_progress()
        while len(inbox.unhandled) >= inbox.enough and inbox.accepting():
            await inbox.wait_for_progress()
        if inbox.unhandled:
            # Confirm nothing that is still being handled; Telegram answers at once (those
            # are pending), so there is no long poll to wait for.
            offset, timeout = min(inbox.unhandled), 0
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        # As PTB does: a long poll may take `timeout` seconds more than any other call.
        base = (
            self._request[0].read_timeout or 0
            if read_timeout is BaseRequest.DEFAULT_NONE
            else cast(float, read_timeout) or 0
        )
        seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout or 0
        try:
            result = cast(
                "list[JSONDict]",
                await self._post(
                    "getUpdates",
                    data,
                    read_timeout=base + seconds,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                    api_kwargs=api_kwargs,
                ),
            )
        except Conflict:
            inbox.conflicted = True
            raise
        if fetched_up_to:  # drop what PTB was given already (it is being handled)
            result = [r for r in result if not _id_below(r, fetched_up_to)]
        if not inbox.accepting():
            return ()  # stopping: nothing new is handed on, so nothing new is confirmed
        updates = [u for u in (parse_update(raw, self) for raw in result) if u is not None]
        # An update without an id cannot be confirmed, so it cannot be handed on either.
        inbox.unhandled.update(u.update_id for u in updates)
        return tuple(updates)


def _id_below(raw: Any, bound: int) -> bool:
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    return isinstance(update_id, int) and update_id < bound


def parse_update(raw: Any, bot: ExtBot[Any]) -> Update | None:
    """The Update; an empty one with its id when the library cannot read it; None if it
    has no id at all."""
    try:
        update = Update.de_json(raw, bot)
    except Exception as exc:  # any shape at all may arrive; none may stop polling
        update = None
        problem = type(exc).__name__
    else:
        problem = "empty"
    if update is not None:
        return update
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    kinds = [str(k)[:32] for k in raw if k != "update_id"][:3] if isinstance(raw, dict) else []
    # The id and the kind of update only: its content may hold a parent's words.
    log.warning(
        "skipped an update the library cannot read: id=%s type=%s (%s)",
        update_id,
        ",".join(sorted(kinds)) or "none",
        problem,
    )
    return Update(update_id=update_id) if isinstance(update_id, int) else None
