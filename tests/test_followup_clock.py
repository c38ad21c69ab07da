"""The evaluation clock without Telegram or a database: the rules in content, federal
holidays, due dates (month ends, leap years, holidays), the reminder schedule, send times
across daylight-saving changes, and the calendar's month."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content import DEFAULT_CONTENT_DIR, Content, load_yaml
from bot.followup.due import OFFSETS, ReminderKind, due_date, reminder_schedule, send_instant
from bot.followup.month_grid import (
    YearMonth,
    allowed,
    earliest_day,
    month_grid,
    next_month,
    previous_month,
    weekday_names,
)
from bot.followup.school_days import add_school_days, federal_holidays, is_school_day
from bot.followup.timelines import (
    FEDERAL,
    USPS_CODES,
    VETTED_STATES,
    WORDS_KEY,
    Timelines,
    Unit,
    load_timelines,
    timeline_problems,
)
from bot.followup.typed_dates import normalize
from flows.spec import ContentError

D = dt.date
CHICAGO = ZoneInfo("America/Chicago")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
YEARS = range(2024, 2029)
ONE = dt.timedelta(days=1)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


EVERY_DAY = _days(D(2024, 1, 1), D(2028, 12, 31))


@pytest.fixture(scope="module")
def timelines(content: Content) -> Timelines:
    return load_timelines(content)


# --- federal holidays ---------------------------------------------------------------------

# Observed dates (OPM), checked against the `holidays` package for 2024-2028.
KNOWN_HOLIDAYS = {
    2024: ["01-01", "01-15", "02-19", "05-27", "06-19", "07-04", "09-02", "10-14", "11-11",
           "11-28", "12-25"],
    2025: ["01-01", "01-20", "02-17", "05-26", "06-19", "07-04", "09-01", "10-13", "11-11",
           "11-27", "12-25"],
    2026: ["01-01", "01-19", "02-16", "05-25", "06-19", "07-03", "09-07", "10-12", "11-11",
           "11-26", "12-25"],
    # Juneteenth and Christmas on a Saturday: the Friday before; July 4 on a Sunday: the
    # Monday after; 2028's New Year's Day (a Saturday) on December 31, 2027.
    2027: ["01-01", "01-18", "02-15", "05-31", "06-18", "07-05", "09-06", "10-11", "11-11",
           "11-25", "12-24", "12-31"],
    2028: ["01-17", "02-21", "05-29", "06-19", "07-04", "09-04", "10-09", "11-10", "11-23",
           "12-25"],
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(KNOWN_HOLIDAYS))
def test_federal_holidays_fall_on_their_observed_days(year: int) -> None:
    expected = {D.fromisoformat(f"{year}-{md}") for md in KNOWN_HOLIDAYS[year]}
    assert federal_holidays(year) == expected


def test_holidays_are_weekdays_and_never_school_days() -> None:
    for year in YEARS:
        for day in federal_holidays(year):
            assert day.weekday() < 5 and not is_school_day(day), day


def test_school_days_skip_weekends_and_holidays() -> None:
    assert add_school_days(D(2026, 11, 6), 0) == D(2026, 11, 6)
    assert add_school_days(D(2026, 11, 6), 1) == D(2026, 11, 9)  # Friday -> Monday
    assert add_school_days(D(2026, 11, 7), 1) == D(2026, 11, 9)  # from a Saturday
    assert add_school_days(D(2026, 1, 16), 1) == D(2026, 1, 20)  # over MLK Day
    assert add_school_days(D(2026, 11, 25), 1) == D(2026, 11, 27)  # over Thanksgiving
    assert add_school_days(D(2027, 12, 23), 1) == D(2027, 12, 27)  # Dec 24 observed
    with pytest.raises(ValueError):
        add_school_days(D(2026, 11, 6), -1)


# --- the rules in content -----------------------------------------------------------------


def test_the_shipped_rules_load_and_only_vetted_states_have_their_own(
    timelines: Timelines, content: Content
) -> None:
    assert timeline_problems(content) == []
    assert set(timelines.states) == USPS_CODES and len(USPS_CODES) == 51
    own = {code for code in USPS_CODES if timelines.has_own_rule(code)}
    assert own == {"CA", "TX", "NY", "IL"} == set(VETTED_STATES)
    for state in ("TX", "IL"):
        assert timelines.rule_for(state).unit is Unit.SCHOOL_DAYS
    assert timelines.rule_for("FL").id == timelines.rule_for(None).id == FEDERAL
    assert timelines.rule_for("ZZ").id == FEDERAL
    federal = timelines.rules[FEDERAL]
    assert (federal.count, federal.unit, federal.estimate) == (60, Unit.CALENDAR_DAYS, False)
    assert "300.301" in federal.citation
    assert all(rule.citation for rule in timelines.rules.values())


def test_every_state_is_named_and_every_rule_explained_in_both_languages(
    timelines: Timelines,
) -> None:
    assert set(timelines.languages) >= {"en", "es"}
    for code, words in timelines.languages.items():
        assert set(words.states) == USPS_CODES, code
        choices = timelines.state_choices(code)
        names = [name for _, name in choices]
        assert len(names) == 51 and names == sorted(names, key=normalize)
        for rid, rule in timelines.rules.items():
            said = words.rules[rid]
            assert str(rule.count) in said.explain, (code, rid)
            if rule.estimate:
                # The estimate names the rule: its state, as the parent reads it.
                state = next(s for s, r in timelines.states.items() if r == rid)
                assert said.estimate and words.states[state] in said.estimate, (code, rid)
            else:
                assert said.estimate is None
        assert len(words.month_names) == 12 and len(words.weekday_letters) == 7
    assert "unless your state sets its own timeline" in timelines.words("en").federal_unless
    assert "salvo que su estado fije otro plazo" in timelines.words("es").federal_unless
    assert timelines.words("pt").code == "en"  # unknown language: English


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Only the clock's files: the rest of the content is the session's, already loaded."""
    for name in ("timelines.yaml", "en/timelines.yaml", "es/timelines.yaml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes((DEFAULT_CONTENT_DIR / name).read_bytes())
    return tmp_path


def _with_clock_from(tree: Path, content: Content) -> Content:
    """`content` with the clock's files read from `tree`, as load_content would merge them."""
    packs = {}
    for code, pack in content.languages.items():
        ui = {key: value for key, value in pack.ui.items() if key != WORDS_KEY}
        path = tree / code / "timelines.yaml"
        if path.exists():
            ui[WORDS_KEY] = load_yaml(path)
        packs[code] = dataclasses.replace(pack, ui=ui)
    return dataclasses.replace(content, root=tree, languages=packs)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "names"),
    [
        # A rule for a state facts.md does not give, even an existing one.
        ("timelines.yaml", "FL: federal", "FL: tx", "states.FL"),
        # A vetted state's rule that says other than facts.md.
        ("timelines.yaml", "count: 45", "count: 30", "rules.tx"),
        ("timelines.yaml", "unit: school_days\n    citation: Tex", "unit: calendar_days\n"
         "    citation: Tex", "rules.tx"),
        ("timelines.yaml", "citation: Tex. Educ. Code 29.004", "citation: TEC", "rules.tx"),
        ("timelines.yaml", "citation: 34 CFR 300.301(c)(1)\n", "\n", "rules.federal.citation"),
        ("timelines.yaml", "NY: ny", "NY: nyc", "states.NY"),
        ("timelines.yaml", "  WY: federal\n", "", "states"),
        ("timelines.yaml", "  WY: federal\n", "  WY: federal\n  PR: federal\n", "states.PR"),
        ("timelines.yaml", "    estimate: true\n  tx:", "    estimate: false\n  tx:",
         "rules.ca.estimate"),
        ("timelines.yaml", "unit: calendar_days\n", "unit: weeks\n", "rules.federal.unit"),
        ("es/timelines.yaml", "  RI: Rhode Island\n", "", "states.RI"),
        ("en/timelines.yaml", "has 45 school", "has forty-five school", "rules.tx"),
        ("es/timelines.yaml", "    name: Regla de Texas\n", "", "rules.tx.name"),
        ("en/timelines.yaml", "\n    estimate: \"This is an estimate: Texas", "\n    x: \"",
         "rules.tx.estimate"),
        ("en/timelines.yaml", "    - May\n", "    - May, Mar\n", "dates.months[4]"),
        ("en/timelines.yaml", "Saturday, Sat", "Saturday, Mon", "dates.weekdays[5]"),
        ("en/timelines.yaml", '"{n} days ago, {n} day ago"', "days ago", "dates.days_ago"),
        ("es/timelines.yaml", "order: day_first", "order: dmy", "dates.order"),
        ("es/timelines.yaml", "Lu, Ma, Mi, Ju, Vi, Sá, Do", "Lu, Ma", "dates.weekday_letters"),
    ],
)  # fmt: skip
def test_broken_rules_name_file_and_key(
    tree: Path, content: Content, file: str, old: str, new: str, names: str
) -> None:
    _edit(tree / file, old, new)
    edited = _with_clock_from(tree, content)
    with pytest.raises(ContentError) as caught:
        load_timelines(edited)
    assert caught.value.source.endswith(file), caught.value
    assert names in str(caught.value)
    assert timeline_problems(edited) == [str(caught.value)]


