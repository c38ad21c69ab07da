"""Schema migrations (sqlite-utils Migrations). Append new steps; never edit an applied one.

Each step's docstring is one line for operators: `iep-bot db migrate` and the start-up log
print it when the step is applied (describe()). Editing a docstring changes no database.

Privacy rule for every table here: no chat id, user id, username, name or free text of a
parent, except where sending needs a raw chat id (a subscription) and only until opt-out.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("iep_bot")


@migrations()
def m001_screening(db: Database) -> None:
    """Screenings in progress, the anonymous outcome log, language choices and deep-link sources."""
    # In-progress screenings, keyed by HMAC(chat id): the only per-chat state we keep.
    db.table("sessions").create(
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
    db.table("sessions").create_index(["updated_at"])
    # One row per finished or abandoned screening: anonymous by construction.
    db.table("outcomes").create(
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
    db.table("outcomes").create_index(["day"])
    db.table("outcomes").create_index(["status", "day"])
    # The language a chat chose and the deep-link source of its last /start, under the
    # same keyed hash; the source is copied onto the session when a screening starts.
    db.table("chat_prefs").create({"chat_key": str, "lang": str, "source": str}, pk="chat_key")
    # Book presses outside a finished screening (the menu), for the booking count.
    db.table("booking_presses").create(
        {"id": int, "day": str, "lang": str, "outcome_id": str, "origin": str}, pk="id"
    )
    # Telegram may deliver an update twice (webhook retries, restarts): remember ids briefly.
    db.table("processed_updates").create({"update_id": int, "seen_at": float}, pk="update_id")
    db.table("processed_updates").create_index(["seen_at"])


@migrations()
def m002_broadcast(db: Database) -> None:
    """Tip subscribers, and broadcasts with their delivery queue."""
    # Parents who asked for tips. The ONLY raw chat id for this feature: needed to send,
    # deleted on /stop, /forget, or when Telegram says the parent blocked the bot.
    db.table("subscribers").create(
        {
            "chat_key": str,  # HMAC of the chat id, as everywhere else
            "chat_id": int,
            "lang": str,
            "interest": str,  # just_starting | waiting_evaluation | has_504 | has_iep | null
            "opted_in_day": str,
        },
        pk="chat_key",
        not_null={"chat_id", "lang", "opted_in_day"},
    )
    db.table("subscribers").create_index(["lang"])
    db.table("subscribers").create_index(["interest"])
    # Anonymous joins and departures, for statistics: no key, no id.
    db.table("subscription_events").create(
        {"id": int, "day": str, "event": str, "lang": str, "interest": str}, pk="id"
    )
    db.table("subscription_events").create_index(["day"])
    # Every broadcast, kept for audit: who (a staff user id, never a parent), when, to whom,
    # what, and the final counts.
    db.table("broadcasts").create(
        {
            "id": int,
            "created_at": float,
            "created_by": int,  # staff user id; null for the command line and the weekly tip
            "origin": str,  # telegram | tip | cli | drip
            "audience": str,  # all | lang:<code> | interest:<name>
            "texts": str,  # JSON {lang: html}; {"*": html} for one text for everyone
            "photo": str,  # Telegram file_id, or null
            "tip_id": str,
            "not_before": float,  # do not start before (schedule, quiet hours)
            "status": str,  # scheduled | queued | sending | paused | cancelled | done
            "total": int,
            "sent": int,
            "blocked": int,
            "failed": int,
            "unknown": int,
            "skipped": int,
            "started_at": float,
            "finished_at": float,
            "status_chat_id": int,  # the staff chat whose status message shows progress
            "status_message_id": int,
        },
        pk="id",
        defaults={"total": 0, "sent": 0, "blocked": 0, "failed": 0, "unknown": 0, "skipped": 0},
    )
    db.table("broadcasts").create_index(["status"])
    # The durable queue: one row per recipient. `attempted` is written before the send and
    # replaced by the result after it, so a crash in between is never sent again.
    db.table("deliveries").create(
        {
            "broadcast_id": int,
            "chat_key": str,
            "status": str,  # pending | attempted | sent | blocked | failed | unknown | skipped
            "attempts": int,
            "error": str,
            "updated_at": float,
        },
        pk=("broadcast_id", "chat_key"),
        defaults={"status": "pending", "attempts": 0},
    )
    db.table("deliveries").create_index(["broadcast_id", "status"])


@migrations()
def m003_stats_indexes(db: Database) -> None:
    """Indexes that make the statistics fast."""
    # One covering index for the staff statistics (bot/stats.py): its single GROUP BY reads
    # this index in order instead of the wide outcome rows (answers JSON), so a million rows
    # are counted in a fraction of a second.
    db.table("outcomes").create_index(
        ["lang", "source", "status", "outcome_id", "stopped_at", "day", "booked"],
        index_name="idx_outcomes_stats",
        if_not_exists=True,
    )
    db.table("sessions").create_index(["started_day"], if_not_exists=True)
    db.table("booking_presses").create_index(["day", "outcome_id"], if_not_exists=True)


@migrations()
def m004_compose(db: Database) -> None:
    """Staff's unfinished broadcasts survive a restart; the weekly tip runs once a week."""
    # A staff member's unfinished broadcast, so a restart loses nothing. Keyed by the staff
    # member's Telegram user id: staff, never parents; deleted on Confirm, Cancel or expiry.
    db.table("compose_drafts").create(
        {
            "user_id": int,
            "draft_id": str,  # random; buttons carry it, so old buttons are recognised
            "state": str,  # flows/broadcast.py state name
            "text": str,  # the staff's HTML (NULL for a ready-made tip)
            "photo": str,  # Telegram file_id
            "tip_id": str,
            "audience": str,
            "send_at": float,  # the time staff scheduled, unix seconds
            "ignore_quiet": int,
            "updated_at": float,
        },
        pk="user_id",
    )
    # One row per ISO week in which the weekly tip ran, so it never runs twice in a week.
    db.table("drip_weeks").create(
        {"week": str, "claimed_at": float, "tip_id": str, "broadcast_id": int}, pk="week"
    )


