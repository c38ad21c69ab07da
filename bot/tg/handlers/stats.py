"""/stats for staff: pick a period, get a short summary and one chart (small counts hidden).

For anyone not in STAFF_IDS, /stats and any stats button (forged, old or copied) answer
exactly like an unknown command, so the feature cannot even be discovered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import html
import logging
from typing import Any

from telegram import Update
from telegram.constants import ChatAction

from bot.callbacks import Action, Kind
from bot.content import LanguagePack
from bot.delivery import Outgoing, Priority
from bot.stats.aggregate import Stats, compute_stats, local_today, open_readonly, period_ending
from bot.stats.text import chart_words, label_names, summary_text
from bot.tg.context import BotContext
from bot.tg.handlers.common import send, verified_action
from bot.tg.handlers.guards import staff_only
from bot.views import Button, Reply, Screen
from bot.wiring import Services

log = logging.getLogger(__name__)
PERIODS: dict[str, int | None] = {"7": 7, "30": 30, "90": 90, "all": None}


def _period_screen(pack: LanguagePack) -> Screen:
    row = tuple(
        Button(pack.t(f"stats.period_{p}"), Action(Kind.STATS_PERIOD, (p,))) for p in PERIODS
    )
    return Screen(pack.t("stats.choose_period"), (row,))


@staff_only
async def stats_command(update: Update, context: BotContext) -> None:
    """Offer staff the statistics periods."""
    pack = context.services.content.pack(context.who.lang)
    await send(update, context, Reply().add(_period_screen(pack)))


@staff_only
async def period_button(update: Update, context: BotContext) -> None:
    """Send staff the summary and the chart for the chosen period, ending today."""
    svc, who = context.services, context.who
    query = update.callback_query
    assert query is not None
    action = await verified_action(
        update, context, Kind.STATS_PERIOD, valid=lambda a: a.arg(0) in PERIODS
    )
    if action is None:
        return
    days = PERIODS[action.arg(0)]
    pack = svc.content.pack(who.lang)
    today = local_today(svc.storage.clock(), svc.settings.timezone)
    since, until = period_ending(today, days)
    title = (
        pack.t("stats.title_all", until=until.isoformat())
        if since is None
        else pack.t("stats.title_days", days=days, since=since.isoformat(), until=until.isoformat())
    )
    await context.sender.answer(query.id)
    # The period ends "now": screenings started this evening in TIMEZONE may already carry
    # tomorrow's UTC day, so the query has no upper bound (no later day can exist yet).
    stats = await asyncio.to_thread(_compute, svc, since)
    stats = dataclasses.replace(stats, until=until)  # labelled as ending today
    log.info("staff viewed statistics for period %s", action.arg(0))
    periods = _period_screen(pack)
    if stats.sessions_started == 0:
        empty = pack.t("stats.empty", title=html.escape(title))
        await _show(context, Outgoing(who.chat_id, empty, periods.rows))
        return
    data = stats.to_json()
    names = {code: lang.name for code, lang in svc.content.languages.items()}
    text = summary_text(data, pack, title, question_order=svc.content.spec.questions, names=names)
    if stats.sessions_started < stats.min_cell:
        # Every figure would be "<5": a chart of nothing says nothing.
        text = f"{text}\n\n{pack.t('stats.no_chart')}"
        await _show(context, Outgoing(who.chat_id, text, periods.rows))
        return
    await _show(context, Outgoing(who.chat_id, text))
    await context.sender.show_activity(who.chat_id, ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(_chart, data, svc, pack, title)
    # The period buttons again, under the chart: another period is one tap away.
    await _show(context, Outgoing(who.chat_id, html.escape(title), periods.rows, photo=png))


async def _show(context: BotContext, message: Outgoing) -> None:
    delivery = await context.sender.send(message, Priority.REPLY)
    if not delivery.ok:
        log.warning("statistics not delivered: %s", delivery.error)


def _compute(svc: Services, since: dt.date | None) -> Stats:
    """Count on a read-only connection of its own, in a worker thread: the broadcast engine
    and the scheduled jobs keep running meanwhile."""
    db = open_readonly(svc.storage.path)
    try:
        return compute_stats(db, since=since, until=None, min_cell=svc.settings.stats_min_cell)
    finally:
        db.close()


def _chart(data: dict[str, Any], svc: Services, pack: LanguagePack, title: str) -> bytes:
    from bot.stats.chart import render_chart  # matplotlib loads on the first /stats only

    return render_chart(
        data,
        question_order=list(svc.content.spec.questions),
        labels=label_names(pack),
        words=chart_words(pack, title),
    )
