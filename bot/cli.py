"""iep-bot: a thin command line (click). Each command opens what it needs and calls one function.

The feature commands live beside their feature (bot/broadcast/cli.py, bot/stats/cli.py) and
are added here; they never import this module. Each command imports what it needs when it
runs: importing the command line loads click and little else, so `iep-bot --help` is quick
(Telegram, the database library and the content's YAML load only for commands that use them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.broadcast.cli import broadcast
from bot.cli_errors import Fail, setup_problems_fail, storage_problems_fail
from bot.db_cli import db
from bot.letters.cli import letter
from bot.logs import configure_logging
from bot.run_cli import run, status
from bot.stats.cli import export, stats
from bot.wiring import open_content, open_settings, open_storage

if TYPE_CHECKING:
    pass

log = logging.getLogger("iep_bot")
DIAGRAM_PATH = Path(__file__).resolve().parent.parent / "flows" / "screening.mmd"
TERMINAL_KEY = b"terminal-chat-only-never-used-for-telegram"
T = TypeVar("T")
CONTEXT = {"help_option_names": ["-h", "--help"]}


class _Root(click.Group):
    """The root group: a setup problem anywhere below, or a database or disk error while a
    command runs, is one line and exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order added: the order of the README

    def invoke(self, ctx: click.Context) -> Any:
        with setup_problems_fail(), storage_problems_fail():
            return super().invoke(ctx)


@click.group(name="iep-bot", cls=_Root, context_settings=CONTEXT)
def cli() -> None:
    """A Telegram bot that helps parents tell an IEP from a 504 plan.

    Example:

    \b
        iep-bot chat --lang es
    """


# --- commands ------------------------------------------------------------------------------

cli.add_command(run)
cli.add_command(status)


@cli.command(short_help="The screening in the terminal, no Telegram or token needed.")
@click.option("--lang", metavar="CODE", help="language code, for example en or es")
def chat(lang: str | None) -> None:
    """The screening in the terminal: same flow, content and storage, source 'terminal'.

    Example:

    \b
        iep-bot chat --lang es
    """
    from bot.parent.conversation import Chat
    from bot.terminal import TerminalChat
    from bot.wiring import Services

    settings = open_settings()
    configure_logging("WARNING")
    content = open_content(settings)
    if lang and lang not in content.languages:
        raise Fail(f"--lang {lang}: choose one of {', '.join(content.languages)}")
    storage = open_storage(settings)
    # The terminal needs no PSEUDONYM_KEY: without one, a key of its own (never Telegram's).
    settings = dataclasses.replace(settings, pseudonym_key=settings.pseudonym_key or TERMINAL_KEY)
    services = Services.build(settings, storage, content)
    conversation, key = services.conversation, services.pseudonymize("terminal")
    if lang:
        storage.set_language(key, lang)
    TerminalChat(conversation, Chat(key=key, language_hint=lang)).run()
    storage.close()


cli.add_command(db)


@cli.group(context_settings=CONTEXT)
def flow() -> None:
    """Screening flow commands.

    Example:

    \b
        iep-bot flow diagram > screening.mmd
    """


@flow.command()
@click.option("--write", is_flag=True, help=f"write {DIAGRAM_PATH.name} instead of printing")
def diagram(write: bool) -> None:
    """Print the screening machine as a Mermaid diagram (or write it with --write).

    Example:

    \b
        iep-bot flow diagram --write
    """
    from flows.diagram import mermaid

    text = mermaid(open_content(open_settings()).spec)
    if write:
        DIAGRAM_PATH.write_text(text, encoding="utf-8")
        click.echo(f"wrote {DIAGRAM_PATH}")
    else:
        click.echo(text, nl=False)


@cli.group(context_settings=CONTEXT)
def content() -> None:
    """Content commands.

    Example:

    \b
        iep-bot content check
    """


@content.command()
def check() -> None:
    """Validate the content; print every problem, exit 1 if there is one.

    Example:

    \b
        iep-bot content check
    """
    from bot.checks.content_check import check_content

    settings = open_settings()
    problems = check_content(settings.content_dir)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) found in {settings.content_dir}")
        raise click.exceptions.Exit(1)
    loaded = open_content(settings)
    click.echo(
        f"content OK: {len(loaded.spec.questions)} questions, "
        f"{len(loaded.spec.outcomes)} outcomes, languages {', '.join(loaded.languages)}"
    )


# Commands that live beside their feature (run and db: bot/run_cli.py, bot/db_cli.py).
cli.add_command(broadcast)
cli.add_command(stats)
cli.add_command(export)
cli.add_command(letter)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status; the console script exits with it.

    0 on success, 1 when `content check` finds problems, 2 for a one-line problem, a usage
    error or a bug, 130 on Ctrl-C. Errors go to stderr as one line, never a traceback (a bug's
    traceback only with LOG_LEVEL=DEBUG, secrets redacted).
    """
    # Durations from PTB as timedelta (PTB 23's default); the broadcast engine handles both.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="iep-bot",
            standalone_mode=False,
        )
    except click.UsageError as exc:  # one line: what is wrong, and where the help is
        where = exc.ctx.command_path if exc.ctx is not None else "iep-bot"
        said = " ".join(exc.format_message().split()).rstrip(".")
        click.echo(f"{said}. Help: {where} --help", err=True)
        return exc.exit_code
    except click.ClickException as exc:  # Fail: its one line
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):  # Ctrl-C (click turns it into Abort)
        return 130
    except BrokenPipeError:  # whoever read our output stopped (iep-bot stats | head)
        with contextlib.suppress(OSError, ValueError):
            # Python would complain when it flushes stdout at exit; there is no one to tell.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as if killed by SIGPIPE, as other command-line tools end
    except Exception as exc:  # a bug: one line, the details when asked for
        _report_bug(exc)
        return 2
    return result if isinstance(result, int) else 0


def _report_bug(exc: Exception) -> None:
    """The exception's type in one line; with LOG_LEVEL=DEBUG its traceback before it,
    every secret setting redacted (an exception's message may hold anything, even the token)."""
    import traceback

    from bot.config import raw_settings, secret_values

    try:
        values = raw_settings()
    except Exception:  # an unreadable .env: the environment alone
        values = dict(os.environ)
    kind = type(exc).__qualname__
    if type(exc).__module__ != "builtins":
        kind = f"{type(exc).__module__}.{kind}"
    more = "Run again with LOG_LEVEL=DEBUG to see the details."
    if values.get("LOG_LEVEL", "").strip().upper() == "DEBUG":
        details = "".join(traceback.format_exception(exc))
        for secret in secret_values(values):
            details = details.replace(secret, "[redacted]")
        click.echo(details.rstrip(), err=True)
        more = "The details are above."
    click.echo(
        f"Unexpected error: {kind} (a bug in iep-bot, or something it did not expect). {more}",
        err=True,
    )
