"""iep-bot: a thin command line. Each command opens what it needs and calls one function."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import Settings, SettingsError, load_settings
from bot.content import Content, load_content
from bot.logs import configure_logging
from bot.storage import Storage
from flows.spec import ContentError

log = logging.getLogger("iep_bot")
DIAGRAM_PATH = Path(__file__).resolve().parent.parent / "flows" / "screening.mmd"
TERMINAL_KEY = b"terminal-chat-only-never-used-for-telegram"

Command = Callable[[argparse.Namespace], int]


class Fail(Exception):
    """A problem to print as one line (exit status 2), never a traceback."""


def _settings(*, require_token: bool = False) -> Settings:
    try:
        return load_settings(require_token=require_token)
    except SettingsError as exc:
        raise Fail(f"Setting problem: {exc}") from None


def _content(settings: Settings) -> Content:
    try:
        return load_content(settings.content_dir)
    except ContentError as exc:
        raise Fail(f"Content problem: {exc}") from None


def _storage(settings: Settings) -> Storage:
    storage = Storage(settings.database_path)
    storage.migrate()
    return storage


# --- commands ------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot with long polling until stopped."""
    from telegram import Update

    from bot.tg.app import build_application

    settings = _settings(require_token=True)
    configure_logging(settings.log_level, secrets=[settings.token or ""])
    content = _content(settings)
    storage = _storage(settings)
    app = build_application(settings, storage, content)
    expired = app.bot_data["services"].conversation.expire_all()
    log.info(
        "starting: %d languages, database %s, %d expired screenings logged",
        len(content.languages),
        settings.database_path,
        expired,
    )
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    storage.close()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """The screening in the terminal: same flow, content and storage, source 'terminal'."""
    from bot.parent.conversation import Chat, Conversation
    from bot.storage import Pseudonymizer
    from bot.terminal import TerminalChat
    from flows.screening import Screening

    settings = _settings()
    configure_logging("WARNING")
    content = _content(settings)
    if args.lang and args.lang not in content.languages:
        raise Fail(f"--lang {args.lang}: choose one of {', '.join(content.languages)}")
    storage = _storage(settings)
    conversation = Conversation(content, storage, settings, Screening(content.spec))
    key = Pseudonymizer(settings.pseudonym_key or TERMINAL_KEY)("terminal")
    if args.lang:
        storage.set_language(key, args.lang)
    TerminalChat(conversation, Chat(key=key, language_hint=args.lang)).run()
    storage.close()
    return 0


def cmd_db_migrate(args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    settings = _settings()
    storage = Storage(settings.database_path)
    applied = storage.migrate()
    print(
        f"{settings.database_path}: "
        + (f"applied {', '.join(applied)}" if applied else "up to date")
    )
    storage.close()
    return 0


def cmd_flow_diagram(args: argparse.Namespace) -> int:
    """Print the screening machine as a Mermaid diagram (or write it with --write)."""
    from flows.diagram import mermaid

    content = _content(_settings())
    text = mermaid(content.spec)
    if args.write:
        DIAGRAM_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {DIAGRAM_PATH}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_content_check(args: argparse.Namespace) -> int:
    """Validate the content; print every problem, exit 1 if there is one."""
    from bot.checks.content_check import check_content

    settings = _settings()
    problems = check_content(settings.content_dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found in {settings.content_dir}")
        return 1
    content = load_content(settings.content_dir)
    print(
        f"content OK: {len(content.spec.questions)} questions, "
        f"{len(content.spec.outcomes)} outcomes, languages {', '.join(content.languages)}"
    )
    return 0


# --- the parser ----------------------------------------------------------------------------


def _add(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    func: Command,
    example: str,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=(func.__doc__ or "").strip(),
        description=(func.__doc__ or "").strip(),
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def group(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    description: str,
    example: str,
) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """A command with subcommands (`iep-bot db migrate`); returns where to add them."""
    parser = sub.add_parser(
        name,
        help=description.rstrip(".").lower(),
        description=description,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iep-bot",
        description="A Telegram bot that helps parents tell an IEP from a 504 plan.",
        epilog="example:\n  iep-bot chat --lang es",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add(sub, "run", cmd_run, "TELEGRAM_BOT_TOKEN=123:abc... iep-bot run")
    chat = _add(sub, "chat", cmd_chat, "iep-bot chat --lang es")
    chat.add_argument("--lang", help="language code, for example en or es")

    db = group(sub, "db", "Database commands.", "iep-bot db migrate")
    _add(db, "migrate", cmd_db_migrate, "DATABASE_PATH=/data/bot.sqlite3 iep-bot db migrate")
    flow = group(sub, "flow", "Screening flow commands.", "iep-bot flow diagram > screening.mmd")
    diagram = _add(flow, "diagram", cmd_flow_diagram, "iep-bot flow diagram --write")
    diagram.add_argument("--write", action="store_true", help=f"write {DIAGRAM_PATH.name}")
    content = group(sub, "content", "Content commands.", "iep-bot content check")
    _add(content, "check", cmd_content_check, "iep-bot content check")

    for register in _feature_commands():
        register(sub, _add)
    return parser


def _feature_commands() -> list[Callable[..., None]]:
    """Commands that live beside their feature (stats, broadcast), registered here."""
    from bot.broadcast import cli as broadcast_cli
    from bot.stats import cli as stats_cli

    return [broadcast_cli.register, stats_cli.register]


def main(argv: Sequence[str] | None = None) -> int:
    # Durations from PTB as timedelta (PTB 23's default); bot/broadcast.py handles both.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except Fail as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
