"""`iep-bot run`: the bot itself, with long polling, until stopped."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from bot.cli_errors import Fail
from bot.logs import configure_logging
from bot.wiring import open_content, open_settings, open_storage

if TYPE_CHECKING:
    from bot.lease import Lease
    from bot.storage import Storage

log = logging.getLogger("iep_bot")
T = TypeVar("T")
# A second `iep-bot run` waits this long for the first to stop (a deploy overlap); longer than
# the lease's TTL (30 s, bot/lease.py), so a crashed first one's lease runs out meanwhile.
# A number, not TTL + 15: bot.lease loads the database library (tests/test_startup.py checks).
LEASE_WAIT = 45.0


@click.command()
def run() -> None:
    """Run the bot with long polling until stopped.

    Example:

    \b
        TELEGRAM_BOT_TOKEN=123:abc... iep-bot run
    """
    from telegram import Update

    from bot.busy import STATEMENT_WAIT
    from bot.tg.app import build_application

    settings = open_settings(require_token=True)
    configure_logging(settings.log_level, secrets=[settings.token or ""])
    content = open_content(settings)
    storage = open_storage(settings)
    lease = _take_lease(storage)
    # From here on a statement blocks the event loop (every parent) for at most this long;
    # longer waits happen between tries, asynchronously (bot/busy.py).
    storage.wait_at_most(STATEMENT_WAIT)
    app = build_application(settings, storage, content, lease=lease)
    expired = app.services.conversation.expire_all()
    log.info(
        "starting: %d languages, database %s, %d expired screenings logged",
        len(content.languages),
        settings.database_path,
        expired,
    )
    try:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    finally:
        lease.release()
        storage.close()
    if app.stop_reason is not None:
        raise Fail(app.stop_reason)


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
