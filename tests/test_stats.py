"""Staff statistics: exact figures from seeded rows, suppression, periods, every output shape."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from bot.stats.aggregate import Suppressor, compute_stats, period_ending, timeline
from bot.stats.chart import WIDTH_PX, chart_figure, render_chart
from bot.storage import Storage
from tests.shell import run
from tests.stats_helpers import EXPORT_FILES, in_progress, outcome, png_size

D = dt.date


def seed(storage: Storage) -> Storage:
    """Known counts, all on 2026-11-10: 30 finished, 16 abandoned, 6 in progress."""
    storage.db["outcomes"].insert_all(
        outcome(10, outcome_id="iep_evaluation", booked=1)
        + outcome(8, outcome_id="iep_evaluation")
        + outcome(5, outcome_id="plan_504_may_fit", lang="es", source="pta", booked=1)
        + outcome(2, outcome_id="plan_504_may_fit", lang="es", source="pta")
        + outcome(3, outcome_id="no_strong_signs", lang="es")
        + outcome(2, outcome_id="iep_review", source="flyer")
        + outcome(9, outcome_id=None, stopped_at="effort")
        + outcome(5, outcome_id=None, stopped_at="plan", lang="es")
        + outcome(2, outcome_id=None, stopped_at="attention")
    )
    storage.db["sessions"].insert_all(in_progress(6))
    storage.db["booking_presses"].insert_all(
        [{"day": "2026-11-12", "lang": "en", "outcome_id": None, "origin": "menu"}] * 6
    )
    return storage


@pytest.fixture
def seeded(storage: Storage) -> Storage:
    return seed(storage)


def stats_json(
    storage: Storage, since: D | None = None, until: D | None = None, min_cell: int = 5
) -> dict[str, Any]:
    return compute_stats(storage.db, since=since, until=until, min_cell=min_cell).to_json()


# --- exact figures -------------------------------------------------------------------------------


def test_seeded_rows_give_exact_figures(seeded: Storage) -> None:
    data = stats_json(seeded)
    assert data["period"] == {"since": None, "until": None}
    assert data["min_cell"] == 5
    assert data["sessions_started"] == 52
    assert data["sessions_completed"] == 30
    assert data["sessions_abandoned"] == 16
    assert data["sessions_in_progress"] == 6
    assert data["completion_rate"] == round(30 / 52, 3)
    # no_strong_signs (3) and iep_review (2) together make 5: shown as "other".
    assert data["outcomes"] == {"iep_evaluation": 18, "plan_504_may_fit": 7, "other": 5}
    assert data["booking_presses"] == {
        "total": 21,
        "after_result": 15,
        "after_result_rate": 0.5,  # 15 of the 30 who saw a result tapped Book
        "from_menu": 6,
        "by_outcome": {
            "iep_evaluation": {"screenings": 18, "count": 10, "rate": round(10 / 18, 3)},
            "plan_504_may_fit": {"screenings": 7, "count": 5, "rate": round(5 / 7, 3)},
            # Nobody pressed Book in "other": a zero is hidden, and subtracting finds 0.
            "other": {"screenings": 5, "count": "<5", "rate": None},
        },
    }
    # attention (2) alone would be "<5" yet 16 - 9 - 5 = 2: plan joins it in "other".
    assert data["dropoff"] == {"effort": 9, "other": 7}
    assert data["by_language"] == {
        "en": {"started": 37, "completed": 20, "completion_rate": round(20 / 37, 3)},
        "es": {"started": 15, "completed": 10, "completion_rate": round(10 / 15, 3)},
    }
    # The flyer (2) alone would be recoverable from the total; pta (7) joins it.
    assert data["by_source"] == {
        "direct": {"started": 43, "completed": 21, "completion_rate": round(21 / 43, 3)},
        "other": {"started": 9, "completed": 9, "completion_rate": 1.0},
    }
    assert data["timeline"] == {
        "unit": "day",
        "buckets": [{"from": "2026-11-10", "to": "2026-11-10", "started": 52, "completed": 30}],
    }
    assert data["subscribers"] == {"now": "<5", "joined": "<5", "left": "<5"}
    assert data["broadcasts_sent"] == "<5"


def test_subscribers_and_broadcasts_are_counted_in_the_period(seeded: Storage) -> None:
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

    def at(day: int, hour: int) -> float:
        return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC).timestamp()

    db["broadcasts"].insert_all(
        [{"created_at": at(5, 12), "status": "done", "sent": 7}] * 5
        + [{"created_at": at(30, 23), "status": "done", "sent": 7}]  # last hour of the period
        + [{"created_at": at(6, 9), "status": "cancelled", "sent": 2}] * 3
        + [{"created_at": at(6, 9), "status": "sending", "sent": 1}]  # still going: not counted
    )
    data = stats_json(seeded, D(2026, 11, 1), D(2026, 11, 30))
    assert data["subscribers"] == {"now": 7, "joined": 9, "left": 5}
    assert data["broadcasts_sent"] == 6
    assert data["broadcasts"] == {"sent": 6, "cancelled": "<5", "messages_delivered": 48}
    assert stats_json(seeded, D(2026, 11, 6), D(2026, 11, 29))["broadcasts_sent"] == "<5"
    # Days in the practice's time zone: 23:00 UTC on the 30th is 17:00 in Chicago, and
    # 02:00 UTC on 1 December is still the evening of the 30th there.
    db["broadcasts"].insert_all([{"created_at": at(30, 23) + 3 * 3600, "status": "done"}])
    assert stats_json(seeded, D(2026, 11, 1), D(2026, 11, 30))["broadcasts_sent"] == 6
    chicago = compute_stats(
        db, since=D(2026, 11, 1), until=D(2026, 11, 30), min_cell=5, timezone="America/Chicago"
    )
    assert chicago.broadcasts_sent == 7


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


def test_one_screening_from_a_source_never_shows_its_name_or_answers(storage: Storage) -> None:
    storage.db["outcomes"].insert_all(
        outcome(12, outcome_id="iep_evaluation")
        + outcome(1, source="pta-smith-family", outcome_id="no_strong_signs")
    )
    data = stats_json(storage)
    assert "pta-smith-family" not in json.dumps(data)
    # "direct: 12" next to a total of 13 would give the family away: all is "other".
    assert data["by_source"] == {
        "other": {"started": 13, "completed": 13, "completion_rate": 1.0},
    }
    assert data["outcomes"] == {"other": 13}


def test_small_categories_fold_into_other_which_shows_once_large_enough(
    storage: Storage,
) -> None:
    storage.db["outcomes"].insert_all(
        outcome(10) + outcome(3, source="flyer") + outcome(4, source="radio")
    )
    assert stats_json(storage)["by_source"] == {
        "direct": {"started": 10, "completed": 10, "completion_rate": 1.0},
        "other": {"started": 7, "completed": 7, "completion_rate": 1.0},
    }


def test_a_small_count_inside_a_large_group_cannot_be_recovered(storage: Storage) -> None:
    # Spanish: 13 started but only 3 finished. "es: <5 finished" beside "en: 20" and a total
    # of 23 finished would reveal the 3, so the languages are combined.
    storage.db["outcomes"].insert_all(
        outcome(20, lang="en")
        + outcome(15, lang="en", outcome_id=None)
        + outcome(3, lang="es")
        + outcome(10, lang="es", outcome_id=None)
    )
    data = stats_json(storage)
    assert data["sessions_completed"] == 23
    assert data["by_language"] == {
        "other": {"started": 48, "completed": 23, "completion_rate": round(23 / 48, 3)}
    }


def test_rates_on_a_small_numerator_or_denominator_are_hidden(storage: Storage) -> None:
    storage.db["outcomes"].insert_all(
        outcome(20, outcome_id="iep_evaluation", booked=0)
        + outcome(3, outcome_id="iep_evaluation", booked=1)
        + outcome(6, outcome_id="iep_review", booked=1)
        + outcome(2, outcome_id="iep_review", booked=0)
        + outcome(3, outcome_id="no_strong_signs", booked=1)
        + outcome(3, outcome_id="plan_504_may_fit", booked=0)
    )
    by_outcome = stats_json(storage)["booking_presses"]["by_outcome"]
    assert by_outcome == {
        # 3 booked is hidden, and so is its rate; the other hidden cells add up to 3 as well,
        # together 6: no single one can be worked out.
        "iep_evaluation": {"screenings": 23, "count": "<5", "rate": None},
        "iep_review": {"screenings": 8, "count": 6, "rate": 0.75},
        "other": {"screenings": 6, "count": "<5", "rate": None},
    }


def test_the_threshold_is_the_setting_not_a_constant(seeded: Storage) -> None:
    data = stats_json(seeded, min_cell=10)
    assert data["sessions_in_progress"] == "<10"
    assert data["outcomes"] == {"iep_evaluation": 18, "other": 12}
    assert data["dropoff"] == {"other": 16}
    assert data["by_language"]["es"] == {"started": 15, "completed": 10, "completion_rate": 0.667}


def _check_partition(cells: list[Any], total: int, k: int, where: str) -> None:
    """Shown cells are exact, so total - shown is what hidden cells add up to."""
    shown = sum(c for c in cells if isinstance(c, int))
    hidden = total - shown
    if total >= k:
        assert hidden == 0 or hidden >= k, f"{where}: hidden cells add up to {hidden}"
    for cell in cells:
        assert (isinstance(cell, int) and cell >= k) or cell == f"<{k}", (where, cell)


@pytest.mark.parametrize("seed_value", range(40))
def test_no_hidden_cell_can_be_worked_out_from_a_shown_total(
    tmp_path: Path, seed_value: int
) -> None:
    """Random small practices: every breakdown keeps its hidden cells safe (k = 5)."""
    rng = random.Random(seed_value)
    store = Storage(tmp_path / f"r{seed_value}.sqlite3")
    store.migrate()
    rows: list[dict[str, Any]] = []
    for _ in range(rng.randrange(5, 60)):
        done = rng.random() < 0.6
        rows += outcome(
            1,
            day=f"2026-11-{rng.randrange(1, 29):02d}",
            lang=rng.choice(["en", "en", "es"]),
            source=rng.choice(["direct", "direct", "flyer", "pta", "clinic", "radio"]),
            outcome_id=rng.choice(["a", "a", "b", "c", "d"]) if done else None,
            stopped_at=rng.choice(["q1", "q2", "q3", "q4"]),
            booked=int(done and rng.random() < 0.3),
        )
    store.db["outcomes"].insert_all(rows)
    stats = compute_stats(store.db, since=None, until=None, min_cell=5)
    data = stats.to_json()
    store.close()
    started, completed = stats.sessions_started, stats.sessions_completed
    for key in ("by_language", "by_source"):
        groups = data[key]
        _check_partition([g["started"] for g in groups.values()], started, 5, key)
        _check_partition([g["completed"] for g in groups.values()], completed, 5, key)
        assert all(g["started"] != "<5" or name == "other" for name, g in groups.items())
    _check_partition(list(data["outcomes"].values()), completed, 5, "outcomes")
    _check_partition(list(data["dropoff"].values()), stats.sessions_abandoned, 5, "dropoff")
    booked = data["booking_presses"]["by_outcome"].values()
    _check_partition([b["count"] for b in booked], stats.booking_after_result, 5, "booking")
    buckets = data["timeline"]["buckets"]
    _check_partition([b["started"] for b in buckets], started, 5, "timeline")
    if completed >= 5:
        _check_partition([b["completed"] for b in buckets], completed, 5, "timeline")


def test_fold_keeps_big_groups_and_merges_only_what_it_must() -> None:
    s = Suppressor(5)
    assert s.fold({}) == []
    assert s.fold({"a": (9,), "b": (6,), "c": (5,)}) == [("a", (9,)), ("b", (6,)), ("c", (5,))]
    assert s.fold({"a": (9,), "b": (6,), "c": (5,), "d": (1,)}) == [
        ("a", (9,)),
        ("b", (6,)),
        ("other", (6,)),
    ]
    # A group literally named "other" is merged into ours, never shown twice.
    assert s.fold({"a": (9,), "other": (3,), "b": (2,)}) == [("a", (9,)), ("other", (5,))]
    assert s.fold({"a": (4,)}) == [("other", (4,))]


# --- periods, time zones and the timeline --------------------------------------------------------


def test_period_bounds_are_inclusive_days(storage: Storage) -> None:
    storage.db["outcomes"].insert_all(
        outcome(5, day="2026-10-31") + outcome(6, day="2026-11-01") + outcome(7, day="2026-11-30")
    )
    storage.db["sessions"].insert_all(in_progress(5, day="2026-12-01"))
    assert stats_json(storage, D(2026, 11, 1), D(2026, 11, 30))["sessions_started"] == 13
    assert stats_json(storage, D(2026, 11, 1), D(2026, 11, 1))["sessions_started"] == 6
    assert stats_json(storage, None, D(2026, 10, 31))["sessions_started"] == 5
    assert stats_json(storage, D(2026, 12, 1), None)["sessions_in_progress"] == 5
    assert stats_json(storage, D(2027, 1, 1), None)["sessions_started"] == "<5"


def test_the_database_dates_things_by_the_practice_time_zone(tmp_path: Path) -> None:
    """Storage.today() dates every `day` column, and /stats takes today from it too."""
    moment = [dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC).timestamp()]

    def today(timezone: str) -> str:
        store = Storage(tmp_path / f"{timezone.replace('/', '_')}.db", clock=lambda: moment[0],
                        timezone=timezone)  # fmt: skip
        try:
            return store.today()
        finally:
            store.close()

    # 03:00 UTC on 29 Nov is still the evening of 28 Nov in Chicago.
    assert today("America/Chicago") == "2026-11-28"
    assert today("Europe/Madrid") == "2026-11-29"
    # Around the end of daylight saving time (2026-11-01, 02:00 CDT -> 01:00 CST).
    for hour, minute, local in ((4, 30, "2026-10-31"), (5, 30, "2026-11-01"), (7, 0, "2026-11-01")):
        moment[0] = dt.datetime(2026, 11, 1, hour, minute, tzinfo=dt.UTC).timestamp()
        assert today("America/Chicago") == local


def test_a_period_is_its_last_days_up_to_today() -> None:
    assert period_ending(D(2026, 11, 28), 7) == (D(2026, 11, 22), D(2026, 11, 28))
    assert period_ending(D(2026, 3, 1), 30) == (D(2026, 1, 31), D(2026, 3, 1))
    assert period_ending(D(2026, 11, 28), None) == (None, D(2026, 11, 28))


def test_the_timeline_merges_neighbours_until_each_bucket_holds_enough() -> None:
    s = Suppressor(5)
    days = [
        (D(2026, 11, 1), 6, 5),
        (D(2026, 11, 2), 2, 1),
        (D(2026, 11, 3), 4, 4),  # with the 2nd: 6 started, 5 finished
        (D(2026, 11, 4), 9, 3),
        (D(2026, 11, 6), 1, 1),  # a small tail joins the bucket before it
    ]
    assert timeline(s, days, D(2026, 11, 1), D(2026, 11, 7)) == {
        "unit": "day",
        "buckets": [
            {"from": "2026-11-01", "to": "2026-11-01", "started": 6, "completed": 5},
            # 2 + 4 started, 1 + 4 finished: enough. Then 9 started but 3 finished is not,
            # and the tail (1, 1) cannot make it so: they join the bucket before, which
            # then runs to the period's last day (buckets tile the period).
            {"from": "2026-11-02", "to": "2026-11-07", "started": 16, "completed": 9},
        ],
    }
    # When fewer than k finished in the whole period, only `started` decides.
    few = [(D(2026, 11, 1), 5, 1), (D(2026, 11, 2), 7, 2)]
    assert [b["completed"] for b in timeline(s, few, None, None)["buckets"]] == ["<5", "<5"]


def test_the_timeline_unit_follows_the_period_and_weeks_end_today() -> None:
    s = Suppressor(1)
    day = [(D(2026, 11, 28), 1, 1)]
    assert timeline(s, day, D(2026, 11, 1), D(2026, 11, 28))["unit"] == "day"
    spread = [(D(2026, 9, 1), 1, 1), (D(2026, 11, 20), 1, 1), *day]
    weeks = timeline(s, spread, D(2026, 8, 31), D(2026, 11, 28))
    assert weeks["unit"] == "week"
    # Weeks are counted back from the last day, so the newest one is whole; the first is
    # clipped to the period, and a quiet stretch belongs to the bucket after it.
    assert [(b["from"], b["to"]) for b in weeks["buckets"]] == [
        ("2026-08-31", "2026-09-05"),
        ("2026-09-06", "2026-11-21"),
        ("2026-11-22", "2026-11-28"),
    ]
    months = timeline(s, [(D(2025, 1, 15), 1, 1), *day], None, None)
    assert months["unit"] == "month"
    assert months["buckets"][0]["from"] == "2025-01-15"
    assert [(b["from"], b["to"]) for b in months["buckets"]] == [
        ("2025-01-15", "2025-01-31"),  # from the first screening
        ("2025-02-01", "2026-11-28"),  # to the last
    ]
    assert timeline(s, [], None, None) == {"unit": None, "buckets": []}


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli_env(
    seeded: Storage, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    monkeypatch.delenv("STATS_MIN_CELL", raising=False)
    return db_path


def test_stats_json_holds_the_suppressed_figures(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "stats", "--format", "json", "--since", "2026-11-01")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["period"] == {"since": "2026-11-01", "until": None}
    for key in (
        "sessions_started",
        "sessions_completed",
        "sessions_abandoned",
        "completion_rate",
        "outcomes",
        "booking_presses",
        "by_language",
        "by_source",
        "dropoff",
        "subscribers",
        "broadcasts_sent",
    ):
        assert key in data, key
    assert data["sessions_started"] == 52
    assert data["outcomes"]["other"] == 5
    assert data["booking_presses"]["by_outcome"]["other"]["count"] == "<5"
    assert data["dropoff"] == {"effort": 9, "other": 7}


def test_stats_table_is_aligned_and_readable(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "stats")
    assert code == 0
    lines = out.splitlines()
    assert "counts under 5 show as <5" in lines[0]
    assert any(line.split() == ["sessions", "started", "52"] for line in lines)
    assert any(line.split() == ["completion", "rate", "57.7%"] for line in lines)
    block = lines[lines.index("Book presses by outcome") + 1 :]
    block = block[: block.index("")]
    assert block[0].split() == [
        "outcome",
        "id",
        "screenings",
        "booking",
        "presses",
        "booking",
        "rate",
    ]
    assert block[1].split() == ["iep_evaluation", "18", "10", "55.6%"]
    assert block[3].split() == ["other", "5", "<5", "-"]
    # Right-aligned numbers: every row of the block ends at the same column.
    assert len({len(line) for line in block}) == 1
    # Drop-off in the order of the questions, "other" last.
    start = lines.index("Where abandoned screenings stopped (question order)")
    assert [line.split()[0] for line in lines[start + 2 : start + 4]] == ["effort", "other"]


def test_stats_csv_has_a_header_and_one_value_per_row(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "stats", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["section", "name", "measure", "value"]
    assert {len(row) for row in rows} == {4}
    assert ["summary", "sessions_started", "value", "52"] in rows
    assert ["by_source", "other", "started", "9"] in rows
    assert ["booking_by_outcome", "other", "booking_presses", "<5"] in rows
    assert ["booking_by_outcome", "other", "booking_rate", ""] in rows
    assert ["dropoff", "effort", "abandoned_here", "9"] in rows
    assert ["timeline", "2026-11-10..2026-11-10", "started", "52"] in rows


def test_export_writes_aggregate_csv_files_only(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "export"
    code, out, _ = run(capsys, "export", "--out", str(out_dir))
    assert code == 0 and "summary.csv" in out
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(EXPORT_FILES)

    def read(name: str) -> list[list[str]]:
        raw = (out_dir / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets then read UTF-8
        with (out_dir / name).open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))

    assert read("outcomes.csv") == [
        ["outcome_id", "name", "screenings"],
        ["iep_evaluation", "An IEP evaluation looks worth it", "18"],
        ["plan_504_may_fit", "A 504 plan may fit", "7"],
        ["other", "other (smaller groups together)", "5"],
    ]
    assert ["iep_evaluation", "An IEP evaluation looks worth it", "18", "10", "0.556"] in (
        read("booking_by_outcome.csv")
    )
    assert read("by_source.csv") == [
        ["source", "started", "completed", "completion_rate"],
        ["direct", "43", "21", "0.488"],
        ["other", "9", "9", "1.0"],
    ]
    assert read("dropoff.csv")[1] == ["effort", "Effort to keep up", "9"]
    assert ["sessions_started", "52"] in read("summary.csv")
    everything = "".join((out_dir / p.name).read_text("utf-8-sig") for p in out_dir.iterdir())
    for leak in ("flyer", "pta", "chat_key", "session_id", "answers", "{}"):
        assert leak not in everything, leak


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
        (["--since", "2027-01-01"], "No screenings between 2027-01-01 and today."),
    ],
)
def test_bad_dates_and_empty_periods_are_one_clear_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    for command in (["stats"], ["export", "--out", str(cli_env.parent / "x")]):
        code, out, err = run(capsys, *command, *argv)
        assert (code, out, err) == (2, "", message + "\n")
    assert not (cli_env.parent / "x").exists()


def test_a_missing_database_is_one_line_and_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nowhere" / "bot.sqlite3"
    monkeypatch.setenv("DATABASE_PATH", str(missing))
    code, out, err = run(capsys, "stats")
    assert (code, out) == (2, "")
    assert err == f"No database at {missing} (set DATABASE_PATH).\n"
    assert not missing.parent.exists()


def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, just words " * 100)
    monkeypatch.setenv("DATABASE_PATH", str(notes))
    code, out, err = run(capsys, "stats", "--format", "json")
    assert (code, out) == (2, "")
    assert err == (
        f"Database problem: {notes} is not an SQLite database (a different file?). Point"
        " DATABASE_PATH at the bot's database, or move this file away to start a new one.\n"
    )


def test_stats_chart_option_writes_the_png(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "stats.png"
    code, out, _ = run(capsys, "stats", "--format", "json", "--chart", str(chart))
    assert code == 0 and json.loads(out)["sessions_started"] == 52
    assert png_size(chart.read_bytes())[0] == WIDTH_PX
    code, _, err = run(capsys, "stats", "--chart", str(tmp_path / "no" / "such" / "dir.png"))
    assert code == 2 and err.startswith("--chart: cannot write")


def test_stats_with_no_bot_running_leaves_no_files_beside_the_database(
    cli_env: Path, seeded: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Made by another user (root in `fly ssh console`), a -wal or a -shm would keep the bot's
    own user out of its database at its next start."""
    seeded.close()  # the bot has stopped: SQLite removed its -wal and -shm
    beside = sorted(p.name for p in cli_env.parent.iterdir())
    assert beside == [cli_env.name]
    code, out, _ = run(capsys, "stats", "--format", "json")
    assert code == 0 and json.loads(out)["sessions_started"] == 52
    assert sorted(p.name for p in cli_env.parent.iterdir()) == beside


