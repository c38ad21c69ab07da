"""Reading the bot's database from another process (`iep-bot status`, `stats`, a restore's
check) without creating, locking or leaving anything behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect_readonly(path: Path, *, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection that never creates the database and leaves no files beside it.

    With no -wal file beside it, no program has the database open (it is in WAL mode), and a
    plain read-only connection would create a -wal and a -shm it cannot remove, owned by
    whoever ran the command (root, in `fly ssh console`): the bot could then not open its own
    database. So that case reads the file as it is (immutable); with a -wal (the bot runs, or
    was killed), the usual read-only connection sees the bot's latest writes.
    """
    wal = path.with_name(path.name + "-wal")
    flags = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    # as_uri escapes "?" and "#" in the path.
    return sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True, timeout=timeout)
