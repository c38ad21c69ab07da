"""Button presses and anything typed or sent where a button is expected."""

from __future__ import annotations

import logging

from telegram import Update

from bot.tg.context import BotContext
from bot.tg.handlers.common import verified_action
from bot.tg.handlers.letters import show

log = logging.getLogger(__name__)


async def button(update: Update, context: BotContext) -> None:
    """Decode and verify the button, then let the conversation act on it."""
    action = await verified_action(update, context)
    if action is not None:
        await show(update, context, context.services.conversation.press(context.who.chat, action))


async def anything_else(update: Update, context: BotContext) -> None:
    """Free text (a letter's detail, when one is asked), stickers, photos, voice notes,
    edits: a kind reply and where we are. Never logged: it may be a child's name."""
    message = update.effective_message
    text = message.text or message.caption if message else None
    edited = update.edited_message is not None or update.edited_channel_post is not None
    reply = context.services.conversation.text(context.who.chat, text, edited=edited)
    await show(update, context, reply)
