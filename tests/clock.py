"""A clock tests can move by hand: no test waits on the wall clock."""

from __future__ import annotations

import datetime as dt


class FakeClock:
    def __init__(self, start: dt.datetime | None = None) -> None:
        start = start or dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, *, days: float = 0, hours: float = 0, seconds: float = 0) -> None:
        self.now += days * 86400 + hours * 3600 + seconds
