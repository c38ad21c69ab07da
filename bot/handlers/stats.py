"""/stats for staff: pick a period, get a short summary and one chart (small counts hidden)."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.callbacks import Action, ForgedCallback
from bot.content import LanguagePack
from bot.handlers.common import chat_of, send
from bot.services import Services, services
from bot.stats import OTHER, compute_stats, local_today, period_ending
from bot.views import Button, Reply, Screen

log = logging.getLogger(__name__)
KIND = "S"
PERIODS: dict[str, int | None] = {"7": 7, "30": 30, "90": 90, "all": None}


def _is_staff(update: Update, svc: Services) -> bool:
    user = update.effective_user
    return user is not None and user.id in svc.settings.staff_ids


def _pack(update: Update, svc: Services) -> LanguagePack:
    return svc.content.pack(svc.conversation.language_of(chat_of(update, svc)))


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, svc: Services) -> None:
    # To anyone else, /stats and its buttons are just a command we do not know.
    await send(update, context, svc.conversation.unknown_command(chat_of(update, svc)))


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer staff the statistics periods; anyone else gets the unknown-command reply."""
    svc = services(context)
    if not _is_staff(update, svc):
        await _refuse(update, context, svc)
        return
    pack = _pack(update, svc)
    buttons = tuple(Button(pack.t(f"stats.period_{p}"), Action(KIND, (p,))) for p in PERIODS)
    await send(update, context, Reply().add(Screen(pack.t("stats.choose_period"), (buttons,))))


def _text(value: Any) -> str:
    """A cell for a Telegram HTML message: rates as percentages, "<5" escaped."""
    if isinstance(value, float):
        return f"{value * 100:.0f}%"
    return html.escape(str(value))


def summary_text(data: dict[str, Any], pack: LanguagePack, title: str) -> str:
    """The short message under which the chart follows (from the suppressed JSON only)."""
    bookings, subscribers = data["booking_presses"], data["subscribers"]
    parts = [
        pack.t(
            "stats.summary",
            title=html.escape(title),
            started=_text(data["sessions_started"]),
            completed=_text(data["sessions_completed"]),
            completion_rate=_text(data["completion_rate"]),
            abandoned=_text(data["sessions_abandoned"]),
            in_progress=_text(data["sessions_in_progress"]),
            booked=_text(bookings["total"]),
            booked_menu=_text(bookings["from_menu"]),
            subscribers=_text(subscribers["now"]),
            joined=_text(subscribers["joined"]),
            left=_text(subscribers["left"]),
            broadcasts=_text(data["broadcasts_sent"]),
        ).rstrip()
    ]
    for key in ("by_language", "by_source"):
        lines = [pack.t(f"stats.{key}")]
        for name, cells in data[key].items():
            shown = pack.t("stats.other") if name == OTHER else name
            lines.append(
                pack.t(
                    "stats.breakdown_line",
                    name=html.escape(shown or "-"),
                    started=_text(cells["started"]),
                    completed=_text(cells["completed"]),
                )
            )
        parts.append("\n".join(lines))
    parts.append(pack.t("stats.footer", min_cell=data["min_cell"]))
    return "\n\n".join(parts)


async def period_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send staff the summary and the chart for the chosen period, ending today."""
    svc = services(context)
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    if not _is_staff(update, svc):
        await _refuse(update, context, svc)
        return
    try:
        period = svc.codec.decode(query.data).arg(0)
        days = PERIODS[period]
    except (ForgedCallback, KeyError, IndexError, ValueError):
        await send(update, context, svc.conversation.stale(chat_of(update, svc)))
        return
    pack = _pack(update, svc)
    today = local_today(svc.storage.clock(), svc.settings.timezone)
    since, until = period_ending(today, days)
    title = (
        pack.t("stats.title_all", until=until.isoformat())
        if since is None
        else pack.t("stats.title_days", days=days, since=since.isoformat(), until=until.isoformat())
    )
    stats = compute_stats(
        svc.storage.db, since=since, until=until, min_cell=svc.settings.stats_min_cell
    )
    log.info("staff viewed statistics for period %s", period)
    if stats.sessions_started == 0:
        await send(update, context, Reply().add(Screen(pack.t("stats.empty", title=title))))
        return
    data = stats.to_json()
    await send(update, context, Reply().add(Screen(summary_text(data, pack, title))))
    png = await asyncio.to_thread(_chart, data, svc, pack, title)
    await context.bot.send_photo(
        chat_id=update.effective_chat.id,
        photo=png,
        caption=html.escape(title),
        parse_mode=ParseMode.HTML,
    )


def _chart(data: dict[str, Any], svc: Services, pack: LanguagePack, title: str) -> bytes:
    from bot.stats_chart import render_chart  # matplotlib loads on the first /stats only

    return render_chart(
        data,
        question_order=list(svc.content.spec.questions),
        titles={
            "dropoff": pack.t("stats.chart_dropoff"),
            "outcomes": pack.t("stats.chart_outcomes"),
            "empty": pack.t("stats.chart_empty"),
            "period": title,
        },
    )
