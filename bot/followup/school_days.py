"""US federal holidays and school-day counting, for the estimate of a school-day rule.

A school's own calendar (breaks, teacher days, snow days) is unknown here, so a count of
school days skips only weekends and the eleven federal holidays (5 U.S.C. 6103), each on the
weekday it is observed: a Saturday holiday on the Friday before, a Sunday one on the Monday
after. The `holidays` package does the same and more, but weighs 14 MB and adds about 0.1 s
to start-up for these eleven rules.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

_MON, _THU, _SAT, _SUN = 0, 3, 5, 6


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday of a month (n=1 the first), or the last one for n=-1."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    last = following - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    """The weekday a federal holiday is observed on (Sat -> Fri, Sun -> Mon)."""
    if day.weekday() == _SAT:
        return day - dt.timedelta(days=1)
    if day.weekday() == _SUN:
        return day + dt.timedelta(days=1)
    return day


def _holidays_of(year: int) -> dict[str, dt.date]:
    """The year's federal holidays by name, on their own dates (not yet observed)."""
    return {
        "new_year": dt.date(year, 1, 1),
        "mlk": _nth_weekday(year, 1, _MON, 3),
        "presidents": _nth_weekday(year, 2, _MON, 3),
        "memorial": _nth_weekday(year, 5, _MON, -1),
        "juneteenth": dt.date(year, 6, 19),  # a federal holiday since 2021
        "independence": dt.date(year, 7, 4),
        "labor": _nth_weekday(year, 9, _MON, 1),
        "columbus": _nth_weekday(year, 10, _MON, 2),
        "veterans": dt.date(year, 11, 11),
        "thanksgiving": _nth_weekday(year, 11, _THU, 4),
        "christmas": dt.date(year, 12, 25),
    }


@cache
def federal_holidays(year: int) -> frozenset[dt.date]:
    """Every observed federal holiday that falls in `year`.

    The next year's New Year's Day counts too when it is a Saturday: it is observed on
    December 31 (as on 2027-12-31 for 2028-01-01).
    """
    observed = {
        _observed(day)
        for y in (year, year + 1)
        for name, day in _holidays_of(y).items()
        if name != "juneteenth" or y >= 2021
    }
    return frozenset(day for day in observed if day.year == year)


def is_school_day(day: dt.date) -> bool:
    """Monday to Friday and not an observed federal holiday."""
    return day.weekday() < _SAT and day not in federal_holidays(day.year)


def add_school_days(start: dt.date, n: int) -> dt.date:
    """The n-th school day after `start` (`start` itself is day 0, whatever it is)."""
    if n < 0:
        raise ValueError("n must be 0 or more")
    day = start
    while n:
        day += dt.timedelta(days=1)
        if is_school_day(day):
            n -= 1
    return day
