"""`iep-bot broadcast`: the old forms (`broadcast --text-file F`, `broadcast cancel 1`) and the
click group (`broadcast send`, `status`, `pause ID`, `resume ID`, `cancel ID`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.broadcast.queue import Broadcasts
from bot.cli import cli
from bot.content import load_content
from bot.storage import Storage
from tests.shell import run


@pytest.fixture
def tip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))
    monkeypatch.setenv("QUIET_HOURS", "off")
    path = tmp_path / "tip.html"
    path.write_text("<b>Tip</b>: keep a simple log, with dates.")
    return path


def rows(tmp_path: Path) -> list[tuple[int, str, str, int | None]]:
    storage = Storage(tmp_path / "bot.sqlite3")
    try:
        found = Broadcasts(storage, load_content()).recent()
        return [(r.id, r.status, r.origin, r.created_by) for r in found]
    finally:
        storage.close()


def test_queue_follow_and_steer(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "broadcast", "--text-file", str(tip), "--audience", "es", "--dry-run"
    )
    assert (code, err) == (0, "")
    assert "Para dejar de recibir" in out and "Nothing was queued (dry run)" in out
    assert not (tmp_path / "bot.sqlite3").exists() or rows(tmp_path) == []

    code, out, _ = run(capsys, "broadcast", "--text-file", str(tip), "--audience", "es")
    assert code == 0 and out.startswith("Broadcast #1 queued for 0 parents (lang:es)")
    code, out, _ = run(capsys, "broadcast", "send", "--text-file", str(tip), "--now")
    assert code == 0 and out.startswith("Broadcast #2 queued for 0 parents (all)")

    code, out, _ = run(capsys, "broadcast", "status")
    assert code == 0 and "#1" in out and "#2" in out and "origin cli" in out
    code, out, _ = run(capsys, "broadcast", "status", "--limit", "1")
    assert code == 0 and "#2" in out and "#1" not in out

    assert run(capsys, "broadcast", "pause", "1")[:2] == (
        0,
        "Broadcast #1: pause done; the bot's engine follows within seconds.\n",
    )
    assert run(capsys, "broadcast", "pause", "1") == (
        2,
        "",
        "Broadcast #1 cannot pause now (it is paused).\n",
    )
    assert run(capsys, "broadcast", "resume", "1")[0] == 0
    assert run(capsys, "broadcast", "cancel", "1")[0] == 0
    assert run(capsys, "broadcast", "cancel", "1")[0] == 2
    assert run(capsys, "broadcast", "cancel", "99")[2] == (
        "Broadcast #99 cannot cancel now (it is not found).\n"
    )
    assert rows(tmp_path) == [(2, "queued", "cli", None), (1, "cancelled", "cli", None)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "Give the message with --text-file FILE (Telegram HTML: <b>, <i>, <a>).\n"),
        (["--dry-run"], "Give the message with --text-file FILE (Telegram HTML: <b>, <i>, <a>).\n"),
        (["--text-file", "nowhere.html"], "Cannot read nowhere.html: No such file or directory\n"),
    ],
)
def test_without_a_readable_file_nothing_opens(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(capsys, "broadcast", *argv) == (2, "", message)
    assert not (tmp_path / "bot.sqlite3").exists()


BAD_HTML = "“<b>” is never closed (near “<b>never”). Add “</b>” where the bold, italic or link"


@pytest.mark.parametrize(
    ("text", "extra", "said"),
    [
        ("ok", ["--audience", "klingon"], "Nothing queued: unknown audience 'klingon'; choose"),
        ("", [], "Nothing queued: The message is empty."),
        ("<b>never closed", ["--dry-run"], f"This would not be queued: {BAD_HTML}"),
        ("<b>never closed", [], f"Nothing queued: {BAD_HTML}"),
    ],
)
def test_bad_input_is_one_line_and_queues_nothing(
    tip: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    extra: list[str],
    said: str,
) -> None:
    tip.write_text(text)
    code, out, err = run(capsys, "broadcast", "--text-file", str(tip), *extra)
    assert (code, out) == (2, "")  # no preview before the problem
    assert err.startswith(said) and err.count("\n") == 1, err
    assert rows(tmp_path) == []


STRAY = (
    "The text has a “<” that Telegram would refuse (near “1 < 2”). To show it as it is, write "
    "&lt; instead. Or add --escape-html to have such characters shown as typed.\n"
)


@pytest.mark.parametrize(
    ("extra", "said"),
    [(["--dry-run"], "This would not be queued: "), ([], "Nothing queued: ")],
)
def test_a_stray_less_than_is_named_in_one_line(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    tip.write_text("1 < 2")
    assert run(capsys, "broadcast", "send", "--text-file", str(tip), *extra) == (
        2,
        "",
        said + STRAY,
    )
    assert rows(tmp_path) == []


@pytest.mark.parametrize("command", [["broadcast"], ["broadcast", "send"]])
def test_escape_html_shows_stray_characters_as_typed(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    tip.write_text("<b>Tips:</b> 1 < 2 <3 & Q&A")
    argv = [*command, "--text-file", str(tip), "--escape-html"]
    code, out, err = run(capsys, *argv, "--dry-run")
    assert (code, err) == (0, "")
    assert "--- preview (English) ---\nTips: 1 < 2 <3 & Q&A\n" in out
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("Broadcast #1 queued")
    storage = Storage(tmp_path / "bot.sqlite3")
    try:
        [row] = Broadcasts(storage, load_content()).recent()
    finally:
        storage.close()
    assert row.texts == {"*": "<b>Tips:</b> 1 &lt; 2 &lt;3 &amp; Q&amp;A"}


def test_escape_html_cannot_close_a_tag(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tip.write_text("<b>never closed 1 < 2")
    code, out, err = run(capsys, "broadcast", "--text-file", str(tip), "--escape-html")
    assert (code, out) == (2, "")
    assert err == f"Nothing queued: {BAD_HTML} text ends.\n"
    assert rows(tmp_path) == []


def test_usage_errors_exit_2(tip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "broadcast", "pause")
    assert code == 2 and "Missing argument 'ID'" in err
    code, _, err = run(capsys, "broadcast", "stauts")
    assert code == 2 and "No such command 'stauts'" in err
    code, _, err = run(capsys, "broadcast", "--text-file", str(tip), "--audience")
    assert code == 2 and "'--audience' requires an argument" in err


def test_help_of_the_group_and_of_the_default_command(tip: Path) -> None:
    runner = CliRunner()
    group = runner.invoke(cli, ["broadcast", "--help"], prog_name="iep-bot")
    assert group.exit_code == 0
    listed = group.output.split("Commands:\n", 1)[1].split()
    assert [w for w in listed if w in {"send", "status", "pause", "resume", "cancel"}] == [
        "send",
        "status",
        "pause",
        "resume",
        "cancel",
    ]
    # An option first means `send`, --help included.
    send = runner.invoke(cli, ["broadcast", "--text-file", str(tip), "--help"], prog_name="iep-bot")
    assert send.exit_code == 0 and send.output.startswith("Usage: iep-bot broadcast send ")
    short = runner.invoke(cli, ["broadcast", "-h"], prog_name="iep-bot")
    assert short.output == group.output


def test_a_file_saved_with_a_byte_order_mark_reads_as_its_text(
    tip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tip.write_bytes("\ufeff<b>Tip</b>: keep a log.".encode())  # as some Windows editors save
    code, out, err = run(capsys, "broadcast", "--text-file", str(tip), "--dry-run")
    assert (code, err) == (0, "")
    assert "--- preview (English) ---\nTip: keep a log.\n" in out


@pytest.mark.parametrize("number", ["-1", "0", str(10**25)])
def test_an_id_that_cannot_be_a_broadcast_is_one_line_before_the_database_opens(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], number: str
) -> None:
    assert run(capsys, "broadcast", "cancel", number) == (
        2,
        "",
        f"Invalid value for 'ID': {number} is not a broadcast number (iep-bot broadcast status"
        " lists them). Help: iep-bot broadcast cancel --help\n",
    )
    assert not (tmp_path / "bot.sqlite3").exists()


def test_the_largest_id_sqlite_holds_is_simply_not_found(
    tip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    largest = 2**63 - 1
    assert run(capsys, "broadcast", "pause", str(largest)) == (
        2,
        "",
        f"Broadcast #{largest} cannot pause now (it is not found).\n",
    )
