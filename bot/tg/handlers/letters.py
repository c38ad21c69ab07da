"""Showing a letter: the screens up to the letter's text, then its Word file and PDF through
the one Sender, then what to do with it. Any other Reply is shown as usual."""

from __future__ import annotations

import logging

from telegram import Update

from bot.delivery import Outgoing, Priority
from bot.parent.letters import LetterReply
from bot.tg.context import BotContext
from bot.tg.handlers.common import send
from bot.tg.render import deliver
from bot.views import Reply

log = logging.getLogger(__name__)


async def show(update: Update, context: BotContext, reply: Reply) -> None:
    """Show a Reply; a LetterReply's files go between its text and its advice."""
    if not isinstance(reply, LetterReply) or not reply.documents:
        await send(update, context, reply)
        return
    before = Reply(
        screens=reply.screens[: reply.documents_at],
        toast=reply.toast,
        alert=reply.alert,
        result_of=reply.result_of,
    )
    await send(update, context, before)
    chat_id = context.who.chat_id
    for document in reply.documents:
        sent = await context.sender.send(
            Outgoing(chat_id, document.caption, document=(document.filename, document.data)),
            Priority.REPLY,
        )
        if not sent.ok:
            # The status only: the file holds the letter, and its name says what it is.
            log.warning("a letter's file was not delivered: %s", sent.status)
    after = Reply(screens=reply.screens[reply.documents_at :])
    await deliver(after, sender=context.sender, chat_id=chat_id)


async def forget_expired_letters(context: BotContext) -> None:
    """A job, every minute: letters started more than 30 minutes ago are forgotten even when
    no one writes to the bot (otherwise at the next update, or the hourly sweep)."""
    gone = context.services.conversation.letters.forget_expired()
    if gone:
        log.info("forgot %d unfinished letters", gone)