# --- the chart -----------------------------------------------------------------------------------


def words_on(fig: Any) -> list[str]:
    """Every piece of text a chart shows: titles, notes, names, values, dates, the legend."""
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
        found += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            found += [t.get_text() for t in legend.get_texts()]
    return [w for w in found if w]


def chart_of(
    storage: Storage, since: D | None, until: D, **words: str
) -> tuple[dict[str, Any], Any]:
    data = stats_json(storage, since, until)
    title = f"Last days ({since} to {until})" if since else f"All time, up to {until}"
    return data, chart_figure(data, words={"period": title, **words})


def test_the_chart_shows_every_panel_with_the_figures_of_the_summary(seeded: Storage) -> None:
    data, fig = chart_of(seeded, D(2026, 11, 1), D(2026, 11, 30))
    shown = words_on(fig)
    for title in (
        "Screenings started and finished",
        "Where unfinished screenings stopped",
        "Outcomes of finished screenings",
        "Tapped “Book” after their result",
    ):
        assert title in shown
    # The booking panel: all results, then by outcome; a rate only where both counts show.
    assert "All results" in shown
    assert "50% · 15 of 30" in shown  # data["booking_presses"]["after_result_rate"] == 0.5
    assert "56% · 10 of 18" in shown  # iep_evaluation
    assert "71% · 5 of 7" in shown  # plan_504_may_fit
    assert "<5 of 5" in shown  # "other": nobody booked, hidden, and so is its rate
    assert data["booking_presses"]["by_outcome"]["other"]["rate"] is None
    assert "18" in shown and "9" in shown  # the outcome and drop-off counts


