"""Button presses and anything typed or sent where a button is expected."""

from __future__ import annotations

import logging

from telegram import Update

from bot.callbacks import ForgedCallback
from bot.tg.context import BotContext
from bot.tg.handlers.common import send

log = logging.getLogger(__name__)


async def button(update: Update, context: BotContext) -> None:
    """Decode and verify the button, then let the conversation act on it."""
    svc, chat = context.services, context.who.chat
    assert update.callback_query is not None
    try:
        action = svc.codec.decode(update.callback_query.data)
    except ForgedCallback as exc:
        log.warning("rejected callback data: %s", exc)
        await send(update, context, svc.conversation.stale(chat))
        return
    await send(update, context, svc.conversation.press(chat, action))


async def anything_else(update: Update, context: BotContext) -> None:
    """Free text, stickers, photos, voice notes, edits: a kind reply and where we are."""
    message = update.effective_message
    text = message.text or message.caption if message else None
    await send(update, context, context.services.conversation.text(context.who.chat, text))
