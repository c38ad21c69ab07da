"""One month as plain data, for the inline calendar where a parent taps the day the school
received the consent: weeks of days, which days may be picked, and the months either side.

Only past days can be picked (consent was received already), and not before `earliest`
(a year back by default): nothing here knows Telegram.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import NamedTuple

SUNDAY = 6  # calendar's numbering: Monday 0 ... Sunday 6; US calendars start on Sunday


class YearMonth(NamedTuple):
    year: int
    month: int

    @classmethod
    def of(cls, day: dt.date) -> YearMonth:
        return cls(day.year, day.month)


def month_grid(year: int, month: int, *, first_weekday: int = SUNDAY) -> list[list[dt.date | None]]:
    """The month's weeks, each 7 days from `first_weekday`; None for the other months' days."""
    weeks = calendar.Calendar(first_weekday).monthdatescalendar(year, month)
    return [[day if day.month == month else None for day in week] for week in weeks]


def earliest_day(today: dt.date, *, years: int = 1) -> dt.date:
    """The same day `years` back (February 29 becomes February 28)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def allowed(day: dt.date, today: dt.date, earliest: dt.date) -> bool:
    """Whether the day may be picked: not in the future, not before `earliest`."""
    return earliest <= day <= today


def previous_month(year: int, month: int, *, earliest: dt.date) -> YearMonth | None:
    """The month before, or None when it ends before `earliest`."""
    before = YearMonth(year - 1, 12) if month == 1 else YearMonth(year, month - 1)
    return before if before >= YearMonth.of(earliest) else None


def next_month(year: int, month: int, *, today: dt.date) -> YearMonth | None:
    """The month after, or None when it starts after `today` (a future month)."""
    after = YearMonth(year + 1, 1) if month == 12 else YearMonth(year, month + 1)
    return after if after <= YearMonth.of(today) else None


def weekday_names(names: list[str], *, first_weekday: int = SUNDAY) -> list[str]:
    """Seven names given Monday first, in the grid's order (for the header row)."""
    if len(names) != 7:
        raise ValueError("expected 7 names, Monday first")
    return [names[(first_weekday + i) % 7] for i in range(7)]
