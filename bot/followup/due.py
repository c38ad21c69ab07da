"""The due date of an evaluation, the reminders before and after it, and the instant each
reminder is sent.

Counting (34 CFR 300.301(c)(1): "within 60 days of receiving parental consent"): the day the
school receives the signed consent is day 0 and the count starts the next day, so consent
received on day D is due on D + 60 under the federal rule (received 2028-01-01: due
2028-03-01, February 29 counted). A school-day rule counts the school days after D: D itself
never counts, whatever day of the week it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.followup.school_days import add_school_days
from bot.followup.timelines import TimelineRule, Unit

UTC = dt.UTC


@dataclass(frozen=True)
class DueDate:
    received: dt.date  # the day the school received the signed consent (day 0)
    date: dt.date
    rule: TimelineRule
    is_estimate: bool  # the message says so and names the rule


def due_date(received: dt.date, rule: TimelineRule) -> DueDate:
    """When the evaluation is due under `rule` for consent received on `received`."""
    if rule.unit is Unit.SCHOOL_DAYS:
        day = add_school_days(received, rule.count)
    else:
        # CALENDAR_DAYS_EXCLUDING_LONG_BREAKS too: the school's long breaks are unknown, so
        # this is the earliest the date can be, and the rule is marked an estimate.
        day = received + dt.timedelta(days=rule.count)
    return DueDate(received, day, rule, rule.estimate or rule.unit is not Unit.CALENDAR_DAYS)


class ReminderKind(StrEnum):
    TWO_WEEKS = "two_weeks"
    THREE_DAYS = "three_days"
    DUE_DAY = "due_day"
    DAY_AFTER = "day_after"  # "no report yet? here is what you can do"


# Days from the due date, in sending order.
OFFSETS: dict[ReminderKind, int] = {
    ReminderKind.TWO_WEEKS: -14,
    ReminderKind.THREE_DAYS: -3,
    ReminderKind.DUE_DAY: 0,
    ReminderKind.DAY_AFTER: 1,
}


@dataclass(frozen=True)
class Reminder:
    kind: ReminderKind
    day: dt.date  # sent on this local day, at the sending hour


def reminder_schedule(due: dt.date, *, today: dt.date) -> list[Reminder]:
    """The reminders still ahead, in order: those on `today` or later.

    A reminder whose day is past is dropped, never sent late: "two weeks left" a week before
    is wrong. One on `today` stays (the sender sends it at the next allowed hour), so the
    day-after reminder stays while the due date is yesterday or later, and a deadline set
    after its day-after reminder has none.
    """
    reminders = (Reminder(kind, due + dt.timedelta(days=days)) for kind, days in OFFSETS.items())
    return [reminder for reminder in reminders if reminder.day >= today]


def send_instant(day: dt.date, tz: ZoneInfo, at: dt.time) -> dt.datetime:
    """The moment, in UTC, when the clock on the wall in `tz` shows `at` on `day`.

    Daylight saving: a time that does not exist that day (02:30 on the spring-forward
    Sunday) is read with the offset in force before the change, so it lands as late as the
    gap (03:30 daylight time); a time that happens twice (01:30 on the fall-back Sunday) is
    the first of the two. Both follow PEP 495's fold=0, so the answer never depends on the
    machine.
    """
    if at.tzinfo is not None:
        raise ValueError("`at` is a wall-clock time: no tzinfo")
    local = dt.datetime.combine(day, at.replace(fold=0), tzinfo=tz)
    return local.astimezone(UTC)
