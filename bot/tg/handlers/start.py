"""Commands a parent can use at any point: /start, /help, /restart, /privacy, /language, /forget."""

from __future__ import annotations

from telegram.ext import ContextTypes

from bot.parent.conversation import Chat, Conversation
from bot.tg.handlers.common import replies
from bot.views import Reply


@replies
def start(conversation: Conversation, chat: Chat, context: ContextTypes.DEFAULT_TYPE) -> Reply:
    """Welcome and menu; records a deep-link payload as the source."""
    return conversation.start(chat, context.args[0] if context.args else None)


@replies
def help_command(conversation: Conversation, chat: Chat, _: ContextTypes.DEFAULT_TYPE) -> Reply:
    """What the bot does and its commands."""
    return conversation.help(chat)


@replies
def restart(conversation: Conversation, chat: Chat, _: ContextTypes.DEFAULT_TYPE) -> Reply:
    """Start the screening again from the first question."""
    return conversation.restart(chat)


@replies
def privacy(conversation: Conversation, chat: Chat, _: ContextTypes.DEFAULT_TYPE) -> Reply:
    """What we keep and what we never keep."""
    return conversation.privacy(chat)


@replies
def language(conversation: Conversation, chat: Chat, _: ContextTypes.DEFAULT_TYPE) -> Reply:
    """Offer the languages we have."""
    return conversation.languages(chat)


@replies
def forget(conversation: Conversation, chat: Chat, _: ContextTypes.DEFAULT_TYPE) -> Reply:
    """Delete the saved place and language choice for this chat."""
    return conversation.forget(chat)


@replies
def unknown_command(conversation: Conversation, chat: Chat, _: ContextTypes.DEFAULT_TYPE) -> Reply:
    """Any command we do not know (staff commands included, for non-staff)."""
    return conversation.unknown_command(chat)
