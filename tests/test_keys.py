"""The pseudonym key: its fingerprint in the database, the check at start, `iep-bot db rekey`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.cli_errors import Fail
from bot.config import Settings
from bot.content import Content
from bot.db_cli import prepare_database
from bot.keys import FINGERPRINT, KeyMismatch, fingerprint, verify_key
from bot.lease import Lease
from bot.storage import SOURCES_SCRUBBED, Pseudonymizer, Storage, StoredSession
from tests.killharness import PSEUDONYM_KEY
from tests.shell import operator_shell, run

OLD = PSEUDONYM_KEY.encode()  # the operator's key in tests/killharness.py
NEW = b"second-test-pseudonym-key-9876543210fedcba"  # the key a database moves to


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's shell with the test settings and the NEW key set; the database's path."""
    db_path = tmp_path / "bot.sqlite3"
    operator_shell(monkeypatch, tmp_path, db_path, PSEUDONYM_KEY=NEW.decode())
    return db_path


def session(chat_key: str, state: str, answers: dict[str, str]) -> StoredSession:
    return StoredSession(
        chat_key=chat_key,
        session_id=f"s-{chat_key[:6]}",
        lang="en",
        source="flyer",
        state=state,
        answers=answers,
        history=list(answers),
        started_day="2026-11-20",
        updated_at=0.0,
    )


def keyed_with(path: Path, key: bytes) -> Storage:
    """A database in use under `key`: 3 subscribers, a broadcast half sent, one to a parent who
    left, two screenings (one unfinished, one whose result was not shown yet), 4 choices."""
    storage = Storage(path)
    storage.migrate()
    verify_key(storage, key)
    key_of = Pseudonymizer(key)
    for chat_id in (101, 102, 103):
        storage.add_subscriber(key_of(chat_id), chat_id, "en")
    db = storage.db
    db["broadcasts"].insert({"id": 1, "origin": "cli", "audience": "all", "texts": "{}"})
    db["broadcasts"].insert({"id": 2, "origin": "cli", "audience": "all", "texts": "{}"})
    db.execute("UPDATE broadcasts SET status = 'sending'")
    deliveries = [(1, key_of(c), "sent") for c in (101, 102, 103, 999)]
    deliveries += [(2, key_of(101), "sent"), (2, key_of(102), "pending")]
    for broadcast_id, chat_key, status in deliveries:
        db["deliveries"].insert(
            {"broadcast_id": broadcast_id, "chat_key": chat_key, "status": status}
        )
    storage.save_session(session(key_of(101), "effort", {"age": "school", "plan": "none"}))
    storage.save_session(session(key_of(102), "outcome", {"age": "school"}))
    for chat_id in (101, 102, 103, 104):
        storage.set_language(key_of(chat_id), "es")
    return storage


# --- the fingerprint and the check at start -------------------------------------------------


def test_the_fingerprint_names_the_key_and_reveals_nothing_of_it() -> None:
    mark = fingerprint(OLD)
    assert mark == fingerprint(OLD) and len(mark) == 12 and int(mark, 16) >= 0
    assert mark != fingerprint(NEW)
    assert mark not in OLD.decode() and mark not in OLD.hex()


def test_a_new_database_records_the_key_and_another_key_stops_with_one_line(
    tmp_path: Path,
) -> None:
    storage = keyed_with(tmp_path / "bot.sqlite3", OLD)
    assert storage.get_meta(FINGERPRINT) == fingerprint(OLD)
    assert any(f"fingerprint {fingerprint(OLD)}" in note for note in storage.notes)
    verify_key(storage, OLD)  # the same key starts
    with pytest.raises(KeyMismatch) as stopped:
        verify_key(storage, NEW)
    line = str(stopped.value)
    assert "\n" not in line
    assert f"fingerprint {fingerprint(OLD)}" in line and fingerprint(NEW) in line
    assert "3 tip subscribers would not be recognised" in line
    assert "1 unfinished screenings and 4 language choices would be lost" in line
    assert "Put the old key back, or run `iep-bot db rekey`" in line
    assert OLD.decode() not in line and NEW.decode() not in line
    assert storage.get_meta(FINGERPRINT) == fingerprint(OLD)  # nothing changed
    storage.close()


def test_a_database_from_before_the_fingerprint_is_judged_by_its_subscribers(
    tmp_path: Path,
) -> None:
    storage = keyed_with(tmp_path / "bot.sqlite3", OLD)
    storage.db.execute("DELETE FROM meta")  # as before m008
    with pytest.raises(KeyMismatch, match="no fingerprint recorded, but its subscribers"):
        verify_key(storage, NEW)
    assert storage.get_meta(FINGERPRINT) is None
    verify_key(storage, OLD)  # adopted, with a line for the log once the bot has started
    assert storage.get_meta(FINGERPRINT) == fingerprint(OLD)
    assert "recorded the pseudonym key's fingerprint" in storage.notes[-1]
    storage.close()