def test_the_header_and_the_last_bar_are_the_same_day(storage: Storage) -> None:
    # Screenings on the period's last day: the newest date label is that day, as in the title.
    storage.db["outcomes"].insert_all(
        outcome(6, day="2026-11-03") + outcome(6, day="2026-11-20") + outcome(7, day="2026-12-01")
    )
    _, fig = chart_of(storage, D(2026, 11, 2), D(2026, 12, 1))
    shown = words_on(fig)
    assert "Last days (2026-11-02 to 2026-12-01)" in shown
    dates = [w for w in shown if "Nov" in w or "Dec" in w]
    assert dates[-1].endswith("1 Dec"), dates
    assert not any("2 Dec" in w for w in dates)


def test_a_hidden_figure_is_never_called_none(storage: Storage) -> None:
    # 7 finished, 3 abandoned, nobody booked: "Abandoned: <5" in the summary.
    storage.db["outcomes"].insert_all(
        outcome(7, outcome_id="iep_evaluation") + outcome(3, outcome_id=None, stopped_at="effort")
    )
    data, fig = chart_of(storage, None, D(2026, 11, 10))
    assert data["sessions_abandoned"] == "<5"
    shown = words_on(fig)
    assert not any("None" in w or "none" in w for w in shown), shown
    hidden = "Fewer than 5: not shown, so that no one can be picked out"
    assert shown.count(hidden) == 1  # the drop-off panel; the others have figures
    assert "<5 of 7" in shown  # nobody booked: hidden, no rate, no bar


