"""When to tell staff about an error: once per kind an hour, with how many came meanwhile.

No Telegram here (bot/tg/alerts.py sends). A kind is an error's type and the place in our
code it happened: never its message or the update, which may hold what a parent typed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

HOUR = 3600.0


@dataclass
class _Kind:
    sent_at: float
    since: int = 0  # occurrences since the last alert, this one included


class AlertGate:
    """Decides which errors become an alert; remembers only kinds and counts, in memory."""

    def __init__(self, *, every: float = HOUR, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self.clock = clock
        self._kinds: dict[str, _Kind] = {}

    def admit(self, kind: str) -> int | None:
        """None: stay quiet (counted for the next alert of this kind); else the number of
        times this kind happened since its last alert, this time included."""
        now = self.clock()
        seen = self._kinds.get(kind)
        if seen is None:
            self._kinds[kind] = _Kind(sent_at=now)
            return 1
        seen.since += 1
        if now - seen.sent_at < self.every:
            return None
        count, seen.sent_at, seen.since = seen.since, now, 0
        return count
