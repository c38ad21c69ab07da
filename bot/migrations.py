"""Schema migrations (sqlite-utils Migrations). Append new steps; never edit an applied one.

Privacy rule for every table here: no chat id, user id, username, name or free text of a
parent, except where sending needs a raw chat id (a subscription) and only until opt-out.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("iep_bot")


@migrations()
def m001_screening(db: Database) -> None:
    # In-progress screenings, keyed by HMAC(chat id): the only per-chat state we keep.
    db["sessions"].create(
        {
            "chat_key": str,  # HMAC-SHA256 of the chat id with PSEUDONYM_KEY, hex
            "session_id": str,  # random; becomes the outcome row's id
            "lang": str,
            "source": str,
            "state": str,  # a question id, or "outcome"
            "answers": str,  # JSON {question id: option key}
            "history": str,  # JSON [question ids on the path]
            "started_day": str,  # YYYY-MM-DD
            "updated_at": float,  # unix seconds; expiry is measured from here
        },
        pk="chat_key",
    )
    db["sessions"].create_index(["updated_at"])
    # One row per finished or abandoned screening: anonymous by construction.
    db["outcomes"].create(
        {
            "session_id": str,
            "day": str,  # the day only, never the time
            "lang": str,
            "source": str,
            "status": str,  # completed | abandoned
            "outcome_id": str,  # null when abandoned
            "answers": str,  # JSON {question id: option key}; never free text
            "stopped_at": str,  # abandoned: the question where the parent stopped
            "questions_answered": int,
            "booked": int,  # 1 once "Book a consultation" was pressed
        },
        pk="session_id",
        not_null={"day", "lang", "source", "status", "answers", "booked"},
        defaults={"booked": 0, "questions_answered": 0},
    )
    db["outcomes"].create_index(["day"])
    db["outcomes"].create_index(["status", "day"])
    # The language a chat chose and the deep-link source of its last /start, under the
    # same keyed hash; the source is copied onto the session when a screening starts.
    db["chat_prefs"].create({"chat_key": str, "lang": str, "source": str}, pk="chat_key")
    # Book presses outside a finished screening (the menu), for the booking count.
    db["booking_presses"].create(
        {"id": int, "day": str, "lang": str, "outcome_id": str, "origin": str}, pk="id"
    )
    # Telegram may deliver an update twice (webhook retries, restarts): remember ids briefly.
    db["processed_updates"].create({"update_id": int, "seen_at": float}, pk="update_id")
    db["processed_updates"].create_index(["seen_at"])
