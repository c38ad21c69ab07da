"""Backups, checks, restores and upgrades, as an operator runs them: `iep-bot db ...`."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli, main
from bot.keys import fingerprint, verify_key
from bot.lease import Lease
from bot.migrations import describe, migrations
from bot.storage import Storage
from tests.killharness import PSEUDONYM_KEY
from tests.shell import operator_shell, run
from tests.stats_helpers import outcome
from tests.test_keys import NEW

KEY = PSEUDONYM_KEY.encode()
LAST = migrations._migrations[-1].name


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's shell with the test settings; the database's path."""
    db_path = tmp_path / "data" / "bot.sqlite3"
    operator_shell(monkeypatch, tmp_path, db_path)
    return db_path


def in_use(path: Path, outcomes: int = 40) -> None:
    """A database the bot has used: migrated, its key recorded, screenings logged."""
    storage = Storage(path)
    storage.migrate()
    verify_key(storage, KEY)
    storage.db["outcomes"].insert_all(outcome(outcomes))
    storage.add_subscriber("k1", 1001, "en")
    storage.close()


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


# --- backup -------------------------------------------------------------------------------------


def test_a_backup_taken_while_the_bot_writes_is_one_consistent_moment(
    operator: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_use(operator)
    writing, stop = threading.Event(), threading.Event()

    def bot_writing() -> None:  # another connection, committing outcomes all along
        storage = Storage(operator)
        while not stop.is_set():
            storage.db["outcomes"].insert_all(outcome(20))
            writing.set()
        storage.close()

    writer = threading.Thread(target=bot_writing)
    writer.start()
    try:
        assert writing.wait(10)
        [(committed,)] = rows(operator, "SELECT count(*) FROM outcomes")
        copy = tmp_path / "backups" / "bot-2026-11-28.sqlite3"
        copy.parent.mkdir()
        code, out, err = run(capsys, "db", "backup", str(copy))
    finally:
        stop.set()
        writer.join()
    assert (code, err) == (0, "")
    assert out.startswith(f"backed up {operator} to {copy}: ") and out.count("\n") == 1
    assert f"schema {LAST}, key fingerprint {fingerprint(KEY)}" in out
    assert "Keep PSEUDONYM_KEY safe and apart from the backups" in out
    assert PSEUDONYM_KEY not in out
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    [(copied,)] = rows(copy, "SELECT count(*) FROM outcomes")
    assert copied >= committed
    # One moment: the rollup the triggers keep agrees with the log it sums.
    assert rows(copy, "SELECT sum(n) FROM outcome_counts") == [(copied,)]
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]  # one file, nothing beside it
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]