def test_a_small_count_chart_hides_every_panel_it_must(storage: Storage) -> None:
    storage.db["outcomes"].insert_all(outcome(3) + outcome(2, outcome_id=None))
    data, fig = chart_of(storage, None, D(2026, 11, 10))
    assert data["sessions_started"] == 5 and data["sessions_completed"] == "<5"
    shown = words_on(fig)
    hidden = "Fewer than 5: not shown, so that no one can be picked out"
    # Drop-off, outcomes and booking are all under 5; the timeline shows its 5 started.
    assert shown.count(hidden) == 3
    assert "5 / <5" in shown


def test_the_hidden_note_names_the_threshold_in_use(seeded: Storage, content: Any) -> None:
    from bot.stats.text import chart_words

    data = stats_json(seeded, min_cell=10)  # STATS_MIN_CELL=10: 7 abandoned are hidden
    data["dropoff"] = {"other": "<10"}
    data["sessions_abandoned"] = "<10"
    shown = words_on(chart_figure(data, words=chart_words(content.pack("es"), "t")))
    note = "Menos de 10: no se muestran, para que no se pueda identificar a nadie"
    assert note in [w.replace("\n", " ") for w in shown]


def test_the_chart_is_a_phone_wide_png_in_either_language(seeded: Storage, content: Any) -> None:
    from bot.stats.text import chart_words, label_names

    data = stats_json(seeded, D(2026, 11, 1), D(2026, 11, 30))
    for lang, booking in (("en", "Tapped “Book” after their result"),
                          ("es", "Pulsaron «Reservar» tras su resultado")):  # fmt: skip
        pack = content.pack(lang)
        words = chart_words(pack, "title")
        assert words["booking"] == booking
        png = render_chart(data, labels=label_names(pack), words=words)
        width, height = png_size(png)
        assert width == WIDTH_PX and 1200 < height < 3000
    es = words_on(chart_figure(data, labels=label_names(content.pack("es")),
                               words=chart_words(content.pack("es"), "t")))  # fmt: skip
    assert "Todos los resultados" in es and "50% · 15 de 30" in es
    assert "Parece útil pedir una\nevaluación" in es  # the outcome's Spanish title
    assert "Menos de 5: no se muestran, para que no se pueda identificar a nadie" not in es


