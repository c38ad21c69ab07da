"""Small helpers shared by the handlers: who is talking, and sending a Reply back."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.parent.conversation import Chat, Conversation
from bot.tg.render import deliver
from bot.views import Reply
from bot.wiring import Services, services


def chat_of(update: Update, svc: Services) -> Chat:
    user = update.effective_user
    assert update.effective_chat is not None
    return svc.chat(update.effective_chat.id, user.language_code if user else None)


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Show a Reply in the chat the update came from (answering a button press first)."""
    assert update.effective_chat is not None
    await deliver(
        reply,
        bot=context.bot,
        chat_id=update.effective_chat.id,
        codec=services(context).codec,
        query=update.callback_query,
    )


ConversationStep = Callable[[Conversation, Chat, ContextTypes.DEFAULT_TYPE], Reply]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def replies(step: ConversationStep) -> Handler:
    """Turn `step(conversation, chat, context) -> Reply` into a handler that shows the Reply."""

    @functools.wraps(step)
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        svc = services(context)
        await send(update, context, step(svc.conversation, chat_of(update, svc), context))

    return handler
