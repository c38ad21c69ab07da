"""Commands a parent can use at any point: /start, /help, /restart, /privacy, /language, /forget."""

from __future__ import annotations

from bot.parent.conversation import Chat, Conversation
from bot.tg.context import BotContext
from bot.tg.handlers.common import replies
from bot.views import Reply


@replies
def start(conversation: Conversation, chat: Chat, context: BotContext) -> Reply:
    """Welcome and menu; records a deep-link payload as the source."""
    # All the words: only a source in content/sources.yaml is kept, and a deep link carries
    # exactly one word, so several (typed by the parent, maybe a name and a phone number) are
    # stored as "other", none of them kept.
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
    """Delete everything kept about this chat: saved place, language, tips, deadline,
    check-in, a letter being written."""
    return conversation.forget(chat)
