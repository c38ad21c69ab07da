"""Is the bot alive: its figures as it runs, and the heartbeat row that carries them.

Times and counts only, never a chat, a name or anything typed. The running bot keeps a
`Health` and writes it to the one-row `heartbeat` table with each lease renewal (bot/tg/app.py);
`iep-bot status` (another process, any mode) and the webhook's /health read the same figures.
Only the standard library here: `iep-bot status` runs often (a container's HEALTHCHECK).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

# How often the running bot writes its heartbeat: bot/lease.py's RENEW_EVERY (it beats when it
# renews; a number here, since bot.lease loads the database library; a test checks they agree).
BEAT_EVERY = 10.0
STALE_AFTER = 3 * BEAT_EVERY  # a heartbeat older than this: the bot is not running


@dataclass(frozen=True)
class Figures:
    """What one running bot says about itself (epoch seconds)."""

    mode: str  # polling | webhook
    holder: str  # host:pid, for the operator to find the process
    started_at: float
    beat_at: float
    updates_handled: int = 0
    last_handled_at: float | None = None
    updates_in_progress: int = 0
    updates_waiting: int = 0
    last_error: str | None = None  # the kind (an exception's class name), never its text
    last_error_at: float | None = None
    stopped_at: float | None = None  # set by a clean stop


class Health:
    """The running bot's figures, noted as it goes."""

    def __init__(self, mode: str, holder: str = "", *, clock: Callable[[], float] = time.time):
        self.mode = mode
        self.holder = holder
        self.clock = clock
        self.started_at = clock()
        self.updates_handled = 0
        self.last_handled_at: float | None = None
        self.last_error: str | None = None
        self.last_error_at: float | None = None

    def note_handled(self) -> None:
        """An update was handled (whatever became of it)."""
        self.updates_handled += 1
        self.last_handled_at = self.clock()

    def note_error(self, kind: str) -> None:
        """An error of this kind (a class name such as "BadRequest") just happened."""
        self.last_error = kind[:80]
        self.last_error_at = self.clock()

    def figures(self, *, in_progress: int, waiting: int, stopped: bool = False) -> Figures:
        now = self.clock()
        return Figures(
            mode=self.mode,
            holder=self.holder,
            started_at=self.started_at,
            beat_at=now,
            updates_handled=self.updates_handled,
            last_handled_at=self.last_handled_at,
            updates_in_progress=in_progress,
            updates_waiting=waiting,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            stopped_at=now if stopped else None,
        )


# --- the heartbeat row --------------------------------------------------------------------------

_DETAILS = (
    "holder",
    "updates_handled",
    "last_handled_at",
    "updates_in_progress",
    "updates_waiting",
    "last_error",
    "last_error_at",
    "stopped_at",
)


def write_heartbeat(db: sqlite3.Connection, figures: Figures) -> None:
    """Replace the one heartbeat row (a single statement: it commits by itself)."""
    details = json.dumps({name: getattr(figures, name) for name in _DETAILS})
    db.execute(
        "INSERT INTO heartbeat (id, mode, started_at, beat_at, details) VALUES (1, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET mode = excluded.mode, started_at = excluded.started_at,"
        " beat_at = excluded.beat_at, details = excluded.details",
        [figures.mode, figures.started_at, figures.beat_at, details],
    )


def read_heartbeat(db: sqlite3.Connection) -> Figures | None:
    """The last heartbeat written, or None if no bot ever ran on this database."""
    try:
        row = db.execute(
            "SELECT mode, started_at, beat_at, details FROM heartbeat WHERE id = 1"
        ).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None  # a database from before the heartbeat (no bot of this version ran)
        raise
    if row is None:
        return None
    details: dict[str, Any] = json.loads(row[3] or "{}")
    known = {name: details[name] for name in _DETAILS if name in details}
    return Figures(mode=str(row[0]), started_at=float(row[1]), beat_at=float(row[2]), **known)


@dataclass(frozen=True)
class BroadcastLoad:
    """Broadcast work in the database: sending now, deliveries left in them, waiting to start."""

    sending: int = 0
    left: int = 0
    waiting: int = 0


def broadcast_load(db: sqlite3.Connection) -> BroadcastLoad:
    """Counted straight from the broadcast tables (indexed by status)."""
    try:
        sending, waiting = db.execute(
            "SELECT count(*) FILTER (WHERE status = 'sending'),"
            " count(*) FILTER (WHERE status IN ('queued', 'scheduled')) FROM broadcasts"
            " WHERE status IN ('sending', 'queued', 'scheduled')"
        ).fetchone()
        left = db.execute(
            "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'attempted')"
            " AND broadcast_id IN (SELECT id FROM broadcasts WHERE status = 'sending')"
        ).fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return BroadcastLoad()
        raise
    return BroadcastLoad(int(sending), int(left), int(waiting))


# --- the report: `iep-bot status` and /health -------------------------------------------------


