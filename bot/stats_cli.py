"""`iep-bot stats` and `iep-bot export`: the suppressed aggregates, for staff, as text or CSV.

Only what Stats.to_json() holds is ever printed or written: no row of the outcome log.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.stats import Stats, compute_stats

FORMATS = ("table", "json", "csv")
EXPORT_FILES = ("summary.csv", "outcomes.csv", "dropoff.csv", "by_language.csv", "by_source.csv")


def _fail(message: str) -> Exception:
    from bot.cli import Fail

    return Fail(message)


def parse_day(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option}: expected a date like 2026-11-28, got {value!r}") from None


def _period(args: argparse.Namespace) -> tuple[dt.date | None, dt.date | None]:
    since, until = parse_day("--since", args.since), parse_day("--until", args.until)
    if since and until and since > until:
        raise _fail(f"--since {since} is after --until {until}.")
    return since, until


def describe_period(since: dt.date | None, until: dt.date | None) -> str:
    return f"{since or 'the first screening'} and {until or 'today'}"


def load_stats(args: argparse.Namespace) -> Stats:
    """Settings, database and the period from the options; Fail on an empty period."""
    from bot.cli import _settings, _storage

    since, until = _period(args)
    settings = _settings()
    storage = _storage(settings)
    try:
        stats = compute_stats(
            storage.db, since=since, until=until, min_cell=settings.stats_min_cell
        )
    finally:
        storage.close()
    if stats.sessions_started == 0:
        raise _fail(f"No screenings between {describe_period(since, until)}.")
    return stats


# --- shapes of the same aggregates ----------------------------------------------------------


def show(value: Any) -> str:
    """A cell for people: rates as percentages, counts and "<5" as they are."""
    if isinstance(value, float):
        return f"{value * 100:.1f}%"
    return "" if value is None else str(value)


def summary_rows(data: dict[str, Any]) -> list[tuple[str, Any]]:
    bookings, subscribers = data["booking_presses"], data["subscribers"]
    return [
        ("period_since", data["period"]["since"] or ""),
        ("period_until", data["period"]["until"] or ""),
        ("sessions_started", data["sessions_started"]),
        ("sessions_completed", data["sessions_completed"]),
        ("sessions_abandoned", data["sessions_abandoned"]),
        ("sessions_in_progress", data["sessions_in_progress"]),
        ("completion_rate", data["completion_rate"]),
        ("booking_presses_total", bookings["total"]),
        ("booking_presses_from_menu", bookings["from_menu"]),
        ("subscribers_now", subscribers["now"]),
        ("subscribers_joined", subscribers["joined"]),
        ("subscribers_left", subscribers["left"]),
        ("broadcasts_sent", data["broadcasts_sent"]),
        ("suppressed_below", data["min_cell"]),
    ]


def tables(data: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Each export file's header and rows, built from the suppressed JSON only."""
    booked = data["booking_presses"]["by_outcome"]
    return {
        "summary.csv": (["measure", "value"], [list(r) for r in summary_rows(data)]),
        "outcomes.csv": (
            ["outcome_id", "screenings", "booking_presses", "booking_rate"],
            [[k, n, booked[k]["count"], booked[k]["rate"]] for k, n in data["outcomes"].items()],
        ),
        "dropoff.csv": (
            ["question_id", "abandoned_here"],
            [[k, n] for k, n in data["dropoff"].items()],
        ),
        "by_language.csv": (
            ["language", "started", "completed"],
            [[k, v["started"], v["completed"]] for k, v in data["by_language"].items()],
        ),
        "by_source.csv": (
            ["source", "started", "completed"],
            [[k, v["started"], v["completed"]] for k, v in data["by_source"].items()],
        ),
    }


def render_csv(data: dict[str, Any]) -> str:
    """One CSV for stdout: section, name, measure, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "name", "measure", "value"])
    for name, (header, rows) in tables(data).items():
        section = name.removesuffix(".csv")
        for row in rows:
            for measure, value in zip(header[1:], row[1:], strict=True):
                writer.writerow([section, row[0], measure, value])
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


def render_table(data: dict[str, Any]) -> str:
    """A readable terminal table, one block per aggregate."""
    since, until = data["period"]["since"], data["period"]["until"]
    lines = [
        f"Screening statistics: {since or 'first screening'} to {until or 'today'}"
        f" (UTC start days; counts under {data['min_cell']} show as <{data['min_cell']})",
        "",
    ]
    summary = [(k.replace("_", " "), v) for k, v in summary_rows(data)[2:-1]]
    lines += _aligned("Summary", ["measure", "value"], summary)
    named = tables(data)
    for file, title in (
        ("outcomes.csv", "Outcomes"),
        ("dropoff.csv", "Where abandoned screenings stopped"),
        ("by_language.csv", "By language"),
        ("by_source.csv", "By source"),
    ):
        header, rows = named[file]
        lines += _aligned(title, [h.replace("_", " ") for h in header], rows)
    return "\n".join(lines).rstrip() + "\n"


# --- commands -------------------------------------------------------------------------------


def cmd_stats(args: argparse.Namespace) -> int:
    """Show screening statistics for a period (small counts suppressed)."""
    stats = load_stats(args)
    data = stats.to_json()
    if args.chart:
        write_chart(args.chart, data)
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        print(render_csv(data), end="")
    else:
        print(render_table(data), end="")
    return 0


def write_chart(path: Path, data: dict[str, Any]) -> None:
    from bot.cli import _content, _settings
    from bot.stats_chart import render_chart  # matplotlib loads only when a chart is asked

    order = list(_content(_settings()).spec.questions)
    try:
        path.write_bytes(render_chart(data, question_order=order))
    except OSError as exc:
        raise _fail(f"--chart: cannot write {path}: {exc.strerror}") from None


def cmd_export(args: argparse.Namespace) -> int:
    """Write the aggregates as CSV files for a spreadsheet (never the row-level log)."""
    data = load_stats(args).to_json()
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, (header, rows) in tables(data).items():
            # utf-8-sig: the byte-order mark makes spreadsheet apps read UTF-8 correctly.
            with (out / name).open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
    except OSError as exc:
        raise _fail(f"--out: cannot write to {out}: {exc.strerror}") from None
    print(f"wrote {', '.join(EXPORT_FILES)} to {out}")
    return 0


def _period_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="first day (inclusive)")
    parser.add_argument("--until", metavar="YYYY-MM-DD", help="last day (inclusive)")


def register(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    add: Callable[..., argparse.ArgumentParser],
) -> None:
    stats = add(sub, "stats", cmd_stats, "iep-bot stats --since 2026-11-01 --format table")
    _period_options(stats)
    stats.add_argument("--format", choices=FORMATS, default="table")
    stats.add_argument("--chart", type=Path, metavar="FILE.png", help="also draw a PNG chart")
    export = add(sub, "export", cmd_export, "iep-bot export --out exports/2026-11")
    export.add_argument("--out", type=Path, required=True, metavar="DIR")
    _period_options(export)