def test_many_outcomes_fold_on_the_chart_into_other(storage: Storage) -> None:
    from bot.stats.chart import MAX_BARS

    ids = [f"outcome_{i:02}" for i in range(14)]
    storage.db["outcomes"].insert_all(
        [row for i, oid in enumerate(ids) for row in outcome(5 + i, outcome_id=oid, booked=0)]
    )
    data, fig = chart_of(storage, None, D(2026, 11, 10))
    assert len(data["outcomes"]) == 14
    shown = words_on(fig)
    kept = 14 - (MAX_BARS - 1)  # the first id kept: the largest MAX_BARS - 1 have their bar
    assert f"outcome {kept:02}" in shown and f"outcome {kept - 1:02}" not in shown
    # The smallest (5, 6, ...) on one bar: they were all shown counts, so is their sum.
    assert "other" in shown and str(sum(5 + i for i in range(kept))) in shown
    assert sum(1 for w in shown if w.startswith("outcome ")) == 2 * (MAX_BARS - 1)  # 2 panels
    width, height = png_size(render_chart(data))
    assert width == WIDTH_PX and height < 2600  # Telegram keeps photos up to 2,560 high


# --- letters made ------------------------------------------------------------------------------


def count_letters(storage: Storage, made: dict[tuple[str, str], int]) -> None:
    for (letter_type, lang), n in made.items():
        for _ in range(n):
            storage.count_letter(letter_type, lang)