def test_a_language_without_the_clock_is_named(tree: Path, content: Content) -> None:
    (tree / "es" / "timelines.yaml").unlink()
    with pytest.raises(ContentError, match=r"es/timelines\.yaml.*missing"):
        load_timelines(_with_clock_from(tree, content))


# --- due dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (D(2028, 1, 1), D(2028, 3, 1)),  # over February 29
        (D(2027, 1, 1), D(2027, 3, 2)),  # a common year
        (D(2026, 12, 31), D(2027, 3, 1)),  # December -> March, over February 28
        (D(2027, 12, 31), D(2028, 2, 29)),  # December -> February 29
        (D(2028, 2, 29), D(2028, 4, 29)),  # received on February 29
        (D(2026, 10, 31), D(2026, 12, 30)),  # a month end
        (D(2026, 1, 31), D(2026, 4, 1)),
        (D(2026, 11, 3), D(2027, 1, 2)),  # over the new year
    ],
)
def test_federal_is_60_calendar_days_from_the_day_of_receipt(
    timelines: Timelines, received: dt.date, due: dt.date
) -> None:
    for state in (None, "FL", "NY"):
        result = due_date(received, timelines.rule_for(state))
        assert (result.date, result.is_estimate, result.received) == (due, False, received)


def test_texas_counts_45_school_days_over_thanksgiving_and_the_holidays(
    timelines: Timelines,
) -> None:
    # Counted by hand: Veterans Day, Thanksgiving, Christmas and New Year's Day skipped.
    result = due_date(D(2026, 11, 2), timelines.rule_for("TX"))
    assert result.date == D(2027, 1, 8)
    assert result.is_estimate and result.rule.citation == "Tex. Educ. Code 29.004(a)"
    # Consent on the Wednesday before Thanksgiving: Thursday is no school day, and MLK Day
    # (January 18) is skipped too.
    assert due_date(D(2026, 11, 25), timelines.rule_for("TX")).date == D(2027, 2, 2)


