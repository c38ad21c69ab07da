"""Pause, Resume and Cancel on a broadcast's status message (staff only)."""

from __future__ import annotations

import logging

from telegram import Update

from bot.broadcast.quiet import quiet_until
from bot.broadcast.status import control_toast
from bot.callbacks import Kind
from bot.delivery import Outgoing, Priority
from bot.tg.context import BotContext
from bot.tg.handlers.common import send, verified_action
from bot.tg.handlers.guards import staff_only
from bot.views import Reply

log = logging.getLogger(__name__)


@staff_only
async def control_button(update: Update, context: BotContext) -> None:
    """Apply Pause / Resume / Cancel; the toast and the redrawn message say where it stands."""
    svc, who = context.services, context.who
    query = update.callback_query
    assert query is not None
    action = await verified_action(
        update, context, Kind.BROADCAST_CONTROL, valid=lambda a: a.arg(1).isdecimal()
    )
    if action is None:
        return
    op, broadcast_id = action.arg(0), int(action.arg(1))
    broadcasts, pack = svc.broadcasts, svc.content.pack(who.lang)
    quiet = quiet_until(svc.settings, svc.storage.clock())
    changed = {
        "pause": broadcasts.pause,
        "resume": lambda b: broadcasts.resume(b, quiet_until=quiet),
        "cancel": broadcasts.cancel,
    }.get(op, lambda _: False)(broadcast_id)
    log.info("staff pressed %s on broadcast %d (changed=%s)", op, broadcast_id, changed)
    row = broadcasts.get(broadcast_id)
    toast = control_toast(op, changed, row, pack, tz=svc.settings.tz)
    await send(update, context, Reply(toast=toast))
    if row is not None and query.message is not None:
        screen = context.app.engine.status_screen(row, pack.code)
        edit = Outgoing.screen(who.chat_id, screen, edit=query.message.message_id)
        await context.sender.send(edit, Priority.REPLY)
