"""Rows for the statistics tests: outcome log entries and screenings in progress, in bulk."""

from __future__ import annotations

import itertools
import struct
from typing import Any

_ids = itertools.count()


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
