"""Staff statistics: exact figures from seeded rows, suppression, periods, every output shape."""

from __future__ import annotations

import csv
import datetime as dt
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.stats import compute_stats, local_today, period_ending
from bot.stats_chart import render_chart
from bot.storage import Storage

D = dt.date


def outcome(
    n: int,
    *,
    day: str = "2026-11-10",
    lang: str = "en",
    source: str = "direct",
    outcome_id: str | None = "iep_evaluation",
    stopped_at: str | None = None,
    booked: int = 0,
) -> list[dict[str, Any]]:
    """n outcome rows alike; abandoned when outcome_id is None."""
    return [
        {
            "session_id": f"{day}-{lang}-{source}-{outcome_id}-{stopped_at}-{booked}-{i}",
            "day": day,
            "lang": lang,
            "source": source,
            "status": "completed" if outcome_id else "abandoned",
            "outcome_id": outcome_id,
            "answers": "{}",
            "stopped_at": stopped_at,
            "questions_answered": 3,
            "booked": booked,
        }
        for i in range(n)
    ]


def in_progress(n: int, *, day: str = "2026-11-10", lang: str = "en", source: str = "direct"):  # type: ignore[no-untyped-def]
    return [
        {
            "chat_key": f"key-{day}-{lang}-{source}-{i}",
            "session_id": f"s-{day}-{i}",
            "lang": lang,
            "source": source,
            "state": "effort",
            "answers": "{}",
            "history": "[]",
            "started_day": day,
            "updated_at": 0.0,
        }
        for i in range(n)
    ]


@pytest.fixture
def seeded(storage: Storage) -> Storage:
    """Known counts: 30 completed, 12 abandoned, 6 in progress in November 2026."""
    rows = (
        outcome(10, outcome_id="iep_evaluation", booked=1)
        + outcome(8, outcome_id="iep_evaluation")
        + outcome(7, outcome_id="plan_504_may_fit", lang="es", booked=0)
        + outcome(3, outcome_id="no_strong_signs", lang="es", booked=1)
        + outcome(2, outcome_id="iep_review", source="flyer")
        + outcome(9, outcome_id=None, stopped_at="effort")
        + outcome(3, outcome_id=None, stopped_at="plan", lang="es")
    )
    storage.db["outcomes"].insert_all(rows)
    storage.db["sessions"].insert_all(in_progress(6))
    storage.db["booking_presses"].insert_all(
        [{"day": "2026-11-12", "lang": "en", "outcome_id": None, "origin": "menu"}] * 6
    )
    return storage


def stats_json(storage: Storage, since: D | None = None, until: D | None = None, min_cell: int = 5):  # type: ignore[no-untyped-def]
    return compute_stats(storage.db, since=since, until=until, min_cell=min_cell).to_json()


# --- exact figures -----------------------------------------------------------------------------


def test_seeded_rows_give_exact_figures(seeded: Storage) -> None:
    data = stats_json(seeded)
    assert data["sessions_started"] == 48
    assert data["sessions_completed"] == 30
    assert data["sessions_abandoned"] == 12
    assert data["sessions_in_progress"] == 6
    assert data["completion_rate"] == round(30 / 48, 3)
    assert data["outcomes"] == {
        "iep_evaluation": 18,
        "plan_504_may_fit": 7,
        "no_strong_signs": "<5",
        "iep_review": "<5",
    }
    assert data["booking_presses"]["total"] == 19  # 10 + 3 after an outcome, 6 from the menu
    assert data["booking_presses"]["from_menu"] == 6
    assert data["booking_presses"]["by_outcome"]["iep_evaluation"] == {
        "count": 10,
        "rate": round(10 / 18, 3),
    }
    assert data["dropoff"] == {"effort": 9, "plan": "<5"}
    assert data["by_language"] == {
        "en": {"started": 35, "completed": 20},
        "es": {"started": 13, "completed": 10},
    }
    # The flyer (2 screenings) is folded into "other" and still too small to show.
    assert data["by_source"] == {
        "direct": {"started": 46, "completed": 28},
        "other": {"started": "<5", "completed": "<5"},
    }