def test_a_backup_never_replaces_a_file_unless_told(
    operator: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "bot-backup.sqlite3"
    code, _, err = run(capsys, "db", "backup", str(copy))
    assert code == 2 and err.startswith("No database at") and err.count("\n") == 1
    in_use(operator)
    assert run(capsys, "db", "backup", str(copy))[0] == 0
    code, out, err = run(capsys, "db", "backup", str(copy))
    assert (code, out) == (2, "")
    assert err == f"{copy} exists: choose another name, or add --force to replace it\n"
    assert run(capsys, "db", "backup", "--force", str(copy))[0] == 0
    code, _, err = run(capsys, "db", "backup", str(tmp_path / "nowhere" / "b.sqlite3"))
    assert code == 2 and "is not a folder" in err and err.count("\n") == 1


# --- restore ------------------------------------------------------------------------------------


def test_restore_brings_back_the_backup_and_keeps_what_it_replaced(
    operator: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_use(operator)
    copy = tmp_path / "b.sqlite3"
    assert run(capsys, "db", "backup", str(copy))[0] == 0
    storage = Storage(operator)  # life goes on after the backup
    storage.db.execute("DELETE FROM outcomes")
    storage.add_subscriber("k2", 1002, "es")
    later = dump(operator)
    code, out, err = run(capsys, "db", "restore", "--yes", str(copy))
    assert (code, err) == (0, "")
    assert out.startswith(f"restored {copy} into {operator} (schema {LAST})")
    assert out.endswith("PSEUDONYM_KEY matches it.\n") and out.count("\n") == 1
    assert dump(operator) == dump(copy)
    assert storage.db.execute("SELECT count(*) FROM outcomes").fetchone() == (40,)  # open too
    storage.close()
    [kept] = operator.parent.glob("bot.sqlite3.before-restore-*")
    assert f"kept as {kept}" in out
    assert dump(kept) == later


def test_restore_brings_an_old_backup_up_to_date(
    operator: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.sqlite3"
    storage = Storage(old)
    migrations.apply(storage.db, stop_before="m008_operator")
    storage.db["outcomes"].insert_all(outcome(3))
    storage.close()
    code, out, _ = run(capsys, "db", "restore", "--yes", str(old))
    assert code == 0
    assert "brought up to date: m008_operator, m009_subscriber_chat_ids" in out
    assert "before-restore" not in out  # there was no database to keep
    assert rows(operator, "SELECT count(*) FROM outcomes") == [(3,)]


def test_restore_replaces_a_damaged_database_and_keeps_its_files(
    operator: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_use(operator)
    copy = tmp_path / "b.sqlite3"
    assert main(["db", "backup", str(copy)]) == 0
    damage = b"\0" * 4096 + b"damaged" * 1000
    operator.write_bytes(damage)
    capsys.readouterr()
    code, out, err = run(capsys, "db", "restore", "--yes", str(copy))
    assert (code, err) == (0, "")
    assert dump(operator) == dump(copy)
    [kept] = operator.parent.glob("bot.sqlite3.before-restore-*")
    assert kept.read_bytes() == damage and f"kept as {kept}" in out


def test_restore_says_when_the_backup_needs_another_key(
    operator: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_use(operator)
    copy = tmp_path / "b.sqlite3"
    assert main(["db", "backup", str(copy)]) == 0
    monkeypatch.setenv("PSEUDONYM_KEY", NEW.decode())
    capsys.readouterr()
    code, out, _ = run(capsys, "db", "restore", "--yes", str(copy))
    assert code == 0
    assert out.endswith(
        f"It was made with another PSEUDONYM_KEY (fingerprint {fingerprint(KEY)}): start the bot"
        " with that key, or run `iep-bot db rekey`.\n"
    )


def test_restore_asks_first(operator: Path, tmp_path: Path) -> None:
    in_use(operator)
    copy = tmp_path / "b.sqlite3"
    assert main(["db", "backup", str(copy)]) == 0
    result = CliRunner().invoke(cli, ["db", "restore", str(copy)], input="n\n")
    assert f"Replace {operator} with {copy}?" in result.output
    assert list(operator.parent.glob("*.before-restore-*")) == []


def test_restore_refuses_what_it_cannot_restore_in_one_line(
    operator: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_use(operator)
    before = dump(operator)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all, just some bytes" * 200)
    other = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (text)")
    newer = tmp_path / "newer.sqlite3"
    assert main(["db", "backup", str(newer)]) == 0
    with closing(sqlite3.connect(newer)) as conn, conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('iep_bot', 'm999_future', '2027-01-01')"
        )
    capsys.readouterr()
    for file, says in (
        (tmp_path / "missing.sqlite3", "no such file"),
        (junk, "is not a SQLite database"),
        (other, "is not an iep-bot database"),
        (newer, "comes from a newer iep-bot (m999_future)"),
    ):
        code, out, err = run(capsys, "db", "restore", "--yes", str(file))
        assert (code, out) == (2, ""), file
        assert says in err and err.count("\n") == 1, err
    assert dump(operator) == before


def test_restore_refuses_while_a_bot_runs(
    operator: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_use(operator)
    copy = tmp_path / "b.sqlite3"
    assert main(["db", "backup", str(copy)]) == 0
    bot = Storage(operator)
    assert Lease(bot).acquire() is None
    before = dump(operator)
    capsys.readouterr()
    code, out, err = run(capsys, "db", "restore", "--yes", str(copy))
    assert (code, out) == (2, "")
    assert err.startswith(f"A bot is running on {operator}") and err.count("\n") == 1
    assert dump(operator) == before
    bot.close()


# --- check and upgrades -------------------------------------------------------------------------


def test_check_says_all_is_well(operator: Path, capsys: pytest.CaptureFixture[str]) -> None:
    in_use(operator)
    code, out, _ = run(capsys, "db", "check")
    assert code == 0
    assert out.splitlines() == [
        "integrity: ok",
        f"schema: up to date ({LAST})",
        f"key: PSEUDONYM_KEY matches (fingerprint {fingerprint(KEY)})",
        f"database OK: {operator}",
    ]


def test_check_finds_pending_migrations_and_damage(
    operator: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    operator.parent.mkdir()
    storage = Storage(operator)
    migrations.apply(storage.db, stop_before="m009_subscriber_chat_ids")
    storage.close()
    code, out, _ = run(capsys, "db", "check")
    assert code == 1
    assert (
        "schema: 3 migration(s) not applied yet: m009_subscriber_chat_ids, m010_letters_made,"
        " m011_follow_through" in out
    )
    assert out.endswith(f"1 problem(s) found in {operator}\n")
    operator.write_bytes(b"\0" * 4096 + b"damaged" * 1000)
    for suffix in ("-wal", "-shm"):
        operator.with_name(operator.name + suffix).unlink(missing_ok=True)
    code, out, _ = run(capsys, "db", "check")
    assert code == 1 and out.startswith("integrity: ")


def test_an_upgrade_says_what_changed(operator: Path, capsys: pytest.CaptureFixture[str]) -> None:
    operator.parent.mkdir()
    storage = Storage(operator)
    migrations.apply(storage.db, stop_before="m008_operator")
    storage.close()
    code, out, _ = run(capsys, "db", "migrate")
    assert code == 0
    assert out.splitlines() == [
        f"{operator}: applied m008_operator, m009_subscriber_chat_ids, m010_letters_made,"
        " m011_follow_through",
        "  m008_operator: The pseudonym key's fingerprint, and the running bot's heartbeat.",
        "  m009_subscriber_chat_ids: /stop and /forget find a tip subscription by chat id too,"
        " whatever key made it.",
        "  m010_letters_made: Letters parents made, counted by day, type and language"
        " (no one is named).",
        "  m011_follow_through: Follow-through: evaluation deadlines and their reminders,"
        " check-ins weeks later.",
    ]


def test_every_migration_says_what_it_does_in_one_line() -> None:
    lines = describe(step.name for step in migrations._migrations)
    assert len(lines) == len(migrations._migrations)
    for line in lines:
        assert "no description" not in line and "\n" not in line and len(line) < 120
