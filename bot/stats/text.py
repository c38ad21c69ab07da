"""Statistics in words, for Telegram and the command line: names, cells, the summary message.

Built from the suppressed JSON only (bot/stats/aggregate.py), so no small count can leak here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from bot.content import LanguagePack
from bot.stats.aggregate import OTHER

MAX_SOURCES = 10  # the rest are listed by `iep-bot stats`; keeps the text under 4096
LETTER_PREFIX = "letter:"  # letter names among the labels: "evaluation" is a question id too


def in_question_order(
    items: Iterable[tuple[str, Any]], question_order: Iterable[str]
) -> list[tuple[str, Any]]:
    """Drop-off rows in the order the questions are asked, "other" last."""
    rank = {q: i for i, q in enumerate(question_order)}
    return sorted(items, key=lambda kv: (kv[0] == OTHER, rank.get(kv[0], len(rank))))


def chart_words(pack: LanguagePack, title: str) -> dict[str, str]:
    """The chart's words in the staff member's language (plain strings: they travel to the
    worker process that draws); the chart fills in their {placeholders}."""
    keys = (
        "timeline",
        "started",
        "finished",
        "dropoff",
        "outcomes",
        "booking",
        "all_results",
        "rate",
        "count_of",
        "followup",
        "followup_all",
        "followup_asked",
        "followup_agreed",
    )
    words = {key: pack.t(f"stats.chart_{key}") for key in keys}
    return words | {
        "period": title,
        "hidden": pack.t("stats.chart_hidden"),
        "other": pack.t("stats.other"),
        "all_together": pack.t("stats.all_together"),
        "months": pack.t("stats.months"),
    }


def export_names(pack: LanguagePack) -> dict[str, str]:
    """The export's `name` column: outcome titles and question names, and "other" said in
    full (a spreadsheet has no footer to explain it)."""
    return label_names(pack) | {OTHER: pack.t("stats.export.other")}


def export_caption(pack: LanguagePack, title: str, files: Iterable[str], min_cell: int) -> str:
    """The zip's caption: the period, one line per file in it, and what is hidden."""
    names = [name.removesuffix(".csv") for name in files]
    lines = [pack.t("stats.export.caption", title=html.escape(title), count=len(names))]
    lines += [f"• {name}: {pack.t(f'stats.export.files.{name}')}" for name in names]
    lines.append(pack.t("stats.export.footer", min_cell=min_cell))
    return "\n".join(lines)


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


def _letter_names(pack: LanguagePack) -> dict[str, str]:
    """Each letter's name as the chat shows it, under LETTER_PREFIX."""
    found = pack.ui.get("letters", {}).get("letters", {})
    return {f"{LETTER_PREFIX}{k}": str(v.get("button", k)) for k, v in found.items()}


def label_names(pack: LanguagePack) -> dict[str, str]:
    """Readable names for outcome, question and letter ids, in the staff member's language."""
    names = dict(_question_names(pack))
    names |= {oid: outcome.title for oid, outcome in pack.outcomes.items()}
    names |= _letter_names(pack)
    names[OTHER] = pack.t("stats.other")
    return names


def summary_text(
    data: dict[str, Any],
    pack: LanguagePack,
    title: str,
    *,
    timezone: str,
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

    def alone(rows: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """A breakdown folded into "other" alone: other than nothing, so "all together"."""
        if [key for key, _ in rows] == [OTHER]:
            labels[OTHER] = pack.t("stats.all_together")
        else:
            labels[OTHER] = pack.t("stats.other")
        return rows

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
        lines += [bullet(key, count) for key, count in alone(list(data["outcomes"].items()))]
        parts.append("\n".join(lines))
    lines = [
        pack.t(
            "stats.booking",
            total=_show(bookings["total"]),
            after_result=_show(bookings["after_result"]),
            rate=_show(bookings["after_result_rate"]),
            from_menu=_show(bookings["from_menu"]),
        )
    ]
    for key, cells in alone(list(bookings["by_outcome"].items())):
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
        ordered = alone(in_question_order(data["dropoff"].items(), question_order))
        parts.append("\n".join([pack.t("stats.dropoff")] + [bullet(k, n) for k, n in ordered]))
    for key in ("by_language", "by_source"):
        rows = alone(list(data[key].items()))
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
    parts.append(_letters_part(data["letters"], pack, labels, languages))
    parts.append(_follow_through_part(data["follow_through"], pack))
    parts.append(pack.t("stats.footer", min_cell=data["min_cell"], timezone=timezone))
    return "\n\n".join(part.strip() for part in parts)


def _letters_part(
    letters: Mapping[str, Any],
    pack: LanguagePack,
    labels: Mapping[str, str],
    languages: Mapping[str, str],
) -> str:
    """Letters made: the total, then by letter and by language ("en+es": both side by side)."""
    lines = [pack.t("stats.letters", total=_show(letters["total"]))]
    for key, count in letters["by_type"].items():
        shown = labels.get(key if key == OTHER else LETTER_PREFIX + key, key)
        lines.append(f"• {html.escape(shown)}: {_show(count)}")
    if letters["by_language"]:
        parts = []
        for key, count in letters["by_language"].items():
            shown = " + ".join(languages.get(code, code) for code in key.split("+"))
            if key == OTHER:
                shown = labels[OTHER]
            parts.append(f"{html.escape(shown)} {_show(count)}")
        lines.append(pack.t("stats.letters_languages", languages=" · ".join(parts)))
    return "\n".join(lines)


def _follow_through_part(figures: Mapping[str, Any], pack: LanguagePack) -> str:
    """Deadlines and reminders, check-ins, and the headline: of the parents who answered, how
    many asked the school, and how often the school agreed (by outcome: the chart, the files)."""
    return pack.t(
        "stats.follow_through",
        deadlines=_show(figures["deadlines_set"]),
        reminders=_show(figures["reminders_sent"]),
        offered=_show(figures["checkins_offered"]),
        sent=_show(figures["checkins_sent"]),
        answered=_show(figures["checkins_answered"]),
        answered_rate=_show(figures["answered_of_sent"]),
        asked=_show(figures["asked_school"]),
        agreed=_show(figures["school_agreed"]),
    )