def test_subscribers_and_broadcasts_are_counted_when_their_tables_exist(
    seeded: Storage,
) -> None:
    db = seeded.db
    db["subscribers"].insert_all(
        {"chat_key": f"k{i}", "chat_id": i, "lang": "en", "opted_in_day": "2026-11-01"}
        for i in range(7)
    )
    db["subscription_events"].insert_all(
        [{"day": "2026-11-03", "event": "joined", "lang": "en"}] * 9
        + [{"day": "2026-11-04", "event": "left", "lang": "en"}] * 3
        + [{"day": "2026-11-04", "event": "blocked", "lang": "en"}] * 2
        + [{"day": "2026-12-04", "event": "joined", "lang": "en"}] * 4
    )
    nov_5 = dt.datetime(2026, 11, 5, 12, tzinfo=dt.UTC).timestamp()
    db["broadcasts"].insert_all(
        [{"created_at": nov_5, "status": "done", "sent": 7}] * 5
        + [{"created_at": nov_5, "status": "cancelled", "sent": 0}] * 3
    )
    data = stats_json(seeded, D(2026, 11, 1), D(2026, 11, 30))
    assert data["subscribers"] == {"now": 7, "joined": 9, "left": 5}
    assert data["broadcasts_sent"] == 5
    assert stats_json(seeded, D(2026, 11, 6), D(2026, 11, 30))["broadcasts_sent"] == "<5"


def test_missing_feature_tables_count_as_zero(tmp_path: Path) -> None:
    store = Storage(tmp_path / "old.sqlite3")
    store.migrate()
    for table in ("deliveries", "broadcasts", "subscription_events", "subscribers"):
        store.db[table].drop()
    store.db["outcomes"].insert_all(outcome(6))
    stats = compute_stats(store.db, since=None, until=None, min_cell=5)
    assert (stats.subscribers_now, stats.subscribers_joined, stats.broadcasts_sent) == (0, 0, 0)
    assert stats.to_json()["subscribers"]["now"] == "<5"
    store.close()


# --- suppression ---------------------------------------------------------------------------------


def test_rates_on_a_small_numerator_or_denominator_are_suppressed(storage: Storage) -> None:
    storage.db["outcomes"].insert_all(
        outcome(4, outcome_id="iep_review", booked=1)  # small denominator
        + outcome(20, outcome_id="iep_evaluation", booked=0)
        + outcome(3, outcome_id="iep_evaluation", booked=1)  # small numerator
    )
    by_outcome = stats_json(storage)["booking_presses"]["by_outcome"]
    assert by_outcome["iep_review"] == {"count": "<5", "rate": "<5"}
    assert by_outcome["iep_evaluation"] == {"count": "<5", "rate": "<5"}


def test_one_screening_from_a_source_never_shows_its_name_or_answers(storage: Storage) -> None:
    storage.db["outcomes"].insert_all(
        outcome(12, outcome_id="iep_evaluation")
        + outcome(1, source="pta-smith-family", outcome_id="no_strong_signs")
    )
    data = stats_json(storage)
    text = json.dumps(data)
    assert "pta-smith-family" not in text
    assert data["by_source"] == {
        "direct": {"started": 12, "completed": 12},
        "other": {"started": "<5", "completed": "<5"},
    }
    assert data["outcomes"]["no_strong_signs"] == "<5"


def test_small_categories_fold_into_other_which_shows_once_large_enough(
    storage: Storage,
) -> None:
    storage.db["outcomes"].insert_all(
        outcome(10) + outcome(3, source="flyer") + outcome(4, source="radio")
    )
    assert stats_json(storage)["by_source"] == {
        "direct": {"started": 10, "completed": 10},
        "other": {"started": 7, "completed": 7},
    }


def test_the_threshold_is_the_setting_not_a_constant(seeded: Storage) -> None:
    data = stats_json(seeded, min_cell=10)
    assert data["outcomes"]["plan_504_may_fit"] == "<10"
    assert data["by_language"] == {
        "en": {"started": 35, "completed": 20},
        "es": {"started": 13, "completed": 10},
    }
    assert data["dropoff"] == {"effort": "<10", "plan": "<10"}


# --- periods and time zones ----------------------------------------------------------------------


def test_period_bounds_are_inclusive_days(storage: Storage) -> None:
    storage.db["outcomes"].insert_all(
        outcome(5, day="2026-10-31") + outcome(6, day="2026-11-01") + outcome(7, day="2026-11-30")
    )
    storage.db["sessions"].insert_all(in_progress(5, day="2026-12-01"))
    nov = stats_json(storage, D(2026, 11, 1), D(2026, 11, 30))
    assert nov["sessions_started"] == 13
    assert stats_json(storage, D(2026, 11, 1), D(2026, 11, 1))["sessions_started"] == 6
    assert stats_json(storage, None, D(2026, 10, 31))["sessions_started"] == 5
    assert stats_json(storage, D(2026, 12, 1), None)["sessions_in_progress"] == 5


