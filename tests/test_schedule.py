"""Quiet hours, staff-typed times, the weekly drip slot (flows/schedule.py) and their settings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.config import SettingsError, load_settings
from flows.schedule import (
    QuietHours,
    ScheduleError,
    drip_due,
    next_allowed_time,
    next_drip_time,
    parse_weekday,
    parse_when,
    release_time,
)

CHICAGO = ZoneInfo("America/Chicago")
NIGHTS = QuietHours.parse("20:00-08:00")


def chicago(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


# --- quiet hours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        ((19, 59), False),
        ((20, 0), True),
        ((23, 59), True),
        ((0, 0), True),
        ((7, 59), True),
        ((8, 0), False),
        ((12, 0), False),
    ],
)
def test_quiet_hours_wrap_midnight(wall: tuple[int, int], quiet: bool) -> None:
    assert NIGHTS.contains(chicago(2026, 11, 28, *wall)) is quiet


def test_a_daytime_window_does_not_wrap() -> None:
    lunch = QuietHours.parse("12:00-13:30")
    assert lunch.contains(chicago(2026, 11, 28, 12, 45))
    assert not lunch.contains(chicago(2026, 11, 28, 13, 30))
    assert not lunch.contains(chicago(2026, 11, 28, 23, 0))


def test_quiet_hours_can_be_turned_off() -> None:
    off = QuietHours.parse("off")
    assert not off.enabled and str(off) == "off"
    now = chicago(2026, 11, 28, 23, 0)
    assert next_allowed_time(now, off) == now


@pytest.mark.parametrize("text", ["8pm-8am", "20:00", "25:00-08:00", "20:61-08:00", "x"])
def test_malformed_quiet_hours_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        QuietHours.parse(text)


def test_outside_quiet_hours_now_is_allowed() -> None:
    now = chicago(2026, 11, 28, 9, 0)
    assert next_allowed_time(now, NIGHTS) == now


def test_in_the_evening_it_waits_for_next_morning() -> None:
    assert next_allowed_time(chicago(2026, 11, 28, 21, 0), NIGHTS) == chicago(2026, 11, 29, 8, 0)


def test_after_midnight_it_waits_for_the_same_morning() -> None:
    assert next_allowed_time(chicago(2026, 11, 29, 3, 0), NIGHTS) == chicago(2026, 11, 29, 8, 0)


def test_a_utc_time_is_judged_in_the_practice_zone() -> None:
    # 03:00 UTC on Nov 29 is 21:00 in Chicago on Nov 28.
    now = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    assert next_allowed_time(now, NIGHTS, CHICAGO) == chicago(2026, 11, 29, 8, 0)


def test_fall_back_night_lasts_an_hour_longer() -> None:
    """Clocks go back on Sun 1 Nov 2026: 21:00 CDT to 08:00 CST is 12 real hours, not 11."""
    evening = chicago(2026, 10, 31, 21, 0)
    morning = next_allowed_time(evening, NIGHTS)
    assert (morning.hour, morning.minute, morning.day) == (8, 0, 1)
    assert morning.timestamp() - evening.timestamp() == 12 * 3600


def test_spring_forward_night_is_an_hour_shorter() -> None:
    """Clocks go forward on Sun 14 Mar 2027: 21:00 CST to 08:00 CDT is 10 real hours."""
    evening = chicago(2027, 3, 13, 21, 0)
    morning = next_allowed_time(evening, NIGHTS)
    assert (morning.hour, morning.day) == (8, 14)
    assert morning.timestamp() - evening.timestamp() == 10 * 3600


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        next_allowed_time(dt.datetime(2026, 11, 28, 21, 0), NIGHTS)


# --- when staff schedule --------------------------------------------------------------------

NOW = chicago(2026, 11, 28, 9, 0)  # a Saturday morning


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 09:30", chicago(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30", chicago(2026, 12, 1, 9, 30)),
        ("  2026-12-1   9:30 ", chicago(2026, 12, 1, 9, 30)),
        ("2026-12-01 at 4pm", chicago(2026, 12, 1, 16, 0)),
        ("tomorrow 9:00", chicago(2026, 11, 29, 9, 0)),
        ("Tomorrow at 9:15 am", chicago(2026, 11, 29, 9, 15)),
        ("mañana 9:00", chicago(2026, 11, 29, 9, 0)),
        ("mañana a las 7 pm", chicago(2026, 11, 29, 19, 0)),
        ("today 17:45", chicago(2026, 11, 28, 17, 45)),
        ("hoy 12:00", chicago(2026, 11, 28, 12, 0)),
        ("today 12am", None),  # midnight today has passed
    ],
)
def test_parse_when_reads_dates_and_words(text: str, expected: dt.datetime | None) -> None:
    if expected is None:
        with pytest.raises(ScheduleError):
            parse_when(text, NOW, CHICAGO)
        return
    assert parse_when(text, NOW, CHICAGO) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2026-11-28 08:59", "past"),
        ("2026-11-28 09:00", "past"),
        ("2025-12-01 09:30", "past"),
        ("today 8:00", "past"),
        ("2026-02-30 10:00", "bad_date"),
        ("2026-13-01 10:00", "bad_date"),
        ("2026-12-01 25:00", "format"),
        ("2026-12-01 13pm", "format"),
        ("next tuesday", "format"),
        ("12/01/2026 9:30", "format"),
        ("", "format"),
        ("2028-01-01 10:00", "too_far"),
        ("2027-03-14 02:30", "nonexistent"),  # skipped by the spring-forward change
    ],
)
def test_parse_when_explains_what_is_wrong(text: str, code: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_when(text, NOW, CHICAGO)
    assert caught.value.code == code


def test_a_repeated_fall_back_time_means_the_first_one() -> None:
    first = parse_when("2027-11-07 01:30", NOW, CHICAGO)  # clocks go back that night
    assert first.utcoffset() == dt.timedelta(hours=-5)  # still daylight time (CDT)


def test_parse_when_works_from_a_utc_now() -> None:
    utc_now = NOW.astimezone(dt.UTC)
    assert parse_when("tomorrow 9:00", utc_now, CHICAGO) == chicago(2026, 11, 29, 9, 0)


# --- when a confirmed broadcast starts -----------------------------------------------------


def test_release_now_in_the_day_is_immediate() -> None:
    assert release_time(NOW, None, NIGHTS) is None


def test_release_in_quiet_hours_waits_unless_sent_anyway() -> None:
    evening = chicago(2026, 11, 28, 21, 0)
    assert release_time(evening, None, NIGHTS) == chicago(2026, 11, 29, 8, 0)
    assert release_time(evening, None, NIGHTS, ignore_quiet=True) is None


def test_release_of_a_scheduled_time() -> None:
    asked = chicago(2026, 12, 1, 9, 30)
    assert release_time(NOW, asked, NIGHTS) == asked
    late = chicago(2026, 12, 1, 22, 0)
    assert release_time(NOW, late, NIGHTS) == chicago(2026, 12, 2, 8, 0)
    assert release_time(NOW, late, NIGHTS, ignore_quiet=True) == late


def test_a_scheduled_time_already_past_means_now() -> None:
    assert release_time(NOW, chicago(2026, 11, 28, 8, 0), NIGHTS) is None


# --- the weekly drip --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [("tue", 1), ("Tuesday", 1), ("TU", 1), ("sun", 6), ("mo", 0), ("", None), ("off", None)],
)
def test_parse_weekday(text: str, day: int | None) -> None:
    assert parse_weekday(text) == day


@pytest.mark.parametrize("text", ["t", "s", "martes", "tues day", "8"])
def test_parse_weekday_refuses_what_is_not_a_day(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_weekday(text)


def test_the_drip_is_due_on_its_day_from_its_hour_until_midnight() -> None:
    tuesday = (2026, 12, 1)
    assert drip_due(chicago(*tuesday, 9, 59), 1, 10) is None
    assert drip_due(chicago(*tuesday, 10, 0), 1, 10) == "2026-W49"
    assert drip_due(chicago(*tuesday, 23, 59), 1, 10) == "2026-W49"
    assert drip_due(chicago(2026, 12, 2, 0, 5), 1, 10) is None  # a day late: skip the week
    assert drip_due(chicago(2026, 11, 30, 10, 0), 1, 10) is None  # Monday


def test_next_drip_time_is_this_week_or_next() -> None:
    assert next_drip_time(chicago(2026, 11, 28, 9, 0), 1, 10) == chicago(2026, 12, 1, 10, 0)
    assert next_drip_time(chicago(2026, 12, 1, 10, 1), 1, 10) == chicago(2026, 12, 8, 10, 0)


def test_the_drip_keeps_its_wall_hour_across_dst() -> None:
    # Sunday 1 Nov 2026 is the fall-back day; the drip on that Sunday is still at 10:00 CST.
    slot = next_drip_time(chicago(2026, 10, 31, 12, 0), 6, 10)
    assert (slot.day, slot.hour, slot.utcoffset()) == (1, 10, dt.timedelta(hours=-6))


# --- settings ---------------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = load_settings({})
    assert str(settings.quiet_hours) == "20:00-08:00"
    assert settings.drip_weekday is None and settings.drip_hour == 10


def test_settings_read_quiet_hours_and_drip() -> None:
    settings = load_settings({"QUIET_HOURS": "21:30-7:00", "DRIP_WEEKDAY": "Thu", "DRIP_HOUR": "9"})
    assert str(settings.quiet_hours) == "21:30-07:00"
    assert (settings.drip_weekday, settings.drip_hour) == (3, 9)
    assert not load_settings({"QUIET_HOURS": "off"}).quiet_hours.enabled


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"QUIET_HOURS": "8pm-8am"}, "QUIET_HOURS"),
        ({"DRIP_WEEKDAY": "someday"}, "DRIP_WEEKDAY"),
        ({"DRIP_HOUR": "24"}, "DRIP_HOUR"),
        ({"DRIP_HOUR": "ten"}, "DRIP_HOUR"),
    ],
)
def test_bad_settings_name_themselves_in_one_line(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert message.startswith(named) and "\n" not in message
