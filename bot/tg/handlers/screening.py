"""Button presses and anything typed or sent where a button is expected."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.callbacks import ForgedCallback
from bot.tg.handlers.common import chat_of, send
from bot.wiring import services

log = logging.getLogger(__name__)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Decode and verify the button, then let the conversation act on it."""
    svc = services(context)
    query = update.callback_query
    assert query is not None
    chat = chat_of(update, svc)
    try:
        action = svc.codec.decode(query.data)
    except ForgedCallback as exc:
        log.warning("rejected callback data: %s", exc)
        await send(update, context, svc.conversation.stale(chat))
        return
    await send(update, context, svc.conversation.press(chat, action))


async def anything_else(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text, stickers, photos, voice notes, edits: a kind reply and where we are."""
    svc = services(context)
    message = update.effective_message
    text = message.text or message.caption if message else None
    await send(update, context, svc.conversation.text(chat_of(update, svc), text))
