"""/stats for staff: pick a period, get a short summary and one chart (small counts hidden).

The press is answered at once and the counting and drawing go to the statistics worker
(bot/stats/worker.py), a process of its own: the update's slot is free again straight
away, parents' answers never wait behind a chart, and the summary and chart are sent when
ready. For anyone not in STAFF_IDS, /stats and any stats button (forged, old or copied)
answer exactly like an unknown command, so the feature cannot even be discovered.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import Update
from telegram.constants import ChatAction

from bot.callbacks import Action, Kind
from bot.content import LanguagePack
from bot.delivery import Outgoing, Priority
from bot.logs import log_failure
from bot.stats.aggregate import period_ending
from bot.stats.jobs import Period, StatsRequest, make_stats
from bot.stats.text import chart_words, label_names, summary_text
from bot.stats.worker import StatsUnavailable
from bot.tg.context import BotContext
from bot.tg.handlers.common import send, verified_action
from bot.tg.handlers.guards import staff_only
from bot.views import Button, Reply, Screen

log = logging.getLogger(__name__)
PERIODS: dict[str, int | None] = {"7": 7, "30": 30, "90": 90, "all": None}
Request = TypeVar("Request")
Report = TypeVar("Report")


def period_rows(pack: LanguagePack, kind: Kind) -> tuple[tuple[Button, ...], ...]:
    """The period buttons, for /stats and /export alike."""
    return (tuple(Button(pack.t(f"stats.period_{p}"), Action(kind, (p,))) for p in PERIODS),)


@dataclass(frozen=True)
class Chosen:
    """A period a staff member picked: its days, its title in their language, its figures."""

    key: str
    title: str
    period: Period


async def chosen_period(update: Update, context: BotContext, kind: Kind) -> Chosen | None:
    """The pressed period button, verified and answered; None (shown as stale) if forged."""
    svc, who = context.services, context.who
    query = update.callback_query
    assert query is not None
    action = await verified_action(update, context, kind, valid=lambda a: a.arg(0) in PERIODS)
    if action is None:
        return None
    await context.sender.answer(query.id)
    key = action.arg(0)
    days = PERIODS[key]
    # Today as the database dates screenings (Storage.today): the period's last day is the
    # day its newest screenings carry, so the title and the chart's last bar agree.
    since, until = period_ending(dt.date.fromisoformat(svc.storage.today()), days)
    pack = svc.content.pack(who.lang)
    title = (
        pack.t("stats.title_all", until=until.isoformat())
        if since is None
        else pack.t("stats.title_days", days=days, since=since.isoformat(), until=until.isoformat())
    )
    period = Period(
        database=str(svc.storage.path),
        since=since,
        until=until,
        min_cell=svc.settings.stats_min_cell,
        timezone=svc.settings.timezone,
    )
    return Chosen(key, title, period)


async def in_worker(
    context: BotContext, job: Callable[[Request], Report], request: Request, failed: Outgoing
) -> Report | None:
    """`job(request)`, run by the statistics worker; None once staff were shown `failed`."""
    try:
        return await context.app.stats_worker.run(job, request)
    except StatsUnavailable:
        pass  # the worker logged why, once
    except Exception as error:  # a bug in counting or drawing: logged, staff alerted
        log_failure(log, "statistics not made", error)
        context.app.health.note_error(type(error).__name__)
        context.app.alerts.report(error, "update")
    await show(context, failed)
    return None


async def show(context: BotContext, message: Outgoing) -> None:
    """Send to the staff member who asked, now (they are waiting)."""
    delivery = await context.sender.send(message, Priority.REPLY)
    if not delivery.ok:
        log.warning("statistics not delivered: %s", delivery.error)


@staff_only
async def stats_command(update: Update, context: BotContext) -> None:
    """Offer staff the statistics periods."""
    pack = context.services.content.pack(context.who.lang)
    screen = Screen(pack.t("stats.choose_period"), period_rows(pack, Kind.STATS_PERIOD))
    await send(update, context, Reply().add(screen))


@staff_only
async def period_button(update: Update, context: BotContext) -> None:
    """Start the summary and chart for the chosen period, ending today; return at once."""
    chosen = await chosen_period(update, context, Kind.STATS_PERIOD)
    if chosen is None:
        return
    log.info("staff viewed statistics for period %s", chosen.key)
    pack = context.services.content.pack(context.who.lang)
    request = StatsRequest(
        chosen.period,
        question_order=tuple(context.services.content.spec.questions),
        labels=label_names(pack),
        words=chart_words(pack, chosen.title),
    )
    context.app.stats_worker.start(_send_stats(context, chosen, request), name="stats")


async def _send_stats(context: BotContext, chosen: Chosen, request: StatsRequest) -> None:
    """Count and draw in the worker, then send the summary and the chart."""
    svc, chat_id = context.services, context.who.chat_id
    pack = svc.content.pack(context.who.lang)
    periods = period_rows(pack, Kind.STATS_PERIOD)
    await context.sender.show_activity(chat_id, ChatAction.UPLOAD_PHOTO)
    failed = Outgoing(chat_id, pack.t("stats.failed"), periods)
    report = await in_worker(context, make_stats, request, failed)
    if report is None:
        return
    if report.data is None:
        empty = pack.t("stats.empty", title=html.escape(chosen.title))
        await show(context, Outgoing(chat_id, empty, periods))
        return
    names = {code: lang.name for code, lang in svc.content.languages.items()}
    text = summary_text(
        report.data,
        pack,
        chosen.title,
        timezone=svc.settings.timezone,
        question_order=svc.content.spec.questions,
        names=names,
    )
    if report.png is None:
        # Every figure would be "<5": a chart of nothing says nothing.
        text = f"{text}\n\n{pack.t('stats.no_chart')}"
        await show(context, Outgoing(chat_id, text, periods))
        return
    await show(context, Outgoing(chat_id, text))
    # The period buttons again, under the chart: another period is one tap away.
    caption = html.escape(chosen.title)
    await show(context, Outgoing(chat_id, caption, periods, photo=report.png))