def test_illinois_counts_60_school_days_over_memorial_day(timelines: Timelines) -> None:
    result = due_date(D(2026, 3, 2), timelines.rule_for("IL"))
    assert (result.date, result.is_estimate) == (D(2026, 5, 26), True)


def test_california_is_60_days_at_the_earliest_and_an_estimate(timelines: Timelines) -> None:
    result = due_date(D(2028, 1, 1), timelines.rule_for("CA"))
    assert (result.date, result.is_estimate) == (D(2028, 3, 1), True)


def test_every_day_of_five_years_under_every_rule(timelines: Timelines) -> None:
    # School days up to each day, counted one day at a time (not by add_school_days).
    counted_to = dict(
        zip(
            _days(D(2023, 12, 31), D(2029, 6, 30)),
            itertools.accumulate(map(is_school_day, _days(D(2023, 12, 31), D(2029, 6, 30)))),
            strict=True,
        )
    )
    for rule in timelines.rules.values():
        for received in EVERY_DAY:
            due = due_date(received, rule).date
            if rule.unit is Unit.SCHOOL_DAYS:
                assert is_school_day(due), (rule.id, received)
                counted = counted_to[due] - counted_to[received]
                assert counted == rule.count, (rule.id, received)
            else:
                assert due == received + dt.timedelta(days=rule.count), (rule.id, received)


