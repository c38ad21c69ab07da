"""Moments as staff read them: in TIMEZONE, in the staff member's own words and order."""

from __future__ import annotations

import datetime as dt

from bot.content import LanguagePack

# The keys of a full date ("Tue 8 Dec 2026, 09:30"), a button's ("Tue 09:30"), and a list
# line's ("Tue 8 Dec, 09:30": the year goes without saying there).
DATE_FORMAT = "staff.date_format"
SHORT_FORMAT = "staff.short_format"
LIST_FORMAT = "staff.broadcasts.date_format"


def local(moment: dt.datetime | float, tz: dt.tzinfo) -> dt.datetime:
    """A unix time or an aware datetime as the practice's wall clock shows it."""
    if isinstance(moment, dt.datetime):
        return moment.astimezone(tz)
    return dt.datetime.fromtimestamp(moment, tz)


def date_time(
    pack: LanguagePack, moment: dt.datetime | float, tz: dt.tzinfo, key: str = DATE_FORMAT
) -> str:
    """The day and time in `key`'s format: weekday, day, month, year and time."""
    wall = local(moment, tz)
    return pack.t(
        key,
        weekday=pack.t("staff.weekdays").split(",")[wall.weekday()],
        day=wall.day,
        month=pack.t("staff.months").split(",")[wall.month - 1],
        year=wall.year,
        time=f"{wall:%H:%M}",
    )


def weekday_time(pack: LanguagePack, moment: dt.datetime | float, tz: dt.tzinfo) -> str:
    """The weekday and time only, for a button: "Tue 09:30"."""
    wall = local(moment, tz)
    weekday = pack.t("staff.weekdays").split(",")[wall.weekday()]
    return pack.t(SHORT_FORMAT, weekday=weekday, time=f"{wall:%H:%M}")
