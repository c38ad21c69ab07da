"""The pseudonym key's fingerprint, the check at start, and moving a database to a new key.

Every chat is known by HMAC(PSEUDONYM_KEY, chat id). A bot started with another key would
recognise nobody: unfinished screenings, language choices and subscriptions would all belong
to strangers. So the database records a fingerprint of its key (an HMAC of a fixed text: it
tells keys apart and reveals nothing of the key), and a bot started with another key stops
with one line. `iep-bot db rekey` moves a database to a new key: what has a raw chat id (tip
subscriptions, and their broadcast deliveries) is keyed anew; the rest cannot be and is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flows.spec import OUTCOME_STATE

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

FINGERPRINT = "pseudonym_key_fingerprint"  # its row in the meta table
_LABEL = b"iep-bot pseudonym key fingerprint"
# Subscribers read to tell whether a database without a fingerprint was keyed with this key.
_EVIDENCE_ROWS = 20


class KeyMismatch(Exception):
    """The database was keyed with another PSEUDONYM_KEY; the message is one line."""


class RekeyRefused(Exception):
    """A re-key that must not run now (a bot is running); the message is one line."""


def fingerprint(key: bytes) -> str:
    """12 hex characters naming the key; the key cannot be worked out from them."""
    return hmac.new(key, _LABEL, hashlib.sha256).hexdigest()[:12]


@dataclass(frozen=True)
class KeyCheck:
    """This key against the database's."""

    current: str  # this key's fingerprint
    recorded: str | None  # the database's, None before the first start with this check
    matches: bool  # this key is the database's (or nothing in it says otherwise)


def check_key(storage: Storage, key: bytes) -> KeyCheck:
    """Compare `key` with the database's key, reading only (for `iep-bot db check`)."""
    current = fingerprint(key)
    recorded = storage.get_meta(FINGERPRINT) if storage.db.table("meta").exists() else None
    if recorded is not None:
        return KeyCheck(current, recorded, recorded == current)
    return KeyCheck(current, None, _subscribers_agree(storage, key))


def _subscribers_agree(storage: Storage, key: bytes) -> bool:
    """No fingerprint yet (a database from before it): do its subscribers' keyed hashes come
    from this key? They are the only rows that keep the chat id the hash was made from."""
    from bot.storage import Pseudonymizer

    if not storage.db.table("subscribers").exists():
        return True
    # Keys of another shape (made up by a test or a benchmark) say nothing about the key.
    rows = storage.db.execute(
        "SELECT chat_key, chat_id FROM subscribers WHERE length(chat_key) = 64 LIMIT ?",
        [_EVIDENCE_ROWS],
    ).fetchall()
    pseudonymize = Pseudonymizer(key)
    return not rows or any(pseudonymize(chat_id) == chat_key for chat_key, chat_id in rows)


def verify_key(storage: Storage, key: bytes) -> None:
    """At start: record the key's fingerprint in a database that has none; raise KeyMismatch,
    saying what another key would cost and what to do, when the database has another one."""
    found = check_key(storage, key)
    if found.matches and found.recorded is None:
        storage.set_meta(FINGERPRINT, found.current, replace=False)  # first writer wins
        found = check_key(storage, key)
        if found.matches:
            storage.notes.append(
                f"recorded the pseudonym key's fingerprint {found.current} in the database"
            )
    if not found.matches:
        raise KeyMismatch(mismatch_line(storage, found))


def mismatch_line(storage: Storage, found: KeyCheck) -> str:
    """What starting with this key would cost, with real counts, and the two ways on."""
    subscribers, screenings, choices = (
        _count(storage, "SELECT count(*) FROM subscribers"),
        _count(storage, "SELECT count(*) FROM sessions WHERE state != ?", OUTCOME_STATE),
        _count(storage, "SELECT count(*) FROM chat_prefs"),
    )
    theirs = (
        f"fingerprint {found.recorded}"
        if found.recorded
        else "no fingerprint recorded, but its subscribers were keyed with another key"
    )
    return (
        f"PSEUDONYM_KEY problem: this database was made with another key ({theirs}; this"
        f" key's fingerprint is {found.current}). With this key {subscribers} tip subscribers"
        f" would not be recognised, and {screenings} unfinished screenings and {choices}"
        " language choices would be lost. Put the old key back, or run `iep-bot db rekey` to"
        " move the database to this key (it keeps the subscribers, drops the rest)."
    )


def _count(storage: Storage, sql: str, *params: str) -> int:
    return int(storage.db.execute(sql, params).fetchone()[0])


