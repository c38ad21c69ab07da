"""The handler that runs before all others: private chats only, and each update once."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.wiring import services

log = logging.getLogger(__name__)


async def admit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop group updates and repeated deliveries before any handler sees them."""
    chat = update.effective_chat
    # The screening is one-to-one: in a group, a parent's answers would be seen by others.
    if chat is None or chat.type != ChatType.PRIVATE:
        raise ApplicationHandlerStop
    # Telegram may deliver an update twice (retries, a restart before the offset was
    # confirmed); the second copy must not count or answer twice.
    if not services(context).storage.claim_update(update.update_id):
        log.info("skipped a repeated delivery of an update")
        raise ApplicationHandlerStop
