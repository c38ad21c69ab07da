"""`iep-bot stats` and `iep-bot export`: the suppressed aggregates, as text, JSON or CSV.

Only what `Stats.to_json()` holds is ever printed or written: no row of the outcome log.
The export's files come from bot/stats/export.py, the very function /export uses in
Telegram. The database is opened read-only (safe while the bot runs; never created or
migrated here). matplotlib loads only for `--chart`; Telegram never. The statistics modules
(and the database library) load when a command runs, so `iep-bot --help` does not load them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.cli_errors import Fail
from bot.wiring import open_content, open_settings

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.content import Content
    from bot.stats.aggregate import Stats

FORMATS = ("table", "json", "csv")
F = TypeVar("F", bound=Callable[..., Any])


# Days a period may name: a typo (0202-11-01, 9999-12-31) is refused, not read as "all time"
# (and the day after 9999-12-31 does not exist).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def parse_day(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Fail(f"{option}: expected a date like 2026-11-28, got {value!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Fail(f"{option}: {day} is out of range; give a day from {FIRST_DAY} to {LAST_DAY}.")
    return day


def _period(since: str | None, until: str | None) -> tuple[dt.date | None, dt.date | None]:
    first, last = parse_day("--since", since), parse_day("--until", until)
    if first and last and first > last:
        raise Fail(f"--since {first} is after --until {last}.")
    return first, last


def describe_period(since: dt.date | None, until: dt.date | None) -> str:
    return f"{since or 'the first screening'} and {until or 'today'}"


def load_stats(settings: Settings, first: dt.date | None, last: dt.date | None) -> Stats:
    """The database's aggregates for the period; Fail on an empty period."""
    from bot.db_errors import folder_not_file, is_storage_error, storage_problem
    from bot.stats.aggregate import compute_stats, open_readonly

    path = settings.database_path
    if path.is_dir():
        raise Fail(folder_not_file(path))
    if not path.is_file():
        raise Fail(f"No database at {path} (set DATABASE_PATH).")
    try:
        db = open_readonly(path)
        try:
            stats = compute_stats(
                db,
                since=first,
                until=last,
                min_cell=settings.stats_min_cell,
                timezone=settings.timezone,
            )
        finally:
            db.close()
    except (sqlite3.Error, OSError) as exc:
        if not is_storage_error(exc):
            raise
        raise Fail(storage_problem(exc, path)) from None
    if stats.sessions_started == 0:
        raise Fail(f"No screenings between {describe_period(first, last)}.")
    return stats


# --- shapes of the same aggregates ----------------------------------------------------------


def show(value: Any) -> str:
    """A cell for people: rates as percentages, counts and "<5" as they are."""
    if isinstance(value, float):
        return f"{value * 100:.1f}%"
    return "-" if value is None else str(value)  # None: a rate on a hidden count


def render_csv(data: dict[str, Any]) -> str:
    """One CSV for stdout, one value per row: section, name, measure, value."""
    from bot.stats.export import tables

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "name", "measure", "value"])
    for file, (header, rows) in tables(data).items():
        section = file.removesuffix(".csv")
        for row in rows:
            if section == "timeline":  # a bucket is named by its span
                name, measures = f"{row[0]}..{row[1]}", zip(header[2:], row[2:], strict=True)
            else:
                name, measures = row[0], zip(header[1:], row[1:], strict=True)
            for measure, value in measures:
                writer.writerow([section, name, measure, value])
    return out.getvalue()