@migrations()
def m005_one_sender(db: Database) -> None:
    """One running bot per database (a lease)."""
    # One running bot per database: the instance holding this row polls and sends; another
    # waits or exits (bot/lease.py). `holder` names a process (host:pid:random), no person.
    db.table("instance_lease").create(
        {"id": int, "holder": str, "expires_at": float, "acquired_at": float}, pk="id"
    )
    # Which process claimed an update: a redelivered update claimed by a process that died
    # before finishing it is handled again, not skipped (bot/storage.py claim_update).
    db.table("processed_updates").add_column("claimed_by", str)


@migrations()
def m006_updates_remembered_in_memory(db: Database) -> None:
    """Repeated Telegram updates are recognised in memory: their table is dropped."""
    # A repeated delivery is recognised in memory now (bot/tg/updates.py RecentUpdates): a
    # claim written for every update cost a commit per answer, and after a restart it was
    # overridden anyway (the claiming process was gone). Nothing in it identifies anyone.
    db.table("processed_updates").drop(ignore=True)


# --- m007: the outcome rollup ---------------------------------------------------------------
# These helpers belong to m007 alone: a later migration that needs other SQL writes its own.

# What the statistics count outcomes by; one outcome_counts row per combination in use.
_ROLLUP_GROUP = ("day", "lang", "source", "status", "outcome_id", "stopped_at")


def _same_group(row: str) -> str:
    """outcome_counts rows of the group of `row` (NEW or OLD in a trigger)."""
    # IS, not =: outcome_id and stopped_at are often NULL, and NULL = NULL is not true. For
    # the same reason a UNIQUE index (hence ON CONFLICT) would not keep NULL groups single.
    return "\n            AND ".join(f"{column} IS {row}.{column}" for column in _ROLLUP_GROUP)


def _count_in(row: str) -> str:
    """Trigger statements adding one outcome row to its group, which may be new."""
    values = ", ".join(f"{row}.{column}" for column in _ROLLUP_GROUP)
    return f"""
    UPDATE outcome_counts SET n = n + 1, booked = booked + {row}.booked
        WHERE {_same_group(row)};
    -- changes(): the rows the UPDATE just above changed (none when the group is new).
    INSERT INTO outcome_counts ({", ".join(_ROLLUP_GROUP)}, n, booked)
        SELECT {values},
            1, {row}.booked
        WHERE changes() = 0;"""


