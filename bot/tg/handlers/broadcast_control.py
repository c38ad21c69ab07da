"""Pause, Resume and Cancel on a broadcast's status message (staff only)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.broadcast.queue import Broadcasts
from bot.callbacks import ForgedCallback
from bot.tg.handlers.common import chat_of, send
from bot.views import Reply
from bot.wiring import services

log = logging.getLogger(__name__)


async def control_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Apply Pause / Resume / Cancel, then redraw the status message at once."""
    svc = services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    if user is None or user.id not in svc.settings.staff_ids:
        # To anyone else, a staff button is just a command we do not know.
        await send(update, context, svc.conversation.unknown_command(chat_of(update, svc)))
        return
    try:
        action = svc.codec.decode(query.data)
        op, broadcast_id = action.arg(0), int(action.arg(1))
    except (ForgedCallback, ValueError):
        await send(update, context, svc.conversation.stale(chat_of(update, svc)))
        return
    broadcasts: Broadcasts = svc.broadcasts
    pack = svc.content.pack(svc.conversation.language_of(chat_of(update, svc)))
    changed = {
        "pause": broadcasts.pause,
        "resume": broadcasts.resume,
        "cancel": broadcasts.cancel,
    }.get(op, lambda _: False)(broadcast_id)
    toast = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}.get(op, "too_late")
    log.info("staff pressed %s on broadcast %d (changed=%s)", op, broadcast_id, changed)
    await send(
        update, context, Reply(toast=pack.t(f"staff.progress.{toast if changed else 'too_late'}"))
    )
    engine = context.application.bot_data.get("engine")
    row = broadcasts.get(broadcast_id)
    if engine is not None and row is not None and query.message is not None:
        text, markup = engine.status_view(row, pack.code)
        await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