# --- reminders ----------------------------------------------------------------------------


def test_every_reminder_ahead_when_the_deadline_is_set_early() -> None:
    due = D(2027, 1, 2)
    schedule = reminder_schedule(due, today=D(2026, 11, 3))
    assert [(r.kind, r.day) for r in schedule] == [
        (ReminderKind.TWO_WEEKS, D(2026, 12, 19)),
        (ReminderKind.THREE_DAYS, D(2026, 12, 30)),
        (ReminderKind.DUE_DAY, D(2027, 1, 2)),
        (ReminderKind.DAY_AFTER, D(2027, 1, 3)),
    ]


@pytest.mark.parametrize(
    ("days_before_due", "kinds"),
    [
        (15, ["two_weeks", "three_days", "due_day", "day_after"]),
        (14, ["two_weeks", "three_days", "due_day", "day_after"]),  # its day: still sent
        (13, ["three_days", "due_day", "day_after"]),
        (3, ["three_days", "due_day", "day_after"]),
        (2, ["due_day", "day_after"]),
        (0, ["due_day", "day_after"]),
        (-1, ["day_after"]),  # due yesterday: "no report yet?" still helps
        (-2, []),
    ],
)
def test_past_reminders_are_dropped_never_sent_late(days_before_due: int, kinds: list[str]) -> None:
    due = D(2028, 3, 1)
    today = due - dt.timedelta(days=days_before_due)
    assert [r.kind.value for r in reminder_schedule(due, today=today)] == kinds


def test_reminders_are_strictly_ordered_and_never_past_for_every_day(
    timelines: Timelines,
) -> None:
    assert list(OFFSETS.values()) == sorted(set(OFFSETS.values()))
    rule = timelines.rule_for("TX")
    for received in EVERY_DAY[::3]:
        due = due_date(received, rule).date
        for today in (received, due - dt.timedelta(days=5), due):
            days = [r.day for r in reminder_schedule(due, today=today)]
            assert all(a < b for a, b in itertools.pairwise(days)), received
            assert all(day >= today for day in days), received


# --- send times across daylight saving ----------------------------------------------------

TEN = dt.time(10, 0)


@pytest.mark.parametrize(
    ("tz", "day", "utc_hour"),
    [
        (CHICAGO, D(2027, 3, 13), 16),  # CST, the day before spring-forward
        (CHICAGO, D(2027, 3, 14), 15),  # CDT from 02:00 that day
        (CHICAGO, D(2027, 11, 6), 15),  # CDT, the day before fall-back
        (CHICAGO, D(2027, 11, 7), 16),  # CST from 02:00 that day
        (LOS_ANGELES, D(2027, 3, 13), 18),
        (LOS_ANGELES, D(2027, 3, 14), 17),
        (LOS_ANGELES, D(2027, 11, 6), 17),
        (LOS_ANGELES, D(2027, 11, 7), 18),
    ],
)
def test_a_reminder_at_ten_is_ten_on_the_wall_either_side_of_a_change(
    tz: ZoneInfo, day: dt.date, utc_hour: int
) -> None:
    instant = send_instant(day, tz, TEN)
    assert instant == dt.datetime(day.year, day.month, day.day, utc_hour, tzinfo=dt.UTC)
    assert instant.utcoffset() == dt.timedelta(0)