def _count_out(row: str) -> str:
    """Trigger statements taking one outcome row out of its group, dropping it when empty."""
    # An empty group must go: compute_stats would list it (a language, a day) with zeros.
    return f"""
    UPDATE outcome_counts SET n = n - 1, booked = booked - {row}.booked
        WHERE {_same_group(row)};
    DELETE FROM outcome_counts
        WHERE {_same_group(row)}
            AND n = 0;"""


@migrations()
def m007_outcome_counts(db: Database) -> None:
    """A rollup of the outcome log that the statistics read (kept by triggers)."""
    # The statistics read this rollup of the outcome log instead of the log itself: 360,000
    # groups for the benchmark's 5 million outcomes (bench/stats_bench.py), counted in a fifth
    # of the time. Nothing in it is finer than the outcome rows it sums (no session id, no
    # answers).
    db.table("outcome_counts").create(
        {
            "day": str,
            "lang": str,
            "source": str,
            "status": str,
            "outcome_id": str,
            "stopped_at": str,
            "n": int,  # outcome rows in the group
            "booked": int,  # the sum of their `booked` (0 or 1 each)
        },
        not_null={"day", "lang", "source", "status", "n", "booked"},
    )
    # Covering, in the order compute_stats groups by; the triggers find a group with it too.
    db.table("outcome_counts").create_index(
        ["lang", "source", "status", "outcome_id", "stopped_at", "day", "n", "booked"],
        index_name="idx_outcome_counts_groups",
    )
    # Covering, for the timeline (per status and day).
    db.table("outcome_counts").create_index(
        ["status", "day", "n"], index_name="idx_outcome_counts_days"
    )
    # Every way the code writes `outcomes` is covered: INSERT OR IGNORE when a screening
    # ends (a trigger fires only for a row really inserted) and the UPDATE of `booked` on a
    # Book press. The UPDATE trigger covers every counted column and the DELETE trigger any
    # purge, for changes by hand. INSERT OR REPLACE deletes the row it replaces without a
    # trigger unless recursive_triggers is on: sqlite_utils.Database (Storage) turns it on,
    # the sqlite3 shell does not, so a REPLACE by hand there would count that row twice.
    counted = ", ".join((*_ROLLUP_GROUP, "booked"))
    db.execute(
        f"CREATE TRIGGER outcome_counts_insert AFTER INSERT ON outcomes BEGIN{_count_in('NEW')}"
        "\nEND"
    )
    db.execute(
        f"CREATE TRIGGER outcome_counts_update AFTER UPDATE OF {counted} ON outcomes"
        f" BEGIN{_count_out('OLD')}{_count_in('NEW')}\nEND"
    )
    db.execute(
        f"CREATE TRIGGER outcome_counts_delete AFTER DELETE ON outcomes BEGIN{_count_out('OLD')}"
        "\nEND"
    )
    # The rows already logged. This migration runs in one transaction, so no write can fall
    # between the triggers and this backfill. Grouped in the order of idx_outcomes_stats (m003),
    # which SQLite reads instead of sorting the log.
    db.execute(
        """
        INSERT INTO outcome_counts
            (lang, source, status, outcome_id, stopped_at, day, n, booked)
        SELECT lang, source, status, outcome_id, stopped_at, day, COUNT(*), SUM(booked)
        FROM outcomes
        GROUP BY lang, source, status, outcome_id, stopped_at, day
        """
    )


@migrations()
def m008_operator(db: Database) -> None:
    """The pseudonym key's fingerprint, and the running bot's heartbeat."""
    # Facts about the database itself, by name: the pseudonym key's fingerprint (a keyed hash
    # of a fixed text, never the key), so a bot started with another key stops (bot/keys.py).
    db.table("meta").create({"name": str, "value": str}, pk="name", not_null={"value"})
    # The running bot's heartbeat, one row, for `iep-bot status` and /health: times, counts,
    # the kind of the last error; nothing about any parent.
    db.table("heartbeat").create(
        {"id": int, "mode": str, "started_at": float, "beat_at": float, "details": str},
        pk="id",
    )


