"""The one application error handler: log without personal data, tell the parent kindly,
alert staff (once per kind of error an hour, bot/tg/alerts.py).

Errors with no update come from polling itself: a 409 Conflict (another process polls with
this token) stops the bot with one line; network trouble is one line each time, because
PTB keeps retrying by itself.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Conflict, Forbidden, NetworkError, TelegramError

from bot.busy import DatabaseBusy, is_busy
from bot.delivery import Outgoing, Priority
from bot.logs import log_failure
from bot.tg.context import BotContext

log = logging.getLogger(__name__)
CONFLICT = (
    "Stopped: Telegram says another program is reading this bot's updates (409 Conflict)."
    " Only one iep-bot may run per bot token; stop the other one, then start this again."
)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (type and place only) and apologise to the parent if we can."""
    error = context.error
    if error is not None:
        context.app.health.note_error(type(error).__name__)
    if update is None:
        _polling_error(error, context)
        return
    if isinstance(error, DatabaseBusy):
        log.warning("database busy for too long; the parent was asked to try again")
    else:
        # Never log the update: it holds names, ids and whatever the parent typed.
        _log_with_traceback("error while handling an update", error)
        if error is not None and not isinstance(error, Forbidden):
            context.app.alerts.report(error, "update")
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return  # the parent blocked the bot: nothing can reach them
    key = "busy" if isinstance(error, DatabaseBusy) else "error"
    text = context.services.content.pack(context.who.lang).t(key)
    # A message rather than a callback answer: the press was usually answered already.
    try:
        apology = await context.sender.send(Outgoing(context.who.chat_id, text), Priority.REPLY)
    except TelegramError:  # the error may be Telegram itself being unreachable
        log.warning("could not tell the parent about the error")
        return
    if not apology.ok:
        log.warning("could not tell the parent about the error")


def _polling_error(error: BaseException | None, context: BotContext) -> None:
    """Errors from getUpdates and from jobs: one line each, a Conflict stops the bot."""
    if isinstance(error, Conflict):
        context.app.stop_because(CONFLICT)
    elif isinstance(error, NetworkError):  # TimedOut included; PTB retries by itself
        log.warning("Telegram unreachable while polling: %s", type(error).__name__)
    elif isinstance(error, DatabaseBusy) or (error is not None and is_busy(error)):
        log.warning("database busy during a scheduled job; it runs again next time")
    else:
        _log_with_traceback("error outside an update", error)
        if error is not None:
            context.app.alerts.report(error, "job")


def _log_with_traceback(what: str, error: BaseException | None) -> None:
    """One line naming the error type and place; its traceback at DEBUG (never the update)."""
    if error is None:
        log.error("%s, with no exception", what)
    else:
        log_failure(log, what, error)
