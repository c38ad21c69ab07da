"""Tip subscriptions: /subscribe, and /stop or /unsubscribe at any time."""

from __future__ import annotations

from bot.parent.conversation import Chat, Conversation
from bot.tg.context import BotContext
from bot.tg.handlers.common import replies
from bot.views import Reply


@replies
def subscribe(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """Offer a short tip every week or two."""
    return conversation.subscribe(chat)


@replies
def stop(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """Stop the tips at once and delete the subscription."""
    return conversation.unsubscribe(chat)
