"""Storage: one object over a sqlite_utils.Database, passed to whoever needs it.

All times come from an injected clock so tests can move time without sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.migrations import migrations
from flows.spec import OUTCOME_STATE

Clock = Callable[[], float]
# What a tips subscriber may say they care about (subscribers.interest); broadcasts can target one.
INTERESTS = ("just_starting", "waiting_evaluation", "has_504", "has_iep")


@dataclass
class StoredSession:
    """A screening in progress, as stored (the chat is only known by its keyed hash)."""

    chat_key: str
    session_id: str
    lang: str
    source: str
    state: str
    answers: dict[str, str]
    history: list[str]
    started_day: str
    updated_at: float


_SESSION_COLUMNS = (
    "chat_key, session_id, lang, source, state, answers, history, started_day, updated_at"
)


def _session(row: tuple[Any, ...]) -> StoredSession:
    key, sid, lang, source, state, answers, history, started_day, updated_at = row
    return StoredSession(
        chat_key=key,
        session_id=sid,
        lang=lang,
        source=source,
        state=state,
        answers=json.loads(answers),
        history=json.loads(history),
        started_day=started_day,
        updated_at=updated_at,
    )


def new_session_id() -> str:
    return secrets.token_hex(6)


class Storage:
    def __init__(
        self, path: Path | str, *, clock: Clock = time.time, busy_timeout: float = 5.0
    ) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = Database(str(path))
        self.wait_at_most(busy_timeout)  # before anything that may need a lock
        # Autocommit: a single write commits by itself (no extra COMMIT round trip);
        # multi-statement writes use db.atomic(), which opens its own transaction.
        self.db.conn.isolation_level = None
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode; only a power cut
        # can lose the last transactions, which is acceptable for this data.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.clock = clock
        # This process, as far as the database can tell: the lease holder (bot/lease.py).
        self.instance = secrets.token_hex(4)

    def wait_at_most(self, seconds: float) -> None:
        """How long one statement waits for another program's write lock (it blocks the
        thread meanwhile: the running bot keeps this short, see bot/busy.py)."""
        self.db.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")

    def migrate(self) -> list[str]:
        """Apply pending migrations; return their names."""
        pending = [m.name for m in migrations.pending(self.db)]
        migrations.apply(self.db)
        return pending

    def close(self) -> None:
        self.db.close()

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    # --- sessions -----------------------------------------------------------------

    # The hot path (one read and one write per answer) uses plain SQL: sqlite-utils'
    # table helpers introspect the schema on every call, which costs more than the query.
    # Database.execute commits a single write by itself.

    def get_session(self, chat_key: str) -> StoredSession | None:
        row = self.db.execute(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE chat_key = ?", [chat_key]
        ).fetchone()
        return _session(row) if row else None

    def save_session(self, session: StoredSession) -> None:
        session.updated_at = self.clock()
        self.db.execute(
            "INSERT OR REPLACE INTO sessions (chat_key, session_id, lang, source, state,"
            " answers, history, started_day, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                session.chat_key,
                session.session_id,
                session.lang,
                session.source,
                session.state,
                json.dumps(session.answers, sort_keys=True),
                json.dumps(session.history),
                session.started_day,
                session.updated_at,
            ],
        )

    def delete_session(self, chat_key: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE chat_key = ?", [chat_key])

    def is_expired(self, session: StoredSession, ttl_seconds: float) -> bool:
        return self.clock() - session.updated_at > ttl_seconds

    def expired_sessions(self, ttl_seconds: float) -> Iterator[StoredSession]:
        rows = self.db.execute(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE updated_at < ?",
            [self.clock() - ttl_seconds],
        ).fetchall()  # read all first: the caller deletes them as it goes
        for row in rows:
            yield _session(row)

    # --- the outcome log ------------------------------------------------------------

    def finish_session(
        self, session: StoredSession, *, outcome_id: str | None, answers: dict[str, str]
    ) -> None:
        """Log the session (completed when outcome_id is set, else abandoned).

        An abandoned session is dropped. A completed one stays, in the outcome state, until
        its result is known to have reached the parent (result_shown): after a crash or a
        failed send, the parent's next message brings the result back instead of a fresh
        start, and the outcome is still logged once.
        """
        with self.db.atomic():
            # OR IGNORE: a retried update must not log the same session twice.
            self.db.execute(
                "INSERT OR IGNORE INTO outcomes (session_id, day, lang, source, status,"
                " outcome_id, answers, stopped_at, questions_answered, booked)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [
                    session.session_id,
                    session.started_day,
                    session.lang,
                    session.source,
                    "completed" if outcome_id else "abandoned",
                    outcome_id,
                    json.dumps(answers, sort_keys=True),
                    None if outcome_id else session.state,
                    len(answers),
                ],
            )
            if outcome_id:
                session.state = OUTCOME_STATE
                self.save_session(session)
            else:
                self.delete_session(session.chat_key)

    def result_shown(self, chat_key: str, session_id: str) -> None:
        """The parent has their result: the finished session is no longer needed."""
        self.db.execute(
            "DELETE FROM sessions WHERE chat_key = ? AND session_id = ? AND state = ?",
            [chat_key, session_id, OUTCOME_STATE],
        )

    def outcome_of(self, session_id: str) -> dict[str, object] | None:
        rows = list(self.db.table("outcomes").rows_where("session_id = ?", [session_id]))
        return rows[0] if rows else None

    def record_booking(self, *, session_id: str | None, lang: str) -> str | None:
        """Record a Book press; return the outcome id it belonged to, if any."""
        outcome = self.outcome_of(session_id) if session_id else None
        outcome_id = str(outcome["outcome_id"]) if outcome and outcome["outcome_id"] else None
        with self.db.atomic():
            if outcome is not None:
                self.db.execute("UPDATE outcomes SET booked = 1 WHERE session_id = ?", [session_id])
            else:
                self.db.table("booking_presses").insert(
                    {"day": self.today(), "lang": lang, "outcome_id": None, "origin": "menu"}
                )
        return outcome_id

    # --- per-chat preferences ---------------------------------------------------------

    def _pref(self, chat_key: str, column: str) -> str | None:
        assert column in ("lang", "source")
        row = self.db.execute(
            f"SELECT {column} FROM chat_prefs WHERE chat_key = ?", [chat_key]
        ).fetchone()
        return row[0] if row else None

    def _set_pref(self, chat_key: str, column: str, value: str) -> None:
        assert column in ("lang", "source")
        self.db.execute(
            f"INSERT INTO chat_prefs (chat_key, {column}) VALUES (?, ?)"
            f" ON CONFLICT(chat_key) DO UPDATE SET {column} = excluded.{column}",
            [chat_key, value],
        )

    def get_language(self, chat_key: str) -> str | None:
        return self._pref(chat_key, "lang")

    def set_language(self, chat_key: str, lang: str) -> None:
        self._set_pref(chat_key, "lang", lang)

    def get_source(self, chat_key: str) -> str | None:
        return self._pref(chat_key, "source")

    def set_source(self, chat_key: str, source: str) -> None:
        self._set_pref(chat_key, "source", source)

    def forget_chat(self, chat_key: str) -> None:
        """Delete everything kept under this chat's key (the /forget command)."""
        with self.db.atomic():
            self.delete_session(chat_key)
            self.db.execute("DELETE FROM chat_prefs WHERE chat_key = ?", [chat_key])
            self.remove_subscriber(chat_key, event="left")

    # --- tip subscriptions ------------------------------------------------------------

    def get_subscriber(self, chat_key: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT lang, interest, opted_in_day FROM subscribers WHERE chat_key = ?", [chat_key]
        ).fetchone()
        return {"lang": row[0], "interest": row[1], "opted_in_day": row[2]} if row else None

    def add_subscriber(self, chat_key: str, chat_id: int, lang: str) -> bool:
        """Subscribe a chat; False if it already was (then only the language is updated)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO subscribers (chat_key, chat_id, lang, opted_in_day)"
                " VALUES (?, ?, ?, ?)",
                [chat_key, chat_id, lang, self.today()],
            )
            if cursor.rowcount == 0:
                self.db.execute(
                    "UPDATE subscribers SET lang = ? WHERE chat_key = ?", [lang, chat_key]
                )
                return False
            self._subscription_event("joined", lang, None)
        return True

    def set_interest(self, chat_key: str, interest: str | None) -> bool:
        cursor = self.db.execute(
            "UPDATE subscribers SET interest = ? WHERE chat_key = ?", [interest, chat_key]
        )
        return cursor.rowcount == 1

    def set_subscriber_language(self, chat_key: str, lang: str) -> None:
        self.db.execute("UPDATE subscribers SET lang = ? WHERE chat_key = ?", [lang, chat_key])

    def remove_subscriber(self, chat_key: str, *, event: str) -> bool:
        """Delete the subscription (and with it the raw chat id); log `event` anonymously."""
        with self.db.atomic():
            found = self.get_subscriber(chat_key)
            if found is None:
                return False
            self.db.execute("DELETE FROM subscribers WHERE chat_key = ?", [chat_key])
            self._subscription_event(event, found["lang"], found["interest"])
        return True

    def _subscription_event(self, event: str, lang: str, interest: str | None) -> None:
        self.db.execute(
            "INSERT INTO subscription_events (day, event, lang, interest) VALUES (?, ?, ?, ?)",
            [self.today(), event, lang, interest],
        )


class Pseudonymizer:
    """Keyed hash of a chat id: stable for us, meaningless to anyone without the key."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("a pseudonym key is required")
        self._key = key

    def __call__(self, chat_id: int | str) -> str:
        return hmac.digest(self._key, str(chat_id).encode(), hashlib.sha256).hex()
