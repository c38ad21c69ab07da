"""The outcome rollup (outcome_counts, migration m007): the triggers keep it in step with the
outcome log however the log is written, and the statistics read from it are the very ones
the log itself gives."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from bot.migrations import migrations
from bot.stats import aggregate
from bot.stats.aggregate import Stats, compute_stats
from bot.storage import Storage, StoredSession
from tests.stats_helpers import in_progress, outcome

D = dt.date
ROLLUP_MIGRATION = "m007_outcome_counts"
DAYS = [f"2026-11-{day:02d}" for day in (1, 2, 3, 9, 10, 30)]
QUESTIONS = ["effort", "plan", "attention", "reading"]
OUTCOMES = ["iep_evaluation", "plan_504_may_fit", "no_strong_signs", "iep_review"]

# --- the reference: compute_stats as it was before the rollup, over the outcome rows --------

# Verbatim from bot/stats/aggregate.py before m007: COUNT(*) over the outcome log.
LOG_GROUPED = """
WITH g AS MATERIALIZED (
    SELECT lang, source, status, outcome_id, stopped_at, COUNT(*) AS n,
        SUM(booked) FILTER (WHERE booked <> 0) AS booked
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

LOG_DAYS = """
SELECT day, SUM(n), SUM(CASE WHEN status = 'completed' THEN n ELSE 0 END) FROM (
    SELECT status, day, COUNT(*) AS n FROM outcomes WHERE {where_o} GROUP BY status, day
    UNION ALL
    SELECT 'in_progress', started_day, COUNT(*) FROM sessions WHERE {where_s}
    GROUP BY started_day
) GROUP BY day ORDER BY day
"""

PERIODS = [
    (None, None),
    (D(2026, 11, 2), D(2026, 11, 10)),
    (D(2026, 11, 10), D(2026, 11, 10)),
    (None, D(2026, 11, 3)),
    (D(2026, 11, 9), None),
    (D(2027, 1, 1), None),  # nothing in it
]


def log_stats(storage: Storage, since: D | None, until: D | None, min_cell: int) -> Stats:
    """The figures counted from the outcome log itself, by the SQL from before the rollup."""
    with mock.patch.multiple(aggregate, _GROUPED=LOG_GROUPED, _DAYS=LOG_DAYS):
        return compute_stats(storage.db, since=since, until=until, min_cell=min_cell)


def assert_same_figures(storage: Storage) -> None:
    """compute_stats gives what the log gives, raw and suppressed, for every period and k."""
    for since, until in PERIODS:
        for min_cell in (1, 3, 5):
            ours = compute_stats(storage.db, since=since, until=until, min_cell=min_cell)
            theirs = log_stats(storage, since, until, min_cell)
            assert ours == theirs, (since, until, min_cell)
            # Dumped, so that the order of every breakdown must match as well.
            assert json.dumps(ours.to_json()) == json.dumps(theirs.to_json())


# --- the rollup against the log ----------------------------------------------------------------

_GROUP = "day, lang, source, status, outcome_id, stopped_at"


def log_groups(storage: Storage) -> list[tuple[Any, ...]]:
    return storage.db.execute(
        f"SELECT {_GROUP}, COUNT(*), SUM(booked) FROM outcomes GROUP BY {_GROUP} ORDER BY {_GROUP}"
    ).fetchall()


def rollup_groups(storage: Storage) -> list[tuple[Any, ...]]:
    return storage.db.execute(
        f"SELECT {_GROUP}, n, booked FROM outcome_counts ORDER BY {_GROUP}"
    ).fetchall()


def assert_in_step(storage: Storage) -> None:
    """One rollup row per group of the log (NULLs included), with its count and bookings."""
    assert rollup_groups(storage) == log_groups(storage)


# --- writing the log as the bot does -------------------------------------------------------------


def screening(rng: random.Random, number: int) -> tuple[StoredSession, str | None]:
    """A random screening about to finish: completed with an outcome, or abandoned (None)."""
    session = StoredSession(
        chat_key=f"chat{number}",
        session_id=f"{number:012x}",
        lang=rng.choice(["en", "en", "es"]),
        source=rng.choice(["direct", "direct", "flyer", "pta", f"link{number}"]),
        state=rng.choice(QUESTIONS),
        answers={},
        history=[],
        started_day=rng.choice(DAYS),
        updated_at=0.0,
    )
    return session, rng.choice(OUTCOMES) if rng.random() < 0.6 else None


def play(storage: Storage, rng: random.Random, count: int, first: int = 0) -> None:
    """Finish `count` screenings through Storage with retries and Book presses, and some
    writes by hand (a changed outcome, a deleted row) that the triggers must follow too."""
    answers = {"effort": "yes", "plan": "not_sure"}
    finished: list[StoredSession] = []
    for number in range(first, first + count):
        session, outcome_id = screening(rng, number)
        storage.finish_session(session, outcome_id=outcome_id, answers=answers)
        finished.append(session)
        if rng.random() < 0.2:  # a retried update: INSERT OR IGNORE of the same session
            other = rng.choice([outcome_id, None, "iep_review"])
            storage.finish_session(session, outcome_id=other, answers=answers)
        for _ in range(rng.choice([0, 0, 1, 2])):  # Book, after a result or twice
            storage.record_booking(session_id=session.session_id, lang=session.lang)
    for _ in range(count // 10):
        storage.record_booking(session_id=None, lang="en")  # from the menu
    for session in rng.sample(finished, count // 10):
        storage.db.execute(
            "UPDATE outcomes SET outcome_id = ?, day = ? WHERE session_id = ?",
            [rng.choice([*OUTCOMES, None]), rng.choice(DAYS), session.session_id],
        )
    for session in rng.sample(finished, count // 10):
        storage.db.execute("DELETE FROM outcomes WHERE session_id = ?", [session.session_id])


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed_value", range(30))
def test_random_writes_keep_the_rollup_in_step_and_the_figures_identical(
    storage: Storage, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    play(storage, rng, rng.randrange(1, 120))
    storage.db["sessions"].insert_all(in_progress(rng.randrange(0, 8), day=rng.choice(DAYS)))
    assert_in_step(storage)
    assert_same_figures(storage)


def test_a_retried_finish_is_counted_once(storage: Storage) -> None:
    session, _ = screening(random.Random(1), 1)
    for outcome_id in ("iep_review", "iep_review", None):
        storage.finish_session(session, outcome_id=outcome_id, answers={})
    # OR IGNORE skipped the repeats, and a trigger fires only for a row really inserted.
    assert [row[-2:] for row in rollup_groups(storage)] == [(1, 0)]
    storage.record_booking(session_id=session.session_id, lang="en")
    storage.record_booking(session_id=session.session_id, lang="en")
    assert [row[-2:] for row in rollup_groups(storage)] == [(1, 1)]


def test_a_replaced_row_moves_to_its_new_group(storage: Storage) -> None:
    # REPLACE deletes the old row through the delete trigger only with recursive_triggers
    # on, which sqlite_utils.Database (and so Storage) sets on every connection.
    assert storage.db.execute("PRAGMA recursive_triggers").fetchone() == (1,)
    rows = outcome(3, booked=1)
    storage.db["outcomes"].insert_all(rows)
    storage.db["outcomes"].insert_all(
        [{**row, "outcome_id": "iep_review", "booked": 0} for row in rows], replace=True
    )
    assert_in_step(storage)
    assert [row[-4:] for row in rollup_groups(storage)] == [("iep_review", None, 3, 0)]


def test_an_emptied_group_leaves_no_row(storage: Storage) -> None:
    storage.db["outcomes"].insert_all(
        outcome(2, day="2026-11-01", booked=1) + outcome(3, day="2026-11-02", outcome_id=None)
    )
    storage.db.execute("UPDATE outcomes SET day = '2026-11-02' WHERE day = '2026-11-01'")
    assert_in_step(storage)
    assert {row[0] for row in rollup_groups(storage)} == {"2026-11-02"}
    # A day with only zeros would move the start of the timeline.
    days = compute_stats(storage.db, since=None, until=None, min_cell=1).days
    assert days == [(D(2026, 11, 2), 5, 2)]
    storage.db.execute("DELETE FROM outcomes")
    assert rollup_groups(storage) == []


def test_the_migration_backfills_the_rows_already_logged_then_keeps_up(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "before.sqlite3")
    migrations.apply(storage.db, stop_before=ROLLUP_MIGRATION)
    rng = random.Random(7)
    play(storage, rng, 150)
    storage.db["outcomes"].insert_all(  # NULLs in both nullable columns, Book pressed
        outcome(4, outcome_id=None, stopped_at=None) + outcome(3, outcome_id=None, booked=1)
    )
    storage.db.execute("UPDATE outcomes SET stopped_at = NULL WHERE stopped_at = 'plan'")
    # Not migrated yet: the figures come from the log itself.
    assert not storage.db["outcome_counts"].exists()
    before = compute_stats(storage.db, since=None, until=None, min_cell=5)
    assert before == log_stats(storage, None, None, 5)

    assert ROLLUP_MIGRATION in storage.migrate()
    assert_in_step(storage)
    assert compute_stats(storage.db, since=None, until=None, min_cell=5) == before
    play(storage, rng, 80, first=1_000)
    assert_in_step(storage)
    assert_same_figures(storage)
    storage.close()


def test_the_statistics_read_the_rollup_through_its_covering_indexes(storage: Storage) -> None:
    play(storage, random.Random(3), 40)
    plans = [
        row[3]
        for sql in statements_of_compute_stats(storage)
        for row in storage.db.execute(f"EXPLAIN QUERY PLAN {sql}")
    ]
    assert "SCAN outcome_counts USING COVERING INDEX idx_outcome_counts_groups" in plans
    assert "SCAN outcome_counts USING COVERING INDEX idx_outcome_counts_days" in plans
    assert not [plan for plan in plans if "outcomes" in plan], plans


def statements_of_compute_stats(storage: Storage) -> Iterator[str]:
    """compute_stats' queries touching outcomes, with their parameters filled in."""
    run: list[str] = []
    storage.db.conn.set_trace_callback(run.append)
    try:
        compute_stats(storage.db, since=D(2026, 11, 2), until=None, min_cell=5)
    finally:
        storage.db.conn.set_trace_callback(None)
    return (sql for sql in run if "outcome" in sql)
