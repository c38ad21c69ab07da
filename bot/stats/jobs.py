"""The work behind /stats and /export, as it runs in the statistics worker (bot/stats/worker.py).

Plain data in, plain data out: each request and report crosses a process boundary, so they
hold only the database's path, the period, the threshold and words already in the staff
member's language, and come back as the suppressed JSON, a PNG and a zip. The raw counts
never leave the worker, and nothing of a parent is in any of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.stats.aggregate import Stats, compute_stats, open_readonly


@dataclass(frozen=True)
class Period:
    """Which figures: the database, the days (inclusive; None: open), the threshold."""

    database: str
    since: dt.date | None
    until: dt.date
    min_cell: int
    timezone: str = "UTC"


@dataclass(frozen=True)
class StatsRequest:
    """/stats: the figures, and the chart's words in the staff member's language."""

    period: Period
    question_order: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatsReport:
    """The suppressed figures (None: no screening in the period) and the chart (None: too
    few screenings for one)."""

    data: dict[str, Any] | None
    png: bytes | None = None


@dataclass(frozen=True)
class ExportRequest:
    """/export: the figures, and the `name` column's words."""

    period: Period
    names: dict[str, str] = field(default_factory=dict)
    question_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportReport:
    """The zip and the files in it, in order (both None: no screening in the period)."""

    zip_name: str | None
    zip_bytes: bytes | None = None
    files: tuple[str, ...] = ()


def count(period: Period) -> Stats:
    """The period's raw aggregates, on a read-only connection of its own."""
    db = open_readonly(Path(period.database))
    try:
        return compute_stats(
            db,
            since=period.since,
            until=period.until,
            min_cell=period.min_cell,
            timezone=period.timezone,
        )
    finally:
        db.close()


def make_stats(request: StatsRequest) -> StatsReport:
    """Count, suppress and draw: what /stats shows."""
    stats = count(request.period)
    if stats.sessions_started == 0:
        return StatsReport(None)
    data = stats.to_json()
    if stats.sessions_started < stats.min_cell:
        return StatsReport(data)  # every figure would be "<5": a chart of nothing says nothing
    from bot.stats.chart import render_chart  # matplotlib loads on the first chart only

    png = render_chart(
        data,
        question_order=request.question_order,
        labels=request.labels,
        words=request.words,
    )
    return StatsReport(data, png)


def make_export(request: ExportRequest) -> ExportReport:
    """Count, suppress and write the CSV files into one zip: what /export sends."""
    from bot.stats.export import export_files, export_name, zip_files

    period = request.period
    stats = count(period)
    if stats.sessions_started == 0:
        return ExportReport(None)
    data = stats.to_json()
    files = export_files(data, names=request.names, question_order=request.question_order)
    return ExportReport(
        export_name(period.since, period.until),
        zip_files(files, day=period.until),
        tuple(files),
    )
