"""Follow-through in the staff statistics: deadlines, reminders and check-ins, suppressed like
every other figure, in the JSON, /stats's summary, `iep-bot stats`, the export and the chart.

Rows go straight into `checkins` and `follow_through_counts` (bot/migrations.py m011), so
every figure below is worked out from the rows by hand; one test goes through the store.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest

from bot.content import Content
from bot.followup.store import FollowUps
from bot.stats.aggregate import compute_stats
from bot.stats.chart import chart_figure, render_chart
from bot.storage import Storage
from tests.botenv import BotEnv
from tests.clock import FakeClock
from tests.shell import run
from tests.stats_helpers import (
    EXPORT_FILES,
    InProcess,
    after_period,
    outcome,
    png_size,
    staff_client,
)

D = dt.date
NOVEMBER = (D(2026, 11, 1), D(2026, 11, 30))
HIDDEN = "Fewer than 5: not shown, so that no one can be picked out"
FOLLOWUP_TITLE = "Check-ins answered: asked the school, and the school agreed"
_ids = itertools.count()


def checkins(
    n: int,
    outcome_id: str | None,
    *,
    asked: str | None = None,
    school_said: str | None = None,
    status: str | None = None,
    sent_day: str | None = "2026-11-10",
    offered_day: str = "2026-10-13",
) -> list[dict[str, Any]]:
    """n check-ins alike, as the store leaves them: answered when `asked` is given ("yes"
    with no `school_said`: the second question never answered, so expired)."""
    if status is None:
        done = asked is not None and (asked != "yes" or school_said is not None)
        status = "answered" if done else "expired"
    return [
        {
            "session_id": f"c{next(_ids)}",
            "outcome_id": outcome_id,
            "lang": "en",
            "chat_key": None,
            "chat_id": None,
            "offered_day": offered_day,
            "send_at": 0,
            "status": status,
            "sent_day": sent_day,
            "sent_at": 0 if sent_day else None,
            "asked": asked,
            "school_said": school_said,
            "answered_day": "2026-11-12" if asked else None,
        }
        for _ in range(n)
    ]


def counts(*rows: tuple[str, str, int]) -> list[dict[str, Any]]:
    return [{"day": day, "event": event, "count": n} for day, event, n in rows]


def seed_followup(storage: Storage) -> Storage:
    """Check-ins sent on 2026-11-10, by outcome (sent, answered, asked, agreed):
    iep_evaluation (14, 11, 8, 6), plan_504_may_fit (9, 7, 3, 3), eval_refused (3, 3, 2, 2),
    no_strong_signs (3, 2, 0, 0): 29 sent, 23 answered, 13 asked, 11 agreed. One more
    (answered: asked, agreed) was sent on 2 December; some never went at all."""
    iep, plan = "iep_evaluation", "plan_504_may_fit"
    storage.db["checkins"].insert_all(
        checkins(6, iep, asked="yes", school_said="agreed")
        + checkins(1, iep, asked="yes", school_said="refused")
        + checkins(1, iep, asked="yes")  # "yes", then silence: asked, not agreed
        + checkins(2, iep, asked="not_yet")
        + checkins(1, iep, asked="decided_not")
        + checkins(2, iep)  # sent, never answered, let go
        + checkins(1, iep, status="unknown")  # may have arrived: counted as sent
        + checkins(3, plan, asked="yes", school_said="agreed")
        + checkins(2, plan, asked="not_yet")
        + checkins(2, plan, asked="decided_not")
        + checkins(1, plan, status="sent")
        + checkins(1, plan)
        + checkins(2, "eval_refused", asked="yes", school_said="agreed")
        + checkins(1, "eval_refused", asked="not_yet")
        + checkins(2, "no_strong_signs", asked="not_yet")
        + checkins(1, "no_strong_signs")
        # Never delivered, or not yet: none of these was sent.
        + checkins(2, iep, status="failed")
        + checkins(1, iep, status="blocked")
        + checkins(3, iep, status="pending", sent_day=None)
        + checkins(1, iep, status="attempted", sent_day=None)
        # Sent after November.
        + checkins(1, iep, asked="yes", school_said="agreed", sent_day="2026-12-02")
    )
    storage.db["follow_through_counts"].insert_all(
        counts(
            ("2026-11-05", "deadline_set", 4),
            ("2026-11-20", "deadline_set", 3),
            ("2026-11-12", "reminder_sent", 12),
            ("2026-12-01", "reminder_sent", 5),
            ("2026-10-13", "checkin_offered", 30),
            ("2026-11-02", "checkin_offered", 6),
            ("2026-11-10", "checkin_sent", 29),
        )
    )
    return storage


@pytest.fixture
def seeded(storage: Storage) -> Storage:
    storage.db["outcomes"].insert_all(
        outcome(30) + outcome(6, outcome_id="plan_504_may_fit") + outcome(6, outcome_id=None)
    )
    return seed_followup(storage)


def follow_through(
    storage: Storage, since: D | None = None, until: D | None = None, min_cell: int = 5
) -> dict[str, Any]:
    return stats_json(storage, since, until, min_cell)["follow_through"]


def stats_json(
    storage: Storage, since: D | None = None, until: D | None = None, min_cell: int = 5
) -> dict[str, Any]:
    return compute_stats(storage.db, since=since, until=until, min_cell=min_cell).to_json()


# --- the figures ---------------------------------------------------------------------------------


def test_seeded_rows_give_exact_figures(seeded: Storage) -> None:
    assert follow_through(seeded, *NOVEMBER) == {
        "deadlines_set": 7,
        "reminders_sent": 12,
        "checkins_offered": 6,  # said yes in November (the 30 of October are not)
        "checkins_sent": 29,  # not the failed, blocked, pending or attempted ones
        "checkins_answered": 23,
        "asked_school": 13,
        "school_agreed": 11,
        "answered_of_sent": round(23 / 29, 3),
        "asked_of_answered": round(13 / 23, 3),
        "agreed_of_asked": round(11 / 13, 3),
        "agreed_of_answered": round(11 / 23, 3),
        "by_outcome": {
            "iep_evaluation": {
                "sent": 14,
                "answered": 11,
                "asked_school": 8,
                "school_agreed": 6,
                "asked_of_answered": round(8 / 11, 3),
                "agreed_of_answered": round(6 / 11, 3),
            },
            # 3 asked and 3 agreed here, 2 and 2 in "other": hidden, and adding up to 5,
            # so subtracting the shown cells from the totals finds nothing under 5.
            "plan_504_may_fit": {
                "sent": 9,
                "answered": 7,
                "asked_school": "<5",
                "school_agreed": "<5",
                "asked_of_answered": None,
                "agreed_of_answered": None,
            },
            # eval_refused (3) and no_strong_signs (3) together.
            "other": {
                "sent": 6,
                "answered": 5,
                "asked_school": "<5",
                "school_agreed": "<5",
                "asked_of_answered": None,
                "agreed_of_answered": None,
            },
        },
    }


def test_each_figure_counts_on_its_own_day(seeded: Storage) -> None:
    everything = follow_through(seeded)
    assert everything["deadlines_set"] == 7
    assert everything["reminders_sent"] == 17
    assert everything["checkins_offered"] == 36
    # The check-in sent on 2 December, with its answers.
    assert [everything[k] for k in ("checkins_sent", "checkins_answered")] == [30, 24]
    assert [everything[k] for k in ("asked_school", "school_agreed")] == [14, 12]
    assert everything["by_outcome"]["iep_evaluation"]["sent"] == 15
    december = follow_through(seeded, D(2026, 12, 1), D(2026, 12, 31))
    assert december["reminders_sent"] == 5
    assert december["deadlines_set"] == december["checkins_offered"] == "<5"
    assert december["checkins_sent"] == "<5" and december["by_outcome"] == {"other": _all_hidden()}
    # The days are inclusive: the 10th alone holds every November check-in.
    assert follow_through(seeded, D(2026, 11, 10), D(2026, 11, 10))["checkins_sent"] == 29
    assert follow_through(seeded, D(2026, 11, 11), D(2026, 11, 30))["checkins_sent"] == "<5"


def _all_hidden() -> dict[str, Any]:
    return {
        "sent": "<5",
        "answered": "<5",
        "asked_school": "<5",
        "school_agreed": "<5",
        "asked_of_answered": None,
        "agreed_of_answered": None,
    }


def test_the_store_s_own_rows_are_counted(storage: Storage, clock: FakeClock) -> None:
    """Offered, sent and answered through bot/followup/store.py, as the bot does it."""
    store = FollowUps(storage)
    answers = [("yes", "agreed")] * 3 + [("yes", "refused"), ("yes", None), ("not_yet", None)]
    for i in range(8):  # two are never answered
        assert store.offer_checkin(
            f"s{i}", outcome_id="iep_evaluation", lang="en", chat_key=f"k{i}", chat_id=i,
            send_at=int(clock.now),
        )  # fmt: skip
    store.set_deadline(
        "k0", 1, "en", received=D(2026, 11, 2), state=None, rule_id="federal",
        due=D(2027, 1, 1), reminders=[("two_weeks", int(clock.now))],
    )  # fmt: skip
    clock.advance(days=1)  # sent on 2026-11-29
    for notice in store.due(clock.now, 100):
        assert store.claim(notice)
        store.record(notice, "sent")
    for i, (asked, said) in enumerate(answers):
        assert store.record_asked(f"s{i}", f"k{i}", asked)
        if said:
            assert store.record_school_said(f"s{i}", f"k{i}", said)

    figures = follow_through(storage, min_cell=1)
    assert {k: v for k, v in figures.items() if k != "by_outcome"} == {
        "deadlines_set": 1,
        "reminders_sent": 1,
        "checkins_offered": 8,
        "checkins_sent": 8,
        "checkins_answered": 6,
        "asked_school": 5,
        "school_agreed": 3,
        "answered_of_sent": 0.75,
        "asked_of_answered": round(5 / 6, 3),
        "agreed_of_asked": 0.6,
        "agreed_of_answered": 0.5,
    }
    assert list(figures["by_outcome"]) == ["iep_evaluation"]
    assert follow_through(storage, D(2026, 11, 29), D(2026, 11, 29), 1)["checkins_sent"] == 8
    assert follow_through(storage, D(2026, 11, 28), D(2026, 11, 28), 1)["checkins_sent"] == "<1"


# --- privacy -------------------------------------------------------------------------------------


def test_small_figures_are_hidden_and_so_are_their_rates(storage: Storage) -> None:
    storage.db["checkins"].insert_all(
        checkins(4, "iep_evaluation", asked="yes", school_said="agreed")
        + checkins(3, "iep_evaluation")
    )
    storage.db["follow_through_counts"].insert_all(counts(("2026-11-10", "deadline_set", 2)))
    figures = follow_through(storage)
    assert figures["deadlines_set"] == "<5"
    assert figures["checkins_sent"] == 7
    assert figures["checkins_answered"] == figures["asked_school"] == "<5"
    for rate in ("answered_of_sent", "asked_of_answered", "agreed_of_asked"):
        assert figures[rate] is None, rate  # never "57%" from a hidden 4
    # The result is shown (7 sent), its small figures hidden as in the totals.
    assert figures["by_outcome"] == {"iep_evaluation": {**_all_hidden(), "sent": 7}}


def test_one_check_in_from_a_rare_result_never_shows_its_result(storage: Storage) -> None:
    storage.db["checkins"].insert_all(
        checkins(9, "iep_evaluation", asked="yes", school_said="agreed")
        + checkins(1, "safety_first", asked="yes", school_said="refused")
    )
    figures = follow_through(storage)
    assert "safety_first" not in json.dumps(figures)
    # Alone, it would be "<5" and 10 - 9 = 1: the smallest shown row joins it.
    assert list(figures["by_outcome"]) == ["other"]
    assert figures["by_outcome"]["other"]["sent"] == 10


def _check_partition(cells: list[Any], total: int, k: int, where: str) -> None:
    """Shown cells are exact, so total - shown is what the hidden cells add up to."""
    hidden = total - sum(c for c in cells if isinstance(c, int))
    if total >= k:
        assert hidden == 0 or hidden >= k, f"{where}: hidden cells add up to {hidden}"


@pytest.mark.parametrize("seed_value", range(30))
def test_no_hidden_check_in_cell_can_be_worked_out_from_a_total(
    storage: Storage, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    rows: list[dict[str, Any]] = []
    for _ in range(rng.randrange(5, 80)):
        asked = rng.choice([None, "yes", "yes", "not_yet", "decided_not"])
        said = rng.choice(["agreed", "agreed", "refused", None]) if asked == "yes" else None
        rows += checkins(1, rng.choice([*"aabcdef", None]), asked=asked, school_said=said)
    storage.db["checkins"].insert_all(rows)
    stats = compute_stats(storage.db, since=None, until=None, min_cell=5)
    figures = stats.to_json()["follow_through"]
    totals = [sum(row[i] for row in stats.checkins.values()) for i in range(4)]
    groups = figures["by_outcome"]
    for i, column in enumerate(("sent", "answered", "asked_school", "school_agreed")):
        _check_partition([g[column] for g in groups.values()], totals[i], 5, column)
    assert all(g["sent"] != "<5" or name == "other" for name, g in groups.items())
    # Each figure is part of the one before: no rate over 100 %.
    assert totals[0] >= totals[1] >= totals[2] >= totals[3]


def test_a_database_from_before_follow_through_counts_none(
    storage: Storage, content: Content
) -> None:
    from bot.stats.export import export_files
    from bot.stats.text import summary_text

    storage.db["outcomes"].insert_all(outcome(12) + outcome(6, outcome_id=None))
    for table in ("checkins", "follow_through_counts"):  # as a copy from before m011 would be
        storage.db.execute(f"DROP TABLE {table}")
    data = stats_json(storage)
    figures = data["follow_through"]
    assert figures["by_outcome"] == {}
    assert {v for k, v in figures.items() if k != "by_outcome"} == {"<5", None}
    text = summary_text(data, content.pack("en"), "All time", timezone="UTC")
    assert "Asked the school: &lt;5 of &lt;5 who answered; the school agreed: &lt;5" in text
    assert export_files(data, names={})["followup_by_outcome.csv"] == (
        "\ufeffoutcome_id,name,sent,answered,asked_school,school_agreed\r\n".encode()
    )
    assert FOLLOWUP_TITLE not in words_on(chart_figure(data))


# --- /stats's summary ----------------------------------------------------------------------------


def test_the_summary_has_a_short_follow_through_part_in_each_language(
    seeded: Storage, content: Content
) -> None:
    from bot.stats.text import summary_text

    data = stats_json(seeded, *NOVEMBER)
    english = summary_text(data, content.pack("en"), "November", timezone="UTC")
    part = english.split("\n\n")[-2].splitlines()
    assert part == [
        "<b>Follow-through</b>",
        "Evaluation deadlines set: 7; reminders sent: 12",
        "Check-ins: 6 said yes; 29 sent, 23 answered (79%)",
        "Asked the school: 13 of 23 who answered; the school agreed: 11",
        "<i>A check-in and its answers count on the day it was sent.</i>",
    ]
    spanish = summary_text(data, content.pack("es"), "Noviembre", timezone="UTC")
    assert spanish.split("\n\n")[-2].splitlines() == [
        "<b>Seguimiento</b>",
        "Plazos de evaluación registrados: 7; recordatorios enviados: 12",
        "Mensajes de seguimiento: 6 dijeron que sí; 29 enviados, 23 respondidos (79%)",
        "Preguntaron a la escuela: 13 de 23 que respondieron; la escuela aceptó: 11",
        "<i>Cada mensaje de seguimiento y sus respuestas cuentan el día en que se envió.</i>",
    ]
    # Hidden figures read as the marker, escaped for Telegram's HTML, and a hidden rate as –.
    few = stats_json(seeded, D(2026, 12, 1), D(2026, 12, 31))
    assert "Check-ins: &lt;5 said yes; &lt;5 sent, &lt;5 answered (–)" in summary_text(
        few, content.pack("en"), "December", timezone="UTC"
    )


# --- `iep-bot stats` and `iep-bot export` ---------------------------------------------------------


@pytest.fixture
def cli_env(
    seeded: Storage, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    monkeypatch.delenv("STATS_MIN_CELL", raising=False)
    return db_path


NOVEMBER_ARGS = ("--since", "2026-11-01", "--until", "2026-11-30")


def test_the_stats_command_shows_a_follow_through_block(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "stats", *NOVEMBER_ARGS)
    assert code == 0
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Follow-through ("))
    block = lines[start + 1 : lines.index("", start)]
    assert [line.split() for line in block] == [
        ["measure", "value"],
        ["deadlines", "set", "7"],
        ["reminders", "sent", "12"],
        ["checkins", "offered", "6"],
        ["checkins", "sent", "29"],
        ["checkins", "answered", "23"],
        ["asked", "school", "13"],
        ["school", "agreed", "11"],
        ["checkins", "answered", "of", "sent", "79.3%"],
        ["asked", "school", "of", "answered", "56.5%"],
        ["school", "agreed", "of", "asked", "84.6%"],
    ]
    start = lines.index("Check-ins by outcome")
    assert [line.split() for line in lines[start + 1 : start + 5]] == [
        ["outcome", "id", "sent", "answered", "asked", "school", "school", "agreed"],
        ["iep_evaluation", "14", "11", "8", "6"],
        ["plan_504_may_fit", "9", "7", "<5", "<5"],
        ["other", "6", "5", "<5", "<5"],
    ]
    summary = lines[lines.index("Summary") : lines.index("", lines.index("Summary"))]
    assert not any("checkins" in line for line in summary)  # in their own block only

    code, out, _ = run(capsys, "stats", "--format", "json", *NOVEMBER_ARGS)
    assert json.loads(out)["follow_through"]["asked_school"] == 13
    code, out, _ = run(capsys, "stats", "--format", "csv", *NOVEMBER_ARGS)
    rows = list(csv.reader(out.splitlines()))
    assert ["summary", "asked_school", "value", "13"] in rows
    assert ["followup_by_outcome", "iep_evaluation", "school_agreed", "6"] in rows
    assert ["followup_by_outcome", "other", "asked_school", "<5"] in rows


def test_the_export_writes_check_ins_by_outcome_and_the_totals(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "export"
    code, _, _ = run(capsys, "export", "--out", str(out_dir), *NOVEMBER_ARGS)
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(EXPORT_FILES)

    def read(name: str) -> list[list[str]]:
        with (out_dir / name).open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))

    assert read("followup_by_outcome.csv") == [
        ["outcome_id", "name", "sent", "answered", "asked_school", "school_agreed"],
        ["iep_evaluation", "An IEP evaluation looks worth it", "14", "11", "8", "6"],
        ["plan_504_may_fit", "A 504 plan may fit", "9", "7", "<5", "<5"],
        ["other", "other (smaller groups together)", "6", "5", "<5", "<5"],
    ]
    summary = read("summary.csv")
    for row in (
        ["deadlines_set", "7"],
        ["reminders_sent", "12"],
        ["checkins_offered", "6"],
        ["checkins_sent", "29"],
        ["checkins_answered", "23"],
        ["asked_school", "13"],
        ["school_agreed", "11"],
        ["checkins_answered_of_sent", "0.793"],
        ["asked_school_of_answered", "0.565"],
        ["school_agreed_of_asked", "0.846"],
    ):
        assert row in summary, row
    assert summary[-1] == ["suppressed_below", "5"]
    everything = "".join((out_dir / p.name).read_text("utf-8-sig") for p in out_dir.iterdir())
    for leak in ("eval_refused", "no_strong_signs", "chat_key", "session_id"):
        assert leak not in everything, leak


# --- the chart -----------------------------------------------------------------------------------


def words_on(fig: Any) -> list[str]:
    """Every piece of text a chart shows: titles, notes, names, values, the legends."""
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
        found += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            found += [t.get_text() for t in legend.get_texts()]
    return [w.replace("\n", " ") for w in found if w]  # names and titles may wrap


def test_the_chart_shows_who_asked_and_where_the_school_agreed(seeded: Storage) -> None:
    data = stats_json(seeded, *NOVEMBER)
    shown = words_on(chart_figure(data))
    assert FOLLOWUP_TITLE in shown
    assert "asked the school" in shown and "the school agreed" in shown  # the legend
    assert "All who answered" in shown
    assert "57% · 13 of 23" in shown  # asked, of all who answered
    assert "48% · 11 of 23" in shown  # the school agreed, of all who answered
    assert "73% · 8 of 11" in shown and "55% · 6 of 11" in shown  # iep_evaluation
    assert shown.count("<5 of 7") == 2  # plan_504_may_fit: no bars, no rates
    assert shown.count("<5 of 5") == 2  # "other"
    assert HIDDEN not in shown


def test_the_panel_is_left_out_or_says_hidden_when_the_figures_are_small(
    storage: Storage,
) -> None:
    storage.db["outcomes"].insert_all(outcome(12) + outcome(6, outcome_id=None))
    assert FOLLOWUP_TITLE not in words_on(chart_figure(stats_json(storage)))  # none sent
    storage.db["checkins"].insert_all(checkins(4, "iep_evaluation"))
    assert FOLLOWUP_TITLE not in words_on(chart_figure(stats_json(storage)))  # 4 sent
    # Enough sent, too few answered: the panel says so, as the others do.
    storage.db["checkins"].insert_all(checkins(3, "eval_refused", asked="not_yet"))
    shown = words_on(chart_figure(stats_json(storage)))
    assert FOLLOWUP_TITLE in shown and shown.count(HIDDEN) == 1
    # 7 answered, 4 asked (hidden), each result under 5: all folded together, so the first
    # row says it all; no bar where a count is hidden.
    storage.db["checkins"].insert_all(checkins(4, "eval_pending", asked="yes"))
    data = stats_json(storage)
    assert list(data["follow_through"]["by_outcome"]) == ["other"]
    shown = words_on(chart_figure(data))
    assert HIDDEN not in shown
    assert "All who answered" in shown and "all together" not in shown
    assert shown.count("<5 of 7") == 2  # asked (4) and agreed (0): hidden, no rate


def test_many_results_join_other_on_the_chart(storage: Storage) -> None:
    from bot.stats.chart import MAX_PAIRS

    storage.db["outcomes"].insert_all(outcome(12) + outcome(6, outcome_id=None))
    for i in range(7):
        storage.db["checkins"].insert_all(
            checkins(5 + i, f"result_{i}", asked="yes", school_said="agreed")
        )
    data = stats_json(storage)
    shown = words_on(chart_figure(data))
    kept = [w for w in shown if w.startswith("result ")]
    assert kept == ["result 6", "result 5", "result 4"][: MAX_PAIRS - 2]
    joined = sum(5 + i for i in range(7 - (MAX_PAIRS - 2)))  # all shown: their sum is shown
    assert f"100% · {joined} of {joined}" in shown
    width, height = png_size(render_chart(data))
    assert width == 1200 and height < 2600


def test_the_panel_speaks_spanish(seeded: Storage, content: Content) -> None:
    from bot.stats.text import chart_words, label_names

    pack = content.pack("es")
    data = stats_json(seeded, *NOVEMBER)
    fig = chart_figure(data, labels=label_names(pack), words=chart_words(pack, "Noviembre"))
    shown = words_on(fig)
    assert "Respuestas al seguimiento: preguntaron a la escuela, y la escuela aceptó" in shown
    assert "Todos los que respondieron" in shown
    assert "preguntaron a la escuela" in shown and "la escuela aceptó" in shown
    assert "57% · 13 de 23" in shown and "<5 de 7" in shown
    assert png_size(render_chart(data, words=chart_words(pack, "t")))[0] == 1200


# --- through Telegram ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "period", "headline"),
    [
        ("en", "30 days", "Asked the school: 13 of 23 who answered; the school agreed: 11"),
        (
            "es",
            "30 días",
            "Preguntaron a la escuela: 13 de 23 que respondieron; la escuela aceptó: 11",
        ),
    ],
)
async def test_staff_see_the_follow_through_in_stats(
    env: BotEnv, lang: str, period: str, headline: str
) -> None:
    """The clock says 2026-11-28: the last 30 days hold November's check-ins."""
    assert env.storage is not None
    env.storage.db["outcomes"].insert_all(outcome(12, day="2026-11-27"))
    seed_followup(env.storage)
    summary, chart = await after_period(staff_client(env, language_code=lang), "/stats", period)
    assert headline in summary.text.splitlines()
    assert chart.is_photo
    runner = env.app.stats_worker.runner
    assert isinstance(runner, InProcess)
    data = runner.results[-1].data
    assert data["follow_through"]["checkins_sent"] == 29
    assert data["follow_through"]["reminders_sent"] == 12  # not the 5 of 1 December
