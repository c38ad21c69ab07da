"""Handlers that run before all others: duplicate deliveries and private chats only."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.services import services

log = logging.getLogger(__name__)


async def drop_duplicates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop an update Telegram delivers a second time, so nothing counts twice."""
    if not services(context).storage.claim_update(update.update_id):
        log.info("skipped a repeated delivery of an update")
        raise ApplicationHandlerStop


async def private_chats_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The screening is one-to-one; in groups, answers would be seen by others."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        raise ApplicationHandlerStop
