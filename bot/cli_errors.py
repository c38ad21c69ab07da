"""One-line failures for the command line, shared by bot.cli and the feature CLIs.

bot/cli.py imports the feature CLIs (bot/broadcast/cli.py, bot/stats/cli.py); they import
this module, never bot.cli, so there is no cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
