"""Gates: private chats only and each update once (before every handler), and staff only."""

from __future__ import annotations

import functools
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.tg.context import BotContext
from bot.tg.handlers.common import Handler, send

log = logging.getLogger(__name__)


async def admit(update: Update, context: BotContext) -> None:
    """Stop group updates and repeated deliveries before any handler sees them."""
    chat = update.effective_chat
    # The screening is one-to-one: in a group, a parent's answers would be seen by others.
    if chat is None or chat.type != ChatType.PRIVATE:
        raise ApplicationHandlerStop
    # Telegram may deliver an update twice while this process runs (a webhook retried);
    # the second copy must not count or answer twice. After a restart it is handled: the
    # process that had it is gone (bot/tg/updates.py RecentUpdates).
    if not context.app.recent_updates.first_time(update.update_id):
        log.info("skipped a repeated delivery of an update")
        raise ApplicationHandlerStop


async def unknown_command(update: Update, context: BotContext) -> None:
    """Any command we do not know (staff commands included, for anyone not on staff)."""
    reply = context.services.conversation.unknown_command(context.who.chat)
    await send(update, context, reply)


def staff_only(handler: Handler) -> Handler:
    """The one staff gate: for anyone not in STAFF_IDS, answer exactly like an unknown command,
    so staff features cannot even be discovered (commands and buttons, forged ones too)."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        if not context.who.is_staff:
            if context.who.user_id is not None:
                # Their id is not logged: a staff member whose id is missing or mistyped can
                # send /whoami, which tells them (and only them) the id to add.
                log.info(
                    "a staff command or button from someone not in STAFF_IDS"
                    " (staff: /whoami shows the id to add)"
                )
            await unknown_command(update, context)
            return
        await handler(update, context)

    return guarded
