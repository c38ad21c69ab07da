"""Storage: one object over a sqlite_utils.Database, passed to whoever needs it.

All times come from an injected clock so tests can move time without sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import zoneinfo
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.migrations import migrations
from flows.spec import OUTCOME_STATE

log = logging.getLogger(__name__)
Clock = Callable[[], float]
# What a tips subscriber may say they care about (subscribers.interest); broadcasts can target one.
INTERESTS = ("just_starting", "waiting_evaluation", "has_504", "has_iep")
# meta row: the day free-text deep-link sources from before content/sources.yaml were scrubbed.
SOURCES_SCRUBBED = "sources_scrubbed"


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
        self,
        path: Path | str,
        *,
        clock: Clock = time.time,
        busy_timeout: float = 5.0,
        timezone: str = "UTC",
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
        # The day every `day` column holds (a screening's start, a Book press, a subscription):
        # the practice's day in TIMEZONE, the day staff pick statistics periods by.
        self.zone = zoneinfo.ZoneInfo(timezone)
        # This process, as far as the database can tell: the lease holder (bot/lease.py).
        self.instance = secrets.token_hex(4)
        # What opening the database did that the operator should hear of (a new file, the
        # migrations run): `iep-bot run` logs them once Telegram has accepted the bot, so a
        # bot that cannot start says only why.
        self.notes: list[str] = []

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

    @contextmanager
    def immediate(self) -> Iterator[None]:
        """One transaction that takes the write lock at once: nothing it reads can change
        before it commits (another program's writes wait for it meanwhile)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.db.conn.in_transaction:  # an error may have rolled it back already
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- facts about the database itself (the meta table) ------------------------------

    def get_meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", [name]).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, name: str, value: str, *, replace: bool = True) -> None:
        """Record a fact; with replace=False an earlier value is kept (first writer wins)."""
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        self.db.execute(f"{verb} INTO meta (name, value) VALUES (?, ?)", [name, value])

    def today(self) -> str:
        """Today in the practice's time zone: the day the database dates things by."""
        return dt.datetime.fromtimestamp(self.clock(), self.zone).date().isoformat()

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

    def every_session(self) -> list[StoredSession]:
        """Every stored session (a re-key drops them all: bot/keys.py)."""
        rows = self.db.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions").fetchall()
        return [_session(row) for row in rows]

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

    # --- letters made (counts only) --------------------------------------------------------

    def count_letter(self, letter_type: str, lang: str) -> None:
        """One more letter of this type in this language today (TIMEZONE day): a count only."""
        self.db.execute(
            "INSERT INTO letters_made (day, type, lang, count) VALUES (?, ?, ?, 1)"
            " ON CONFLICT(day, type, lang) DO UPDATE SET count = count + 1",
            [self.today(), letter_type, lang],
        )

    def letters_made(
        self, since: dt.date | None = None, until: dt.date | None = None
    ) -> dict[tuple[str, str], int]:
        """Letters made in the inclusive period, by (type, language)."""
        return letters_made(self.db, since, until)

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

    def forget_chat(self, chat_key: str, *, chat_id: int | None = None) -> None:
        """Delete every row keyed by this chat (the /forget command): its screening, its
        preferences, its subscription (found by `chat_id` too, when made under an earlier
        PSEUDONYM_KEY), and its keyed hash in broadcast deliveries."""
        with self.db.atomic():
            keys = [chat_key, *self._subscription_keys(chat_key, chat_id)]
            marks = ", ".join("?" for _ in keys)
            self.db.execute(f"DELETE FROM sessions WHERE chat_key IN ({marks})", keys)
            self.db.execute(f"DELETE FROM chat_prefs WHERE chat_key IN ({marks})", keys)
            self.remove_subscriber(chat_key, event="left", chat_id=chat_id)
            self._unlink_deliveries(keys)

    def _unlink_deliveries(self, keys: list[str]) -> None:
        """A forgotten chat's deliveries keep the broadcasts' audit counts but lose its name:
        each gets a random key nothing links to. A pending one of a running broadcast will
        not go (skipped); one being sent right now may have gone (unknown)."""
        marks = ", ".join("?" for _ in keys)
        # broadcast_id IN (...) lets SQLite seek the (broadcast_id, chat_key) primary key
        # once per broadcast instead of reading every delivery.
        mine = f"broadcast_id IN (SELECT id FROM broadcasts) AND chat_key IN ({marks})"
        running = [
            r[0]
            for r in self.db.execute(
                f"SELECT DISTINCT broadcast_id FROM deliveries WHERE {mine}"
                " AND status IN ('pending', 'attempted') AND broadcast_id IN"
                " (SELECT id FROM broadcasts WHERE status IN ('sending', 'paused'))",
                keys,
            ).fetchall()
        ]
        for broadcast_id in running:
            self.db.execute(
                "UPDATE deliveries SET updated_at = ?, status = CASE status"
                " WHEN 'pending' THEN 'skipped' ELSE 'unknown' END"
                f" WHERE broadcast_id = ? AND chat_key IN ({marks})"
                " AND status IN ('pending', 'attempted')",
                [self.clock(), broadcast_id, *keys],
            )
            self.recount_broadcast(broadcast_id)
        self.db.execute(
            f"UPDATE deliveries SET chat_key = lower(hex(randomblob(32))) WHERE {mine}", keys
        )

    def recount_broadcast(self, broadcast_id: int) -> None:
        """Copy the delivery tallies onto the broadcast row (its audit record)."""
        counts = dict(
            self.db.execute(
                "SELECT status, count(*) FROM deliveries WHERE broadcast_id = ?"
                " AND status IN ('sent', 'blocked', 'failed', 'unknown', 'skipped')"
                " GROUP BY status",
                [broadcast_id],
            ).fetchall()
        )
        tallies = [counts.get(k, 0) for k in ("sent", "blocked", "failed", "unknown", "skipped")]
        self.db.execute(
            "UPDATE broadcasts SET sent = ?, blocked = ?, failed = ?, unknown = ?, skipped = ?"
            " WHERE id = ?",
            [*tallies, broadcast_id],
        )

    # --- deep-link sources --------------------------------------------------------------

    def scrub_sources(self, known: Collection[str]) -> int:
        """Once per database: sources that are not `known` (free text a parent typed after
        /start, kept by versions before content/sources.yaml) become `other`. Returns how
        many rows changed; after the first time it costs one read."""
        if self.get_meta(SOURCES_SCRUBBED) is not None:
            return 0
        keep = sorted(known)
        marks = ", ".join("?" for _ in keep)
        changed = 0
        with self.immediate():
            if self.get_meta(SOURCES_SCRUBBED) is not None:  # another process was quicker
                return 0
            # The rollup is small and holds every source the outcome log does: the log's own
            # rows are only read when there is something to change.
            stale = self.db.execute(
                f"SELECT DISTINCT source FROM outcome_counts WHERE source NOT IN ({marks})", keep
            ).fetchall()
            if stale:
                # The rollup's UPDATE trigger moves each row to its new group (m007).
                changed += self.db.execute(
                    "UPDATE outcomes SET source = 'other' WHERE source IN"
                    f" (SELECT DISTINCT source FROM outcome_counts WHERE source NOT IN ({marks}))",
                    keep,
                ).rowcount
            for table in ("sessions", "chat_prefs"):
                changed += self.db.execute(
                    f"UPDATE {table} SET source = 'other' WHERE source NOT IN ({marks})", keep
                ).rowcount
            self.set_meta(SOURCES_SCRUBBED, self.today())
        if changed:
            self.notes.append(
                f"{changed} rows held a deep-link source not in content/sources.yaml: now 'other'"
            )
        return changed

    # --- tip subscriptions ------------------------------------------------------------

    def get_subscriber(self, chat_key: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT lang, interest, opted_in_day FROM subscribers WHERE chat_key = ?", [chat_key]
        ).fetchone()
        return {"lang": row[0], "interest": row[1], "opted_in_day": row[2]} if row else None

    def add_subscriber(self, chat_key: str, chat_id: int, lang: str) -> bool:
        """Subscribe a chat; False if it already was (then only the language is updated)."""
        with self.db.atomic():
            # One subscription per chat: one made under an earlier PSEUDONYM_KEY is this one.
            self.db.execute(
                "UPDATE subscribers SET chat_key = ? WHERE rowid = (SELECT rowid FROM subscribers"
                " WHERE chat_id = ? AND chat_key != ? LIMIT 1)"
                " AND NOT EXISTS (SELECT 1 FROM subscribers WHERE chat_key = ?)",
                [chat_key, chat_id, chat_key, chat_key],
            )
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

    def remove_subscriber(self, chat_key: str, *, event: str, chat_id: int | None = None) -> bool:
        """Delete the subscription (and with it the raw chat id); log `event` anonymously.

        With `chat_id`, a subscription of that chat made under an earlier PSEUDONYM_KEY goes
        too: /stop must work whatever key the parent subscribed under.
        """
        with self.db.atomic():
            found = self.db.execute(
                "SELECT chat_key, lang, interest FROM subscribers WHERE chat_key = ?"
                " OR chat_id = ?",
                [chat_key, chat_id],
            ).fetchall()
            for key, lang, interest in found:
                self.db.execute("DELETE FROM subscribers WHERE chat_key = ?", [key])
                self._subscription_event(event, lang, interest)
        return bool(found)

    def _subscription_keys(self, chat_key: str, chat_id: int | None) -> list[str]:
        """The keys of this chat's subscriptions made under other keys (none without an id)."""
        if chat_id is None:
            return []
        rows = self.db.execute(
            "SELECT chat_key FROM subscribers WHERE chat_id = ? AND chat_key != ?",
            [chat_id, chat_key],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def _subscription_event(self, event: str, lang: str, interest: str | None) -> None:
        self.db.execute(
            "INSERT INTO subscription_events (day, event, lang, interest) VALUES (?, ?, ?, ?)",
            [self.today(), event, lang, interest],
        )


def letters_made(
    db: Database, since: dt.date | None = None, until: dt.date | None = None
) -> dict[tuple[str, str], int]:
    """Letters made in the inclusive period [since, until] (None: open-ended), by (type,
    language); for Storage and for the statistics' read-only connection alike. A database
    from before letters counts none."""
    known = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'letters_made'"
    ).fetchone()
    if known is None:
        return {}
    where, params = ["1"], []
    if since is not None:
        where.append("day >= ?")
        params.append(since.isoformat())
    if until is not None:
        where.append("day <= ?")
        params.append(until.isoformat())
    rows = db.execute(
        f"SELECT type, lang, SUM(count) FROM letters_made WHERE {' AND '.join(where)}"
        " GROUP BY type, lang",
        params,
    ).fetchall()
    return {(str(kind), str(lang)): int(n) for kind, lang, n in rows}


class Pseudonymizer:
    """Keyed hash of a chat id: stable for us, meaningless to anyone without the key."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("a pseudonym key is required")
        self._key = key

    def __call__(self, chat_id: int | str) -> str:
        return hmac.digest(self._key, str(chat_id).encode(), hashlib.sha256).hex()
