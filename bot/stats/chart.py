"""The staff chart: one PNG sized for a phone (1200x1600), three panels stacked.

1. screenings started and finished over time (days, weeks or months, as the period needs);
2. where unfinished screenings stopped, in the order of the questions (the drop-off);
3. the outcomes of finished screenings.

Drawn from the suppressed JSON only (`Stats.to_json()`), so a small count can never appear:
such a bar is not drawn and its label reads "<5". Uses matplotlib's object API on the Agg
canvas (no pyplot, no display, no global state), so charts can be drawn in worker threads.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.stats.text import in_question_order

WIDTH_PX, HEIGHT_PX, DPI = 1200, 1600, 100
STARTED_COLOR, FINISHED_COLOR = "#9ecae1", "#08519c"
FUNNEL_COLOR, OUTCOME_COLOR = "#d1495b", "#00798c"
TITLE_SIZE, LABEL_SIZE, VALUE_SIZE = 30, 21, 22
LABEL_WIDTH = 28  # characters on one line of a bar's name

DEFAULT_WORDS = {
    "period": "",
    "timeline": "Screenings started and finished",
    "started": "started",
    "finished": "finished",
    "dropoff": "Where unfinished screenings stopped",
    "outcomes": "Outcomes of finished screenings",
    "empty": "None in this period",
    "other": "other",
    "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
}


def render_chart(
    data: dict[str, Any],
    *,
    question_order: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    words: Mapping[str, str] | None = None,
) -> bytes:
    """PNG bytes for the suppressed statistics `data` (see the module docstring)."""
    text = DEFAULT_WORDS | dict(words or {})
    names = {"other": text["other"]} | dict(labels or {})
    dropoff = in_question_order(data["dropoff"].items(), question_order)
    outcomes = list(data["outcomes"].items())
    buckets = data.get("timeline", {}).get("buckets", [])

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    # Bar panels get room by their lines of labels, so bars keep one height on the page.
    heights = [7, _lines(dropoff, names) + 2, _lines(outcomes, names) + 2]
    grid = fig.add_gridspec(3, 1, height_ratios=heights, hspace=0.7)
    time_ax, funnel_ax, outcome_ax = (fig.add_subplot(grid[i]) for i in range(3))
    _timeline(time_ax, buckets, data.get("timeline", {}).get("unit"), text)
    _bars(funnel_ax, text["dropoff"], dropoff, names, FUNNEL_COLOR, text["empty"])
    _bars(outcome_ax, text["outcomes"], outcomes, names, OUTCOME_COLOR, text["empty"])
    if text["period"]:
        fig.suptitle(text["period"], fontsize=24, x=0.03, y=0.99, ha="left", va="top")
    fig.subplots_adjust(left=0.4, right=0.93, top=0.9, bottom=0.03)
    # The bar panels need a wide left margin for their names; the timeline does not.
    box = time_ax.get_position()
    time_ax.set_position((0.1, box.y0, 0.83, box.height))
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _title(ax: Any, title: str) -> None:
    # Anchored at the figure's left edge, not the axes', so long titles still fit.
    ax.annotate(
        textwrap.fill(title, 42),
        xy=(0.03, 1.06),
        xycoords=("figure fraction", "axes fraction"),
        fontsize=TITLE_SIZE,
        fontweight="bold",
        va="bottom",
    )


def _label(key: str, names: Mapping[str, str]) -> str:
    """The bar's name (an outcome title, or the id made readable), on at most two lines."""
    name = names.get(key, key.replace("_", " "))
    return textwrap.fill(textwrap.shorten(name, 56, placeholder="…"), LABEL_WIDTH)


def _lines(items: Sequence[tuple[str, Any]], names: Mapping[str, str]) -> int:
    lines = sum(_label(key, names).count("\n") + 1 for key, _ in items)
    return max(lines, 3)


def _count(value: Any) -> int:
    """The drawable length of a cell: a hidden ("<5") cell draws nothing."""
    return value if isinstance(value, int) else 0


def _bars(
    ax: Any,
    title: str,
    items: Sequence[tuple[str, Any]],
    names: Mapping[str, str],
    color: str,
    empty: str,
) -> None:
    """Horizontal bars, first item on top, each labelled with its count or "<5"."""
    _title(ax, title)
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    if not items:
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.text(0.5, 0.5, empty, ha="center", va="center", fontsize=LABEL_SIZE,
                transform=ax.transAxes)  # fmt: skip
        return
    values = [_count(value) for _, value in items]
    positions = list(range(len(items)))[::-1]
    ax.barh(positions, values, color=color, height=0.7)
    labels = [_label(key, names) for key, _ in items]
    ax.set_yticks(positions, labels, fontsize=LABEL_SIZE, linespacing=0.95)
    ax.set_ylim(-0.6, len(items) - 0.4)
    peak = max(values) or 1
    ax.set_xlim(0, peak * 1.25)
    for y, (_, value), length in zip(positions, items, values, strict=True):
        ax.text(length + peak * 0.02, y, str(value), va="center", fontsize=VALUE_SIZE)


def _timeline(ax: Any, buckets: Sequence[Mapping[str, Any]], unit: str | None, text: Any) -> None:
    """Started (light) and finished (dark) side by side for each day, week or month."""
    _title(ax, text["timeline"])
    ax.spines[["top", "right"]].set_visible(False)
    if not buckets:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, text["empty"], ha="center", va="center", fontsize=LABEL_SIZE,
                transform=ax.transAxes)  # fmt: skip
        return
    xs = range(len(buckets))
    started = [_count(b["started"]) for b in buckets]
    finished = [_count(b["completed"]) for b in buckets]
    ax.bar([x - 0.2 for x in xs], started, width=0.4, color=STARTED_COLOR, label=text["started"])
    ax.bar([x + 0.2 for x in xs], finished, width=0.4, color=FINISHED_COLOR, label=text["finished"])
    ax.legend(fontsize=LABEL_SIZE, frameon=False, loc="upper left", ncols=2,
              bbox_to_anchor=(0, 1.02))  # fmt: skip
    ax.set_ylim(0, (max(started) or 1) * 1.3)
    ax.tick_params(axis="y", labelsize=LABEL_SIZE - 4)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    step = max(1, -(-len(buckets) // 6))  # at most about six date labels
    ticks = list(xs)[::step]
    months = text["months"].split()
    labels = [_when(buckets[i], unit, months) for i in ticks]
    ax.set_xticks(ticks, labels, fontsize=LABEL_SIZE - 4)
    if len(buckets) <= 8:  # few buckets: write the numbers on the bars
        for x, b in zip(xs, buckets, strict=True):
            top = max(_count(b["started"]), _count(b["completed"]))
            label = f"{b['started']} / {b['completed']}"
            ax.text(x, top + (max(started) or 1) * 0.03, label, ha="center", fontsize=16)


def _when(bucket: Mapping[str, Any], unit: str | None, months: Sequence[str]) -> str:
    """A short date label: 3 Nov, 3 Nov–9 Nov, or Nov 2026 (merged buckets show their span)."""
    start, end = dt.date.fromisoformat(bucket["from"]), dt.date.fromisoformat(bucket["to"])

    def month(day: dt.date) -> str:
        return months[day.month - 1]

    if unit == "month":
        if (start.year, start.month) == (end.year, end.month):
            return f"{month(start)} {start.year}"
        return f"{month(start)}–{month(end)}\n{end.year}"
    if start == end:
        return f"{start.day} {month(start)}"
    return f"{start.day} {month(start)}–\n{end.day} {month(end)}"
