"""Commands a parent can use at any point: /start, /help, /restart, /privacy, /language, /forget."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import chat_of, send
from bot.services import services


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome and menu; records a deep-link payload as the source."""
    svc = services(context)
    payload = context.args[0] if context.args else None
    await send(update, context, svc.conversation.start(chat_of(update, svc), payload))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot does and its commands."""
    svc = services(context)
    await send(update, context, svc.conversation.help(chat_of(update, svc)))


async def restart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start the screening again from the first question."""
    svc = services(context)
    await send(update, context, svc.conversation.restart(chat_of(update, svc)))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What we keep and what we never keep."""
    svc = services(context)
    await send(update, context, svc.conversation.privacy(chat_of(update, svc)))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the languages we have."""
    svc = services(context)
    await send(update, context, svc.conversation.languages(chat_of(update, svc)))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete the saved place and language choice for this chat."""
    svc = services(context)
    await send(update, context, svc.conversation.forget(chat_of(update, svc)))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any command we do not know (staff commands included, for non-staff)."""
    svc = services(context)
    await send(update, context, svc.conversation.unknown_command(chat_of(update, svc)))
