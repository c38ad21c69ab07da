"""The export: the suppressed aggregates as CSV files, for `iep-bot export` and /export alike.

One function (`export_files`) builds the files both write, so the folder the command line
fills and the zip staff get in Telegram cannot drift apart. Built from `Stats.to_json()`
only: never a row of the outcome log, nothing of a parent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from bot.stats.aggregate import OTHER
from bot.stats.text import LETTER_PREFIX, in_question_order

Table = tuple[list[str], list[list[Any]]]
# The oldest time a zip entry can carry (MS-DOS dates start in 1980).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def summary_rows(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The top-line figures, one (measure, value) a row."""
    bookings, subscribers, broadcasts = (
        data["booking_presses"],
        data["subscribers"],
        data["broadcasts"],
    )
    return [
        ("period_since", data["period"]["since"] or ""),
        ("period_until", data["period"]["until"] or ""),
        ("sessions_started", data["sessions_started"]),
        ("sessions_completed", data["sessions_completed"]),
        ("sessions_abandoned", data["sessions_abandoned"]),
        ("sessions_in_progress", data["sessions_in_progress"]),
        ("completion_rate", data["completion_rate"]),
        ("booking_presses_total", bookings["total"]),
        ("booking_presses_after_result", bookings["after_result"]),
        ("booking_rate_after_result", bookings["after_result_rate"]),
        ("booking_presses_from_menu", bookings["from_menu"]),
        ("subscribers_now", subscribers["now"]),
        ("subscribers_joined", subscribers["joined"]),
        ("subscribers_left", subscribers["left"]),
        ("broadcasts_sent", broadcasts["sent"]),
        ("broadcasts_cancelled", broadcasts["cancelled"]),
        ("broadcast_messages_delivered", broadcasts["messages_delivered"]),
        ("letters_made", data["letters"]["total"]),
        *follow_through_rows(data["follow_through"]),
        ("suppressed_below", data["min_cell"]),
    ]


def follow_through_rows(figures: dict[str, Any]) -> list[tuple[str, Any]]:
    """Deadlines, reminders and check-ins; each rate says what it is a share of."""
    return [
        ("deadlines_set", figures["deadlines_set"]),
        ("reminders_sent", figures["reminders_sent"]),
        ("checkins_offered", figures["checkins_offered"]),
        ("checkins_sent", figures["checkins_sent"]),
        ("checkins_answered", figures["checkins_answered"]),
        ("asked_school", figures["asked_school"]),
        ("school_agreed", figures["school_agreed"]),
        ("checkins_answered_of_sent", figures["answered_of_sent"]),
        ("asked_school_of_answered", figures["asked_of_answered"]),
        ("school_agreed_of_asked", figures["agreed_of_asked"]),
    ]


def tables(
    data: dict[str, Any],
    *,
    names: Mapping[str, str] | None = None,
    question_order: Sequence[str] = (),
) -> dict[str, Table]:
    """Each export file's header and rows, built from the suppressed JSON only.

    With `names` (outcome titles, question names), a `name` column follows each id.
    """

    def key(value: str) -> list[str]:
        return key_as("", value)

    def key_as(prefix: str, value: str) -> list[str]:
        if names is None:
            return [value]
        return [value, names.get(value if value == OTHER else prefix + value, "")]

    def header(column: str, *rest: str) -> list[str]:
        return [column, *(["name"] if names is not None else []), *rest]

    dropoff = in_question_order(data["dropoff"].items(), question_order)
    booked = data["booking_presses"]["by_outcome"]
    return {
        "summary.csv": (["measure", "value"], [list(r) for r in summary_rows(data)]),
        "outcomes.csv": (
            header("outcome_id", "screenings"),
            [[*key(k), n] for k, n in data["outcomes"].items()],
        ),
        "booking_by_outcome.csv": (
            header("outcome_id", "screenings", "booking_presses", "booking_rate"),
            [[*key(k), v["screenings"], v["count"], v["rate"]] for k, v in booked.items()],
        ),
        "dropoff.csv": (
            header("question_id", "abandoned_here"),
            [[*key(k), n] for k, n in dropoff],
        ),
        "by_language.csv": (
            ["language", "started", "completed", "completion_rate"],
            [
                [k, v["started"], v["completed"], v["completion_rate"]]
                for k, v in data["by_language"].items()
            ],
        ),
        "by_source.csv": (
            ["source", "started", "completed", "completion_rate"],
            [
                [k, v["started"], v["completed"], v["completion_rate"]]
                for k, v in data["by_source"].items()
            ],
        ),
        "timeline.csv": (
            ["from", "to", "started", "completed"],
            [
                [b["from"], b["to"], b["started"], b["completed"]]
                for b in data["timeline"]["buckets"]
            ],
        ),
        # A letter id may also be a question id ("evaluation"): its name is looked up under
        # LETTER_PREFIX, so neither hides the other.
        "letters_by_type.csv": (
            header("letter_type", "letters_made"),
            [[*key_as(LETTER_PREFIX, k), n] for k, n in data["letters"]["by_type"].items()],
        ),
        "letters_by_language.csv": (
            ["language", "letters_made"],
            [[k, n] for k, n in data["letters"]["by_language"].items()],
        ),
        # Check-ins counted on the day they were sent, with their answers.
        "followup_by_outcome.csv": (
            header("outcome_id", "sent", "answered", "asked_school", "school_agreed"),
            [
                [*key(k), v["sent"], v["answered"], v["asked_school"], v["school_agreed"]]
                for k, v in data["follow_through"]["by_outcome"].items()
            ],
        ),
    }


def export_files(
    data: dict[str, Any], *, names: Mapping[str, str], question_order: Sequence[str] = ()
) -> dict[str, bytes]:
    """Every export file by name: a header row, then the rows, as spreadsheets read them."""
    files = {}
    for name, (header, rows) in tables(data, names=names, question_order=question_order).items():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        # utf-8-sig: the byte-order mark makes spreadsheet apps read UTF-8 (accents) correctly.
        files[name] = out.getvalue().encode("utf-8-sig")
    return files


def export_name(since: dt.date | None, until: dt.date) -> str:
    """The zip's name, carrying its period: iep-bot-export-2026-11-08-to-2026-12-07.zip."""
    first = since.isoformat() if since is not None else "all-time"
    return f"iep-bot-export-{first}-to-{until.isoformat()}.zip"


def zip_files(files: Mapping[str, bytes], *, day: dt.date | None = None) -> bytes:
    """One zip of `files` (in their order), each dated `day`: the same files, the same bytes."""
    stamp = (day.year, day.month, day.day, 0, 0, 0) if day is not None else _ZIP_EPOCH
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16  # readable once unzipped (0 would mean no access)
            archive.writestr(entry, content)
    return out.getvalue()
