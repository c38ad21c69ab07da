"""`iep-bot broadcast`: the old forms (`broadcast --text-file F`, `broadcast cancel 1`) and the
click group (`broadcast send`, `status`, `pause ID`, `resume ID`, `cancel ID`); a file per
language (`--text-file-es`) and what parents without one get (`--others-get`, `--skip-missing`)."""

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


@pytest.fixture
def consejo(tmp_path: Path) -> Path:
    path = tmp_path / "consejo.html"
    path.write_text("<b>Consejo</b>: lleve un registro sencillo, con fechas.")
    return path


def subscribe(tmp_path: Path, english: int, spanish: int) -> None:
    """Parents in the database the commands open: `english` and `spanish` of them."""
    storage = Storage(tmp_path / "bot.sqlite3")
    try:
        storage.migrate()
        for number in range(english + spanish):
            lang = "en" if number < english else "es"
            storage.add_subscriber(f"key-{number}", 1000 + number, lang)
    finally:
        storage.close()


def texts_of_row(tmp_path: Path) -> dict[str, str]:
    storage = Storage(tmp_path / "bot.sqlite3")
    try:
        [row] = Broadcasts(storage, load_content()).recent()
        return row.texts
    finally:
        storage.close()


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
    spanish = tmp_path / "consejo.html"
    spanish.write_text("<b>Consejo</b>: lleve un registro sencillo.")
    both = ["--text-file", str(tip), "--text-file-es", str(spanish)]
    code, out, err = run(capsys, "broadcast", *both, "--audience", "es", "--dry-run")
    assert (code, err) == (0, "")
    assert "Para dejar de recibir" in out and "Nothing was queued (dry run)" in out
    assert not (tmp_path / "bot.sqlite3").exists() or rows(tmp_path) == []

    code, out, _ = run(capsys, "broadcast", *both, "--audience", "es")
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
    assert row.texts == {"en": "<b>Tips:</b> 1 &lt; 2 &lt;3 &amp; Q&amp;A"}


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


# --- a file per language ----------------------------------------------------------------------

REFUSAL = (
    "2 Spanish-reading parents would not get this: give --text-file-es, or --others-get en to"
    " send them the English text, or --skip-missing to leave them out.\n"
)


@pytest.mark.parametrize("extra", [[], ["--dry-run"], ["--audience", "interest:has_504"]])
def test_a_language_without_a_file_queues_nothing_and_says_how_many(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    subscribe(tmp_path, english=3, spanish=2)
    if "interest:has_504" in extra:
        storage = Storage(tmp_path / "bot.sqlite3")
        storage.db.execute("UPDATE subscribers SET interest = 'has_504'")
        storage.close()
    assert run(capsys, "broadcast", "--text-file", str(tip), *extra) == (2, "", REFUSAL)
    assert rows(tmp_path) == []


def test_a_file_per_language(
    tip: Path, consejo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(tmp_path, english=3, spanish=2)
    argv = ["broadcast", "--text-file", str(tip), "--text-file-es", str(consejo)]
    code, out, err = run(capsys, *argv, "--dry-run")
    assert (code, err) == (0, "")
    assert (
        "--- preview (English) ---\nTip: keep a simple log, with dates.\n\nTo stop these tips,"
        in out
    )
    assert (
        "--- preview (Español) ---\nConsejo: lleve un registro sencillo, con fechas.\n\n"
        "Para dejar de recibir" in out
    )
    assert out.endswith(
        "---\nAudience all: 5 parents would get it right now.\n"
        "  English: 3 parents get the English text.\n"
        "  Spanish: 2 parents get the Spanish text.\n"
        "Nothing was queued (dry run).\n"
    )
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert out == (
        "Broadcast #1 queued for 5 parents (all), sending as soon as the bot's engine picks it"
        " up.\n"
        "  English: 3 parents get the English text.\n"
        "  Spanish: 2 parents get the Spanish text.\n"
        "Follow it with: iep-bot broadcast status\n"
    )
    assert texts_of_row(tmp_path) == {
        "en": "<b>Tip</b>: keep a simple log, with dates.",
        "es": "<b>Consejo</b>: lleve un registro sencillo, con fechas.",
    }


def test_skip_missing_leaves_them_out(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(tmp_path, english=3, spanish=2)
    code, out, _ = run(capsys, "broadcast", "--text-file", str(tip), "--skip-missing", "--dry-run")
    assert code == 0 and "--- preview (Español" not in out
    assert "  Spanish: 2 parents left out (no Spanish text).\n" in out
    code, out, _ = run(capsys, "broadcast", "--text-file", str(tip), "--skip-missing")
    assert code == 0
    assert out.startswith("Broadcast #1 queued for 3 parents (all)")
    assert "  English: 3 parents get the English text.\n" in out
    assert "  Spanish: 2 parents left out (no Spanish text).\n" in out
    assert texts_of_row(tmp_path) == {"en": "<b>Tip</b>: keep a simple log, with dates."}


def test_others_get_english(tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subscribe(tmp_path, english=3, spanish=2)
    argv = ["broadcast", "--text-file", str(tip), "--others-get", "en"]
    code, out, _ = run(capsys, *argv, "--dry-run")
    assert code == 0
    assert (
        "--- preview (Español: the English text) ---\nTip: keep a simple log, with dates.\n\n"
        "Para dejar de recibir" in out
    )
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert out.startswith("Broadcast #1 queued for 5 parents (all)")
    assert "  Spanish: 2 parents get the English text.\n" in out
    text = "<b>Tip</b>: keep a simple log, with dates."
    assert texts_of_row(tmp_path) == {"en": text, "*": text}


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            ["--others-get", "en", "--skip-missing"],
            "Nothing queued: choose one of --others-get and --skip-missing, not both.\n",
        ),
        (
            ["--others-get", "es"],
            "Nothing queued: --others-get es needs that language's text (--text-file-es).\n",
        ),
        (
            ["--audience", "es", "--skip-missing"],
            "Nothing queued: the parents in audience lang:es read Spanish, and no file is in"
            " their language.\n",
        ),
    ],
)
def test_contradictions_are_one_line(
    tip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    subscribe(tmp_path, english=3, spanish=2)
    assert run(capsys, "broadcast", "--text-file", str(tip), *extra) == (2, "", said)
    assert rows(tmp_path) == []


def test_a_spanish_only_audience_needs_only_the_spanish_file(
    tip: Path, consejo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(tmp_path, english=3, spanish=2)
    argv = ["broadcast", "--text-file", str(tip), "--text-file-es", str(consejo)]
    code, out, _ = run(capsys, *argv, "--audience", "es")
    assert code == 0 and out.startswith("Broadcast #1 queued for 2 parents (lang:es)")
    assert "English" not in out
    assert texts_of_row(tmp_path) == {
        "es": "<b>Consejo</b>: lleve un registro sencillo, con fechas."
    }
