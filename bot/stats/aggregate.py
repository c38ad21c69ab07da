"""Aggregate screening statistics for staff: counted in SQL, small cells suppressed.

Every figure is a GROUP BY over the anonymous tables (outcome_counts, the rollup of outcomes;
sessions, booking_presses, subscription_events, broadcasts, letters_made, checkins and
follow_through_counts); Python only reshapes the few hundred grouped rows.
`compute_stats` returns raw counts (`Stats`); `Stats.to_json()` is the only view that may
leave this module, and every output (Telegram, table, JSON, CSV, export, chart) is built
from it.

Privacy, with k = STATS_MIN_CELL:
- any count below k shows as "<k", and a rate whose numerator or denominator is hidden is
  not shown (None: a "<5" there would read as "under 5 %");
- breakdowns by something a parent can be recognised by (language, deep-link source,
  outcome, the question where they stopped) never show a group smaller than k: small
  groups are folded into "other", and "other" keeps growing until it holds at least k, so
  it cannot be worked out by subtracting the shown rows from a shown total;
- inside a breakdown, a column whose hidden cells could be recovered from its total
  (they add up to between 1 and k - 1) folds rows into "other" as well;
- the timeline merges neighbouring days or weeks until every bucket holds at least k.
Top-line totals that carry nothing but the period (started, finished, abandoned, in
progress, Book presses from the menu, subscribers) are suppressed below k but may be
differenced from one another: they say nothing about who anyone is or what they answered.

Periods are inclusive day ranges compared with the `day` columns, which hold the day a
screening started as `Storage.today()` dates it (the time of day is never stored). A period
ending "today" takes today from that same function, so the last day in a title and the last
bucket of the timeline are always the same day.

Follow-through (bot/followup/store.py) counts by other days, one rule each:
- deadlines set, reminders sent and check-ins offered (a parent said yes) are the daily counts
  of follow_through_counts, on the day each happened; an offer later cancelled still counts;
- check-ins sent, answered, "asked the school" and "the school agreed" all count on the day
  the check-in was sent (`sent_day`), with its answers whenever they came: one group of
  parents, so every figure of it is part of the one before (agreed <= asked <= answered <=
  sent) and no rate goes over 100 %. "Answered" means "Did you ask the school?" was
  answered; a check-in never delivered (failed, blocked) was not sent.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.readonly import connect_readonly
from bot.storage import letters_made

OTHER = "other"
Cell = int | str  # a count, or the suppression marker
Row = tuple[int, ...]


# --- suppression ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suppressor:
    """The rules above, for one threshold."""

    min_cell: int

    @property
    def marker(self) -> str:
        return f"<{self.min_cell}"

    def cell(self, count: int) -> Cell:
        """The count, or the marker when it is small enough to point at someone."""
        return count if count >= self.min_cell else self.marker

    def rate(self, numerator: int, denominator: int) -> float | None:
        """numerator / denominator; None (not shown) when either count is hidden."""
        if numerator < self.min_cell or denominator < self.min_cell:
            return None
        return round(numerator / denominator, 3)

    def fold(self, groups: Mapping[str, Row]) -> list[tuple[str, Row]]:
        """Breakdown rows (first column: the group's size) safe to show, biggest first.

        Each column's total is assumed to be shown elsewhere, so folding goes on until
        no column has hidden cells that add up to between 1 and k - 1.
        """
        k = self.min_cell
        width = len(next(iter(groups.values()), ()))
        kept = sorted(
            ((name, row) for name, row in groups.items() if row[0] >= k and name != OTHER),
            key=lambda kv: (-kv[1][0], kv[0]),
        )
        # All the rest, by the same test: a membership test on `kept` would be quadratic in
        # the number of groups (thousands of one-off deep links), and they need no sorting.
        other = _add(width, (row for name, row in groups.items() if row[0] < k or name == OTHER))
        folding = _Folding(k, kept, other)
        totals = _add(width, groups.values())
        while (victim := folding.leaking_row(totals)) is not None:
            folding.fold(victim)
        return folding.result()


class _Folding:
    """The kept rows and "other" while `fold` runs, with each column's hidden cells.

    The hidden cells' sums are updated row by row, so folding n rows one at a time (a
    column can stay leaky until thousands of rows with a hidden 0 in it have gone) costs
    n times the width of a row, not n times the number of rows.
    """

    def __init__(self, k: int, kept: list[tuple[str, Row]], other: Row) -> None:
        self.k, self.kept, self.other = k, kept, list(other)
        self.alive = [True] * len(kept)
        self.everyone = list(range(len(kept)))
        # Per column: positions in `kept` (smallest row last) whose cell there is hidden.
        self.hidden = [
            [i for i, (_, row) in enumerate(kept) if row[column] < k]
            for column in range(len(other))
        ]
        self.hidden_sum = [sum(kept[i][1][c] for i in rows) for c, rows in enumerate(self.hidden)]

    def leaking_row(self, totals: Row) -> int | None:
        """The next row to fold into "other" (its position), or None when nothing leaks."""
        k, other = self.k, self.other
        shown_other = any(other)
        for column, total in enumerate(totals):
            hidden_sum = self.hidden_sum[column]
            if shown_other and other[column] < k:
                hidden_sum += other[column]
            if total >= k and 0 < hidden_sum < k:
                # Folding the smallest row with a hidden cell merges that cell into "other";
                # when only "other" is hidden, the smallest row of all has to join it.
                suspect = self._last(self.hidden[column])
                return suspect if suspect is not None else self._last(self.everyone)
        return None

    def _last(self, positions: list[int]) -> int | None:
        """The last of `positions` still kept; folded ones are dropped from the end."""
        while positions and not self.alive[positions[-1]]:
            positions.pop()
        return positions[-1] if positions else None

    def fold(self, position: int) -> None:
        """Move one kept row into "other"."""
        self.alive[position] = False
        for column, value in enumerate(self.kept[position][1]):
            self.other[column] += value
            if value < self.k:
                self.hidden_sum[column] -= value

    def result(self) -> list[tuple[str, Row]]:
        """The rows still kept, biggest first, then "other" unless it is empty."""
        kept = [entry for entry, alive in zip(self.kept, self.alive, strict=True) if alive]
        other = tuple(self.other)
        return kept + ([(OTHER, other)] if any(other) else [])


def _add(width: int, rows: Iterable[Row]) -> Row:
    """Column sums of `rows`; zeros when there are none."""
    return tuple(map(sum, zip(*rows, strict=True))) or (0,) * width


# --- raw aggregates ---------------------------------------------------------------------------


@dataclass
class Stats:
    """Raw aggregates for one period; `to_json()` is the only suppressed, shareable view."""

    since: dt.date | None
    until: dt.date | None
    min_cell: int
    sessions_completed: int = 0
    sessions_abandoned: int = 0
    sessions_in_progress: int = 0
    # outcome id -> (finished screenings with it, of which Book was pressed)
    outcomes: dict[str, tuple[int, int]] = field(default_factory=dict)
    booking_from_menu: int = 0
    # language or source -> (started, finished)
    by_language: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_source: dict[str, tuple[int, int]] = field(default_factory=dict)
    dropoff: dict[str, int] = field(default_factory=dict)  # question id -> abandoned there
    days: list[tuple[dt.date, int, int]] = field(default_factory=list)  # (day, started, done)
    subscribers_now: int = 0
    subscribers_joined: int = 0
    subscribers_left: int = 0
    broadcasts_sent: int = 0
    broadcasts_cancelled: int = 0
    broadcast_messages: int = 0
    # (type, language) -> letters made (bot/storage.py letters_made; counts only)
    letters: dict[tuple[str, str], int] = field(default_factory=dict)
    # event -> count: deadline_set, reminder_sent, checkin_offered (follow_through_counts)
    follow_events: dict[str, int] = field(default_factory=dict)
    # outcome id -> (check-ins sent, answered, asked the school, the school agreed)
    checkins: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def sessions_started(self) -> int:
        return self.sessions_completed + self.sessions_abandoned + self.sessions_in_progress

    @property
    def booking_after_result(self) -> int:
        return sum(booked for _, booked in self.outcomes.values())

    def to_json(self) -> dict[str, Any]:
        """Every figure, suppressed: safe to print, send, export or chart."""
        s = Suppressor(self.min_cell)
        outcome_rows = s.fold({k: (n,) for k, (n, _) in self.outcomes.items()})
        booking_rows = s.fold(self.outcomes)
        return {
            "period": {
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            },
            "min_cell": self.min_cell,
            "sessions_started": s.cell(self.sessions_started),
            "sessions_completed": s.cell(self.sessions_completed),
            "sessions_abandoned": s.cell(self.sessions_abandoned),
            "sessions_in_progress": s.cell(self.sessions_in_progress),
            "completion_rate": s.rate(self.sessions_completed, self.sessions_started),
            "outcomes": {name: s.cell(n) for name, (n,) in outcome_rows},
            "booking_presses": {
                "total": s.cell(self.booking_after_result + self.booking_from_menu),
                "after_result": s.cell(self.booking_after_result),
                # People who tapped Book after their result, over the results shown.
                "after_result_rate": s.rate(self.booking_after_result, self.sessions_completed),
                "from_menu": s.cell(self.booking_from_menu),
                "by_outcome": {
                    name: {
                        "screenings": s.cell(n),
                        "count": s.cell(booked),
                        "rate": s.rate(booked, n),
                    }
                    for name, (n, booked) in booking_rows
                },
            },
            "by_language": _breakdown(s, self.by_language),
            "by_source": _breakdown(s, self.by_source),
            "dropoff": {name: s.cell(n) for name, (n,) in s.fold(_single(self.dropoff))},
            "timeline": timeline(s, self.days, self.since, self.until),
            "subscribers": {
                "now": s.cell(self.subscribers_now),
                "joined": s.cell(self.subscribers_joined),
                "left": s.cell(self.subscribers_left),
            },
            "broadcasts_sent": s.cell(self.broadcasts_sent),
            "broadcasts": {
                "sent": s.cell(self.broadcasts_sent),
                "cancelled": s.cell(self.broadcasts_cancelled),
                "messages_delivered": s.cell(self.broadcast_messages),
            },
            "letters": _letters(s, self.letters),
            "follow_through": _follow_through(s, self.follow_events, self.checkins),
        }


def _letters(s: Suppressor, made: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    """Letters made: the total, by type and by language ("en", "es", "en+es"), folded and
    suppressed like every other breakdown."""
    by_type: dict[str, int] = {}
    by_language: dict[str, int] = {}
    for (letter_type, lang), n in made.items():
        by_type[letter_type] = by_type.get(letter_type, 0) + n
        by_language[lang] = by_language.get(lang, 0) + n
    return {
        "total": s.cell(sum(made.values())),
        "by_type": {name: s.cell(n) for name, (n,) in s.fold(_single(by_type))},
        "by_language": {name: s.cell(n) for name, (n,) in s.fold(_single(by_language))},
    }


def _follow_through(
    s: Suppressor, events: Mapping[str, int], checkins: Mapping[str, tuple[int, int, int, int]]
) -> dict[str, Any]:
    """Deadlines, reminders and check-ins (the module docstring says which day each counts
    on), with the check-ins by outcome folded like every other breakdown."""
    sent, answered, asked, agreed = _add(4, checkins.values())
    return {
        "deadlines_set": s.cell(events.get("deadline_set", 0)),
        "reminders_sent": s.cell(events.get("reminder_sent", 0)),
        "checkins_offered": s.cell(events.get("checkin_offered", 0)),
        "checkins_sent": s.cell(sent),
        "checkins_answered": s.cell(answered),
        "asked_school": s.cell(asked),
        "school_agreed": s.cell(agreed),
        "answered_of_sent": s.rate(answered, sent),
        "asked_of_answered": s.rate(asked, answered),
        "agreed_of_asked": s.rate(agreed, asked),
        # The figure the practice never had: of the parents who told us, how many got the
        # school to agree to an evaluation or a meeting.
        "agreed_of_answered": s.rate(agreed, answered),
        "by_outcome": {
            name or "(none)": {
                "sent": s.cell(n),
                "answered": s.cell(told),
                "asked_school": s.cell(yes),
                "school_agreed": s.cell(agreed_here),
                "asked_of_answered": s.rate(yes, told),
                "agreed_of_answered": s.rate(agreed_here, told),
            }
            for name, (n, told, yes, agreed_here) in s.fold(checkins)
        },
    }


def _single(counts: Mapping[str, int]) -> dict[str, Row]:
    return {name: (n,) for name, n in counts.items()}


def _breakdown(s: Suppressor, groups: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    return {
        name or "(none)": {
            "started": s.cell(started),
            "completed": s.cell(completed),
            "completion_rate": s.rate(completed, started),
        }
        for name, (started, completed) in s.fold(groups)
    }


# --- the timeline -----------------------------------------------------------------------------


def bucket_unit(first: dt.date, last: dt.date) -> str:
    """Days for a month or less, weeks up to half a year, months beyond."""
    span = (last - first).days + 1
    return "day" if span <= 31 else "week" if span <= 183 else "month"


def _bucket(day: dt.date, unit: str, last: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the bucket holding `day`.

    Weeks are counted back from the period's last day, so the newest week is a whole one
    (only the oldest may be short); months are calendar months.
    """
    if unit == "week":
        end = last - dt.timedelta(days=(last - day).days // 7 * 7)
        return end - dt.timedelta(days=6), end
    if unit == "month":
        following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return day.replace(day=1), following - dt.timedelta(days=1)
    return day, day


def timeline(
    s: Suppressor,
    days: Sequence[tuple[dt.date, int, int]],
    since: dt.date | None,
    until: dt.date | None,
) -> dict[str, Any]:
    """Started and finished per day, week or month; neighbours merge until each holds k.

    The buckets cover the period from its first to its last day without gaps. Buckets
    merge until both counts reach k, so no bucket has a hidden cell to recover from the
    period's totals; when fewer than k screenings finished in the whole period, only
    `started` drives the merging and `completed` shows as the marker.
    """
    if not days:
        return {"unit": None, "buckets": []}
    first = since or days[0][0]
    last = max(until or days[-1][0], days[-1][0])
    unit = bucket_unit(first, last)
    natural: dict[tuple[dt.date, dt.date], list[int]] = {}
    for day, started, completed in days:
        counts = natural.setdefault(_bucket(day, unit, last), [0, 0])
        counts[0] += started
        counts[1] += completed
    need_completed = sum(c for _, c in natural.values()) >= s.min_cell

    def enough(started: int, completed: int) -> bool:
        return started >= s.min_cell and (completed >= s.min_cell or not need_completed)

    merged: list[list[Any]] = []  # [from, to, started, completed]
    pending: list[Any] | None = None
    for (start, end), (started, completed) in sorted(natural.items()):
        if pending is None:
            pending = [start, end, started, completed]
        else:
            pending[1:] = [end, pending[2] + started, pending[3] + completed]
        if enough(pending[2], pending[3]):
            merged.append(pending)
            pending = None
    if pending is not None:
        if merged:  # a small tail joins the bucket before it
            tail = merged[-1]
            tail[1:] = [pending[1], tail[2] + pending[2], tail[3] + pending[3]]
        else:
            merged.append(pending)
    # Buckets tile the whole period: a quiet stretch belongs to the bucket after it.
    buckets = []
    for index, (_, end, started, completed) in enumerate(merged):
        start = first if index == 0 else merged[index - 1][1] + dt.timedelta(days=1)
        end = last if index == len(merged) - 1 else end
        buckets.append(
            {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "started": s.cell(started),
                "completed": s.cell(completed),
            }
        )
    return {"unit": unit, "buckets": buckets}


# --- SQL ----------------------------------------------------------------------------------------


def _range(column: str, since: dt.date | None, until: dt.date | None) -> tuple[str, list[str]]:
    """A WHERE fragment for an inclusive day range on a YYYY-MM-DD text column."""
    clauses, params = ["1"], []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(since.isoformat())
    if until is not None:
        clauses.append(f"{column} <= ?")
        params.append(until.isoformat())
    return " AND ".join(clauses), params


def _has(db: Database, table: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
    ).fetchone()
    return row is not None


# The outcome log is read through its rollup, outcome_counts (m007: one row per day, language,
# source, status, outcome and stopping question, kept in step by triggers), so `n` is summed
# where rows were counted. A database not yet migrated to it is read row by row instead.
_ROLLUP = "outcome_counts"
_UNROLLED = (
    "(SELECT day, lang, source, status, outcome_id, stopped_at, 1 AS n, booked FROM outcomes)"
)

# One pass over the rollup (its covering index idx_outcome_counts_groups, in order), plus the
# sessions still in progress; every breakdown is then summed from those few hundred groups.
_GROUPED = """
WITH g AS MATERIALIZED (
    SELECT lang, source, status, outcome_id, stopped_at, SUM(n) AS n, SUM(booked) AS booked
    FROM {counts} WHERE {where_o} GROUP BY lang, source, status, outcome_id, stopped_at
    UNION ALL
    SELECT lang, source, 'in_progress', NULL, NULL, COUNT(*), 0
    FROM sessions WHERE {where_s} GROUP BY lang, source
)
SELECT 'status', status, SUM(n), 0 FROM g GROUP BY status
UNION ALL
SELECT 'outcome', outcome_id, SUM(n), SUM(booked) FROM g
    WHERE status = 'completed' AND outcome_id IS NOT NULL GROUP BY outcome_id
UNION ALL
SELECT 'dropoff', COALESCE(stopped_at, '?'), SUM(n), 0 FROM g
    WHERE status = 'abandoned' GROUP BY stopped_at
UNION ALL
SELECT 'lang', COALESCE(lang, ''), SUM(n), SUM(CASE WHEN status = 'completed' THEN n END)
    FROM g GROUP BY lang
UNION ALL
SELECT 'source', COALESCE(source, ''), SUM(n), SUM(CASE WHEN status = 'completed' THEN n END)
    FROM g GROUP BY source
"""

# Per day, for the timeline: the rollup's (status, day, n) index is read in order.
_DAYS = """
SELECT day, SUM(n), SUM(CASE WHEN status = 'completed' THEN n ELSE 0 END) FROM (
    SELECT status, day, SUM(n) AS n FROM {counts} WHERE {where_o} GROUP BY status, day
    UNION ALL
    SELECT 'in_progress', started_day, COUNT(*) FROM sessions WHERE {where_s}
    GROUP BY started_day
) GROUP BY day ORDER BY day
"""


def compute_stats(
    db: Database,
    *,
    since: dt.date | None,
    until: dt.date | None,
    min_cell: int,
    timezone: str = "UTC",
) -> Stats:
    """Count everything for the inclusive period [since, until] (None: open-ended); the
    days begin at midnight in `timezone` (where a time, not a day, is stored)."""
    where, params = _range("day", since, until)
    where_s, params_s = _range("started_day", since, until)
    stats = Stats(since=since, until=until, min_cell=min_cell)
    found: dict[str, dict[str, tuple[int, int]]] = {
        d: {} for d in ("status", "outcome", "dropoff", "lang", "source")
    }
    counts = _ROLLUP if _has(db, _ROLLUP) else _UNROLLED
    for dimension, key, count, extra in db.execute(
        _GROUPED.format(counts=counts, where_o=where, where_s=where_s), params + params_s
    ):
        found[dimension][key] = (count, extra or 0)
    status = {key: n for key, (n, _) in found["status"].items()}
    stats.sessions_completed = status.get("completed", 0)
    stats.sessions_abandoned = status.get("abandoned", 0)
    stats.sessions_in_progress = status.get("in_progress", 0)
    stats.outcomes = dict(found["outcome"])
    stats.dropoff = {key: n for key, (n, _) in found["dropoff"].items()}
    stats.by_language = dict(found["lang"])
    stats.by_source = dict(found["source"])
    stats.days = [
        (dt.date.fromisoformat(day), n, done)
        for day, n, done in db.execute(
            _DAYS.format(counts=counts, where_o=where, where_s=where_s), params + params_s
        )
        if day
    ]

    # Presses logged apart from an outcome row: from the menu, or (older rows) for an outcome.
    for outcome_id, count in db.execute(
        f"SELECT outcome_id, COUNT(*) FROM booking_presses WHERE {where} GROUP BY outcome_id",
        params,
    ):
        if outcome_id:
            n, booked = stats.outcomes.get(outcome_id, (0, 0))
            stats.outcomes[outcome_id] = (n, booked + count)
        else:
            stats.booking_from_menu += count

    # The tip features may be missing from an older database: their figures are then zero.
    if _has(db, "subscribers"):
        (stats.subscribers_now,) = db.execute("SELECT COUNT(*) FROM subscribers").fetchone()
    if _has(db, "subscription_events"):
        stats.subscribers_joined, stats.subscribers_left = db.execute(
            "SELECT COALESCE(SUM(event = 'joined'), 0),"
            " COALESCE(SUM(event IN ('left', 'blocked')), 0)"
            f" FROM subscription_events WHERE {where}",
            params,
        ).fetchone()
    if _has(db, "broadcasts"):
        # created_at is unix seconds: the period's days, from midnight to midnight.
        low, high = _bounds(since, until, zoneinfo.ZoneInfo(timezone))
        stats.broadcasts_sent, stats.broadcasts_cancelled, stats.broadcast_messages = db.execute(
            "SELECT COALESCE(SUM(status = 'done'), 0), COALESCE(SUM(status = 'cancelled'), 0),"
            " COALESCE(SUM(CASE WHEN status IN ('done', 'cancelled') THEN sent END), 0)"
            " FROM broadcasts WHERE created_at >= ? AND created_at < ?",
            [low, high],
        ).fetchone()
    # Letters made (m010); a database from before letters counts none.
    stats.letters = letters_made(db, since, until)
    # Follow-through (m011); a database from before it counts none.
    stats.follow_events, stats.checkins = follow_through(db, since, until)
    return stats


# Check-ins by the day they were sent, with their answers (see the module docstring). A
# check-in still `attempted` has no sent_day yet; `unknown` may have arrived, as the
# checkin_sent count has it.
_CHECKINS = """
SELECT COALESCE(outcome_id, ''), COUNT(*), COUNT(asked),
    COUNT(CASE WHEN asked = 'yes' THEN 1 END),
    COUNT(CASE WHEN asked = 'yes' AND school_said = 'agreed' THEN 1 END)
FROM checkins WHERE status IN ('sent', 'unknown', 'answered', 'expired') AND {where}
GROUP BY outcome_id
"""


def follow_through(
    db: Database, since: dt.date | None, until: dt.date | None
) -> tuple[dict[str, int], dict[str, tuple[int, int, int, int]]]:
    """The period's follow-through counts by event, and its check-ins by outcome:
    (sent, answered, asked the school, the school agreed). Empty before m011."""
    events: dict[str, int] = {}
    checkins: dict[str, tuple[int, int, int, int]] = {}
    if _has(db, "follow_through_counts"):
        where, params = _range("day", since, until)
        for event, count in db.execute(
            f"SELECT event, SUM(count) FROM follow_through_counts WHERE {where} GROUP BY event",
            params,
        ):
            events[str(event)] = int(count or 0)
    if _has(db, "checkins"):
        where, params = _range("sent_day", since, until)
        for outcome_id, sent, answered, asked, agreed in db.execute(
            _CHECKINS.format(where=where), params
        ):
            checkins[str(outcome_id)] = (int(sent), int(answered), int(asked), int(agreed))
    return events, checkins


def _bounds(since: dt.date | None, until: dt.date | None, zone: dt.tzinfo) -> tuple[float, float]:
    """Unix seconds from the start of `since` to the end of `until` (days in `zone`)."""

    def midnight(day: dt.date) -> float:
        return dt.datetime.combine(day, dt.time(), zone).timestamp()

    low = midnight(since) if since else float("-inf")
    high = midnight(until + dt.timedelta(days=1)) if until else float("inf")
    return low, high


def open_readonly(path: Path) -> Database:
    """The database for reading only: safe beside the running bot, never created here."""
    return Database(connect_readonly(path))


# --- periods ----------------------------------------------------------------------------------


def period_ending(today: dt.date, days: int | None) -> tuple[dt.date | None, dt.date]:
    """The last `days` days up to and including today (None: all time up to today)."""
    if days is None:
        return None, today
    return today - dt.timedelta(days=days - 1), today