def test_today_is_the_practice_time_zone_date() -> None:
    # 03:00 UTC on 29 Nov is still the evening of 28 Nov in Chicago.
    late = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC).timestamp()
    assert local_today(late, "America/Chicago") == D(2026, 11, 28)
    assert local_today(late, "Europe/Madrid") == D(2026, 11, 29)
    assert period_ending(D(2026, 11, 28), 7) == (D(2026, 11, 22), D(2026, 11, 28))
    assert period_ending(D(2026, 3, 1), 30) == (D(2026, 1, 31), D(2026, 3, 1))
    assert period_ending(D(2026, 11, 28), None) == (None, D(2026, 11, 28))


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli_env(seeded: Storage, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    monkeypatch.delenv("STATS_MIN_CELL", raising=False)
    return db_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_stats_json_holds_the_suppressed_figures(cli_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "stats", "--format", "json", "--since", "2026-11-01")
    assert code == 0
    data = json.loads(out)
    assert data["period"] == {"since": "2026-11-01", "until": None}
    assert data["sessions_started"] == 48
    assert data["outcomes"]["iep_review"] == "<5"
    assert data["dropoff"] == {"effort": 9, "plan": "<5"}


def test_stats_table_is_aligned_and_readable(cli_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "stats")
    assert code == 0
    lines = out.splitlines()
    assert "counts under 5 show as <5" in lines[0]
    assert any(line.split() == ["sessions", "started", "48"] for line in lines)
    assert any(line.split() == ["completion", "rate", "62.5%"] for line in lines)
    outcome_rows = [line for line in lines if line.startswith("  iep_evaluation")]
    assert outcome_rows == [outcome_rows[0]] and outcome_rows[0].split()[1:3] == ["18", "10"]
    # Right-aligned numbers: every outcome row has the same length up to its last column.
    block = lines[lines.index("Outcomes") + 1 : lines.index("Outcomes") + 6]
    assert len({len(line) for line in block}) == 1


def test_stats_csv_has_a_header_and_one_value_per_row(cli_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "stats", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["section", "name", "measure", "value"]
    assert ["summary", "sessions_started", "value", "48"] in rows
    assert ["by_source", "other", "started", "<5"] in rows
    assert ["dropoff", "effort", "abandoned_here", "9"] in rows


def test_export_writes_aggregate_csv_files_only(cli_env: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out_dir = tmp_path / "export"
    code, out, _ = run(capsys, "export", "--out", str(out_dir))
    assert code == 0 and "summary.csv" in out
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        ["summary.csv", "outcomes.csv", "dropoff.csv", "by_language.csv", "by_source.csv"]
    )

    def read(name: str) -> list[list[str]]:
        with (out_dir / name).open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))

    assert read("outcomes.csv")[0] == [
        "outcome_id",
        "screenings",
        "booking_presses",
        "booking_rate",
    ]
    assert ["iep_evaluation", "18", "10", "0.556"] in read("outcomes.csv")
    assert read("by_source.csv") == [
        ["source", "started", "completed"],
        ["direct", "46", "28"],
        ["other", "<5", "<5"],
    ]
    assert ["sessions_started", "48"] in read("summary.csv")
    everything = "".join((out_dir / n).read_text(encoding="utf-8-sig") for n in read_names(out_dir))
    assert "flyer" not in everything and "session" not in everything.replace("sessions_", "")


def read_names(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2026-13-01"], "--since: expected a date like 2026-11-28, got '2026-13-01'"),
        (["--until", "yesterday"], "--until: expected a date like 2026-11-28, got 'yesterday'"),
        (
            ["--since", "2026-12-01", "--until", "2026-11-01"],
            "--since 2026-12-01 is after --until 2026-11-01.",
        ),
        (
            ["--since", "2025-01-01", "--until", "2025-01-31"],
            "No screenings between 2025-01-01 and 2025-01-31.",
        ),
    ],
)
def test_bad_dates_and_empty_periods_are_one_clear_line(
    cli_env: Path, capsys, argv: list[str], message: str
) -> None:  # type: ignore[no-untyped-def]
    for command in (["stats"], ["export", "--out", str(cli_env.parent / "x")]):
        code, out, err = run(capsys, *command, *argv)
        assert (code, out, err) == (2, "", message + "\n")


def test_stats_chart_option_writes_the_png(cli_env: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    chart = tmp_path / "stats.png"
    code, _, _ = run(capsys, "stats", "--format", "json", "--chart", str(chart))
    assert code == 0
    assert png_size(chart.read_bytes()) == (1080, 1350)


# --- the chart -----------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_phone_sized_png_even_with_suppressed_or_no_values() -> None:
    data = {
        "dropoff": {"effort": 9, "plan": "<5"},
        "outcomes": {"iep_evaluation": 18, "iep_review": "<5"},
    }
    assert png_size(render_chart(data, question_order=["plan", "effort"])) == (1080, 1350)
    assert png_size(render_chart({"dropoff": {}, "outcomes": {}})) == (1080, 1350)
