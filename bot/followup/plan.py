"""When each follow-through message goes: the reminders of a deadline and a check-in, as
unix seconds, all at 10:00 on the wall clock in TIMEZONE (daytime; the sender still waits
out quiet hours).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.followup.due import ReminderKind, reminder_schedule, send_instant

SEND_AT = dt.time(10, 0)  # a parent reads a reminder at work or at home, never at night


def local_day(now: float, tz: ZoneInfo) -> dt.date:
    """The day the clock on the wall in `tz` shows at unix time `now`."""
    return dt.datetime.fromtimestamp(now, tz).date()


def reminder_times(due: dt.date, *, today: dt.date, tz: ZoneInfo) -> list[tuple[ReminderKind, int]]:
    """The reminders still ahead of a due date, in order: (kind, unix seconds). One whose
    day is today goes at 10:00, or at once when 10:00 has passed."""
    return [
        (reminder.kind, int(send_instant(reminder.day, tz, SEND_AT).timestamp()))
        for reminder in reminder_schedule(due, today=today)
    ]


def checkin_time(screening_day: dt.date, *, days: int, tz: ZoneInfo) -> int:
    """A check-in's moment: `days` (CHECKIN_DAYS) after the screening, at 10:00."""
    day = screening_day + dt.timedelta(days=days)
    return int(send_instant(day, tz, SEND_AT).timestamp())
