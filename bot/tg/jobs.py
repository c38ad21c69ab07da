"""Scheduled jobs: the weekly tip (and the note to staff), and the sweep of expired screenings."""

from __future__ import annotations

import logging

from bot.broadcast.drip import DripRun, run_weekly_tip
from bot.broadcast.tips import tip_texts, tip_title
from bot.delivery import Outgoing, Priority
from bot.tg.context import BotApplication, BotContext
from bot.tg.handlers.broadcast_compose import post_status

log = logging.getLogger(__name__)


async def weekly_tip_job(context: BotContext) -> None:
    """JobQueue callback: queue this week's tip when due, and tell staff."""
    await post_weekly_tip(context.app)


async def post_weekly_tip(app: BotApplication) -> DripRun | None:
    """Run the drip check once; on a new week, tell every staff member what happened."""
    svc = app.services
    run = run_weekly_tip(svc.settings, svc.storage, svc.content, svc.broadcasts)
    if run is None:
        return None
    status_posted = False
    for staff_id in sorted(svc.settings.staff_ids):
        lang = svc.staff_language(staff_id)
        pack = svc.content.pack(lang)
        if run.broadcast_id is None:
            text = pack.t("staff.drip.exhausted")
        else:
            texts = tip_texts(svc.content, run.tip_id or "") or {}
            text = pack.t(
                "staff.drip.queued",
                count=svc.broadcasts.count_recipients("all"),
                title=tip_title(texts.get(pack.code, "")) or run.tip_id,
                id=run.broadcast_id,
            )
        told = await app.sender.send(Outgoing(staff_id, text), Priority.NOTICE)
        if not told.ok:
            # A staff member who never opened the bot cannot be messaged; the tip still goes.
            log.warning("could not tell a staff member about the weekly tip: %s", told.error)
            continue
        if run.broadcast_id is not None and not status_posted:
            await post_status(app, run.broadcast_id, staff_id, lang)
            status_posted = True
    return run


async def sweep_expired(context: BotContext) -> None:
    """Log screenings left unfinished past the time-to-live as abandoned."""
    svc = context.services
    count = svc.conversation.expire_all()
    if count:
        log.info("expired %d unfinished screenings", count)