def test_letters_are_counted_by_letter_and_language_and_suppressed(
    storage: Storage, clock: Any
) -> None:
    count_letters(storage, {("evaluation", "en"): 4, ("evaluation", "en+es"): 3, ("pwn", "es"): 2})
    clock.advance(days=3)  # 2026-12-01
    count_letters(storage, {("records", "en"): 6})

    everything = stats_json(storage)["letters"]
    assert everything["total"] == 15
    # pwn (2) alone would be a small group: the next smallest joins it in "other", so that
    # neither can be worked out from the total.
    assert everything["by_type"] == {"evaluation": 7, "other": 8}
    assert everything["by_language"] == {"en": 10, "other": 5}

    first_days = stats_json(storage, since=D(2026, 11, 1), until=D(2026, 11, 30))["letters"]
    assert first_days["total"] == 9 and "records" not in first_days["by_type"]
    assert stats_json(storage, min_cell=1)["letters"]["by_language"] == {
        "en": 10,
        "en+es": 3,
        "es": 2,
    }


def test_a_database_without_letters_counts_none(storage: Storage) -> None:
    storage.db.execute("DROP TABLE letters_made")  # as a copy from before letters would be
    assert stats_json(storage)["letters"] == {"total": "<5", "by_type": {}, "by_language": {}}


