"""The one application error handler: log without personal data, tell the parent kindly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.wiring import services

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
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
    svc = services(context)
    user = update.effective_user
    chat = svc.chat(update.effective_chat.id, user.language_code if user else None)
    text = svc.content.pack(svc.conversation.language_of(chat)).t("error")
    try:
        # A message rather than a callback answer: the press was usually answered already.
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError:
        log.warning("could not tell the parent about the error")
