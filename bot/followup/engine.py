"""The follow-through engine: sends due reminders and check-ins through the one Sender.

The broadcast engine's promises (bot/broadcast/engine.py), for notices:
- at most once: a notice is claimed (`attempted`, committed) before its send and given its
  result after; after a crash `attempted` becomes `unknown` (FollowUps.recover), never resent;
- daytime only: nothing leaves during QUIET_HOURS; what fell due at night goes when they end;
- one budget: each notice takes its turn at Priority.NOTICE (after parents' replies, before
  broadcasts) within the Sender's bot-wide TELEGRAM_RATE; this engine never paces itself;
- no stale burst: after a long stop, a chat gets only its latest due reminder;
- privacy: a 403 deletes the chat's follow-through data (FollowUps.record); finished deadlines
  and the chats of check-ins sent two days ago are let go (FollowUps.tidy).
Logs hold counts, kinds and steps: never a chat id, a chat key or a session id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.busy import patiently
from bot.config import Settings
from bot.delivery import BotRefused, Outgoing, Priority, Sender, Status
from bot.followup.store import FAILED, PENDING, SKIPPED, FollowUps, Notice
from bot.logs import log_failure
from bot.storage import Clock
from bot.workers import keep_working, work_through
from flows.schedule import local_time, release_time

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
Compose = Callable[[Notice], Outgoing | None]
T = TypeVar("T")

# What became of a notice besides a Delivery status: not sent now, it stays pending (a stop,
# quiet hours began, or Telegram said "later"); or someone else had it (cancelled, /forget).
LEFT, LATER, GONE = "left", "later", "gone"
_NO_PROGRESS = (LEFT, LATER)


@dataclass
class FollowUpEngineSettings:
    workers: int = 4  # sends in flight at once; notices are few beside broadcasts
    batch: int = 200  # notices read from the database at a time (memory stays flat)
    idle_poll: float = 10.0  # the longest an idle engine sleeps before looking again
    tidy_every: float = 600.0  # finished deadlines lose their chat id within this long


class FollowUpEngine:
    """Sends due follow-through notices; one task beside the bot, resumes by itself on start."""

    def __init__(
        self,
        followups: FollowUps,
        sender: Sender,
        *,
        compose: Compose,
        settings: Settings,
        engine_settings: FollowUpEngineSettings | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.followups = followups
        self.sender = sender
        # The message for a notice, in its language; None: nothing to send any more.
        self.compose = compose
        self.settings = settings  # QUIET_HOURS and TIMEZONE
        self.engine_settings = engine_settings or FollowUpEngineSettings()
        self.clock = clock or followups.storage.clock
        self.sleep = sleep
        # Told of each unexpected failure (the staff alerts, bot/tg/alerts.py), after the log.
        self.on_failure = on_failure or (lambda _error: None)
        self._task: asyncio.Task[None] | None = None
        self._last_tidy: float | None = None
        self._closing = False
        self._in_flight = 0  # claimed and not yet recorded
        self._idle = asyncio.Event()
        self._idle.set()

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Recover after a restart, then start the background task (from post_init)."""
        self.recover()
        self._closing = False
        self._task = asyncio.create_task(self.run(), name="followup-engine")

    def recover(self) -> int:
        """Notices claimed by a process that died may have gone: `unknown`, never resent."""
        recovered = self.followups.recover()
        if recovered:
            log.warning(
                "%d follow-through notices had no recorded result after a restart: unknown,"
                " not sent again",
                recovered,
            )
        return recovered

    async def stop(self, *, drain: float = 0.0) -> bool:
        """Stop. With `drain`, no notice starts any more and those on their way get up to
        `drain` seconds to finish and be recorded (cut off, one would become `unknown` at
        the next start). True if none was cut off."""
        self._closing = True
        clean = self._in_flight == 0
        if not clean and drain > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), drain)
            clean = self._in_flight == 0
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        return clean

    async def run(self) -> None:
        """Forever: send what is due, then sleep until there may be more."""
        await keep_working(
            self.work,
            what="reminders and check-ins",
            log=log,
            idle=self._idle_seconds,
            refused_pause=self.engine_settings.idle_poll * 30,
            sleep=self.sleep,
            on_failure=self.on_failure,
        )

    def _idle_seconds(self) -> float:
        try:
            return self.pause()
        except sqlite3.OperationalError:
            return self.engine_settings.idle_poll

    def pause(self) -> float:
        """Seconds an idle engine sleeps: until quiet hours end or the next notice is due,
        never longer than idle_poll (a deadline set meanwhile may be due at once)."""
        now = self.clock()
        poll = self.engine_settings.idle_poll
        quiet = self.quiet_until(now)
        if quiet is not None:
            return min(poll, quiet - now)
        next_at = self.followups.next_due_at()
        if next_at is None or next_at <= now:
            return poll
        return min(poll, next_at - now)

    def quiet_until(self, now: float) -> float | None:
        """The end of quiet hours as a unix time when `now` falls inside them, else None."""
        # bot/broadcast/quiet.py's rule, taken from flows/schedule.py itself so that
        # bot.followup needs nothing of bot.broadcast (daylight saving included).
        release = release_time(local_time(now, self.settings.tz), None, self.settings.quiet_hours)
        return release.timestamp() if release is not None else None

    async def work(self) -> bool:
        """Send what is due, batch after batch, until nothing is, quiet hours begin or the
        engine stops. Whether any notice was dealt with (sent, skipped, failed, ...)."""
        await self._tidy_now_and_then()
        dealt_with = False
        while not self._closing:
            now = self.clock()
            if self.quiet_until(now) is not None:
                break
            notices = self.followups.due(now, self.engine_settings.batch)
            if not notices:
                break
            tally = await self._send_batch(notices, now)
            _log_tally(tally)
            if all(outcome in _NO_PROGRESS for (_, outcome) in tally):
                break  # Telegram keeps saying "later": the run loop pauses before trying again
            dealt_with = True
        return dealt_with

    # --- one batch -------------------------------------------------------------------------

    async def _send_batch(self, notices: Sequence[Notice], now: float) -> Counter[tuple[str, str]]:
        """Send a batch with a few workers; (kind/step, outcome) -> how many."""
        tally: Counter[tuple[str, str]] = Counter()
        notices = await self._latest_only(notices, now, tally)

        async def each(notice: Notice) -> bool:
            tally[(_label(notice), await self._deliver(notice))] += 1
            return True

        await work_through(notices, workers=self.engine_settings.workers, each=each)
        return tally

    async def _latest_only(
        self, notices: Sequence[Notice], now: float, tally: Counter[tuple[str, str]]
    ) -> list[Notice]:
        """Drop reminders that a later due reminder of the same chat supersedes (the bot was
        down for days: "two weeks left" then "due today" at once would confuse)."""
        by_chat: dict[str, list[Notice]] = defaultdict(list)
        for notice in notices:
            if notice.kind == "reminder":
                by_chat[notice.chat_key].append(notice)
        stale: set[Notice] = set()
        for chat_key, reminders in by_chat.items():
            deadline = self.followups.deadline(chat_key)
            if deadline is None:
                continue  # cancelled meanwhile: the claims will find nothing
            due_times = [at for _, at, status in deadline.reminders if status == PENDING]
            latest = max((at for at in due_times if at <= now), default=None)
            if latest is None:
                continue
            if any(at < latest for at in due_times):
                await self._patiently(self.followups.skip_superseded, chat_key, latest)
                for reminder in reminders:
                    if reminder.send_at < latest:
                        stale.add(reminder)
                        tally[(_label(reminder), "superseded")] += 1
        return [notice for notice in notices if notice not in stale]

    async def _deliver(self, notice: Notice) -> str:
        """One notice, as far as it goes now; what became of it."""
        try:
            message = self.compose(notice)
            if message is not None and message.chat_id != notice.chat_id:
                raise ValueError("a notice was composed for another chat")
        except Exception as exc:
            # A bug in one notice's words must not hold back the rest, nor be retried forever.
            log_failure(log, f"follow-through {_label(notice)} could not be composed", exc)
            self.on_failure(exc)
            return await self._close_unsent(notice, FAILED)
        if message is None:
            return await self._close_unsent(notice, SKIPPED)  # e.g. its content is gone
        await self.sender.wait_turn(Priority.NOTICE)
        # Checked after the wait, right before the claim: a stop, or 20:00 striking, meanwhile.
        if self._closing or self.quiet_until(self.clock()) is not None:
            return LEFT
        if not await self._patiently(self.followups.claim, notice):
            return GONE  # cancelled, /forget, or claimed by someone else
        self._in_flight += 1
        self._idle.clear()
        try:
            try:
                delivery = await self.sender.send(message, Priority.NOTICE, turn_taken=True)
            except BotRefused:
                await self._patiently(self.followups.release, notice)  # certainly unsent
                raise
            # The result must be written whatever it takes: a row left `attempted` would
            # become `unknown` at the next start.
            if delivery.status is Status.LATER:
                await self._patiently(self.followups.release, notice)
                return LATER
            await self._patiently(self.followups.record, notice, delivery.status.value)
            if delivery.status is Status.FAILED:
                log.info("follow-through %s not sent: %s", _label(notice), delivery.error)
            return delivery.status.value
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _close_unsent(self, notice: Notice, status: str) -> str:
        """A notice that will not go: claimed and given its end at once."""
        if not await self._patiently(self.followups.claim, notice):
            return GONE
        await self._patiently(self.followups.record, notice, status)
        return status

    # --- housekeeping ----------------------------------------------------------------------

    async def _tidy_now_and_then(self) -> None:
        now = self.clock()
        if self._last_tidy is not None and now - self._last_tidy < self.engine_settings.tidy_every:
            return
        deadlines, checkins = await self._patiently(self.followups.tidy, now)
        self._last_tidy = now
        if deadlines or checkins:
            log.info(
                "follow-through tidy: %d finished deadlines deleted, %d check-ins let go of"
                " their chat",
                deadlines,
                checkins,
            )

    async def _patiently(self, action: Callable[..., T], *args: Any) -> T:
        """A write that waits out a busy database (asynchronously: parents go on meanwhile)."""

        async def attempt() -> T:
            return action(*args)

        return await patiently(attempt, patience=float("inf"), clock=self.clock, sleep=self.sleep)


def _label(notice: Notice) -> str:
    """What a notice is, for the log: its kind and step, nothing about whose it is."""
    return f"{notice.kind} {notice.step}"


def _log_tally(tally: Counter[tuple[str, str]]) -> None:
    if tally:
        counts = ", ".join(
            f"{label} {outcome} {n}" for (label, outcome), n in sorted(tally.items())
        )
        log.info("follow-through notices: %s", counts)
