"""Rows for the statistics tests (outcome log entries and screenings in progress, in bulk),
and the statistics worker as the tests run it."""

from __future__ import annotations

import asyncio
import itertools
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tests.conftest import STAFF_ID

if TYPE_CHECKING:
    from tests.botenv import BotEnv
    from tests.fakebot import ChatClient, SentMessage

_ids = itertools.count()
PERIOD_BUTTONS = ["7 days", "30 days", "90 days", "All time"]
# The CSV files `iep-bot export` writes and /export zips, in the order they are written.
EXPORT_FILES = [
    "summary.csv",
    "outcomes.csv",
    "booking_by_outcome.csv",
    "dropoff.csv",
    "by_language.csv",
    "by_source.csv",
    "timeline.csv",
    "letters_by_type.csv",
    "letters_by_language.csv",
    "followup_by_outcome.csv",
]
Request = TypeVar("Request")
Result = TypeVar("Result")


def outcome(
    n: int,
    *,
    day: str = "2026-11-10",
    lang: str = "en",
    source: str = "direct",
    outcome_id: str | None = "iep_evaluation",
    stopped_at: str | None = None,
    booked: int = 0,
) -> list[dict[str, Any]]:
    """n outcome rows alike; abandoned (at `stopped_at`) when outcome_id is None."""
    return [
        {
            "session_id": f"s{next(_ids)}",
            "day": day,
            "lang": lang,
            "source": source,
            "status": "completed" if outcome_id else "abandoned",
            "outcome_id": outcome_id,
            "answers": "{}",
            "stopped_at": None if outcome_id else (stopped_at or "effort"),
            "questions_answered": 3,
            "booked": booked,
        }
        for _ in range(n)
    ]


def in_progress(
    n: int, *, day: str = "2026-11-10", lang: str = "en", source: str = "direct"
) -> list[dict[str, Any]]:
    """n screenings still in progress, started on `day`."""
    return [
        {
            "chat_key": f"key{next(_ids)}",
            "session_id": f"p{next(_ids)}",
            "lang": lang,
            "source": source,
            "state": "effort",
            "answers": "{}",
            "history": "[]",
            "started_day": day,
            "updated_at": 0.0,
        }
        for _ in range(n)
    ]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's signature and IHDR chunk (no imaging library needed)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR"), "the first chunk of a PNG must be IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82", "a PNG ends with IEND"
    return width, height


class InProcess:
    """The statistics worker's runner for tests (bot/stats/worker.py Runner): the same jobs,
    run right here on the event loop. No test pays for starting a process unless it means to
    (tests/test_stats_off_queue.py does), and no thread makes the order of calls vary from
    run to run (tests/test_fuzz.py plays the same traffic twice and compares)."""

    def __init__(self) -> None:
        self.results: list[Any] = []  # what each job returned, oldest first

    async def run(self, job: Callable[[Request], Result], request: Request) -> Result:
        await asyncio.sleep(0)  # a worker's answer never comes back within the same step
        result = job(request)
        self.results.append(result)
        return result

    def close(self) -> None:
        return None


# Jobs for the real worker process (tests/test_stats_off_queue.py): defined here, a module
# the spawned worker imports quickly.


def worker_pid(_: object) -> int:
    """The process the job ran in."""
    import os

    return os.getpid()


def crash_worker(_: object) -> int:
    """The worker dies mid-job, as when the system kills it (out of memory)."""
    import os

    os._exit(3)


def sleep_in_worker(seconds: float) -> int:
    """A long job (a huge chart), to stop the worker in the middle of."""
    import time

    time.sleep(seconds)
    return 0


def staff_client(env: BotEnv, **kwargs: str) -> ChatClient:
    """The staff member (STAFF_ID) in their own chat."""
    return env.client(chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Dana", **kwargs)


async def after_period(client: ChatClient, command: str, period: str) -> list[SentMessage]:
    """`command` (/stats or /export), press a period, and return what that press brought
    once the job it started has ended."""
    await client.send(command)
    mark = client.mark()
    await client.press(period)
    await client.app.stats_worker.settled()  # type: ignore[attr-defined]
    return client.new_since(mark)
