"""One-line failures for the command line, shared by bot.cli and the feature CLIs.

bot/cli.py imports the feature CLIs (bot/broadcast/cli.py, bot/stats/cli.py); they import
this module, never bot.cli, so there is no cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from bot.wiring import SetupProblem


class Fail(click.ClickException):
    """A problem to print as one line (exit status 2), never a traceback."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        # The message alone: no "Error: " prefix, no usage line (that is for usage errors).
        click.echo(self.format_message(), file=file, err=True)


@contextmanager
def setup_problems_fail() -> Iterator[None]:
    """Turn a SetupProblem (a setting, content or database problem) raised inside into Fail."""
    try:
        yield
    except SetupProblem as exc:
        raise Fail(str(exc)) from None


@contextmanager
def storage_problems_fail() -> Iterator[None]:
    """Turn a database or disk error raised inside (a command reading or writing the database
    after it opened, a full disk) into Fail, in the words open_storage uses."""
    try:
        yield
    except Exception as exc:
        # Loaded only when something failed: importing the command line stays light.
        from bot.db_errors import is_storage_error, storage_problem

        if not is_storage_error(exc):
            raise
        raise Fail(storage_problem(exc, _configured_database_path())) from None


def _configured_database_path() -> Path | None:
    """DATABASE_PATH as the command read it, to name the file (None if settings are bad)."""
    from bot.config import SettingsError, load_settings

    try:
        return load_settings().database_path
    except SettingsError:
        return None
