"""`iep-bot run`: the bot itself, by long polling or webhook, until stopped; `iep-bot status`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click

from bot.cli_errors import Fail
from bot.logs import configure_logging
from bot.wiring import open_content, open_settings, open_storage

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.lease import Lease
    from bot.storage import Storage

log = logging.getLogger("iep_bot")
T = TypeVar("T")
# A second `iep-bot run` waits this long for the first to stop (a deploy overlap); longer than
# the lease's TTL (30 s, bot/lease.py), so a crashed first one's lease runs out meanwhile.
# A number, not TTL + 15: bot.lease loads the database library (tests/test_startup.py checks).
LEASE_WAIT = 45.0
DEFAULT_API_URL = "https://api.telegram.org"  # bot/config.py's default for TELEGRAM_API_URL


@click.command()
@click.option(
    "--webhook",
    is_flag=True,
    help="take updates by webhook on $PORT (needs WEBHOOK_URL; setting it alone does the same)",
)
def run(webhook: bool) -> None:
    """Run the bot until stopped: long polling, or a webhook when WEBHOOK_URL is set.

    Example:

    \b
        TELEGRAM_BOT_TOKEN=123:abc... iep-bot run
        WEBHOOK_URL=https://iep-bot.fly.dev/telegram iep-bot run --webhook
    """
    from telegram.error import TelegramError

    from bot.busy import STATEMENT_WAIT
    from bot.db_cli import prepare_database
    from bot.tg.app import Polling, build_application

    settings = open_settings(require_token=True)
    if webhook and settings.webhook_url is None:
        raise Fail(
            "--webhook needs WEBHOOK_URL: the https address Telegram should post updates to,"
            " such as https://your-app.fly.dev/telegram (see docs/deploy.md)"
        )
    mode: Literal["polling", "webhook"] = "webhook" if settings.webhook_url else "polling"
    secrets = [settings.token or "", settings.pseudonym_key.decode(errors="replace")]
    if mode == "webhook":
        secrets.append(settings.webhook_secret_token)
    configure_logging(settings.log_level, secrets=secrets, json_lines=settings.log_format == "json")
    content = open_content(settings)
    storage = open_storage(settings)
    # Before the lease: a bot started with another PSEUDONYM_KEY stops at once, with one line.
    prepare_database(storage, settings, content)
    lease = _take_lease(storage)
    # From here on a statement blocks the event loop (every parent) for at most this long;
    # longer waits happen between tries, asynchronously (bot/busy.py).
    storage.wait_at_most(STATEMENT_WAIT)
    try:
        app = build_application(settings, storage, content, lease=lease, mode=mode)
        expired = app.services.conversation.expire_all()
        announce = (
            f"starting ({mode}): {len(content.languages)} languages, database"
            f" {settings.database_path}, {expired} expired screenings logged",
            staff_line(settings),
            *storage.notes,
        )
        if mode == "webhook":
            from bot.tg.webhook import WebhookProblem, WebhookServer

            try:
                server = WebhookServer(app, settings)
                asyncio.run(app.run_until_stopped(server, announce=announce))
            except WebhookProblem as exc:
                raise Fail(str(exc)) from None
        else:
            asyncio.run(app.run_until_stopped(Polling(app), announce=announce))
    except TelegramError as exc:  # refused or unreachable while starting (getMe, the webhook)
        raise Fail(telegram_problem(exc, settings)) from None
    finally:
        lease.release()
        storage.close()
    if app.stop_reason is not None:
        raise Fail(app.stop_reason)


def staff_line(settings: Settings) -> str:
    """How many staff ids are set: a mistyped STAFF_IDS shows here first."""
    count = len(settings.staff_ids)
    if count == 0:
        return (
            "no staff ids set (STAFF_IDS): staff commands are off; anyone can send /whoami"
            " to the bot to learn their id"
        )
    return f"{count} staff id{'s' if count != 1 else ''} set (STAFF_IDS); /whoami confirms one"


def telegram_problem(exc: Exception, settings: Settings) -> str:
    """One line naming what Telegram (or the way to it) said, and what to do; never the token,
    never the exception's own words (PTB puts the token in some)."""
    from telegram.error import EndPointNotFound, InvalidToken, NetworkError

    api = _shown(settings.api_url)
    if isinstance(exc, InvalidToken | EndPointNotFound):
        line = (
            "Telegram refused TELEGRAM_BOT_TOKEN (revoked or mistyped): copy it again from"
            " @BotFather"
        )
        if settings.api_url != DEFAULT_API_URL:
            line += f" (or TELEGRAM_API_URL {api} is not a Bot API server)"
        return line
    if isinstance(exc, NetworkError):  # TimedOut included
        return f"Could not reach Telegram at {api}: check the network; the bot did not start"
    return (
        f"Telegram at {api} answered in a way the bot did not expect ({type(exc).__name__}):"
        " check TELEGRAM_API_URL; the bot did not start"
    )


def _shown(url: str) -> str:
    """A URL without any user:password in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="the figures as one JSON object")
def status(as_json: bool) -> None:
    """Is the bot running? One line from its heartbeat; exit status 0 only if it is.

    Works in both modes from any process that sees the database: a cron job, the
    container's HEALTHCHECK, `fly ssh console -C "iep-bot status"`. Exit status 1: not
    running (never ran, stopped, or no heartbeat for 30 s: crashed, frozen or killed).

    Example:

    \b
        iep-bot status --json
    """
    import json
    import sqlite3

    from bot.health import Report, report_from_db
    from bot.readonly import connect_readonly

    settings = open_settings()
    path = settings.database_path
    now = time.time()
    if not path.exists():
        report = Report("never", now)
        line = f"never ran: no database at {path} (is DATABASE_PATH the one `iep-bot run` uses?)"
    else:
        # Read-only: a monitor never creates, migrates or locks the bot's database.
        try:
            with contextlib.closing(connect_readonly(path)) as db:
                report = report_from_db(db, now)
        except sqlite3.DatabaseError as exc:
            raise Fail(f"Database problem: {path} could not be read ({exc})") from None
        line = report.line(settings.tz)
    if as_json:
        click.echo(json.dumps(report.as_json(settings.tz)))
    else:
        click.echo(line)
    raise click.exceptions.Exit(0 if report.ok else 1)


def _patiently(step: Callable[[], T]) -> T:
    """A start-up step that waits while another program holds the database's lock."""
    from bot.busy import DatabaseBusy, wait_for_database

    try:
        return wait_for_database(step)
    except DatabaseBusy:
        raise Fail(
            "Database problem: it stayed locked by another program (another iep-bot, a"
            " backup?). Stop it, then try again."
        ) from None


def _take_lease(storage: Storage) -> Lease:
    """One running bot per database: wait for another one's lease to end (a deploy overlap),
    then give up with one line."""
    from bot.lease import Lease

    lease = Lease(storage)
    deadline = time.monotonic() + LEASE_WAIT
    told = False
    while (holder := _patiently(lease.acquire)) is not None:
        if time.monotonic() >= deadline:
            raise Fail(
                f"Another iep-bot is running on this database ({holder.name}). Only one may"
                " run at a time; stop it, or wait until it has stopped."
            )
        if not told:
            log.warning(
                "another iep-bot (%s) holds this database; waiting up to %.0f s for it to stop",
                holder.name,
                LEASE_WAIT,
            )
            told = True
        time.sleep(1.0)
    return lease