def _aligned(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    cells = [[show(c) for c in row] for row in rows]
    if not cells:
        return [title, "  (none)", ""]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]

    def line(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        return "  " + "  ".join([first, *rest]).rstrip()

    return [title, line(list(header)), *(line(r) for r in cells), ""]


def render_table(
    data: dict[str, Any], *, question_order: Sequence[str] = (), timezone: str = "UTC"
) -> str:
    """A readable terminal table, one block per aggregate."""
    from bot.stats.export import follow_through_rows, summary_rows, tables

    since, until = data["period"]["since"], data["period"]["until"]
    k = data["min_cell"]
    lines = [
        f"Screening statistics: {since or 'first screening'} to {until or 'now'}"
        f" (the day each started, {timezone}; counts under {k} show as <{k};"
        " small groups fold into 'other')",
        "",
    ]
    follow_through = follow_through_rows(data["follow_through"])
    apart = {name for name, _ in follow_through}  # their own block, with the one below

    def readable(rows: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return [(name.replace("_", " "), value) for name, value in rows]

    summary = [row for row in summary_rows(data)[2:-1] if row[0] not in apart]
    lines += _aligned("Summary", ["measure", "value"], readable(summary))
    named = tables(data, question_order=question_order)
    unit = data["timeline"]["unit"] or "day"
    for file, title in (
        ("outcomes.csv", "Outcomes"),
        ("booking_by_outcome.csv", "Book presses by outcome"),
        ("dropoff.csv", "Where abandoned screenings stopped (question order)"),
        ("by_language.csv", "By language"),
        ("by_source.csv", "By source"),
        ("timeline.csv", f"Over time (by {unit}; small neighbours merged)"),
        ("letters_by_type.csv", "Letters made, by letter"),
        ("letters_by_language.csv", "Letters made, by language (en+es: both side by side)"),
    ):
        header, rows = named[file]
        lines += _aligned(title, [h.replace("_", " ") for h in header], rows)
    lines += _aligned(
        "Follow-through (deadlines, reminders and offers by the day they happened;"
        " check-ins and their answers by the day the check-in was sent)",
        ["measure", "value"],
        readable(follow_through),
    )
    header, rows = named["followup_by_outcome.csv"]
    lines += _aligned("Check-ins by outcome", [h.replace("_", " ") for h in header], rows)
    return "\n".join(lines).rstrip() + "\n"


# --- commands -------------------------------------------------------------------------------


def _question_order(content: Content) -> list[str]:
    return list(content.spec.questions)


def _labels(content: Content) -> dict[str, str]:
    """Outcome titles and question names in English, the language of the command line."""
    from bot.stats.text import export_names

    return export_names(content.pack("en"))


def _period_options(command: F) -> F:
    since = click.option(
        "--since",
        metavar="YYYY-MM-DD",
        help="first day, inclusive (the day a screening started, in TIMEZONE)",
    )
    until = click.option("--until", metavar="YYYY-MM-DD", help="last day, inclusive (default: now)")
    return since(until(command))


@click.command(short_help="Screening statistics for a period (small counts hidden).")
@_period_options
@click.option(
    "--format",
    "shape",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="a table to read, JSON, or CSV (one value a row)",
)
@click.option(
    "--chart",
    type=click.Path(path_type=Path),
    metavar="FILE.png",
    help="also draw a PNG chart",
)
def stats(since: str | None, until: str | None, shape: str, chart: Path | None) -> None:
    """Show screening statistics for a period (small counts suppressed).

    Example:

    \b
        iep-bot stats --since 2026-11-01 --format table
        iep-bot stats --format json --chart stats.png
    """
    period = _period(since, until)  # a bad date is reported before any setting
    settings = open_settings()
    data = load_stats(settings, *period).to_json()
    if chart:
        write_chart(chart, data, open_content(settings))
    if shape == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif shape == "csv":
        click.echo(render_csv(data), nl=False)
    else:
        order = _question_order(open_content(settings))
        table = render_table(data, question_order=order, timezone=settings.timezone)
        click.echo(table, nl=False)


def write_chart(path: Path, data: dict[str, Any], content: Content) -> None:
    from bot.stats.chart import render_chart  # matplotlib loads only when a chart is asked
    from bot.stats.text import chart_words, label_names

    since, until = data["period"]["since"], data["period"]["until"]
    period = f"{since or 'first screening'} to {until or 'now'}"
    pack = content.pack("en")
    png = render_chart(
        data,
        question_order=_question_order(content),
        labels=label_names(pack),
        words=chart_words(pack, period),
    )
    try:
        path.write_bytes(png)
    except OSError as exc:
        raise Fail(f"--chart: cannot write {path}: {exc.strerror}") from None


@click.command(short_help="Write the aggregates as CSV files for a spreadsheet.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    metavar="DIR",
    help="folder for the CSV files (created if missing)",
)
@_period_options
def export(out: Path, since: str | None, until: str | None) -> None:
    """Write the aggregates as CSV files for a spreadsheet (never the row-level log).

    Example:

    \b
        iep-bot export --out exports/2026-11 --since 2026-11-01 --until 2026-11-30
    """
    period = _period(since, until)
    if out.exists() and not out.is_dir():
        raise Fail(f"--out: {out} is a file; give a folder (it is created if missing).")
    from bot.stats.export import export_files

    settings = open_settings()
    data = load_stats(settings, *period).to_json()
    content = open_content(settings)
    written = export_files(data, names=_labels(content), question_order=_question_order(content))
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, file in written.items():
            (out / name).write_bytes(file)
    except OSError as exc:
        where = exc.filename if exc.filename is not None else out
        raise Fail(
            f"--out: cannot write to {out} ({where}: {exc.strerror}); give a folder this user"
            " can write."
        ) from None
    click.echo(f"wrote {', '.join(written)} to {out}")