# --- moving to a new key ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rekey:
    """What a re-key does (before) or did (after)."""

    subscribers: int  # keyed anew from their chat ids
    deliveries: int  # their broadcast deliveries, moved with them
    unlinked: int  # deliveries of parents no longer subscribed: given random keys
    screenings: int  # unfinished screenings, logged as abandoned and dropped
    results: int  # results logged but not yet shown again, dropped
    choices: int  # language choices and deep-link sources (chat_prefs), dropped

    def summary(self) -> str:
        return (
            f"{self.subscribers} tip subscribers and {self.deliveries} of their broadcast"
            f" deliveries keyed anew; {self.screenings} unfinished screenings logged as"
            f" abandoned; {self.choices} language choices and {self.results} unshown results"
            f" dropped; {self.unlinked} deliveries to parents who left made unlinkable"
        )


def rekey_plan(storage: Storage) -> Rekey:
    """What `rekey` would do now."""
    return Rekey(
        subscribers=_count(storage, "SELECT count(DISTINCT chat_id) FROM subscribers"),
        deliveries=_count(
            storage,
            "SELECT count(*) FROM deliveries WHERE chat_key IN (SELECT chat_key FROM subscribers)",
        ),
        unlinked=_count(
            storage,
            "SELECT count(*) FROM deliveries"
            " WHERE chat_key NOT IN (SELECT chat_key FROM subscribers)",
        ),
        screenings=_count(storage, "SELECT count(*) FROM sessions WHERE state != ?", OUTCOME_STATE),
        results=_count(storage, "SELECT count(*) FROM sessions WHERE state = ?", OUTCOME_STATE),
        choices=_count(storage, "SELECT count(*) FROM chat_prefs"),
    )


def rekey(storage: Storage, key: bytes) -> Rekey:
    """Move the database to `key` in one transaction; raise RekeyRefused while a bot runs."""
    from bot.lease import Lease

    with storage.immediate():
        # Inside the write transaction: a bot starting now waits for it, then sees the new key.
        holder = Lease(storage).holder()
        if holder is not None:
            raise RekeyRefused(
                f"A bot is running on this database ({holder.name}): stop it, run the re-key,"
                " then start it with the new PSEUDONYM_KEY."
            )
        plan = rekey_plan(storage)
        _drop_unkeyable(storage)
        _one_subscription_per_chat(storage)
        storage.db.execute(
            "UPDATE deliveries SET chat_key = lower(hex(randomblob(32)))"
            " WHERE chat_key NOT IN (SELECT chat_key FROM subscribers)"
        )
        _key_subscribers_anew(storage, key)
        storage.set_meta(FINGERPRINT, fingerprint(key))
    log.info("re-keyed the database: %s", plan.summary())
    return plan


def _drop_unkeyable(storage: Storage) -> None:
    """Screenings and chat preferences keep no chat id, so nothing can key them anew: an
    unfinished screening is logged as abandoned (as when it expires), then all are dropped."""
    from flows.screening import ScreeningSession

    for session in storage.every_session():
        if session.state != OUTCOME_STATE:  # a finished one was logged already
            model = ScreeningSession(session.state, session.answers, session.history)
            storage.finish_session(session, outcome_id=None, answers=model.path_answers())
    storage.db.execute("DELETE FROM sessions")
    storage.db.execute("DELETE FROM chat_prefs")


def _one_subscription_per_chat(storage: Storage) -> None:
    """A chat subscribed under two keys (a bot once ran with another key) keeps one row: both
    would get the same key now."""
    storage.db.execute(
        "DELETE FROM subscribers WHERE rowid NOT IN"
        " (SELECT min(rowid) FROM subscribers GROUP BY chat_id)"
    )


def _key_subscribers_anew(storage: Storage, key: bytes) -> None:
    """Each subscriber's new keyed hash, from the chat id kept for sending; its deliveries
    follow it, so a running broadcast goes on reaching it."""
    from bot.storage import Pseudonymizer

    pseudonymize = Pseudonymizer(key)
    moves = [
        (str(old), pseudonymize(chat_id))
        for old, chat_id in storage.db.execute("SELECT chat_key, chat_id FROM subscribers")
    ]
    storage.db.execute("CREATE TEMP TABLE rekey_moves (old TEXT PRIMARY KEY, new TEXT)")
    try:
        storage.db.conn.executemany("INSERT INTO rekey_moves VALUES (?, ?)", moves)
        for table in ("subscribers", "deliveries"):
            storage.db.execute(
                f"UPDATE {table} SET chat_key = (SELECT new FROM rekey_moves"
                f" WHERE old = {table}.chat_key) WHERE chat_key IN (SELECT old FROM rekey_moves)"
            )
    finally:
        storage.db.execute("DROP TABLE temp.rekey_moves")
