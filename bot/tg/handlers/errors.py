"""The one application error handler: log without personal data, tell the parent kindly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.delivery import Outgoing, Priority
from bot.tg.context import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (type and place only) and apologise to the parent if we can."""
    error = context.error
    # Never log the update: it holds names, ids and whatever the parent typed.
    log.error(
        "error while handling an update: %s",
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return  # the parent blocked the bot: nothing can reach them
    text = context.services.content.pack(context.who.lang).t("error")
    # A message rather than a callback answer: the press was usually answered already.
    try:
        apology = await context.sender.send(Outgoing(context.who.chat_id, text), Priority.REPLY)
    except TelegramError:  # the error may be Telegram itself being unreachable
        log.warning("could not tell the parent about the error")
        return
    if not apology.ok:
        log.warning("could not tell the parent about the error")