def test_letters_show_in_the_summary_with_their_names_in_each_language(
    storage: Storage, content: Any
) -> None:
    from bot.stats.text import summary_text

    count_letters(storage, {("evaluation", "en"): 6, ("evaluation", "en+es"): 5})
    data = stats_json(storage)
    names = {code: lang.name for code, lang in content.languages.items()}
    english = summary_text(data, content.pack("en"), "All time", timezone="UTC", names=names)
    assert "<b>Letters made</b>: 11\n• Evaluation request: 11\n" in english
    assert "Languages: English 6 · English + Español 5" in english
    spanish = summary_text(data, content.pack("es"), "Todo", timezone="UTC", names=names)
    assert "<b>Cartas hechas</b>: 11\n• Pedir una evaluación: 11\n" in spanish
    assert "Idiomas: English 6 · English + Español 5" in spanish


def test_the_export_names_each_letter_apart_from_the_question_of_the_same_id(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Storage(cli_env)
    count_letters(store, {("evaluation", "en"): 6, ("iee", "es"): 5})
    store.close()
    out_dir = tmp_path / "export"
    code, _, _ = run(capsys, "export", "--out", str(out_dir))
    assert code == 0

    def read(name: str) -> list[list[str]]:
        with (out_dir / name).open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))

    assert read("letters_by_type.csv") == [
        ["letter_type", "name", "letters_made"],
        ["evaluation", "Evaluation request", "6"],
        ["iee", "IEE request", "5"],
    ]
    assert read("letters_by_language.csv") == [
        ["language", "letters_made"],
        ["en", "6"],
        ["es", "5"],
    ]
    assert ["letters_made", "11"] in read("summary.csv")
    code, out, _ = run(capsys, "stats")
    assert "Letters made, by letter\n  letter type  letters made\n  evaluation" in out
    assert re.search(r"\n  letters made +11\n", out), out
