"""The command line: every command documented with an example; one-line failures."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


def test_every_command_has_help_with_an_example() -> None:
    commands = list(_commands(build_parser()))
    names = {" ".join(path) for path, _ in commands}
    assert {"run", "chat", "db migrate", "flow diagram", "content check"} <= names
    for path, sub in commands:
        text = sub.format_help()
        assert "example:" in text and "iep-bot" in text, path
        assert sub.description, path


def test_readme_lists_every_top_level_command() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for path, _ in _commands(build_parser()):
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


def test_content_check_reports_problems_with_exit_1(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "screening.yaml").write_text("start: nowhere\nquestions: {}\n")
    (tmp_path / "en").mkdir()
    monkeypatch.setenv("CONTENT_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["content", "check"]) == 1
    assert "screening.yaml" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["flow", "diagram"]])
def test_flow_diagram_prints_mermaid(argv, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("---")
