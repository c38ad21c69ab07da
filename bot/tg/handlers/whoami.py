"""/whoami for anyone, and the one-line note a staff member gets on their first message.

A new staff member cannot guess their Telegram user id, and a mistyped STAFF_IDS looks, to
them, exactly like a parent's chat (staff commands answer "I don't know that command").
/whoami tells anyone their id and whether this bot counts them as staff; the id is shown to
that person only and never logged.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.delivery import Outgoing, Priority
from bot.tg.commands import STAFF_COMMANDS, command_list
from bot.tg.context import BotContext
from bot.tg.handlers.common import send
from bot.views import Reply, Screen

log = logging.getLogger(__name__)
# The note after start-up names the everyday staff commands, not /cancel or /whoami itself.
_NAMED = tuple(c for c in STAFF_COMMANDS if c not in ("cancel", "whoami"))


async def whoami(update: Update, context: BotContext) -> None:
    """Tell the sender their Telegram user id and whether they are on the staff list."""
    who = context.who
    pack = context.services.content.pack(who.lang)
    if who.user_id is None:
        return
    if who.is_staff:
        context.app.staff_greeted.add(who.user_id)  # this says it already
        text = pack.t("whoami.staff", user_id=who.user_id, commands=command_list(_NAMED))
    else:
        text = pack.t("whoami.not_staff", user_id=who.user_id)
    await send(update, context, Reply().add(Screen(text)))


async def greet_staff(update: Update, context: BotContext) -> None:
    """A staff member's first update since start-up: one line saying the bot knows them."""
    who = context.who
    if not who.is_staff or who.user_id is None or who.user_id in context.app.staff_greeted:
        return
    message = update.effective_message
    text = message.text if message is not None else None
    if text and context.services.conversation.crisis.matches(text):
        return  # 988 and 911 come before anything else; the note can wait for the next one
    context.app.staff_greeted.add(who.user_id)
    if text and text.split()[0].startswith("/whoami"):
        return  # /whoami answers the same, in full
    pack = context.services.content.pack(who.lang)
    text = pack.t("staff.hello", user_id=who.user_id, commands=command_list(_NAMED))
    delivery = await context.sender.send(Outgoing(who.chat_id, text), Priority.REPLY)
    if not delivery.ok:
        log.warning("staff start-up note not delivered: %s", delivery.error)