def test_run_prepares_the_database_or_stops_with_the_key_line(
    settings: Settings, content: Content
) -> None:
    """`iep-bot run` calls prepare_database right after opening the database."""
    keyed_with(settings.database_path, OLD).close()
    storage = Storage(settings.database_path)
    with pytest.raises(Fail) as stopped:
        prepare_database(storage, dataclasses.replace(settings, pseudonym_key=NEW), content)
    assert str(stopped.value).startswith("PSEUDONYM_KEY problem: this database was made with")
    storage = Storage(settings.database_path)
    assert storage.get_meta(SOURCES_SCRUBBED) is None
    prepare_database(storage, dataclasses.replace(settings, pseudonym_key=OLD), content)
    assert storage.get_meta(SOURCES_SCRUBBED) == storage.today()
    storage.close()


# --- iep-bot db rekey ---------------------------------------------------------------------------


def test_rekey_keys_subscribers_and_their_deliveries_anew_and_drops_the_rest(
    operator: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keyed_with(operator, OLD).close()
    code, out, err = run(capsys, "db", "rekey", "--yes")
    assert (code, err) == (0, "")
    assert out == (
        f"re-keyed {operator} from key {fingerprint(OLD)} to {fingerprint(NEW)}: 3 tip"
        " subscribers and 5 of their broadcast deliveries keyed anew; 1 unfinished screenings"
        " logged as abandoned; 4 language choices and 1 unshown results dropped; 1 deliveries"
        " to parents who left made unlinkable.\n"
    )
    storage = Storage(operator)
    verify_key(storage, NEW)  # the bot starts with the new key
    old, new = Pseudonymizer(OLD), Pseudonymizer(NEW)
    subscribers = {r["chat_id"]: r["chat_key"] for r in storage.db["subscribers"].rows}
    assert subscribers == {c: new(c) for c in (101, 102, 103)}
    deliveries = {
        (r["broadcast_id"], r["chat_key"]): r["status"] for r in storage.db["deliveries"].rows
    }
    assert deliveries.pop((2, new(102))) == "pending"  # the running broadcast still reaches it
    assert {key for (_, key) in deliveries} >= {new(101), new(103)}
    [(_, unlinked)] = [k for k in deliveries if k[1] not in subscribers.values()]
    assert unlinked != old(999) and len(unlinked) == 64
    assert list(storage.db["sessions"].rows) == [] and list(storage.db["chat_prefs"].rows) == []
    [abandoned] = storage.db["outcomes"].rows
    assert (abandoned["status"], abandoned["stopped_at"]) == ("abandoned", "effort")
    dump = "\n".join(storage.db.conn.iterdump())
    assert not any(old(c) in dump for c in (101, 102, 103, 104, 999))
    storage.close()
    code, out, _ = run(capsys, "db", "rekey", "--yes")
    assert code == 0 and out.startswith("nothing to re-key")


def test_rekey_asks_first_and_nothing_changes_on_no(operator: Path) -> None:
    keyed_with(operator, OLD).close()
    result = CliRunner().invoke(cli, ["db", "rekey"], input="n\n", prog_name="iep-bot")
    assert "3 tip subscribers and 5 of their broadcast deliveries keyed anew" in result.output
    assert "Take a backup first" in result.output
    storage = Storage(operator)
    assert storage.get_meta(FINGERPRINT) == fingerprint(OLD)
    assert len(list(storage.db["sessions"].rows)) == 2
    storage.close()


def test_rekey_refuses_while_a_bot_runs(operator: Path, capsys: pytest.CaptureFixture[str]) -> None:
    storage = keyed_with(operator, OLD)
    assert Lease(storage).acquire() is None  # the running bot
    before = list(storage.db.conn.iterdump())
    code, out, err = run(capsys, "db", "rekey", "--yes")
    assert (code, out) == (2, "")
    assert err.startswith("A bot is running on") and err.count("\n") == 1
    assert list(storage.db.conn.iterdump()) == before
    storage.close()


def test_rekey_needs_a_database_and_a_key(
    operator: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "db", "rekey", "--yes")
    assert code == 2 and err.startswith("No database at") and err.count("\n") == 1
    monkeypatch.delenv("PSEUDONYM_KEY")
    code, _, err = run(capsys, "db", "rekey", "--yes")
    assert code == 2 and err.startswith("PSEUDONYM_KEY is not set")


def test_db_check_reports_another_key(operator: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keyed_with(operator, OLD).close()
    code, out, _ = run(capsys, "db", "check")
    assert code == 1
    assert "integrity: ok" in out and "key: PSEUDONYM_KEY problem" in out
    assert "1 problem(s) found" in out
    assert NEW.decode() not in out and OLD.decode() not in out