@migrations()
def m009_subscriber_chat_ids(db: Database) -> None:
    """/stop and /forget find a tip subscription by chat id too, whatever key made it."""
    # A subscription made under an earlier PSEUDONYM_KEY has another keyed hash: the chat id
    # (kept for sending anyway) still finds it, without reading every subscriber.
    db.table("subscribers").create_index(["chat_id"], index_name="idx_subscribers_chat_id")


@migrations()
def m010_letters_made(db: Database) -> None:
    """Letters parents made, counted by day, type and language (no one is named)."""
    # Counts only, for the statistics: what a parent typed into a letter (names, a school, a
    # birth date) is never stored anywhere (bot/parent/letter_drafts.py).
    db.table("letters_made").create(
        {"day": str, "type": str, "lang": str, "count": int},  # type: the letter's id
        pk=("day", "type", "lang"),
        not_null={"count"},
        defaults={"count": 0},
    )


@migrations()
def m011_follow_through(db: Database) -> None:
    """Follow-through: evaluation deadlines and their reminders, check-ins weeks later."""
    # A raw chat id is kept only where sending needs it: a deadline's row (deleted after its
    # last reminder, on cancel, /forget or a 403) and a check-in not yet answered (cleared
    # once answered or two days after it was sent). bot/followup/store.py says who writes what.
    db.execute(
        "CREATE TABLE deadlines ("
        " chat_key TEXT PRIMARY KEY,"  # one clock per chat; the keyed hash, as everywhere
        " chat_id INTEGER NOT NULL,"
        " lang TEXT NOT NULL,"
        " received_day TEXT NOT NULL,"  # the day the school received the signed consent
        " state TEXT,"  # a USPS code, or NULL for "not sure"
        " rule_id TEXT NOT NULL,"  # content/timelines.yaml
        " due_day TEXT NOT NULL,"
        " created_at INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TABLE reminders ("
        " chat_key TEXT NOT NULL,"  # its deadline's; deleted with it (bot/followup/store.py)
        " kind TEXT NOT NULL,"  # two_weeks, three_days, due_day, day_after
        " send_at INTEGER NOT NULL,"  # unix seconds; quiet hours may hold it later
        " status TEXT NOT NULL DEFAULT 'pending',"
        " updated_at INTEGER,"
        " PRIMARY KEY (chat_key, kind))"
    )
    db.execute("CREATE INDEX reminders_due ON reminders (status, send_at)")
    db.execute(
        "CREATE TABLE checkins ("
        " session_id TEXT PRIMARY KEY,"  # the outcome row's random id, never the chat
        " outcome_id TEXT,"
        " lang TEXT NOT NULL,"
        " chat_key TEXT,"  # NULL once answered, or two days after it was sent
        " chat_id INTEGER,"
        " offered_day TEXT NOT NULL,"
        " send_at INTEGER NOT NULL,"
        " status TEXT NOT NULL DEFAULT 'pending',"
        " sent_day TEXT,"
        " sent_at INTEGER,"
        " asked TEXT,"  # yes, not_yet, decided_not
        " school_said TEXT,"  # agreed, refused, waiting, other
        " answered_day TEXT,"
        " updated_at INTEGER)"
    )
    db.execute("CREATE INDEX checkins_due ON checkins (status, send_at)")
    db.execute("CREATE INDEX checkins_chat ON checkins (chat_key)")
    db.table("follow_through_counts").create(
        {"day": str, "event": str, "count": int},  # anonymous: deadline_set, reminder_sent
        pk=("day", "event"),
        not_null={"count"},
        defaults={"count": 0},
    )


def describe(names: Iterable[str]) -> list[str]:
    """One line per migration for operators: its name and what it changes."""
    # sqlite-utils keeps the registered steps in order; their docstrings say what each does.
    docs = {step.name: (step.fn.__doc__ or "").strip() for step in migrations._migrations}
    return [f"{name}: {docs.get(name) or 'no description'}" for name in names]