@dataclass(frozen=True)
class Report:
    """The bot's state as a monitor reads it.

    state: running (a fresh heartbeat), starting or stopping (/health only: the process is
    on its way in or out), stopped (stopped cleanly), stale (no heartbeat for STALE_AFTER:
    crashed, frozen or killed), never (no bot ever ran on this database).
    """

    state: str
    now: float
    figures: Figures | None = None
    broadcasts: BroadcastLoad | None = BroadcastLoad()  # None: the database was busy

    @property
    def ok(self) -> bool:
        return self.state == "running"

    def as_json(self, tz: zoneinfo.ZoneInfo, *, with_holder: bool = True) -> dict[str, Any]:
        """The figures for machines: times as ISO 8601 in `tz`, ages in whole seconds."""
        data: dict[str, Any] = {"state": self.state, "ok": self.ok}
        f = self.figures
        if f is not None:
            data["mode"] = f.mode
            if with_holder:
                data["holder"] = f.holder
            data.update(
                started_at=_iso(f.started_at, tz),
                heartbeat_at=_iso(f.beat_at, tz),
                heartbeat_age_s=_age(self.now, f.beat_at),
                updates_handled=f.updates_handled,
                last_update_handled_at=_iso(f.last_handled_at, tz),
                last_update_handled_age_s=_age(self.now, f.last_handled_at),
                updates_in_progress=f.updates_in_progress,
                updates_waiting=f.updates_waiting,
                last_error=None
                if f.last_error is None
                else {"kind": f.last_error, "at": _iso(f.last_error_at, tz)},
                stopped_at=_iso(f.stopped_at, tz),
            )
        b = self.broadcasts
        data["broadcasts"] = (
            None
            if b is None
            else {
                "sending": b.sending,
                "deliveries_left": b.left,
                "waiting_to_start": b.waiting,
            }
        )
        return data

    def line(self, tz: zoneinfo.ZoneInfo) -> str:
        """One line for the operator's terminal."""
        f = self.figures
        if f is None:
            return (
                "never ran: no heartbeat in this database (has `iep-bot run` started with this"
                " DATABASE_PATH?)"
            )
        since = _local(f.started_at, tz).strftime("%Y-%m-%d %H:%M %Z")
        where = f"({f.mode}) on {f.holder or 'an unknown host'}"
        if self.state == "stopped" and f.stopped_at is not None:
            head = f"stopped {where} at {self._when(f.stopped_at, tz)}, cleanly (ran since {since})"
        elif self.state == "stale":
            head = (
                f"NOT RUNNING: last heartbeat {_ago(self.now, f.beat_at)} ago {where}, started"
                f" {since}; it crashed, froze or was killed"
            )
        else:
            head = f"{self.state} {where} since {since}, heartbeat {_ago(self.now, f.beat_at)} ago"
        if f.last_handled_at is None:
            handled = "no update handled yet"
        else:
            handled = (
                f"last update handled {_ago(self.now, f.last_handled_at)} ago"
                f" ({f.updates_handled} handled)"
            )
        waiting = f"waiting: {f.updates_waiting} updates, {f.updates_in_progress} in progress"
        b = self.broadcasts
        casts = "broadcasts: unknown (the database was busy)"
        if b is not None:
            casts = f"broadcasts: {b.sending} sending, {b.left} left"
            if b.waiting:
                casts += f", {b.waiting} to start"
        error = "last error: none"
        if f.last_error is not None and f.last_error_at is not None:
            error = f"last error: {f.last_error} at {self._when(f.last_error_at, tz)}"
        return f"{head}; {handled}; {waiting}; {casts}; {error}"

    def _when(self, at: float, tz: zoneinfo.ZoneInfo) -> str:
        """A time of day today, else with its date."""
        moment, today = _local(at, tz), _local(self.now, tz)
        if moment.date() == today.date():
            return moment.strftime("%H:%M")
        return moment.strftime("%Y-%m-%d %H:%M")


def report_from_db(db: sqlite3.Connection, now: float) -> Report:
    """What the heartbeat row says, judged at `now` (for `iep-bot status`)."""
    figures = read_heartbeat(db)
    load = broadcast_load(db)
    if figures is None:
        return Report("never", now, None, load)
    if figures.stopped_at is not None:
        state = "stopped"
    elif now - figures.beat_at > STALE_AFTER:
        state = "stale"
    else:
        state = "running"
    return Report(state, now, figures, load)


def live_report(figures: Figures, load: BroadcastLoad | None, state: str) -> Report:
    """The running process's own report (for /health), fresher than its last heartbeat;
    `state` is running, starting or stopping."""
    return Report(state, figures.beat_at, replace(figures, stopped_at=None), load)


def _local(at: float, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, tz)


def _iso(at: float | None, tz: zoneinfo.ZoneInfo) -> str | None:
    return None if at is None else _local(at, tz).isoformat(timespec="seconds")


def _age(now: float, at: float | None) -> int | None:
    return None if at is None else max(0, round(now - at))


def _ago(now: float, at: float) -> str:
    """3 s, 12 min, 5 h, 2 d."""
    seconds = max(0, round(now - at))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 120 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
