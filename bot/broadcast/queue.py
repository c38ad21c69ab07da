"""The durable queue and audit log of broadcasts, in SQLite. No Telegram here.

- at most once: a delivery is marked `attempted` (committed) before its send and replaced by
  the result after; after a crash, `attempted` rows become `unknown` and are never resent;
- never to someone who left: the chat id is read from `subscribers` right before each send,
  so a /stop mid-broadcast is honoured; a /forget also gives the parent's deliveries a
  random key (Storage.forget_chat), so a claim or a result for the old key finds no row;
- flat memory: recipients are copied into `deliveries` in SQL and read back in small batches;
- a text per language: parents whose language has no text (and no "*" text for the others)
  are neither copied nor counted, and never sent to (bot/broadcast/message.py `receiving`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from bot.broadcast.message import (
    EVERYONE,
    BroadcastError,
    Problem,
    message_problem,
    receiving,
    split_audience,
)
from bot.content import Content
from bot.storage import INTERESTS, Storage

ACTIVE = ("queued", "scheduled", "sending", "paused")
# A ready-made tip's state in /tips, from its broadcasts (cancelled ones do not count).
TIP_SCHEDULED, TIP_SENDING, TIP_PAUSED, TIP_SENT = "scheduled", "sending", "paused", "sent"


@dataclass(frozen=True)
class BroadcastRow:
    id: int
    created_at: float
    created_by: int | None
    origin: str
    audience: str
    texts: dict[str, str]
    photo: str | None
    tip_id: str | None
    not_before: float | None
    status: str
    total: int
    sent: int
    blocked: int
    failed: int
    unknown: int
    skipped: int
    started_at: float | None
    finished_at: float | None
    status_chat_id: int | None
    status_message_id: int | None

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.unknown + self.skipped

    @property
    def remaining(self) -> int:
        return max(self.total - self.done, 0)


_COLUMNS = ", ".join(BroadcastRow.__dataclass_fields__)


class Broadcasts:
    """The queue and audit log of broadcasts, over the bot's database. Synchronous."""

    def __init__(self, storage: Storage, content: Content) -> None:
        self.storage = storage
        self.content = content
        self.db = storage.db
        # Broadcast id -> the languages it has texts for (texts never change once queued).
        self._receiving: dict[int, list[str] | None] = {}

    # --- staff-facing ---------------------------------------------------------------------

    def count_recipients(self, audience: str, languages: Iterable[str] | None = None) -> int:
        """Subscribers in the audience now; with `languages`, only those reading one of them."""
        where, params = _recipients_sql(audience, languages)
        row = self.db.execute(f"SELECT count(*) FROM subscribers WHERE {where}", params).fetchone()
        return int(row[0])

    def queue(
        self,
        *,
        audience: str,
        texts: dict[str, str],
        photo: str | None = None,
        tip_id: str | None = None,
        created_by: int | None,
        origin: str,
        not_before: float | None = None,
    ) -> int:
        """Validate and queue a broadcast; return its id. Raises BroadcastError, queues nothing."""
        _audience_sql(audience)
        problem = message_problem(texts, photo, self.content)
        if problem is not None:
            raise BroadcastError(problem)
        now = self.storage.clock()
        if not_before is not None and not_before < now - 60:
            raise BroadcastError(Problem("past_time"))
        cursor = self.db.execute(
            "INSERT INTO broadcasts (created_at, created_by, origin, audience, texts, photo,"
            " tip_id, not_before, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                now,
                created_by,
                origin,
                audience,
                json.dumps(texts, ensure_ascii=False, sort_keys=True),
                photo,
                tip_id,
                not_before,
                "scheduled" if not_before and not_before > now else "queued",
            ],
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get(self, broadcast_id: int) -> BroadcastRow | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE id = ?", [broadcast_id]
        ).fetchone()
        return _row(row) if row else None

    def select(
        self, where: str, params: list[Any], *, order: str = "id DESC", limit: int = 10
    ) -> list[BroadcastRow]:
        """Broadcast rows matching an SQL condition (written by our code, never by staff)."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE {where} ORDER BY {order} LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [_row(r) for r in rows]

    def recent(self, limit: int = 10) -> list[BroadcastRow]:
        """The newest broadcasts, their tallies brought up to date."""
        for (broadcast_id,) in self.db.execute(
            "SELECT id FROM broadcasts WHERE status IN ('sending', 'paused') ORDER BY id DESC"
            " LIMIT ?",
            [limit],
        ).fetchall():
            self.refresh_counts(broadcast_id)
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM broadcasts ORDER BY id DESC LIMIT ?", [limit]
        ).fetchall()
        return [_row(r) for r in rows]

    def as_shown(self, row: BroadcastRow) -> BroadcastRow:
        """The row as staff should read it: before the start, the audience's size now
        (the recipients are only copied into the queue when sending starts)."""
        if row.started_at is None and row.status in ACTIVE:
            total = self.count_recipients(row.audience, receiving(row.texts))
            return replace(row, total=total)
        return row

    def is_sending(self, broadcast_id: int) -> bool:
        """Still sending (not paused, cancelled or gone): checked right before each claim."""
        row = self.db.execute(
            "SELECT status FROM broadcasts WHERE id = ?", [broadcast_id]
        ).fetchone()
        return row is not None and row[0] == "sending"

    def pause(self, broadcast_id: int) -> bool:
        return self._set_status(broadcast_id, "paused", ("queued", "scheduled", "sending"))

    def resume(self, broadcast_id: int, *, quiet_until: float | None = None) -> bool:
        """Back to where it was paused: sending, or waiting for its time. `quiet_until`: the
        end of quiet hours when it is quiet now (bot/broadcast/quiet.py), so a broadcast
        whose time passed while paused waits for the morning instead of going out at night."""
        row = self.get(broadcast_id)
        if row is None or row.status != "paused":
            return False
        now = self.storage.clock()
        if row.started_at is not None:
            back = "sending"
        elif row.not_before is not None and row.not_before > now:
            back = "scheduled"  # its time has not come: it keeps waiting for it
        elif quiet_until is not None and quiet_until > now:
            self.db.execute(
                "UPDATE broadcasts SET not_before = ? WHERE id = ? AND status = 'paused'",
                [quiet_until, broadcast_id],
            )
            back = "scheduled"
        else:
            back = "queued"
        return self._set_status(broadcast_id, back, ("paused",))

    def cancel(self, broadcast_id: int) -> bool:
        done = self._set_status(broadcast_id, "cancelled", ACTIVE)
        if done:
            self.db.execute(
                "UPDATE broadcasts SET finished_at = ? WHERE id = ?",
                [self.storage.clock(), broadcast_id],
            )
        return done

    def attach_status_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        self.db.execute(
            "UPDATE broadcasts SET status_chat_id = ?, status_message_id = ? WHERE id = ?",
            [chat_id, message_id, broadcast_id],
        )

    def tip_states(self) -> dict[str, tuple[str, float]]:
        """Each tip that has a broadcast not cancelled -> (state, unix time of that state).

        TIP_SENDING (since when), TIP_SCHEDULED (for when), TIP_PAUSED (since it was queued)
        or TIP_SENT (when it finished). A tip on its way or waiting says so even if it was
        sent before: that is what staff can still act on.
        """
        rows = self.db.execute(
            "SELECT tip_id, status, not_before, started_at, finished_at, created_at"
            " FROM broadcasts WHERE tip_id IS NOT NULL AND status != 'cancelled' ORDER BY id"
        ).fetchall()
        now = self.storage.clock()
        rank = {TIP_SENDING: 0, TIP_SCHEDULED: 1, TIP_PAUSED: 2, TIP_SENT: 3}
        states: dict[str, tuple[str, float]] = {}
        for tip_id, status, not_before, started_at, finished_at, created_at in rows:
            if status == "done":
                found = (TIP_SENT, float(finished_at or created_at))
            elif status == "paused":
                found = (TIP_PAUSED, float(created_at))
            elif status == "sending" or not_before is None or not_before <= now:
                # Due now: the engine starts it within seconds.
                found = (TIP_SENDING, float(started_at or not_before or created_at))
            else:
                found = (TIP_SCHEDULED, float(not_before))
            earlier = states.get(tip_id)
            # A later row of the same rank wins: the newest sending day, say.
            if earlier is None or rank[found[0]] <= rank[earlier[0]]:
                states[tip_id] = found
        return states

    # --- the engine's side ------------------------------------------------------------------

    def due(self) -> list[BroadcastRow]:
        """Broadcasts to work on now, oldest first (ones already sending first)."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE status = 'sending'"
            " OR (status IN ('queued', 'scheduled') AND coalesce(not_before, 0) <= ?)"
            " ORDER BY status != 'sending', id",
            [self.storage.clock()],
        ).fetchall()
        return [_row(r) for r in rows]

    def start(self, broadcast_id: int) -> None:
        """Copy the audience into the queue (in SQL, never through memory) and mark it sending."""
        row = self.get(broadcast_id)
        assert row is not None
        if row.started_at is not None:
            return
        where, params = _recipients_sql(row.audience, receiving(row.texts))
        now = self.storage.clock()
        with self.db.atomic():
            self.db.execute(
                "INSERT OR IGNORE INTO deliveries (broadcast_id, chat_key, status, attempts,"
                f" updated_at) SELECT ?, chat_key, 'pending', 0, ? FROM subscribers WHERE {where}",
                [broadcast_id, now, *params],
            )
            total = self.db.execute(
                "SELECT count(*) FROM deliveries WHERE broadcast_id = ?", [broadcast_id]
            ).fetchone()[0]
            self.db.execute(
                "UPDATE broadcasts SET status = 'sending', started_at = ?, total = ?"
                " WHERE id = ? AND status IN ('queued', 'scheduled')",
                [now, total, broadcast_id],
            )

    def recover(self) -> int:
        """After a crash: attempts whose result was never written become `unknown`."""
        cursor = self.db.execute(
            "UPDATE deliveries SET status = 'unknown' WHERE status = 'attempted'"
        )
        count = cursor.rowcount
        if count:
            affected = self.db.execute(
                "SELECT DISTINCT broadcast_id FROM deliveries WHERE status = 'unknown'"
            ).fetchall()
            for (broadcast_id,) in affected:
                self.refresh_counts(broadcast_id)
        return count

    def pending_keys(self, broadcast_id: int, limit: int) -> list[str]:
        rows = self.db.execute(
            "SELECT chat_key FROM deliveries WHERE broadcast_id = ? AND status = 'pending'"
            " ORDER BY rowid LIMIT ?",
            [broadcast_id, limit],
        ).fetchall()
        return [r[0] for r in rows]

    def claim(self, broadcast_id: int, chat_key: str) -> tuple[int, str] | None:
        """Mark one pending delivery attempted and return (chat id, language); None if it was
        not pending any more (another sender took it, or it is done) or the parent left."""
        # One conditional statement, committed by itself before the send: of two senders
        # racing for the same delivery, exactly one sees its row change.
        now = self.storage.clock()
        cursor = self.db.execute(
            "UPDATE deliveries SET status = 'attempted', attempts = attempts + 1,"
            " updated_at = ? WHERE broadcast_id = ? AND chat_key = ? AND status = 'pending'",
            [now, broadcast_id, chat_key],
        )
        if cursor.rowcount != 1:
            return None
        row = self.db.execute(
            "SELECT chat_id, lang FROM subscribers WHERE chat_key = ?", [chat_key]
        ).fetchone()
        if row is None or not self._has_text_in(broadcast_id, str(row[1])):
            # Gone, or now reading a language this broadcast has no text in.
            self._finish(broadcast_id, chat_key, "skipped", None, now)
            return None
        return int(row[0]), str(row[1])

    def record(self, broadcast_id: int, chat_key: str, status: str, error: str | None) -> None:
        """Write the result of one send (sent, blocked or failed)."""
        with self.db.atomic():
            self._finish(broadcast_id, chat_key, status, error, self.storage.clock())
            if status == "blocked":
                self.storage.remove_subscriber(chat_key, event="blocked")

    def refresh_counts(self, broadcast_id: int) -> None:
        """Copy the delivery tallies onto the broadcast row (its audit record)."""
        # In Storage: /forget changes deliveries too (bot/storage.py forget_chat).
        self.storage.recount_broadcast(broadcast_id)

    def release(self, broadcast_id: int, chat_key: str) -> None:
        """Put a claimed delivery back: it certainly did not go (it never reached Telegram)."""
        self.db.execute(
            "UPDATE deliveries SET status = 'pending' WHERE broadcast_id = ? AND chat_key = ?"
            " AND status = 'attempted'",
            [broadcast_id, chat_key],
        )

    def finish_if_complete(self, broadcast_id: int) -> bool:
        left = self.db.execute(
            "SELECT count(*) FROM deliveries WHERE broadcast_id = ?"
            " AND status IN ('pending', 'attempted')",
            [broadcast_id],
        ).fetchone()[0]
        self.refresh_counts(broadcast_id)
        if left:
            return False
        self.db.execute(
            "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?"
            " AND status = 'sending'",
            [self.storage.clock(), broadcast_id],
        )
        return True

    def _finish(
        self, broadcast_id: int, chat_key: str, status: str, error: str | None, now: float
    ) -> None:
        # The broadcast's tallies are recounted by refresh_counts() when shown and at the
        # end, not bumped here: one write per send instead of two.
        self.db.execute(
            "UPDATE deliveries SET status = ?, error = ?, updated_at = ?"
            " WHERE broadcast_id = ? AND chat_key = ?",
            [status, error, now, broadcast_id, chat_key],
        )

    def _has_text_in(self, broadcast_id: int, lang: str) -> bool:
        """Whether the broadcast has a text for a parent reading `lang`."""
        if broadcast_id not in self._receiving:
            row = self.db.execute(
                "SELECT texts FROM broadcasts WHERE id = ?", [broadcast_id]
            ).fetchone()
            self._receiving[broadcast_id] = receiving(json.loads(row[0])) if row else []
        languages = self._receiving[broadcast_id]
        return languages is None or lang in languages

    def _set_status(self, broadcast_id: int, status: str, allowed: tuple[str, ...]) -> bool:
        marks = ", ".join("?" for _ in allowed)
        cursor = self.db.execute(
            f"UPDATE broadcasts SET status = ? WHERE id = ? AND status IN ({marks})",
            [status, broadcast_id, *allowed],
        )
        if cursor.rowcount != 1:
            return False
        self.refresh_counts(broadcast_id)
        return True


def _recipients_sql(audience: str, languages: Iterable[str] | None) -> tuple[str, list[str]]:
    """The audience's condition, narrowed to parents reading one of `languages` if given."""
    where, params = _audience_sql(audience)
    if languages is None:
        return where, params
    codes = list(languages)
    if not codes:
        return "0 = 1", []
    marks = ", ".join("?" for _ in codes)
    return f"({where}) AND lang IN ({marks})", [*params, *codes]


def _audience_sql(audience: str) -> tuple[str, list[str]]:
    kind, value = split_audience(audience)
    if kind == EVERYONE:
        return "1 = 1", []
    if kind == "lang" and value:
        return "lang = ?", [value]
    if kind == "interest" and value in INTERESTS:
        return "interest = ?", [value]
    raise BroadcastError(Problem("unknown_audience", {"choices": audience}))


def _row(row: tuple[Any, ...]) -> BroadcastRow:
    values = dict(zip(BroadcastRow.__dataclass_fields__, row, strict=True))
    values["texts"] = json.loads(values["texts"])
    return BroadcastRow(**values)
