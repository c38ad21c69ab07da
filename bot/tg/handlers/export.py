"""/export for staff: pick a period, get one zip of the CSV files `iep-bot export` writes.

The files come from the same function as the command line's (bot/stats/export.py), built
in the statistics worker from the suppressed figures only: totals, never a row of the log.
One zip rather than seven documents: one message in the chat, one file to save or forward
(to a colleague, to email), named after its period; phones open it in their Files app. As
/stats, the press is answered at once and the zip is sent when ready; anyone not in
STAFF_IDS is answered exactly like an unknown command.
"""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.constants import ChatAction

from bot.callbacks import Kind
from bot.delivery import Outgoing
from bot.stats.jobs import ExportRequest, make_export
from bot.stats.text import export_caption, export_names
from bot.tg.context import BotContext
from bot.tg.handlers.common import send
from bot.tg.handlers.guards import staff_only
from bot.tg.handlers.stats import Chosen, chosen_period, in_worker, period_rows, show
from bot.views import Reply, Screen

log = logging.getLogger(__name__)


@staff_only
async def export_command(update: Update, context: BotContext) -> None:
    """Offer staff the export periods."""
    pack = context.services.content.pack(context.who.lang)
    screen = Screen(pack.t("stats.export.choose_period"), period_rows(pack, Kind.EXPORT_PERIOD))
    await send(update, context, Reply().add(screen))


@staff_only
async def period_button(update: Update, context: BotContext) -> None:
    """Start the zip for the chosen period, ending today; return at once."""
    chosen = await chosen_period(update, context, Kind.EXPORT_PERIOD)
    if chosen is None:
        return
    log.info("staff exported statistics for period %s", chosen.key)
    svc = context.services
    request = ExportRequest(
        chosen.period,
        names=export_names(svc.content.pack(context.who.lang)),
        question_order=tuple(svc.content.spec.questions),
    )
    context.app.stats_worker.start(_send_export(context, chosen, request), name="export")


async def _send_export(context: BotContext, chosen: Chosen, request: ExportRequest) -> None:
    """Count and write the files in the worker, then send the zip with what is in it."""
    chat_id = context.who.chat_id
    pack = context.services.content.pack(context.who.lang)
    periods = period_rows(pack, Kind.EXPORT_PERIOD)
    await context.sender.show_activity(chat_id, ChatAction.UPLOAD_DOCUMENT)
    failed = Outgoing(chat_id, pack.t("stats.export.failed"), periods)
    report = await in_worker(context, make_export, request, failed)
    if report is None:
        return
    if report.zip_name is None or report.zip_bytes is None:
        empty = pack.t("stats.empty", title=html.escape(chosen.title))
        await show(context, Outgoing(chat_id, empty, periods))
        return
    caption = export_caption(pack, chosen.title, report.files, chosen.period.min_cell)
    document = (report.zip_name, report.zip_bytes)
    await show(context, Outgoing(chat_id, caption, periods, document=document))
