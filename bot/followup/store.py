"""Follow-through in SQLite: deadlines with their reminders, check-ins, anonymous counts.

SQL only, no Telegram and no words. Who may hold what (README, "What is stored"):
- `deadlines`: the one place a deadline's raw chat id lives, needed to send its reminders;
  the row and its `reminders` go after the last reminder, on cancel, /forget and a 403.
- `checkins`: keyed by the outcome row's random session id. The chat (keyed hash and raw
  id) is kept only while the check-in waits or is being answered: cleared once answered,
  two days after it was sent, on /forget or a 403. The answers stay, linked to no chat.
- `follow_through_counts`: day, event, count; nothing else.

Sending is at most once, as for broadcasts: a notice is claimed (`attempted`, committed)
before its send and given its result after; after a crash, `attempted` becomes `unknown`
and is never sent again (bot/followup/engine.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage import Storage

PENDING, ATTEMPTED, SENT, UNKNOWN = "pending", "attempted", "sent", "unknown"
FAILED, BLOCKED, SKIPPED = "failed", "blocked", "skipped"
ANSWERED, EXPIRED = "answered", "expired"
DONE = (SENT, UNKNOWN, FAILED, BLOCKED, SKIPPED)  # a reminder that will not go (again)
REMINDER_KINDS = ("two_weeks", "three_days", "due_day", "day_after")
ASKED = ("yes", "not_yet", "decided_not")
SCHOOL_SAID = ("agreed", "refused", "waiting", "other")
CHAT_KEPT_AFTER_SENT = 2 * 86400  # a check-in's chat is cleared two days after it was sent


@dataclass(frozen=True)
class Deadline:
    """One chat's evaluation clock, with its reminders' kinds, times and states."""

    chat_key: str
    chat_id: int
    lang: str
    received: dt.date
    state: str | None  # USPS code; None: "not sure"
    rule_id: str
    due: dt.date
    reminders: tuple[tuple[str, int, str], ...]  # (kind, send_at, status), in send order

    @property
    def pending(self) -> tuple[tuple[str, int], ...]:
        """The reminders still to come: (kind, send_at)."""
        return tuple((kind, at) for kind, at, status in self.reminders if status == PENDING)


@dataclass(frozen=True)
class Checkin:
    """A check-in as the conversation and /mydata see it."""

    session_id: str
    outcome_id: str | None
    lang: str
    status: str
    send_at: int
    asked: str | None
    school_said: str | None


@dataclass(frozen=True)
class Notice:
    """One due message for the engine: a reminder (`ref` = chat_key, `step` = its kind) or
    a check-in (`ref` = session id, `step` = "ask")."""

    kind: str  # "reminder" or "checkin"
    ref: str
    step: str
    chat_id: int
    chat_key: str
    lang: str
    send_at: int
    detail: str | None = None  # a reminder: its due day (ISO); a check-in: its outcome id


class FollowUps:
    """Every read and write of the follow-through tables."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.db = storage.db

    def _now(self) -> int:
        return int(self.storage.clock())

    def count(self, event: str, n: int = 1) -> None:
        """An anonymous daily count: deadline_set, reminder_sent, checkin_offered, ..."""
        self.db.execute(
            "INSERT INTO follow_through_counts (day, event, count) VALUES (?, ?, ?)"
            " ON CONFLICT(day, event) DO UPDATE SET count = count + excluded.count",
            [self.storage.today(), event, n],
        )

    # --- deadlines -----------------------------------------------------------------------

    def set_deadline(
        self,
        chat_key: str,
        chat_id: int,
        lang: str,
        *,
        received: dt.date,
        state: str | None,
        rule_id: str,
        due: dt.date,
        reminders: Sequence[tuple[str, int]],
    ) -> None:
        """Set (or replace) this chat's clock and its reminders, in one transaction."""
        unknown = {kind for kind, _ in reminders} - set(REMINDER_KINDS)
        if unknown:
            raise ValueError(f"unknown reminder kinds: {sorted(unknown)}")
        now = self._now()
        with self.db.atomic():
            self._delete_deadline(chat_key)
            self.db.execute(
                "INSERT INTO deadlines (chat_key, chat_id, lang, received_day, state, rule_id,"
                " due_day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    chat_key,
                    chat_id,
                    lang,
                    received.isoformat(),
                    state,
                    rule_id,
                    due.isoformat(),
                    now,
                ],
            )
            self.db.conn.executemany(
                "INSERT INTO reminders (chat_key, kind, send_at, status, updated_at)"
                " VALUES (?, ?, ?, 'pending', ?)",
                [(chat_key, kind, int(at), now) for kind, at in reminders],
            )
            self.count("deadline_set")

    def deadline(self, chat_key: str) -> Deadline | None:
        row = self.db.execute(
            "SELECT chat_id, lang, received_day, state, rule_id, due_day FROM deadlines"
            " WHERE chat_key = ?",
            [chat_key],
        ).fetchone()
        if row is None:
            return None
        reminders = self.db.execute(
            "SELECT kind, send_at, status FROM reminders WHERE chat_key = ? ORDER BY send_at",
            [chat_key],
        ).fetchall()
        return Deadline(
            chat_key=chat_key,
            chat_id=int(row[0]),
            lang=str(row[1]),
            received=dt.date.fromisoformat(row[2]),
            state=row[3],
            rule_id=str(row[4]),
            due=dt.date.fromisoformat(row[5]),
            reminders=tuple((str(k), int(at), str(s)) for k, at, s in reminders),
        )

    def cancel_deadline(self, chat_key: str) -> bool:
        """Delete the clock, its reminders and with them the chat id; False if there was none.
        A reminder being sent right now may still arrive."""
        with self.db.atomic():
            return self._delete_deadline(chat_key)

    def _delete_deadline(self, chat_key: str) -> bool:
        self.db.execute("DELETE FROM reminders WHERE chat_key = ?", [chat_key])
        gone = self.db.execute("DELETE FROM deadlines WHERE chat_key = ?", [chat_key])
        return bool(gone.rowcount)

    # --- check-ins -----------------------------------------------------------------------

    def offer_checkin(
        self,
        session_id: str,
        *,
        outcome_id: str | None,
        lang: str,
        chat_key: str,
        chat_id: int,
        send_at: int,
    ) -> bool:
        """A check-in the parent said yes to; one per chat waiting at a time (a newer
        screening's replaces an unsent one). False when this result already has one."""
        with self.db.atomic():
            if self.db.execute(
                "SELECT 1 FROM checkins WHERE session_id = ?", [session_id]
            ).fetchone():
                return False
            self.db.execute(
                "DELETE FROM checkins WHERE chat_key = ? AND status = 'pending'", [chat_key]
            )
            self.db.execute(
                "INSERT INTO checkins (session_id, outcome_id, lang, chat_key, chat_id,"
                " offered_day, send_at, status, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                [
                    session_id,
                    outcome_id,
                    lang,
                    chat_key,
                    chat_id,
                    self.storage.today(),
                    int(send_at),
                    self._now(),
                ],
            )
            self.count("checkin_offered")
        return True

    def checkin_of_chat(self, chat_key: str) -> Checkin | None:
        """The check-in still linked to this chat (waiting, or sent and not answered)."""
        row = self.db.execute(
            "SELECT session_id, outcome_id, lang, status, send_at, asked, school_said"
            " FROM checkins WHERE chat_key = ? ORDER BY send_at DESC LIMIT 1",
            [chat_key],
        ).fetchone()
        return _checkin(row) if row is not None else None

    def checkin(self, session_id: str, chat_key: str) -> Checkin | None:
        """The check-in behind a button, only if it is still this chat's: a forged or old
        button (another chat's session id, an answered one) finds nothing."""
        row = self.db.execute(
            "SELECT session_id, outcome_id, lang, status, send_at, asked, school_said"
            " FROM checkins WHERE session_id = ? AND chat_key = ?",
            [session_id, chat_key],
        ).fetchone()
        return _checkin(row) if row is not None else None

    def cancel_checkin(self, chat_key: str) -> bool:
        """The parent no longer wants it: an unsent one goes; a sent one loses its chat."""
        with self.db.atomic():
            gone = self.db.execute(
                "DELETE FROM checkins WHERE chat_key = ? AND status = 'pending'", [chat_key]
            ).rowcount
            cleared = self._clear_chat("chat_key = ?", [chat_key])
        return bool(gone or cleared)

    def record_asked(self, session_id: str, chat_key: str, asked: str) -> bool:
        """ "Did you ask the school?" answered. "Yes" waits for the second answer; the
        others end the check-in (and its link to the chat)."""
        if asked not in ASKED:
            raise ValueError(f"unknown answer {asked!r}")
        with self.db.atomic():
            done = asked != "yes"
            changed = self.db.execute(
                "UPDATE checkins SET asked = ?, school_said = NULL, updated_at = ?,"
                " status = CASE WHEN ? THEN 'answered' ELSE status END,"
                " answered_day = CASE WHEN ? THEN ? ELSE answered_day END"
                " WHERE session_id = ? AND chat_key = ? AND status IN ('sent', 'unknown')",
                [asked, self._now(), done, done, self.storage.today(), session_id, chat_key],
            ).rowcount
            if changed and done:
                self._clear_chat("session_id = ?", [session_id])
        return bool(changed)

    def record_school_said(self, session_id: str, chat_key: str, said: str) -> bool:
        """ "What did the school say?" answered: the check-in is done, the chat let go."""
        if said not in SCHOOL_SAID:
            raise ValueError(f"unknown answer {said!r}")
        with self.db.atomic():
            changed = self.db.execute(
                "UPDATE checkins SET school_said = ?, status = 'answered', answered_day = ?,"
                " updated_at = ? WHERE session_id = ? AND chat_key = ? AND asked = 'yes'"
                " AND status IN ('sent', 'unknown')",
                [said, self.storage.today(), self._now(), session_id, chat_key],
            ).rowcount
            if changed:
                self._clear_chat("session_id = ?", [session_id])
        return bool(changed)

    def _clear_chat(self, where: str, params: list[Any]) -> int:
        return int(
            self.db.execute(
                f"UPDATE checkins SET chat_key = NULL, chat_id = NULL WHERE {where}"
                " AND chat_key IS NOT NULL",
                params,
            ).rowcount
        )

    # --- the engine's side ----------------------------------------------------------------

    def due(self, now: float, limit: int) -> list[Notice]:
        """Notices whose time has come, oldest first, at most `limit`."""
        reminders = self.db.execute(
            "SELECT r.chat_key, r.kind, d.chat_id, d.lang, r.send_at, d.due_day"
            " FROM reminders r JOIN deadlines d ON d.chat_key = r.chat_key"
            " WHERE r.status = 'pending' AND r.send_at <= ? ORDER BY r.send_at LIMIT ?",
            [int(now), limit],
        ).fetchall()
        checkins = self.db.execute(
            "SELECT session_id, chat_id, chat_key, lang, send_at, outcome_id FROM checkins"
            " WHERE status = 'pending' AND send_at <= ? AND chat_id IS NOT NULL"
            " ORDER BY send_at LIMIT ?",
            [int(now), limit],
        ).fetchall()
        found = [
            Notice("reminder", key, kind, int(chat_id), key, lang, int(at), due_day)
            for key, kind, chat_id, lang, at, due_day in reminders
        ] + [
            Notice("checkin", sid, "ask", int(chat_id), key, lang, int(at), outcome)
            for sid, chat_id, key, lang, at, outcome in checkins
        ]
        return sorted(found, key=lambda n: n.send_at)[:limit]

    def next_due_at(self) -> int | None:
        """When the next pending notice falls due (for an idle engine's sleep)."""
        row = self.db.execute(
            "SELECT MIN(at) FROM (SELECT MIN(send_at) AS at FROM reminders WHERE status ="
            " 'pending' UNION ALL SELECT MIN(send_at) FROM checkins WHERE status = 'pending'"
            " AND chat_id IS NOT NULL)"
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def claim(self, notice: Notice) -> bool:
        """Mark it `attempted` before the send (committed): a crash can't send it twice.
        False when it is gone or no longer pending (cancelled, /forget, another claim)."""
        table, key = _where(notice)
        # send_at too: a reminder read just before the parent changed the date must not claim
        # the new row of the same kind (it would go early).
        return bool(
            self.db.execute(
                f"UPDATE {table} SET status = 'attempted', updated_at = ?"
                f" WHERE {key} AND status = 'pending' AND send_at = ?",
                [self._now(), *_key_params(notice), notice.send_at],
            ).rowcount
        )

    def release(self, notice: Notice) -> None:
        """It certainly did not go (a rate limit outlasted the retries): pending again."""
        table, key = _where(notice)
        self.db.execute(
            f"UPDATE {table} SET status = 'pending' WHERE {key} AND status = 'attempted'",
            _key_params(notice),
        )

    def record(self, notice: Notice, status: str) -> None:
        """What became of a claimed notice: sent, unknown (never resent), failed, blocked."""
        table, key = _where(notice)
        now = self._now()
        with self.db.atomic():
            if notice.kind == "checkin":
                self.db.execute(
                    "UPDATE checkins SET status = ?, sent_at = ?, sent_day = ?, updated_at = ?"
                    " WHERE session_id = ? AND status = 'attempted'",
                    [status, now, self.storage.today(), now, notice.ref],
                )
                if status in (SENT, UNKNOWN):
                    self.count("checkin_sent")
            else:
                self.db.execute(
                    f"UPDATE {table} SET status = ?, updated_at = ? WHERE {key}"
                    " AND status = 'attempted'",
                    [status, now, *_key_params(notice)],
                )
                if status in (SENT, UNKNOWN):
                    self.count("reminder_sent")
                # The last reminder done: the chat id and the date go now. The reminders' own
                # rows (kind and status, under the keyed hash) go at the next tidy.
                if not self.db.execute(
                    "SELECT 1 FROM reminders WHERE chat_key = ? AND status IN"
                    " ('pending', 'attempted') LIMIT 1",
                    [notice.chat_key],
                ).fetchone():
                    self.db.execute("DELETE FROM deadlines WHERE chat_key = ?", [notice.chat_key])
            if status == BLOCKED:
                self.forget_chat(notice.chat_key, chat_id=notice.chat_id)

    def skip_superseded(self, chat_key: str, before: int) -> int:
        """Pending reminders of this chat older than `before` will not go: after a long
        stop, the latest due reminder says it all (no burst of stale ones)."""
        return int(
            self.db.execute(
                "UPDATE reminders SET status = 'skipped', updated_at = ?"
                " WHERE chat_key = ? AND status = 'pending' AND send_at < ?",
                [self._now(), chat_key, int(before)],
            ).rowcount
        )

    def recover(self) -> int:
        """After a restart: `attempted` (may have gone) becomes `unknown`, never resent."""
        with self.db.atomic():
            reminders = self.db.execute(
                "UPDATE reminders SET status = 'unknown' WHERE status = 'attempted'"
            ).rowcount
            if reminders:  # they may have gone: counted as `record(..., "unknown")` counts them
                self.count("reminder_sent", reminders)
            checkins = self.db.execute(
                "UPDATE checkins SET status = 'unknown', sent_at = COALESCE(sent_at, ?),"
                " sent_day = COALESCE(sent_day, ?) WHERE status = 'attempted'",
                [self._now(), self.storage.today()],
            ).rowcount
            if checkins:
                self.count("checkin_sent", checkins)
        return int(reminders + checkins)

    def tidy(self, now: float) -> tuple[int, int]:
        """Let go of what is no longer needed: deadlines whose reminders are all done (the
        chat id and the date go with them), and the chat of check-ins sent two days ago and
        not answered. Returns (deadlines deleted, check-ins let go)."""
        with self.db.atomic():
            finished = [
                r[0]
                for r in self.db.execute(
                    "SELECT d.chat_key FROM deadlines d WHERE NOT EXISTS (SELECT 1 FROM"
                    " reminders r WHERE r.chat_key = d.chat_key AND r.status IN"
                    " ('pending', 'attempted'))"
                ).fetchall()
            ]
            for key in finished:
                self._delete_deadline(key)
            # Reminders whose deadline went with its last reminder (record, above).
            self.db.execute(
                "DELETE FROM reminders WHERE chat_key NOT IN (SELECT chat_key FROM deadlines)"
            )
            expired = self.db.execute(
                "UPDATE checkins SET chat_key = NULL, chat_id = NULL,"
                " status = CASE WHEN status IN ('sent', 'unknown') THEN 'expired' ELSE status END"
                " WHERE chat_key IS NOT NULL AND status NOT IN ('pending', 'attempted')"
                " AND COALESCE(sent_at, updated_at) <= ?",
                [int(now) - CHAT_KEPT_AFTER_SENT],
            ).rowcount
        return len(finished), int(expired)

    # --- everything about one chat ---------------------------------------------------------

    def forget_chat(self, chat_key: str, *, chat_id: int | None = None) -> None:
        """/forget, or a 403: the clock and its reminders go; an unsent check-in goes; a
        sent one keeps its anonymous answers but loses the chat."""
        keys: list[Any] = [chat_key]
        extra = ""
        if chat_id is not None:  # made under an earlier PSEUDONYM_KEY: found by its id
            extra = " OR chat_id = ?"
            keys.append(chat_id)
        with self.db.atomic():
            for key in {chat_key, *self._deadline_keys(chat_key, chat_id)}:
                self._delete_deadline(key)  # reminders left after the last one go too
            self.db.execute(
                f"DELETE FROM checkins WHERE (chat_key = ?{extra}) AND status = 'pending'", keys
            )
            self._clear_chat(f"(chat_key = ?{extra})", keys)

    def _deadline_keys(self, chat_key: str, chat_id: int | None) -> Iterable[str]:
        rows = self.db.execute(
            "SELECT chat_key FROM deadlines WHERE chat_key = ? OR chat_id = ?",
            [chat_key, chat_id],
        ).fetchall()
        return [str(r[0]) for r in rows]


def _checkin(row: Sequence[Any]) -> Checkin:
    return Checkin(
        session_id=str(row[0]),
        outcome_id=row[1],
        lang=str(row[2]),
        status=str(row[3]),
        send_at=int(row[4]),
        asked=row[5],
        school_said=row[6],
    )


def _where(notice: Notice) -> tuple[str, str]:
    if notice.kind == "checkin":
        return "checkins", "session_id = ?"
    return "reminders", "chat_key = ? AND kind = ?"


def _key_params(notice: Notice) -> list[Any]:
    return [notice.ref] if notice.kind == "checkin" else [notice.ref, notice.step]
