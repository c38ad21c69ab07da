"""When quiet hours end, if it is quiet now: for steps that start a broadcast after the fact."""

from __future__ import annotations

from bot.config import Settings
from flows.schedule import local_time, release_time


def quiet_until(settings: Settings, now: float) -> float | None:
    """The end of quiet hours as a unix time when `now` falls inside them, else None."""
    release = release_time(local_time(now, settings.tz), None, settings.quiet_hours)
    return release.timestamp() if release is not None else None
