"""What a database or file error means to the operator: one line naming it, and the fix.

Shared by start-up (bot/wiring.py, open_storage) and the command line (bot/cli_errors.py), so
a damaged or unwritable database reads the same whichever command met it. A lock held by
someone else is waited out first (bot/busy.py); only then is it said here.
"""

from __future__ import annotations

import errno
import re
import sqlite3
from pathlib import Path

DB = "Database problem:"
# Errors that mean the disk (or a file-size limit) took no more bytes.
_NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_NO_PERMISSION = (errno.EACCES, errno.EPERM, errno.EROFS)


def is_storage_error(exc: BaseException) -> bool:
    """Whether `exc` is about the database file or the disk, not a bug in a query."""
    if isinstance(exc, BrokenPipeError):
        return False  # the reader of our output went away (iep-bot stats | head): not a problem
    if isinstance(exc, OSError):
        return True
    # IntegrityError, ProgrammingError and InterfaceError (also DatabaseErrors) are bugs.
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def storage_problem(exc: BaseException, path: Path | None) -> str:
    """One line for an error `is_storage_error` accepts; `path` is DATABASE_PATH if known."""
    if isinstance(exc, OSError):
        return _os_problem(exc, path)
    return _sqlite_problem(exc, path)


def folder_not_file(path: Path) -> str:
    return (
        f"{DB} DATABASE_PATH {path} is a folder; set it to a file in it, such as"
        f" {path / 'bot.sqlite3'}."
    )


def _named(path: Path | None) -> str:
    return str(path) if path is not None else "the database (DATABASE_PATH)"


def _one_line(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def _sqlite_problem(exc: BaseException, path: Path | None) -> str:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    where = _named(path)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return (
            f"{DB} {where} is locked by another program (another iep-bot, a backup?). Stop it,"
            " then try again."
        )
    if primary == sqlite3.SQLITE_NOTADB:
        return (
            f"{DB} {where} is not an SQLite database (a different file?). Point DATABASE_PATH at"
            " the bot's database, or move this file away to start a new one."
        )
    if primary == sqlite3.SQLITE_CORRUPT:
        return (
            f"{DB} {where} is damaged (database disk image is malformed). Restore it from a"
            f" backup, or rescue what is left with: sqlite3 {where} .recover > rescued.sql"
        )
    if primary == sqlite3.SQLITE_READONLY:
        return (
            f"{DB} {where} is read-only for this user. Make the file and its folder writable by"
            " the user running iep-bot, or set DATABASE_PATH elsewhere."
        )
    if primary == sqlite3.SQLITE_CANTOPEN:
        if path is not None and path.is_dir():
            return folder_not_file(path)
        return (
            f"{DB} cannot open or create {where}: its folder is missing or this user may not"
            " write there. Make the folder writable, or set DATABASE_PATH to a file in one."
        )
    if primary == sqlite3.SQLITE_FULL:
        return f"{DB} the disk holding {where} is full. Free some space, then try again."
    if primary == sqlite3.SQLITE_IOERR:
        name = getattr(exc, "sqlite_errorname", "SQLITE_IOERR")
        return (
            f"{DB} reading or writing {where} failed ({name}): is the disk full, or failing?"
            " Free some space or check the disk, then try again."
        )
    return f"{DB} {where}: {_one_line(exc)}."


def _os_problem(exc: OSError, path: Path | None) -> str:
    # filename may also be a file descriptor, or missing: then the database is meant.
    file = Path(exc.filename) if isinstance(exc.filename, str | Path) else path
    reason = exc.strerror or _one_line(exc) or type(exc).__name__
    about_db = path is not None and file is not None and _belongs_to(file, path)
    prefix = f"{DB} " if about_db else ""
    if exc.errno in _NO_SPACE:
        where = f"the disk holding {file}" if file is not None else "the disk"
        return (
            f"{prefix}{where} is full ({reason}). Free some space (or raise the file-size"
            " limit), then try again."
        )
    if not about_db:
        return f"Cannot use {file}: {reason}." if file is not None else f"System problem: {reason}."
    assert path is not None  # about_db says so
    if exc.errno == errno.EISDIR or path.is_dir():
        return folder_not_file(path)
    if exc.errno in _NO_PERMISSION:
        return (
            f"{DB} this user may not create {file} ({reason}). Make the folder writable, or set"
            " DATABASE_PATH to a file in a folder this user can write."
        )
    blocking = next((p for p in path.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        return (
            f"{DB} {blocking} is a file, so the folder for {path} cannot be made. Set"
            " DATABASE_PATH to a file in a folder."
        )
    return (
        f"{DB} cannot create the folder for {path} ({file}: {reason}). Create it, or set"
        " DATABASE_PATH to a file in a folder this user can write."
    )


def _belongs_to(file: Path, database: Path) -> bool:
    """Whether `file` is the database, one of its side files, or a folder on its way."""
    if file in database.parents:
        return True
    return file.name.startswith(database.name) and file.parent == database.parent
