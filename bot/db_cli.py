"""`iep-bot db ...`: the database's own commands: migrate, backup, check, restore, rekey.

Copies go through SQLite's online backup API: one read transaction, so a copy is one moment
of the database even while the bot writes (WAL lets it go on meanwhile), and a restore is
written through SQLite too, so the live file's -wal and -shm stay consistent with it.
Every failure is one line (Fail).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli_errors import Fail
from bot.wiring import open_settings, open_storage

if TYPE_CHECKING:
    import sqlite3

    from bot.config import Settings
    from bot.content import Content
    from bot.storage import Storage

CONTEXT = {"help_option_names": ["-h", "--help"]}
MIGRATION_SET = "iep_bot"  # bot/migrations.py: Migrations("iep_bot")
SQLITE_HEADER = b"SQLite format 3\0"  # the first bytes of every SQLite database file
KEY_REMINDER = (
    "Keep PSEUDONYM_KEY safe and apart from the backups (never in them): restored without it,"
    " a copy loses its unfinished screenings and language choices."
)


@click.group(context_settings=CONTEXT)
def db() -> None:
    """Database commands: upgrade, back up, check, restore, move to a new key.

    Example:

    \b
        iep-bot db backup /backups/bot-$(date +%F).sqlite3
    """


@db.command()
def migrate() -> None:
    """Bring the database schema up to date, and say what each step changed.

    Example:

    \b
        DATABASE_PATH=/data/bot.sqlite3 iep-bot db migrate
    """
    from bot.migrations import describe
    from bot.storage import Storage

    settings = open_settings()
    storage = Storage(settings.database_path)
    try:
        applied = storage.migrate()
    finally:
        storage.close()
    if not applied:
        click.echo(f"{settings.database_path}: up to date")
        return
    click.echo(f"{settings.database_path}: applied {', '.join(applied)}")
    for line in describe(applied):
        click.echo(f"  {line}")


@db.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace FILE if it exists")
def backup(file: Path, force: bool) -> None:
    """Copy the database to FILE, consistently, even while the bot runs.

    The copy is checked (integrity) and replaces FILE only when complete.

    Example:

    \b
        iep-bot db backup /backups/bot-$(date +%F).sqlite3
    """
    settings = open_settings()
    source = _existing(settings.database_path)
    if file.exists() and file.resolve() == source.resolve():
        raise Fail(f"{file} is the database itself: give the backup another name")
    if file.exists() and not force:
        raise Fail(f"{file} exists: choose another name, or add --force to replace it")
    if not file.parent.is_dir():
        raise Fail(f"{file.parent} is not a folder: create it first")
    _copy(source, file)
    version, key = _facts(file)
    click.echo(
        f"backed up {source} to {file}: {_size(file)}, schema {version}, key fingerprint"
        f" {key or '(none recorded yet)'}. {KEY_REMINDER}"
    )


@db.command()
def check() -> None:
    """Check the database: integrity, pending migrations, and PSEUDONYM_KEY (when set).

    Prints what it finds; exit status 0 when all is well, 1 otherwise.

    Example:

    \b
        iep-bot db check
    """
    settings = open_settings()
    path = _existing(settings.database_path)
    findings = _findings(settings, path)
    for _, line in findings:
        click.echo(line)
    problems = sum(1 for good, _ in findings if not good)
    if problems:
        click.echo(f"{problems} problem(s) found in {path}")
        raise click.exceptions.Exit(1)
    click.echo(f"database OK: {path}")


@db.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def restore(file: Path, yes: bool) -> None:
    """Replace the database with the backup FILE (the bot must be stopped).

    The current database is kept beside it as NAME.before-restore-TIME; the restored copy is
    brought up to date (migrations).

    Example:

    \b
        iep-bot db restore /backups/bot-2026-11-28.sqlite3
    """
    from bot.keys import check_key
    from bot.storage import Storage

    settings = open_settings()
    target = settings.database_path
    if not file.is_file():
        raise Fail(f"{file}: no such file")
    if target.exists() and file.resolve() == target.resolve():
        raise Fail(f"{file} is the database itself: nothing to restore")
    _check_backup(file)
    if target.exists():
        _refuse_while_running(target, "restore")
    kept = target.with_name(f"{target.name}.before-restore-{time.strftime('%Y%m%dT%H%M%S')}")
    if not yes and not click.confirm(
        f"Replace {target} with {file}? The current database is kept as {kept.name}."
    ):
        raise Fail("Nothing restored.")
    if target.exists():
        _set_aside(target, kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy_into(file, target)
    storage = Storage(target)
    try:
        applied = storage.migrate()
        # The copy's lease is the one a bot held when it was taken: no bot runs here now.
        storage.db.execute("DELETE FROM instance_lease")
        version, _ = _facts(target)
        upgraded = f"; brought up to date: {', '.join(applied)}" if applied else ""
        key = ""
        if settings.pseudonym_key:
            found = check_key(storage, settings.pseudonym_key)
            if not found.matches:
                key = (
                    f" It was made with another PSEUDONYM_KEY (fingerprint {found.recorded}):"
                    " start the bot with that key, or run `iep-bot db rekey`."
                )
            elif found.recorded is None:
                key = " It records no key fingerprint yet: the next start records this key's."
            else:
                key = " PSEUDONYM_KEY matches it."
    finally:
        storage.close()
    before = f"; the database it replaced is kept as {kept}" if kept.exists() else ""
    click.echo(f"restored {file} into {target} (schema {version}{upgraded}){before}.{key}")


@db.command()
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def rekey(yes: bool) -> None:
    """Move the database to the PSEUDONYM_KEY now set (the bot must be stopped).

    Tip subscribers (and their broadcast deliveries) are keyed anew from their chat ids.
    Unfinished screenings (logged as abandoned) and language choices cannot be: they are
    dropped. Take a backup first.

    Example:

    \b
        PSEUDONYM_KEY=<the new key> iep-bot db rekey
    """
    from bot.keys import FINGERPRINT, RekeyRefused, check_key, rekey_plan
    from bot.keys import rekey as move_to

    settings = open_settings()
    if not settings.pseudonym_key:
        raise Fail("PSEUDONYM_KEY is not set: set the key to move to, then run this again")
    path = _existing(settings.database_path)
    storage = open_storage(settings)
    try:
        found = check_key(storage, settings.pseudonym_key)
        if found.matches:
            storage.set_meta(FINGERPRINT, found.current, replace=False)
            click.echo(
                f"nothing to re-key: {path} already uses this PSEUDONYM_KEY"
                f" (fingerprint {found.current})"
            )
            return
        _refuse_while_running(path, "re-key", storage=storage)
        plan = rekey_plan(storage)
        old = found.recorded or "unknown"
        if not yes and not click.confirm(
            f"Move {path} from key {old} to this PSEUDONYM_KEY ({found.current})?"
            f" {plan.summary()}. Take a backup first (iep-bot db backup FILE)."
        ):
            raise Fail("Nothing re-keyed.")
        try:
            done = move_to(storage, settings.pseudonym_key)
        except RekeyRefused as exc:
            raise Fail(str(exc)) from None
    finally:
        storage.close()
    click.echo(f"re-keyed {path} from key {old} to {found.current}: {done.summary()}.")


def prepare_database(storage: Storage, settings: Settings, content: Content) -> None:
    """What `iep-bot run` does to the database before it starts: stop with one line when
    PSEUDONYM_KEY is not the database's (recording it on a first start), then, once per
    database, make free-text deep-link sources from older versions `other`."""
    from bot.keys import KeyMismatch, verify_key

    try:
        verify_key(storage, settings.pseudonym_key)
    except KeyMismatch as exc:
        storage.close()
        raise Fail(str(exc)) from None
    storage.scrub_sources(content.known_sources)


# --- helpers ---------------------------------------------------------------------------------


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise Fail(f"No database at {path} (DATABASE_PATH): the bot creates it on first start")
    return path


def _connect(path: Path) -> sqlite3.Connection:
    import sqlite3

    # Autocommit, and 5 s of patience with another program's write lock.
    return sqlite3.connect(path, timeout=5.0, isolation_level=None)


def _integrity(conn: sqlite3.Connection) -> str | None:
    """None when SQLite finds the file sound, else what it found (one line)."""
    import sqlite3

    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    if rows == ["ok"]:
        return None
    more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
    return rows[0] + more


def _copy(source: Path, target: Path) -> None:
    """A checked copy of the database `source` as the single file `target`, which appears
    only once complete (a crash leaves the old one, never half a copy)."""
    from contextlib import closing

    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    part.unlink(missing_ok=True)
    try:
        with closing(_connect(source)) as src, closing(_connect(part)) as copy:
            # One step (pages=-1): the copy is one moment of the database.
            src.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
            problem = _integrity(copy)
        if problem:
            raise Fail(f"The copy of {source} failed its integrity check: {problem}")
        os.replace(part, target)
        _sync_folder(target.parent)
    finally:
        part.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a power cut right after must not undo it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform; the data itself is synced already
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_into(source: Path, target: Path) -> None:
    """Write the database `source` into `target` through SQLite (its -wal stays consistent)."""
    from contextlib import closing

    with closing(_connect(source)) as src, closing(_connect(target)) as dst:
        page_size = "PRAGMA page_size"
        if src.execute(page_size).fetchone() != dst.execute(page_size).fetchone():
            # SQLite cannot change the page size of a database in WAL mode.
            dst.execute("PRAGMA journal_mode=DELETE")
        src.backup(dst)


def _set_aside(target: Path, kept: Path) -> None:
    """Keep the current database as `kept`: a copy through SQLite, or, when it is too
    damaged to read, its files moved as they are."""
    import sqlite3

    try:
        _copy(target, kept)
    except (sqlite3.DatabaseError, Fail):
        for suffix in ("", "-wal", "-shm"):
            damaged = target.with_name(target.name + suffix)
            if damaged.exists():
                os.replace(damaged, kept.with_name(kept.name + suffix))


def _check_backup(file: Path) -> None:
    """A sound iep-bot database whose schema this version knows, or one line saying why not."""
    import sqlite3
    from contextlib import closing

    from bot.migrations import migrations
    from bot.readonly import connect_readonly

    with file.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise Fail(f"{file} is not a SQLite database: nothing restored")
    try:
        with closing(connect_readonly(file)) as conn:
            problem = _integrity(conn)
            if problem:
                raise Fail(f"{file} is not a sound SQLite database ({problem}): nothing restored")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            applied = (
                [
                    str(r[0])
                    for r in conn.execute(
                        "SELECT name FROM _sqlite_migrations WHERE migration_set = ?",
                        [MIGRATION_SET],
                    )
                ]
                if "_sqlite_migrations" in tables
                else []
            )
    except sqlite3.DatabaseError as exc:
        raise Fail(f"{file} is not a SQLite database ({exc}): nothing restored") from None
    if not applied:
        raise Fail(f"{file} is not an iep-bot database (no iep-bot migrations): nothing restored")
    unknown = sorted(set(applied) - {step.name for step in migrations._migrations})
    if unknown:
        raise Fail(
            f"{file} comes from a newer iep-bot ({', '.join(unknown)}): upgrade iep-bot first,"
            " then restore"
        )


def _refuse_while_running(path: Path, what: str, *, storage: Storage | None = None) -> None:
    """One line, and no change, while a bot holds the database's lease."""
    import sqlite3

    from bot.lease import Lease
    from bot.storage import Storage

    own = storage is None
    try:
        storage = storage or Storage(path)
    except sqlite3.DatabaseError:  # unreadable: no bot can be running on it
        return
    try:
        if not storage.db.table("instance_lease").exists():
            return
        holder = Lease(storage).holder()
    except sqlite3.DatabaseError:
        return
    finally:
        if own:
            storage.close()
    if holder is not None:
        raise Fail(
            f"A bot is running on {path} ({holder.name}): stop it, then {what} (nothing changed)."
        )


