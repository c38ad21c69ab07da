"""The command line: every command documented with an example; one-line failures."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot import cli as cli_module
from bot.cli import cli, main
from tests.conftest import PSEUDONYM_KEY, TOKEN

ROOT = Path(__file__).resolve().parent.parent
NO_SUCH_ZONE = (
    "Setting problem: TIMEZONE is not a known time zone, got 'Nowhere/Nope'"
    " (use a name like America/Chicago)"
)


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_the_command_tree() -> None:
    names = {" ".join(path) for path, _ in _commands(cli)}
    assert names == {
        "run",
        "status",
        "chat",
        "db",
        "db migrate",
        "db backup",
        "db check",
        "db restore",
        "db rekey",
        "flow",
        "flow diagram",
        "content",
        "content check",
        "broadcast",
        "broadcast send",
        "broadcast status",
        "broadcast pause",
        "broadcast resume",
        "broadcast cancel",
        "stats",
        "export",
        "letter",
        "letter preview",
    }


@pytest.mark.parametrize("path", [(), *(path for path, _ in _commands(cli))], ids=" ".join)
def test_every_help_ends_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="iep-bot")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {' '.join(('iep-bot', *path))} ")
    example = result.output.split("Example:\n", 1)[1].split("\nOptions:", 1)[0]
    lines = [line for line in example.splitlines() if line.strip()]
    # \b kept each example on its own line, as typed.
    assert lines and all(line.startswith("    ") and "iep-bot " in line for line in lines), lines


def test_readme_lists_every_top_level_command() -> None:
    readme = (ROOT / "README.md").read_text()
    for path, _ in _commands(cli):
        if len(path) == 1 or path[0] in ("db", "flow", "content"):
            assert f"iep-bot {' '.join(path)}" in readme, path


def test_migrate_creates_the_database(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "sub" / "bot.sqlite3"
    monkeypatch.setenv("DATABASE_PATH", str(db))
    monkeypatch.chdir(tmp_path)
    assert main(["db", "migrate"]) == 0
    assert "applied m001_screening" in capsys.readouterr().out
    assert main(["db", "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_a_bad_setting_is_one_line_not_a_traceback(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SESSION_TTL_DAYS", "forever")
    assert main(["chat"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SESSION_TTL_DAYS" in err


@pytest.mark.parametrize(
    "argv", [["stats"], ["db", "migrate"], ["broadcast", "status"], ["flow", "diagram"]]
)
def test_an_unknown_time_zone_is_one_line_and_exit_2(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    db = tmp_path / "bot.sqlite3"
    env = {"TIMEZONE": "Nowhere/Nope", "DATABASE_PATH": str(db)}
    result = CliRunner().invoke(cli, argv, env=env, prog_name="iep-bot")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"{NO_SUCH_ZONE}\n"
    assert isinstance(result.exception, SystemExit)  # no traceback: click's own exit
    assert not db.exists()


def test_content_check_reports_problems_with_exit_1(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "screening.yaml").write_text("start: nowhere\nquestions: {}\n")
    (tmp_path / "en").mkdir()
    monkeypatch.setenv("CONTENT_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["content", "check"]) == 1
    assert "screening.yaml" in capsys.readouterr().out
    # The same exit status when click runs the group itself (as `iep-bot` would).
    assert CliRunner().invoke(cli, ["content", "check"]).exit_code == 1


@pytest.mark.parametrize("argv", [["flow", "diagram"]])
def test_flow_diagram_prints_mermaid(argv, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("---")


def test_an_unknown_language_for_chat_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))
    assert main(["chat", "--lang", "xx"]) == 2
    assert capsys.readouterr().err == "--lang xx: choose one of en, es\n"


def test_main_returns_the_status_instead_of_exiting(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert main(["--help"]) == 0
    assert "Example:" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2  # a usage error: click's usage line and message
    assert "No such command 'no-such-command'" in capsys.readouterr().err
    assert main(["broadcast", "pause", "twelve"]) == 2
    assert "'twelve' is not a valid integer" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["no-such-command"], "No such command 'no-such-command'. Help: iep-bot --help\n"),
        (["stats", "--bogus"], "No such option '--bogus'. Help: iep-bot stats --help\n"),
        (["broadcast", "pause"], "Missing argument 'ID'. Help: iep-bot broadcast pause --help\n"),
        (
            ["stats", "--format", "xml"],
            "Invalid value for '--format': 'xml' is not one of 'table', 'json', 'csv'."
            " Help: iep-bot stats --help\n",
        ),
    ],
)
def test_a_usage_error_is_one_line_with_where_the_help_is(
    argv: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert capsys.readouterr() == ("", said)


def _a_bug(**_: object) -> None:
    # An exception's message may hold anything, the token included: never printed as is.
    raise RuntimeError(f"boom at https://api.telegram.org/bot{TOKEN}/getMe")


BUG_LINE = (
    "Unexpected error: RuntimeError (a bug in iep-bot, or something it did not expect). Run"
    " again with LOG_LEVEL=DEBUG to see the details.\n"
)


def test_a_bug_is_one_line_that_says_how_to_see_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    monkeypatch.setattr(cli_module, "open_settings", _a_bug)
    assert main(["flow", "diagram"]) == 2
    assert capsys.readouterr() == ("", BUG_LINE)


def test_with_log_level_debug_a_bug_shows_its_traceback_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # From .env, as operators set them: the environment alone is not enough to know them.
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nPSEUDONYM_KEY={PSEUDONYM_KEY}\nLOG_LEVEL=debug\n"
    )
    for name in ("TELEGRAM_BOT_TOKEN", "PSEUDONYM_KEY", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)

    def a_bug_with_the_key(**_: object) -> None:
        raise RuntimeError(f"boom with {PSEUDONYM_KEY} and {TOKEN.partition(':')[2]}")

    monkeypatch.setattr(cli_module, "open_settings", a_bug_with_the_key)
    assert main(["flow", "diagram"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.endswith(
        "\nUnexpected error: RuntimeError (a bug in iep-bot, or something it did not expect)."
        " The details are above.\n"
    )
    assert err.startswith("Traceback (most recent call last):")
    assert "RuntimeError: boom with [redacted] and [redacted]" in err
    assert TOKEN.partition(":")[2] not in err and PSEUDONYM_KEY not in err


def test_ctrl_c_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "open_settings", interrupted)
    assert main(["flow", "diagram"]) == 130


def test_the_console_script_exits_with_mains_status(tmp_path: Path) -> None:
    import subprocess

    script = Path(sys.executable).parent / "iep-bot"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    env = {**os.environ, "TIMEZONE": "Nowhere/Nope", "DATABASE_PATH": str(tmp_path / "db")}
    done = subprocess.run(
        [*argv, "stats"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"{NO_SUCH_ZONE}\n"


def test_chat_runs_without_a_pseudonym_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`iep-bot chat` is the first thing a new engineer tries: no token, no key needed."""
    monkeypatch.chdir(tmp_path)  # no .env either
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))
    result = CliRunner().invoke(cli, ["chat"], input="1\n/quit\n", prog_name="iep-bot")
    assert result.exit_code == 0, result.output
    assert "Start the screening" in result.output and "How old is your child?" in result.output
