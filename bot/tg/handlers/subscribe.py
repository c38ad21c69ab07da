"""Tip subscriptions: /subscribe, and /stop or /unsubscribe at any time."""

from __future__ import annotations

from telegram.ext import ContextTypes

from bot.parent.conversation import Chat, Conversation
from bot.tg.handlers.common import replies
from bot.views import Reply


@replies
def subscribe(conversation: Conversation, chat: Chat, _: ContextTypes.DEFAULT_TYPE) -> Reply:
    """Offer a short tip every week or two."""
    return conversation.subscribe(chat)


@replies
def stop(conversation: Conversation, chat: Chat, _: ContextTypes.DEFAULT_TYPE) -> Reply:
    """Stop the tips at once and delete the subscription."""
    return conversation.unsubscribe(chat)
