"""Parents first: the bot counts updates in progress so notices and broadcasts can step aside."""

from __future__ import annotations

import asyncio
import contextlib
from contextvars import ContextVar

# Set while a handler runs (bot/tg/patience.py): [True] once it has sent the parent something.
REPLIED: ContextVar[list[bool] | None] = ContextVar("replied", default=None)


def note_reply() -> None:
    """Called by the sender for every reply: the running handler may no longer start over."""
    replied = REPLIED.get()
    if replied is not None:
        replied[0] = True


class ParentActivity:
    """How many updates are being handled right now; the sender waits while any are."""

    def __init__(self) -> None:
        self.busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def begin(self) -> None:
        self.busy += 1
        self._idle.clear()

    def end(self) -> None:
        self.busy -= 1
        if self.busy == 0:
            self._idle.set()

    async def wait_idle(self, at_most: float) -> None:
        """Wait until no update is in progress, but never longer than `at_most` seconds,
        so a steady stream of parents slows a broadcast without stopping it."""
        if self.busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), at_most)
