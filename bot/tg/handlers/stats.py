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
from collections.abc import Mapping
from typing import Any

from telegram import Update
from telegram.constants import ChatAction, ParseMode
from telegram.ext import ContextTypes

from bot.callbacks import Action, ForgedCallback
from bot.content import LanguagePack
from bot.stats.aggregate import (
    OTHER,
    Stats,
    compute_stats,
    local_today,
    open_readonly,
    period_ending,
)
from bot.tg.handlers import start
from bot.tg.handlers.common import chat_of, send
from bot.tg.render import keyboard
from bot.views import Button, Reply, Screen
from bot.wiring import Services, services

log = logging.getLogger(__name__)
KIND = "S"
# Any version of a stats button ("1|S|7|tag", an older "0|S|...", a forged tag) comes here.
BUTTON_PATTERN = rf"^[^|]*\|{KIND}\|"
PERIODS: dict[str, int | None] = {"7": 7, "30": 30, "90": 90, "all": None}
MAX_SOURCES = 10  # the rest are listed by `iep-bot stats`; keeps the text under 4096


def _is_staff(update: Update, svc: Services) -> bool:
    user = update.effective_user
    return user is not None and user.id in svc.settings.staff_ids


def _pack(update: Update, svc: Services) -> LanguagePack:
    return svc.content.pack(svc.conversation.language_of(chat_of(update, svc)))


def _period_screen(pack: LanguagePack) -> Screen:
    row = tuple(Button(pack.t(f"stats.period_{p}"), Action(KIND, (p,))) for p in PERIODS)
    return Screen(pack.t("stats.choose_period"), (row,))


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer staff the statistics periods; anyone else gets the unknown-command reply."""
    svc = services(context)
    if not _is_staff(update, svc):
        await start.unknown_command(update, context)
        return
    await send(update, context, Reply().add(_period_screen(_pack(update, svc))))


async def period_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send staff the summary and the chart for the chosen period, ending today."""
    svc = services(context)
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    if not _is_staff(update, svc):
        await start.unknown_command(update, context)
        return
    try:
        action = svc.codec.decode(query.data)
        if action.kind != KIND or action.arg(0) not in PERIODS:
            raise ForgedCallback("not a stats period")
    except ForgedCallback:
        await send(update, context, svc.conversation.stale(chat_of(update, svc)))
        return
    days = PERIODS[action.arg(0)]
    pack = _pack(update, svc)
    today = local_today(svc.storage.clock(), svc.settings.timezone)
    since, until = period_ending(today, days)
    title = (
        pack.t("stats.title_all", until=until.isoformat())
        if since is None
        else pack.t("stats.title_days", days=days, since=since.isoformat(), until=until.isoformat())
    )
    await query.answer()
    chat_id = update.effective_chat.id
    # The period ends "now": screenings started this evening in TIMEZONE may already carry
    # tomorrow's UTC day, so the query has no upper bound (no later day can exist yet).
    stats = await asyncio.to_thread(_compute, svc, since)
    stats = dataclasses.replace(stats, until=until)  # labelled as ending today
    log.info("staff viewed statistics for period %s", action.arg(0))
    if stats.sessions_started == 0:
        await _send_text(context, chat_id, pack.t("stats.empty", title=html.escape(title)), pack)
        return
    data = stats.to_json()
    names = {code: lang.name for code, lang in svc.content.languages.items()}
    text = summary_text(data, pack, title, question_order=svc.content.spec.questions, names=names)
    if stats.sessions_started < stats.min_cell:
        # Every figure would be "<5": a chart of nothing says nothing.
        await _send_text(context, chat_id, f"{text}\n\n{pack.t('stats.no_chart')}", pack)
        return
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
    await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(_chart, data, svc, pack, title)
    await context.bot.send_photo(
        chat_id,
        photo=png,
        caption=html.escape(title),
        parse_mode=ParseMode.HTML,
        # The period buttons again, under the chart: another period is one tap away.
        reply_markup=keyboard(_period_screen(pack), svc.codec),
    )


async def _send_text(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str, pack: LanguagePack
) -> None:
    svc = services(context)
    markup = keyboard(_period_screen(pack), svc.codec)
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


def _compute(svc: Services, since: dt.date | None) -> Stats:
    """Count on a read-only connection of its own, in a worker thread: the broadcast engine
    and the scheduled jobs keep running meanwhile."""
    min_cell = svc.settings.stats_min_cell
    if str(svc.storage.path) == ":memory:":  # nothing else can open it; only in tests
        return compute_stats(svc.storage.db, since=since, until=None, min_cell=min_cell)
    db = open_readonly(svc.storage.path)
    try:
        return compute_stats(db, since=since, until=None, min_cell=min_cell)
    finally:
        db.close()


