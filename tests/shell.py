"""An operator's shell in-process: the test settings in the environment, `iep-bot ARGS` run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.killharness import bot_env


def operator_shell(
    monkeypatch: pytest.MonkeyPatch, workdir: Path, db_path: Path, **settings: str
) -> None:
    """Work in `workdir` (no developer .env) with an operator's settings, plus `settings`."""
    monkeypatch.chdir(workdir)
    for name, value in bot_env(db_path, **settings).items():
        monkeypatch.setenv(name, value)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`iep-bot ARGV` as the console script runs it: exit status, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
