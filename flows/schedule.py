"""When a broadcast may go: quiet hours, a time staff typed, and the weekly drip. Pure.

Every datetime here is timezone-aware. Wall-clock rules (quiet hours, "tomorrow 9:00",
"Tuesdays at 10") are applied in the practice's zone, so a daylight-saving change moves
the instant, never the wall time: 08:00 is 08:00 local on both sides of a DST switch.
Callers turn a unix time into a local datetime with `local_time(timestamp, tz)`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_AHEAD = dt.timedelta(days=366)  # further than a year is almost surely a typo
_OFF = {"", "off", "none", "no"}
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_TIME = r"(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?"
_AT = r"(?:\s+(?:at|a\s+las|a\s+la))?"
_ABSOLUTE = re.compile(rf"^(?P<y>\d{{4}})-(?P<mo>\d{{1,2}})-(?P<d>\d{{1,2}})(?:t|{_AT}\s+){_TIME}$")
_RELATIVE = re.compile(rf"^(?P<day>today|hoy|tomorrow|mañana|manana){_AT}\s+{_TIME}$")


class ScheduleError(ValueError):
    """A time we cannot use; `code` names why, so the bot can say it in the staff's language.

    Codes: format, bad_date, past, too_far, nonexistent (skipped by a clock change).
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class QuietHours:
    """A daily window, in local wall time, when nothing is sent; it may wrap midnight.

    start == end means no quiet hours at all.
    """

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """'20:00-08:00' (wrapping midnight is fine) or 'off'; raises ScheduleError('format')."""
        if text.strip().lower() in _OFF:
            return cls(dt.time(0), dt.time(0))
        match = _QUIET.match(text)
        if not match:
            raise ScheduleError("format", f"expected HH:MM-HH:MM, got {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            return cls(dt.time(h1, m1), dt.time(h2, m2))
        except ValueError:
            raise ScheduleError("format", f"not a time of day in {text!r}") from None

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def contains(self, local: dt.datetime) -> bool:
        """Whether this local wall time falls inside the quiet window."""
        if not self.enabled:
            return False
        wall = local.time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end  # wraps midnight, e.g. 20:00-08:00

    def __str__(self) -> str:
        if not self.enabled:
            return "off"
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def local_time(timestamp: float, tz: dt.tzinfo) -> dt.datetime:
    """A unix time as an aware datetime in the given zone."""
    return dt.datetime.fromtimestamp(timestamp, tz)


def at_wall_time(day: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The instant a local clock shows `time` on `day`.

    A wall time skipped by a spring-forward change resolves to the moment just after the
    gap (02:30 -> 03:30); a repeated one (fall back) to its first occurrence.
    """
    naive = dt.datetime.combine(day, time.replace(tzinfo=None))
    return naive.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz)


def next_allowed_time(
    now: dt.datetime, quiet: QuietHours, tz: dt.tzinfo | None = None
) -> dt.datetime:
    """`now` if it is outside quiet hours, else the end of the quiet window it falls in.

    `now` must be aware; quiet hours are read in `tz` when given, else in now's own zone
    (so pass a datetime in the practice's zone, or the zone itself).
    """
    if now.tzinfo is None:
        raise ValueError("next_allowed_time needs an aware datetime")
    local = now.astimezone(tz) if tz is not None else now
    if not quiet.contains(local):
        return local
    wall = local.time().replace(tzinfo=None)
    end_day = local.date() if wall < quiet.end else local.date() + dt.timedelta(days=1)
    assert local.tzinfo is not None
    return at_wall_time(end_day, quiet.end, local.tzinfo)


def parse_when(text: str, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A future local time typed by staff: '2026-12-01 09:30', 'tomorrow 9:00', 'mañana 9am'.

    Raises ScheduleError: format, bad_date, past, too_far, nonexistent.
    """
    cleaned = re.sub(r"\s+", " ", text.strip().lower())
    local_now = now.astimezone(tz)
    if match := _ABSOLUTE.match(cleaned):
        try:
            day = dt.date(int(match["y"]), int(match["mo"]), int(match["d"]))
        except ValueError:
            raise ScheduleError("bad_date", cleaned) from None
    elif match := _RELATIVE.match(cleaned):
        day = local_now.date()
        if match["day"] not in ("today", "hoy"):
            day += dt.timedelta(days=1)
    else:
        raise ScheduleError("format", cleaned)
    wall = _time_of_day(match["h"], match["m"], match["ampm"])
    when = at_wall_time(day, wall, tz)
    if when.replace(tzinfo=None) != dt.datetime.combine(day, wall):
        raise ScheduleError("nonexistent", cleaned)
    if when <= local_now:
        raise ScheduleError("past", cleaned)
    if when - local_now > MAX_AHEAD:
        raise ScheduleError("too_far", cleaned)
    return when


def _time_of_day(hours: str, minutes: str | None, ampm: str | None) -> dt.time:
    hour, minute = int(hours), int(minutes or 0)
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise ScheduleError("format", f"{hours} {ampm}")
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError("format", f"{hours}:{minutes}")
    return dt.time(hour, minute)


# --- the weekly drip ---------------------------------------------------------------------


def parse_weekday(text: str) -> int | None:
    """'tue', 'Tuesday', 'TU' -> 1 (Monday is 0); '' or 'off' -> None (no drip)."""
    cleaned = text.strip().lower()
    if cleaned in _OFF:
        return None
    for number, name in enumerate(_DAY_NAMES):
        if len(cleaned) >= 2 and name.startswith(cleaned):
            return number
    raise ScheduleError("format", f"expected a weekday like tue, got {text!r}")


def drip_slot(now: dt.datetime, weekday: int, hour: int) -> dt.datetime:
    """The drip time (weekday at hour:00, local) in the ISO week that `now` falls in."""
    assert now.tzinfo is not None
    monday = now.date() - dt.timedelta(days=now.weekday())
    return at_wall_time(monday + dt.timedelta(days=weekday), dt.time(hour), now.tzinfo)


def drip_due(now: dt.datetime, weekday: int, hour: int) -> str | None:
    """The ISO week ('2026-W49') whose drip should go now, or None.

    Due from the drip hour until the end of that same local day, so a bot restarted a
    little late still sends that week's tip, but never a day or more after.
    """
    slot = drip_slot(now, weekday, hour)
    if now < slot or now.date() != slot.date():
        return None
    year, week, _ = slot.isocalendar()
    return f"{year}-W{week:02d}"


def next_drip_time(now: dt.datetime, weekday: int, hour: int) -> dt.datetime:
    """The next drip time at or after `now` (this week's if still ahead, else next week's)."""
    slot = drip_slot(now, weekday, hour)
    if slot >= now:
        return slot
    return drip_slot(now + dt.timedelta(days=7), weekday, hour)


def release_time(
    now: dt.datetime,
    send_at: dt.datetime | None,
    quiet: QuietHours,
    *,
    ignore_quiet: bool = False,
) -> dt.datetime | None:
    """When a confirmed broadcast may start: None means at once.

    A scheduled time (or now) inside quiet hours moves to the end of them, unless staff
    chose "send now anyway" (`ignore_quiet`), which keeps the time they asked for.
    """
    wanted = send_at if send_at is not None and send_at > now else None
    if ignore_quiet:
        return wanted
    base = wanted or now
    allowed = next_allowed_time(base, quiet)
    if wanted is None and allowed == base:
        return None
    return allowed
