"""/broadcasts for staff: scheduled, sending and recent broadcasts, each one tap from its
live status message (with Pause / Resume / Cancel).

For anyone not in STAFF_IDS, /broadcasts and its buttons (forged, old or copied) answer
exactly like an unknown command.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.broadcast.listing import PAGE, SHOW, broadcasts_page
from bot.callbacks import Action, ForgedCallback, Kind
from bot.tg.context import BotContext
from bot.tg.handlers.broadcast_compose import post_status
from bot.tg.handlers.common import send
from bot.tg.handlers.guards import staff_only
from bot.views import Reply

log = logging.getLogger(__name__)
MOST_DIGITS = 18  # a broadcast's number or a page's start, well inside SQLite's integers


@staff_only
async def command(update: Update, context: BotContext) -> None:
    """The first page of the list, as a new message."""
    svc, who = context.services, context.who
    screen = broadcasts_page(svc.broadcasts, svc.content, who.lang, tz=svc.settings.tz)
    await send(update, context, Reply().add(screen))


@staff_only
async def button(update: Update, context: BotContext) -> None:
    """A broadcast's button posts its status message; "More" / "Newest" turn the page."""
    svc, who = context.services, context.who
    assert update.callback_query is not None
    action = _action(context, update.callback_query.data)
    if action is None:
        toast = svc.content.pack(who.lang).t("staff.broadcasts.stale")
        await send(update, context, Reply(toast=toast, alert=True))
        return
    op, number = action.arg(0), int(action.arg(1))
    if op == PAGE:
        screen = broadcasts_page(
            svc.broadcasts, svc.content, who.lang, tz=svc.settings.tz, start=number, replace=True
        )
        await send(update, context, Reply().add(screen))
        return
    await context.sender.answer(update.callback_query.id)
    log.info("staff opened the status of broadcast %d", number)
    await post_status(context.app, number, who.chat_id, who.lang)


def _action(context: BotContext, data: str | None) -> Action | None:
    """The button's verified action: a page, or a broadcast that exists; else None."""
    try:
        action = context.services.codec.decode(data)
    except ForgedCallback as exc:
        log.warning("rejected staff callback data: %s", exc)
        return None
    op, number = action.arg(0), action.arg(1)
    if (
        action.kind != Kind.BROADCASTS_LIST
        or op not in (PAGE, SHOW)
        or not (number.isascii() and number.isdecimal() and len(number) <= MOST_DIGITS)
    ):
        log.warning("rejected staff callback data: not a broadcasts-list button")
        return None
    if op == SHOW and context.services.broadcasts.get(int(number)) is None:
        return None
    return action
