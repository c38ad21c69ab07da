"""Commands a parent can use at any point: /start, /help, /restart, /privacy, /language, /forget."""

from __future__ import annotations

from bot.parent.conversation import Chat, Conversation
from bot.tg.context import BotContext
from bot.tg.handlers.common import replies
from bot.views import Reply


@replies
def start(conversation: Conversation, chat: Chat, context: BotContext) -> Reply:
    """Welcome and menu; records a deep-link payload as the source."""
    # All the words: a deep link carries exactly one, so parse_source calls several (typed by
    # the parent, maybe their child's name) "unknown" and keeps none of them.
    return conversation.start(chat, " ".join(context.args) if context.args else None)


@replies
def help_command(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """What the bot does and its commands."""
    return conversation.help(chat)


@replies
def restart(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """Start the screening again from the first question."""
    return conversation.restart(chat)


@replies
def privacy(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """What we keep and what we never keep."""
    return conversation.privacy(chat)


@replies
def language(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """Offer the languages we have."""
    return conversation.languages(chat)


@replies
def forget(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """Delete the saved place and language choice for this chat."""
    return conversation.forget(chat)
