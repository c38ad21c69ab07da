"""Aggregate screening statistics for staff: counted in SQL, small cells suppressed.

Every figure is a GROUP BY over the anonymous tables (outcomes, sessions, booking_presses,
subscription_events, broadcasts); Python only reshapes the few grouped rows. Privacy: any
count below `min_cell` is shown as f"<{min_cell}", rates built on such a count are hidden
too, and small sources or languages are folded into "other" so no breakdown points at one
parent.

Periods are inclusive day ranges compared with the `day` columns, which hold the UTC day a
screening started (the time of day is never stored).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

OTHER = "other"
Cell = int | str  # a count, or the suppression marker


@dataclass(frozen=True)
class Breakdown:
    """Started and completed screenings for one language or source (raw counts)."""

    started: int
    completed: int


@dataclass
class Stats:
    """Raw aggregates for one period; `to_json()` is the only suppressed, shareable view."""

    since: dt.date | None
    until: dt.date | None
    min_cell: int
    sessions_completed: int
    sessions_abandoned: int
    sessions_in_progress: int
    outcomes: dict[str, int]
    booked_by_outcome: dict[str, int]
    booking_from_menu: int
    by_language: dict[str, Breakdown]
    by_source: dict[str, Breakdown]
    dropoff: dict[str, int]
    subscribers_now: int
    subscribers_joined: int
    subscribers_left: int
    broadcasts_sent: int

    @property
    def sessions_started(self) -> int:
        return self.sessions_completed + self.sessions_abandoned + self.sessions_in_progress

    @property
    def marker(self) -> str:
        return f"<{self.min_cell}"

    def cell(self, count: int) -> Cell:
        """The count, or the marker when it is small enough to point at someone."""
        return count if count >= self.min_cell else self.marker

    def rate(self, numerator: int, denominator: int) -> float | str:
        if numerator < self.min_cell or denominator < self.min_cell:
            return self.marker
        return round(numerator / denominator, 3)

    def _folded(self, groups: dict[str, Breakdown]) -> dict[str, dict[str, Cell]]:
        """Fold categories with fewer than min_cell screenings into "other", then suppress."""
        kept = {k: v for k, v in groups.items() if v.started >= self.min_cell and k != OTHER}
        small = [v for k, v in groups.items() if k not in kept]
        ordered = sorted(kept.items(), key=lambda kv: (-kv[1].started, kv[0]))
        if small:
            ordered.append(
                (
                    OTHER,
                    Breakdown(sum(v.started for v in small), sum(v.completed for v in small)),
                )
            )
        return {
            name: {"started": self.cell(b.started), "completed": self.cell(b.completed)}
            for name, b in ordered
        }

    def to_json(self) -> dict[str, Any]:
        booked_total = sum(self.booked_by_outcome.values()) + self.booking_from_menu
        return {
            "period": {
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            },
            "min_cell": self.min_cell,
            "sessions_started": self.cell(self.sessions_started),
            "sessions_completed": self.cell(self.sessions_completed),
            "sessions_abandoned": self.cell(self.sessions_abandoned),
            "sessions_in_progress": self.cell(self.sessions_in_progress),
            "completion_rate": self.rate(self.sessions_completed, self.sessions_started),
            "outcomes": {k: self.cell(v) for k, v in _by_count(self.outcomes)},
            "booking_presses": {
                "total": self.cell(booked_total),
                "by_outcome": {
                    k: {
                        "count": self.cell(self.booked_by_outcome.get(k, 0)),
                        "rate": self.rate(self.booked_by_outcome.get(k, 0), n),
                    }
                    for k, n in _by_count(self.outcomes)
                },
                "from_menu": self.cell(self.booking_from_menu),
            },
            "by_language": self._folded(self.by_language),
            "by_source": self._folded(self.by_source),
            "dropoff": {k: self.cell(v) for k, v in _by_count(self.dropoff)},
            "subscribers": {
                "now": self.cell(self.subscribers_now),
                "joined": self.cell(self.subscribers_joined),
                "left": self.cell(self.subscribers_left),
            },
            "broadcasts_sent": self.cell(self.broadcasts_sent),
        }


def _by_count(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


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


# One pass over the outcome log (the covering index idx_outcomes_stats, in order), plus the
# sessions still in progress; every figure is then summed from those few hundred groups.
_GROUPED = """
WITH g AS MATERIALIZED (
    SELECT lang, source, status, outcome_id, stopped_at, COUNT(*) AS n, SUM(booked) AS booked
    FROM outcomes WHERE {where_o} GROUP BY lang, source, status, outcome_id, stopped_at
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


def compute_stats(
    db: Database, *, since: dt.date | None, until: dt.date | None, min_cell: int
) -> Stats:
    """Count everything for the inclusive period [since, until] (None: open-ended)."""
    where, params = _range("day", since, until)
    where_s, params_s = _range("started_day", since, until)
    found: dict[str, dict[str, tuple[int, int]]] = {
        d: {} for d in ("status", "outcome", "dropoff", "lang", "source")
    }
    for dimension, key, count, extra in db.execute(
        _GROUPED.format(where_o=where, where_s=where_s), params + params_s
    ):
        found[dimension][key] = (count, extra or 0)
    status = {k: n for k, (n, _) in found["status"].items()}
    booked = {k: b for k, (_, b) in found["outcome"].items() if b}

    # Presses recorded apart from an outcome row: from the menu, or for an outcome.
    presses = dict(
        db.execute(
            f"SELECT COALESCE(outcome_id, ''), COUNT(*) FROM booking_presses WHERE {where}"
            " GROUP BY outcome_id",
            params,
        ).fetchall()
    )
    from_menu = presses.pop("", 0)
    for outcome_id, count in presses.items():
        booked[outcome_id] = booked.get(outcome_id, 0) + count

    subscribers_now = joined = left = 0
    if _has(db, "subscribers"):
        (subscribers_now,) = db.execute("SELECT COUNT(*) FROM subscribers").fetchone()
    if _has(db, "subscription_events"):
        joined, left = db.execute(
            f"SELECT COALESCE(SUM(event = 'joined'), 0),"
            f" COALESCE(SUM(event IN ('left', 'blocked')), 0)"
            f" FROM subscription_events WHERE {where}",
            params,
        ).fetchone()
    broadcasts_sent = 0
    if _has(db, "broadcasts"):
        # created_at is unix seconds; the period's days are UTC days like the other tables.
        (broadcasts_sent,) = db.execute(
            "SELECT COUNT(*) FROM broadcasts WHERE status = 'done'"
            " AND (? IS NULL OR created_at >= ?) AND (? IS NULL OR created_at < ?)",
            [*_bound(since), *_bound(until, next_day=True)],
        ).fetchone()

    return Stats(
        since=since,
        until=until,
        min_cell=min_cell,
        sessions_completed=status.get("completed", 0),
        sessions_abandoned=status.get("abandoned", 0),
        sessions_in_progress=status.get("in_progress", 0),
        outcomes={k: n for k, (n, _) in found["outcome"].items()},
        booked_by_outcome=booked,
        booking_from_menu=from_menu,
        by_language={k: Breakdown(n, c) for k, (n, c) in found["lang"].items()},
        by_source={k: Breakdown(n, c) for k, (n, c) in found["source"].items()},
        dropoff={k: n for k, (n, _) in found["dropoff"].items()},
        subscribers_now=subscribers_now,
        subscribers_joined=joined,
        subscribers_left=left,
        broadcasts_sent=broadcasts_sent,
    )


def _bound(day: dt.date | None, *, next_day: bool = False) -> tuple[float | None, float | None]:
    if day is None:
        return None, None
    if next_day:
        day = day + dt.timedelta(days=1)
    ts = dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()
    return ts, ts


def period_ending(today: dt.date, days: int | None) -> tuple[dt.date | None, dt.date]:
    """The last `days` days up to and including today (None: all time up to today)."""
    if days is None:
        return None, today
    return today - dt.timedelta(days=days - 1), today


def local_today(clock_seconds: float, timezone: str) -> dt.date:
    """Today's date in the practice's time zone."""
    import zoneinfo

    return dt.datetime.fromtimestamp(clock_seconds, zoneinfo.ZoneInfo(timezone)).date()
