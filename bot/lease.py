"""One sender at a time: the running bot holds a lease row in the database.

Two `iep-bot run` on one database (a deploy overlap, a worker scaled to two) would both poll
and both send. The lease is one row: whoever holds it, unexpired, is the bot. The holder
renews it every RENEW_EVERY seconds; a crashed holder's lease runs out after TTL seconds, so
its successor takes over by itself. Taking and renewing are single conditional statements,
so two processes can never both believe they hold it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from bot.storage import Storage

TTL = 30.0  # seconds a lease lasts without renewal
RENEW_EVERY = 10.0


@dataclass(frozen=True)
class Holder:
    """Who holds the lease now, for the one line a second instance prints."""

    name: str
    seconds_left: float


def holder_name(instance: str) -> str:
    """host:pid:instance: enough for an operator to find the other process, nothing personal."""
    return f"{socket.gethostname()}:{os.getpid()}:{instance}"


class Lease:
    def __init__(self, storage: Storage, *, ttl: float = TTL) -> None:
        self.storage = storage
        self.ttl = ttl
        self.name = holder_name(storage.instance)

    def acquire(self) -> Holder | None:
        """Take the lease if it is free, expired or ours; else say who holds it."""
        now = self.storage.clock()
        self.storage.db.execute(
            "INSERT INTO instance_lease (id, holder, expires_at, acquired_at) VALUES (1, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET holder = excluded.holder,"
            " expires_at = excluded.expires_at, acquired_at = excluded.acquired_at"
            " WHERE instance_lease.expires_at < ? OR instance_lease.holder = excluded.holder",
            [self.name, now + self.ttl, now, now],
        )
        holder = self.holder()
        if holder is None or holder.name == self.name:
            return None
        return holder

    def renew(self) -> bool:
        """Extend our lease; False if it is no longer ours (we were frozen past its end)."""
        now = self.storage.clock()
        cursor = self.storage.db.execute(
            "UPDATE instance_lease SET expires_at = ? WHERE id = 1 AND holder = ?"
            " AND expires_at >= ?",
            [now + self.ttl, self.name, now],
        )
        return cursor.rowcount == 1

    def release(self) -> None:
        """Let a successor start at once (a clean stop)."""
        self.storage.db.execute(
            "DELETE FROM instance_lease WHERE id = 1 AND holder = ?", [self.name]
        )

    def held(self) -> bool:
        """Whether the lease is ours and unexpired now."""
        holder = self.holder()
        return holder is not None and holder.name == self.name

    def holder(self) -> Holder | None:
        row = self.storage.db.execute(
            "SELECT holder, expires_at FROM instance_lease WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        left = float(row[1]) - self.storage.clock()
        return Holder(str(row[0]), left) if left >= 0 else None