# --- the message ---------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A cell for a Telegram HTML message: rates as percentages, "<5" escaped."""
    if isinstance(value, float):
        return f"{value * 100:.0f}%"
    if value is None:  # a rate on a hidden count
        return "–"
    return html.escape(str(value))


def _question_names(pack: LanguagePack) -> Mapping[str, str]:
    found = pack.ui.get("stats", {}).get("questions", {})
    return {str(k): str(v) for k, v in found.items()}


def label_names(pack: LanguagePack) -> dict[str, str]:
    """Readable names for outcome and question ids, in the staff member's language."""
    names = dict(_question_names(pack))
    names |= {oid: outcome.title for oid, outcome in pack.outcomes.items()}
    names[OTHER] = pack.t("stats.other")
    return names


def summary_text(
    data: dict[str, Any],
    pack: LanguagePack,
    title: str,
    *,
    question_order: Any = (),
    names: Mapping[str, str] | None = None,
) -> str:
    """The short message the chart follows, built from the suppressed JSON only."""
    labels = label_names(pack)
    languages = dict(names or {})

    def name(key: str, kind: str = "label") -> str:
        """Outcome titles and question names from content; languages by their own name."""
        if kind == "label" or key == OTHER:
            shown = labels.get(key, key.replace("_", " "))
        elif kind == "language":
            shown = languages.get(key, key)
        else:  # a deep-link source, exactly as the link carried it
            shown = key
        return html.escape(shown or pack.t("stats.none"))

    def bullet(key: str, count: Any) -> str:
        return f"• {name(key)}: {_show(count)}"

    bookings, subscribers = data["booking_presses"], data["subscribers"]
    parts = [
        pack.t(
            "stats.summary",
            title=html.escape(title),
            started=_show(data["sessions_started"]),
            completed=_show(data["sessions_completed"]),
            completion_rate=_show(data["completion_rate"]),
            abandoned=_show(data["sessions_abandoned"]),
            in_progress=_show(data["sessions_in_progress"]),
        )
    ]
    if data["outcomes"]:
        lines = [pack.t("stats.outcomes")]
        lines += [bullet(key, count) for key, count in data["outcomes"].items()]
        parts.append("\n".join(lines))
    lines = [
        pack.t(
            "stats.booking",
            total=_show(bookings["total"]),
            after_result=_show(bookings["after_result"]),
            from_menu=_show(bookings["from_menu"]),
        )
    ]
    for key, cells in bookings["by_outcome"].items():
        lines.append(
            pack.t(
                "stats.booking_line",
                name=name(key),
                count=_show(cells["count"]),
                screenings=_show(cells["screenings"]),
                rate=_show(cells["rate"]),
            )
        )
    parts.append("\n".join(lines))
    if data["dropoff"]:
        rank = {q: i for i, q in enumerate(question_order)}
        ordered = sorted(
            data["dropoff"].items(), key=lambda kv: (kv[0] == OTHER, rank.get(kv[0], len(rank)))
        )
        parts.append("\n".join([pack.t("stats.dropoff")] + [bullet(k, n) for k, n in ordered]))
    for key in ("by_language", "by_source"):
        rows = list(data[key].items())
        lines = [pack.t(f"stats.{key}")]
        for group, cells in rows[:MAX_SOURCES]:
            lines.append(
                pack.t(
                    "stats.breakdown_line",
                    name=name(group, "language" if key == "by_language" else "source"),
                    started=_show(cells["started"]),
                    completed=_show(cells["completed"]),
                )
            )
        if len(rows) > MAX_SOURCES:
            lines.append(pack.t("stats.more_rows", count=len(rows) - MAX_SOURCES))
        parts.append("\n".join(lines))
    parts.append(
        pack.t(
            "stats.tips",
            now=_show(subscribers["now"]),
            joined=_show(subscribers["joined"]),
            left=_show(subscribers["left"]),
            sent=_show(data["broadcasts_sent"]),
        )
    )
    parts.append(pack.t("stats.footer", min_cell=data["min_cell"]))
    return "\n\n".join(part.strip() for part in parts)


def _chart(data: dict[str, Any], svc: Services, pack: LanguagePack, title: str) -> bytes:
    from bot.stats.chart import render_chart  # matplotlib loads on the first /stats only

    return render_chart(
        data,
        question_order=list(svc.content.spec.questions),
        labels=label_names(pack),
        words={
            "period": title,
            "timeline": pack.t("stats.chart_timeline"),
            "started": pack.t("stats.chart_started"),
            "finished": pack.t("stats.chart_finished"),
            "dropoff": pack.t("stats.chart_dropoff"),
            "outcomes": pack.t("stats.chart_outcomes"),
            "empty": pack.t("stats.chart_empty"),
            "other": pack.t("stats.other"),
            "months": pack.t("stats.months"),
        },
    )
