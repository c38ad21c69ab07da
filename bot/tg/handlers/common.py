"""Small helpers shared by the handlers: showing a Reply, and turning a step into a handler."""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from bot.busy import is_busy
from bot.callbacks import Action, ForgedCallback
from bot.parent.conversation import Chat, Conversation
from bot.tg.context import BotContext
from bot.tg.render import deliver
from bot.views import Reply

log = logging.getLogger(__name__)
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
ConversationStep = Callable[[Conversation, Chat, BotContext], Reply]


async def send(update: Update, context: BotContext, reply: Reply) -> None:
    """Show a Reply in the chat the update came from (answering a button press first)."""
    shown = await deliver(
        reply, sender=context.sender, chat_id=context.who.chat_id, query=update.callback_query
    )
    if shown and reply.result_of is not None:
        try:
            context.services.conversation.result_seen(context.who.chat, reply.result_of)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            # The parent has the result; at worst it is shown once more later. Never tell
            # them "busy, try again" about an answer that went through.
            log.warning("database busy: a shown result stays marked unshown")


def replies(step: ConversationStep) -> Handler:
    """Turn `step(conversation, chat, context) -> Reply` into a handler that shows the Reply."""

    @functools.wraps(step)
    async def handler(update: Update, context: BotContext) -> None:
        reply = step(context.services.conversation, context.who.chat, context)
        await send(update, context, reply)

    return handler


async def verified_action(
    update: Update,
    context: BotContext,
    kind: str | None = None,
    *,
    valid: Callable[[Action], bool] = lambda _action: True,
) -> Action | None:
    """The pressed button's Action, verified (of `kind`, and `valid`, when given); for a
    forged, stale or malformed one, the parent is shown where they are and None returned."""
    assert update.callback_query is not None
    svc = context.services
    try:
        action = svc.codec.decode(update.callback_query.data)
        if (kind is not None and action.kind != kind) or not valid(action):
            raise ForgedCallback(f"not a valid {kind or 'button'}")
    except ForgedCallback as exc:
        log.warning("rejected callback data: %s", exc)
        await send(update, context, svc.conversation.stale(context.who.chat))
        return None
    return action