def _facts(path: Path) -> tuple[str, str | None]:
    """The schema version (the last migration applied) and the key fingerprint of a copy."""
    from contextlib import closing

    from bot.keys import FINGERPRINT

    with closing(_connect(path)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        version = "none"
        if "_sqlite_migrations" in tables:
            row = conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?"
                " ORDER BY rowid DESC LIMIT 1",
                [MIGRATION_SET],
            ).fetchone()
            version = str(row[0]) if row else version
        key = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE name = ?", [FINGERPRINT]).fetchone()
            key = str(row[0]) if row else None
    return version, key


def _findings(settings: Settings, path: Path) -> list[tuple[bool, str]]:
    """`db check`: (all well?, line) for integrity, schema and key."""
    from contextlib import closing

    from bot.keys import check_key, mismatch_line
    from bot.migrations import migrations
    from bot.storage import Storage

    with closing(_connect(path)) as conn:
        problem = _integrity(conn)
    if problem:
        return [(False, f"integrity: {problem}")]
    found: list[tuple[bool, str]] = [(True, "integrity: ok")]
    storage = Storage(path)
    try:
        pending = [step.name for step in migrations.pending(storage.db)]
        version, _ = _facts(path)
        found.append(
            (
                False,
                f"schema: {len(pending)} migration(s) not applied yet: {', '.join(pending)}"
                " (the next start, or iep-bot db migrate, applies them)",
            )
            if pending
            else (True, f"schema: up to date ({version})")
        )
        if not settings.pseudonym_key:
            found.append((True, "key: PSEUDONYM_KEY is not set here, so it was not compared"))
        else:
            key = check_key(storage, settings.pseudonym_key)
            if not key.matches:
                found.append((False, f"key: {mismatch_line(storage, key)}"))
            elif key.recorded is None:
                found.append(
                    (
                        True,
                        f"key: no fingerprint recorded yet (the next start records {key.current})",
                    )
                )
            else:
                found.append((True, f"key: PSEUDONYM_KEY matches (fingerprint {key.current})"))
    finally:
        storage.close()
    return found


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"
