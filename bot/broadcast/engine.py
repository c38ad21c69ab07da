"""The delivery engine: sends due broadcasts through the one Sender. No Telegram here.

Guarantees, in the order they matter:
- at most once: a delivery is claimed (`attempted`, committed) before its send and replaced
  by the result after; after a crash, `attempted` rows become `unknown` and are never resent;
- never to someone who left: the chat id is read from `subscribers` right before each send;
  a blocked bot deletes the subscriber;
- parents first and paced: the Sender (bot/delivery.py) decides when a broadcast message may
  go; this engine only says which, and records what became of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.broadcast.message import render_text
from bot.broadcast.queue import BroadcastRow, Broadcasts
from bot.broadcast.status import eta_seconds, status_screen
from bot.busy import patiently
from bot.content import REFERENCE_LANGUAGE, Content
from bot.delivery import BotRefused, Outgoing, Priority, Sender, Status
from bot.storage import Clock
from bot.views import Screen
from bot.workers import keep_working, work_through

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass
class EngineSettings:
    workers: int = 8  # sends in flight at once: Telegram answers take tens of milliseconds
    idle_poll: float = 2.0  # how often to look for new work when idle (the CLI queues too)
    status_every: float = 3.0  # edit the staff status message at most this often
    batch: int = 200  # deliveries read from the database at a time


class DeliveryEngine:
    """Sends due broadcasts; runs as one task beside the bot, resumes by itself on start."""

    def __init__(
        self,
        broadcasts: Broadcasts,
        sender: Sender,
        content: Content,
        *,
        settings: EngineSettings | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        language_of: Callable[[int], str] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        tz: ZoneInfo,
    ) -> None:
        self.broadcasts = broadcasts
        self.sender = sender
        self.content = content
        self.settings = settings or EngineSettings()
        self.clock = clock or broadcasts.storage.clock
        self.sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._status_shown: dict[int, float] = {}
        # The language a staff chat chose (for its status message); English if unknown.
        self.language_of = language_of or (lambda _chat_id: REFERENCE_LANGUAGE)
        # Told of each unexpected failure (the staff alerts, bot/tg/alerts.py), after the log.
        self.on_failure = on_failure or (lambda _error: None)
        # TIMEZONE, for the times the status message shows.
        self.tz = tz

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background task (from the application's post_init)."""
        recovered = self.broadcasts.recover()
        if recovered:
            log.warning("%d deliveries had no recorded result after a restart: unknown", recovered)
        self._task = asyncio.create_task(self.run(), name="broadcast-engine")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        """Forever: send what is due, then look again after a short pause."""
        await keep_working(
            self.work,
            what="broadcasts",
            log=log,
            idle=lambda: self.settings.idle_poll,
            refused_pause=self.settings.idle_poll * 30,
            sleep=self.sleep,
            on_failure=self.on_failure,
        )

    async def work(self) -> bool:
        """Process every due broadcast until it is done, paused or cancelled."""
        due = self.broadcasts.due()
        for row in due:
            await self.deliver(row.id)
        return bool(due)

    async def deliver(self, broadcast_id: int) -> None:
        """Send one broadcast as far as it goes now."""
        self.broadcasts.start(broadcast_id)
        row = self.broadcasts.get(broadcast_id)
        if row is None:
            return
        log.info("broadcast %d: sending to %d", broadcast_id, row.total)
        await self._show_status(broadcast_id, force=True)
        while True:
            row = self.broadcasts.get(broadcast_id)
            if row is None or row.status != "sending":
                break
            keys = self.broadcasts.pending_keys(broadcast_id, self.settings.batch)
            if not keys:
                break
            await work_through(
                keys, workers=self.settings.workers, each=functools.partial(self._send_one, row)
            )
            await self._show_status(broadcast_id)
        if self.broadcasts.finish_if_complete(broadcast_id):
            log.info("broadcast %d: done", broadcast_id)
        await self._show_status(broadcast_id, force=True)

    async def _send_one(self, row: BroadcastRow, key: str) -> bool:
        """One delivery; False when the broadcast was paused or cancelled (stop taking more)."""
        # Waits for its turn first (parents first, the bot-wide pace), then checks the
        # broadcast right before the claim: a Pause pressed meanwhile stops this very send.
        await self.sender.wait_turn(Priority.BROADCAST)
        if not self.broadcasts.is_sending(row.id):
            return False  # paused or cancelled: what is left stays pending
        claimed = await self._patiently(self.broadcasts.claim, row.id, key)
        if claimed is None:
            return True  # unsubscribed since the broadcast started, or no longer pending
        chat_id, lang = claimed
        message = Outgoing(chat_id, render_text(row.texts, lang, self.content), photo=row.photo)
        try:
            delivery = await self.sender.send(message, Priority.BROADCAST, turn_taken=True)
        except BotRefused:
            await self._patiently(self.broadcasts.release, row.id, key)  # certainly unsent
            raise
        # The result must be written whatever it takes: a row left `attempted` holds the
        # broadcast open until a restart turns it `unknown`.
        if delivery.status is Status.LATER:
            await self._patiently(self.broadcasts.release, row.id, key)
        else:
            await self._patiently(
                self.broadcasts.record, row.id, key, delivery.status.value, delivery.error
            )
        # Every status_every seconds, not only between batches (200 take 8 s at 25/s).
        await self._show_status(row.id)
        return True

    async def _patiently(self, write: Callable[..., T], *args: Any) -> T:
        """A write that waits out a busy database (asynchronously: parents go on meanwhile)."""

        async def attempt() -> T:
            return write(*args)

        return await patiently(attempt, patience=float("inf"), clock=self.clock, sleep=self.sleep)

    # --- the staff status message ------------------------------------------------------------

    def status_screen(self, row: BroadcastRow, lang: str | None = None) -> Screen:
        """The state, the time in TIMEZONE, the progress, and Pause / Resume / Cancel, in `lang`."""
        row = self.broadcasts.as_shown(row)
        eta = eta_seconds(row, self.sender.rate)
        return status_screen(row, self.content, lang, tz=self.tz, now=self.clock(), eta=eta)

    async def _show_status(self, broadcast_id: int, *, force: bool = False) -> None:
        now = self.clock()
        last = self._status_shown.get(broadcast_id, -1e9)
        if not force and now - last < self.settings.status_every:
            return
        self._status_shown[broadcast_id] = now
        self.broadcasts.refresh_counts(broadcast_id)
        row = self.broadcasts.get(broadcast_id)
        if row is None or row.status_chat_id is None or row.status_message_id is None:
            return
        screen = self.status_screen(row, self.language_of(row.status_chat_id))
        update = Outgoing.screen(row.status_chat_id, screen, edit=row.status_message_id)
        delivery = await self.sender.send(update, Priority.NOTICE)
        if not delivery.ok:
            log.info("status message not updated: %s", delivery.error)