def test_a_time_that_does_not_exist_moves_later_by_the_gap() -> None:
    # 02:30 on spring-forward day: read as 02:30 CST, which is 03:30 CDT.
    instant = send_instant(D(2027, 3, 14), CHICAGO, dt.time(2, 30))
    assert instant == dt.datetime(2027, 3, 14, 8, 30, tzinfo=dt.UTC)
    assert instant.astimezone(CHICAGO).time() == dt.time(3, 30)
    instant = send_instant(D(2027, 3, 14), LOS_ANGELES, dt.time(2, 30))
    assert instant.astimezone(LOS_ANGELES).time() == dt.time(3, 30)


def test_a_time_that_happens_twice_is_the_first() -> None:
    instant = send_instant(D(2027, 11, 7), CHICAGO, dt.time(1, 30, fold=1))
    assert instant == dt.datetime(2027, 11, 7, 6, 30, tzinfo=dt.UTC)  # 01:30 CDT


def test_a_zoned_time_is_refused() -> None:
    with pytest.raises(ValueError):
        send_instant(D(2027, 3, 14), CHICAGO, dt.time(10, tzinfo=dt.UTC))


def test_ten_on_the_wall_every_day_of_a_year() -> None:
    for tz in (CHICAGO, LOS_ANGELES):
        for day in _days(D(2027, 1, 1), D(2027, 12, 31)):
            local = send_instant(day, tz, TEN).astimezone(tz)
            assert (local.date(), local.time()) == (day, TEN), (tz, day)


# --- the calendar's month -----------------------------------------------------------------


def test_a_month_in_weeks_from_sunday() -> None:
    grid = month_grid(2026, 11)  # November 1, 2026 is a Sunday
    assert grid[0] == [D(2026, 11, d) for d in range(1, 8)]
    assert grid[-1] == [D(2026, 11, 29), D(2026, 11, 30), None, None, None, None, None]
    assert len(grid) == 5
    assert len(month_grid(2026, 2)) == 4  # 28 days from a Sunday: four whole weeks
    monday_first = month_grid(2026, 11, first_weekday=0)
    assert monday_first[0] == [None] * 6 + [D(2026, 11, 1)]


def test_every_month_of_five_years_is_whole_weeks_of_its_own_days() -> None:
    for year in YEARS:
        for month in range(1, 13):
            for first in (6, 0):
                grid = month_grid(year, month, first_weekday=first)
                cells = [cell for week in grid for cell in week]
                assert all(len(week) == 7 for week in grid) and 4 <= len(grid) <= 6
                days = [cell for cell in cells if cell is not None]
                assert days == [d for d in EVERY_DAY if (d.year, d.month) == (year, month)]
                assert days[0].weekday() == (first + cells.index(days[0])) % 7
                # None only before the first day and after the last.
                start = cells.index(days[0])
                assert cells[start : start + len(days)] == days


def test_only_days_from_a_year_back_to_today_may_be_picked() -> None:
    today = D(2028, 2, 29)
    earliest = earliest_day(today)
    assert earliest == D(2027, 2, 28)
    assert earliest_day(D(2026, 11, 20)) == D(2025, 11, 20)
    assert allowed(today, today, earliest) and allowed(earliest, today, earliest)
    assert not allowed(today + ONE, today, earliest)
    assert not allowed(earliest - ONE, today, earliest)


def test_months_either_side_stop_at_the_future_and_at_the_earliest() -> None:
    today = D(2026, 11, 20)
    earliest = earliest_day(today)
    assert next_month(2026, 10, today=today) == YearMonth(2026, 11)
    assert next_month(2026, 11, today=today) is None  # December has not come
    assert next_month(2025, 12, today=today) == YearMonth(2026, 1)
    assert previous_month(2026, 1, earliest=earliest) == YearMonth(2025, 12)
    assert previous_month(2025, 12, earliest=earliest) == YearMonth(2025, 11)
    assert previous_month(2025, 11, earliest=earliest) is None
    assert YearMonth.of(today) == (2026, 11)


def test_column_heads_follow_the_first_weekday(timelines: Timelines) -> None:
    letters = list(timelines.words("en").weekday_letters)
    assert weekday_names(letters) == ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"]
    assert weekday_names(letters, first_weekday=0) == letters
    with pytest.raises(ValueError):
        weekday_names(letters[:6])
