"""The durable queue and audit log of broadcasts, in SQLite. No Telegram here.

- at most once: a delivery is marked `attempted` (committed) before its send and replaced by
  the result after; after a crash, `attempted` rows become `unknown` and are never resent;
- never to someone who left: the chat id is read from `subscribers` right before each send,
  so a /stop mid-broadcast is honoured; a /forget also gives the parent's deliveries a
  random key (Storage.forget_chat), so a claim or a result for the old key finds no row;
- flat memory: recipients are copied into `deliveries` in SQL and read back in small batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from bot.broadcast.message import EVERYONE, BroadcastError, Problem, message_problem, split_audience
from bot.content import Content
from bot.storage import INTERESTS, Storage

ACTIVE = ("queued", "scheduled", "sending", "paused")


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

    # --- staff-facing ---------------------------------------------------------------------

    def count_recipients(self, audience: str) -> int:
        where, params = _audience_sql(audience)
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
            return replace(row, total=self.count_recipients(row.audience))
        return row

    def is_sending(self, broadcast_id: int) -> bool:
        """Still sending (not paused, cancelled or gone): checked right before each claim."""
        row = self.db.execute(
            "SELECT status FROM broadcasts WHERE id = ?", [broadcast_id]
        ).fetchone()
        return row is not None and row[0] == "sending"

    def pause(self, broadcast_id: int) -> bool:
        return self._set_status(broadcast_id, "paused", ("queued", "scheduled", "sending"))

    def resume(self, broadcast_id: int) -> bool:
        row = self.get(broadcast_id)
        if row is None or row.status != "paused":
            return False
        back = "sending" if row.started_at is not None else "queued"
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

    def sent_tip_ids(self) -> set[str]:
        """Tips that went out (or are on their way): the weekly tip skips them."""
        rows = self.db.execute(
            "SELECT DISTINCT tip_id FROM broadcasts WHERE tip_id IS NOT NULL"
            " AND status != 'cancelled'"
        )
        return {r[0] for r in rows}

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
        where, params = _audience_sql(row.audience)
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
        if row is None:
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
