"""The staff chart: one PNG for a phone, 1200 pixels wide, its panels stacked.

The panels are a list (`PANELS`): each is one function that reads the suppressed JSON and
returns a `Panel` (its title, its height, how to draw it), or None when the JSON has no
figures for it. Adding a panel is one more such function in the list. Today:

1. screenings started and finished over time (days, weeks or months, as the period needs);
2. where unfinished screenings stopped, in the order of the questions (the drop-off);
3. the outcomes of finished screenings;
4. who tapped "Book" after their result: all results, then by outcome, as a share;
5. the check-ins answered: of those parents, the share who asked the school and the share
   whose school agreed, all together then by outcome (only in a period with enough
   check-ins sent to show).

Drawn from the suppressed JSON only (`Stats.to_json()`), so a small count can never appear:
such a bar is not drawn and its label reads "<5"; a rate shows only when both its counts do.
A panel whose figures are all hidden says so ("Fewer than 5: not shown…"), never "none",
since the summary beside it shows the same figure as "<5". Uses matplotlib's object API on
the Agg canvas (no pyplot, no display, no global state).
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bot.stats.aggregate import OTHER
from bot.stats.text import in_question_order

WIDTH_PX, DPI = 1200, 100
HEADER_PX = 80  # the period, at the top
TITLE_LINE_PX = 50  # one line of a panel's title
TITLE_GAP_PX = 22  # between a title and its panel
UNIT_PX = 40  # the bar panels' height unit: a bar is BAR_WIDTH of it, a row `_rows` of it
BAR_WIDTH = 0.85
BAR_PAD_PX = 12  # above the first bar and below the last
TIMELINE_PX, TICKS_PX = 330, 95  # the timeline's plot, and its date labels under it
GAP_PX = 60  # between panels
MARGIN_PX = 20  # under the last panel
BARS_LEFT, TIMELINE_LEFT, RIGHT = 0.4, 0.1, 0.93  # figure fractions: names need room
MAX_BARS = 8  # more rows join "other" on the chart (the summary and the files list all)
MAX_PAIRS = 5  # rows of the follow-through panel, two bars each (all who answered among them)
PAIR_ROW = 2.4  # a follow-through row's height in UNIT_PX: two bars, each with its label
LEGEND_ROW = 1.3  # the legend above the follow-through bars, in UNIT_PX

STARTED_COLOR, FINISHED_COLOR = "#9ecae1", "#08519c"
FUNNEL_COLOR, OUTCOME_COLOR = "#d1495b", "#00798c"
BOOKING_COLOR, TRACK_COLOR = "#6a51a3", "#ececec"
ASKED_COLOR, AGREED_COLOR = "#a1d99b", "#006d2c"
# A follow-through row's two bars: (cell, colour, words inside the bar, above or below).
PAIR_BARS = (
    ("asked_school", ASKED_COLOR, "black", 1),
    ("school_agreed", AGREED_COLOR, "white", -1),
)
TITLE_SIZE, LABEL_SIZE, VALUE_SIZE = 30, 21, 22
TITLE_WIDTH = 42  # characters on one line of a panel's title
LABEL_WIDTH = 28  # characters on one line of a bar's name

DEFAULT_WORDS = {
    "period": "",
    "timeline": "Screenings started and finished",
    "started": "started",
    "finished": "finished",
    "dropoff": "Where unfinished screenings stopped",
    "outcomes": "Outcomes of finished screenings",
    "booking": "Tapped “Book” after their result",
    "all_results": "All results",
    "rate": "{rate} · {count} of {total}",
    "count_of": "{count} of {total}",
    "followup": "Check-ins answered: asked the school, and the school agreed",
    "followup_all": "All who answered",
    "followup_asked": "asked the school",
    "followup_agreed": "the school agreed",
    "hidden": "Fewer than {min_cell}: not shown, so that no one can be picked out",
    "other": "other",
    "all_together": "all together",
    "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
}


@dataclass(frozen=True)
class Chart:
    """What every panel reads: the suppressed figures, the words, the names of ids."""

    data: Mapping[str, Any]
    words: Mapping[str, str]
    names: Mapping[str, str]
    question_order: Sequence[str]

    @property
    def marker(self) -> str:
        return f"<{self.data['min_cell']}"


@dataclass(frozen=True)
class Panel:
    """One panel: its title, the height of its plot, the room under it, how to draw it."""

    title: str
    height_px: int
    draw: Callable[[Axes], None]
    below_px: int = 0
    left: float = BARS_LEFT


PanelMaker = Callable[[Chart], Panel | None]


def render_chart(
    data: Mapping[str, Any],
    *,
    question_order: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    words: Mapping[str, str] | None = None,
) -> bytes:
    """PNG bytes for the suppressed statistics `data` (see the module docstring)."""
    fig = chart_figure(data, question_order=question_order, labels=labels, words=words)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def chart_figure(
    data: Mapping[str, Any],
    *,
    question_order: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    words: Mapping[str, str] | None = None,
) -> Figure:
    """The chart as a matplotlib Figure (its words can be read back: tests do)."""
    text = DEFAULT_WORDS | dict(words or {})
    names = {OTHER: text["other"]} | dict(labels or {})
    chart = Chart(data, text, names, question_order)
    panels = [panel for make in PANELS if (panel := make(chart)) is not None]
    titles = [textwrap.fill(panel.title, TITLE_WIDTH) for panel in panels]
    heights = [
        (title.count("\n") + 1) * TITLE_LINE_PX + TITLE_GAP_PX + p.height_px + p.below_px
        for title, p in zip(titles, panels, strict=True)
    ]
    # At most about 2,900 pixels (MAX_BARS a panel, names on two lines): Telegram keeps a
    # photo up to 2,560 pixels on its long side, so even that loses little.
    height = HEADER_PX + sum(heights) + GAP_PX * (len(panels) - 1) + MARGIN_PX

    fig = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    if text["period"]:
        fig.text(0.03, 1 - 20 / height, text["period"], fontsize=24, ha="left", va="top")
    top = height - HEADER_PX  # pixels from the bottom, going down panel by panel
    for title, panel in zip(titles, panels, strict=True):
        fig.text(0.03, top / height, title, fontsize=TITLE_SIZE, fontweight="bold", va="top")
        top -= (title.count("\n") + 1) * TITLE_LINE_PX + TITLE_GAP_PX
        bottom = top - panel.height_px
        ax = fig.add_axes(
            (panel.left, bottom / height, RIGHT - panel.left, panel.height_px / height)
        )
        panel.draw(ax)
        top = bottom - panel.below_px - GAP_PX
    return fig


# --- the panels ---------------------------------------------------------------------------------


def timeline_panel(chart: Chart) -> Panel | None:
    """Started (light) and finished (dark) side by side for each day, week or month."""
    timeline = chart.data.get("timeline") or {}
    buckets = timeline.get("buckets", [])
    if not any(isinstance(b["started"], int) for b in buckets):
        return _hidden(chart, chart.words["timeline"])
    return Panel(
        chart.words["timeline"],
        TIMELINE_PX,
        lambda ax: _draw_timeline(ax, buckets, timeline.get("unit"), chart.words),
        below_px=TICKS_PX,
        left=TIMELINE_LEFT,
    )


def dropoff_panel(chart: Chart) -> Panel | None:
    """Where unfinished screenings stopped, in the order the questions are asked."""
    items = _capped(list(chart.data["dropoff"].items()))
    items = in_question_order(items, chart.question_order)
    return _bar_panel(chart, chart.words["dropoff"], items, FUNNEL_COLOR)


def outcomes_panel(chart: Chart) -> Panel | None:
    """The outcomes of finished screenings, most frequent first."""
    items = _capped(list(chart.data["outcomes"].items()))
    return _bar_panel(chart, chart.words["outcomes"], items, OUTCOME_COLOR)


def booking_panel(chart: Chart) -> Panel | None:
    """The share of results after which the parent tapped Book: all, then by outcome."""
    bookings = chart.data["booking_presses"]
    everyone = {
        "screenings": chart.data["sessions_completed"],
        "count": bookings["after_result"],
        "rate": bookings["after_result_rate"],
    }
    if not isinstance(everyone["screenings"], int):
        return _hidden(chart, chart.words["booking"])
    rows: list[tuple[str, Mapping[str, Any]]] = [(chart.words["all_results"], everyone)]
    by_outcome = _capped_rates(chart, list(bookings["by_outcome"].items()))
    if [key for key, _ in by_outcome] != [OTHER]:  # all folded together: "All results" says it
        rows += [(_label(key, chart.names), cells) for key, cells in by_outcome]
    return Panel(
        chart.words["booking"],
        _bars_px([label for label, _ in rows]),
        lambda ax: _draw_rates(ax, rows, chart.words),
    )


def follow_through_panel(chart: Chart) -> Panel | None:
    """Of the parents who answered a check-in: the share who asked the school and the share
    whose school agreed; all together, then by outcome. None while too few check-ins went
    out to show (or the JSON predates them): the summary says "<5" for those."""
    figures = chart.data.get("follow_through")
    if not figures or not isinstance(figures["checkins_sent"], int):
        return None
    title = chart.words["followup"]
    if not isinstance(figures["checkins_answered"], int):
        return _hidden(chart, title)
    everyone = {
        "answered": figures["checkins_answered"],
        "asked_school": figures["asked_school"],
        "school_agreed": figures["school_agreed"],
    }
    rows: list[tuple[str, Mapping[str, Any]]] = [(chart.words["followup_all"], everyone)]
    by_outcome = _capped_checkins(chart, list(figures["by_outcome"].items()))
    if [key for key, _ in by_outcome] != [OTHER]:  # all folded together: the first row says it
        rows += [(_label(key, chart.names), cells) for key, cells in by_outcome]
    labels = [label for label, _ in rows]
    height = round((LEGEND_ROW + sum(_pair_row(label) for label in labels)) * UNIT_PX)
    return Panel(
        title,
        height + 2 * BAR_PAD_PX,
        lambda ax: _draw_pairs(ax, rows, chart),
    )


# The chart, top to bottom.
PANELS: list[PanelMaker] = [
    timeline_panel,
    dropoff_panel,
    outcomes_panel,
    booking_panel,
    follow_through_panel,
]


# --- panel helpers ------------------------------------------------------------------------------


def _hidden(chart: Chart, title: str) -> Panel:
    """A panel whose figures are all under the threshold: it says so, in place of bars."""

    def draw(ax: Axes) -> None:
        ax.set_axis_off()
        note = textwrap.fill(chart.words["hidden"].format(min_cell=chart.data["min_cell"]), 60)
        ax.text(0.0, 0.5, note, ha="left", va="center", fontsize=LABEL_SIZE,
                color="#555555", transform=ax.transAxes)  # fmt: skip

    return Panel(title, 2 * UNIT_PX, draw, left=0.03)


def _bar_panel(
    chart: Chart, title: str, items: Sequence[tuple[str, Any]], color: str
) -> Panel | None:
    """Horizontal bars of counts, or the hidden note when none can be drawn."""
    if not any(isinstance(value, int) for _, value in items):
        return _hidden(chart, title)
    labels = [_label(key, _names_for(chart, items)) for key, _ in items]
    values = [value for _, value in items]
    return Panel(title, _bars_px(labels), lambda ax: _draw_bars(ax, labels, values, color))


def _names_for(chart: Chart, items: Sequence[tuple[str, Any]]) -> Mapping[str, str]:
    """The names of ids, "other" alone (everything folded together) named "all together"."""
    if [key for key, _ in items] == [OTHER]:
        return {**chart.names, OTHER: chart.words["all_together"]}
    return chart.names


def _capped(items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """At most MAX_BARS rows: the smallest join "other" (their counts are shown ones, so
    adding them up shows nothing new)."""
    if len(items) <= MAX_BARS:
        return items
    ranked = sorted((item for item in items if item[0] != OTHER), key=lambda kv: -_number(kv[1]))
    kept = {key for key, _ in ranked[: MAX_BARS - 1]}
    merged = [value for key, value in items if key not in kept]
    total: Any = sum(merged) if all(isinstance(v, int) for v in merged) else merged[0]
    return [(key, value) for key, value in items if key in kept] + [(OTHER, total)]


def _capped_rates(
    chart: Chart, items: list[tuple[str, Mapping[str, Any]]]
) -> list[tuple[str, Mapping[str, Any]]]:
    """Booking rows, capped like the outcomes; the rate of the joined rows only when both
    of their sums are made of shown counts, each at least the threshold."""
    if len(items) <= MAX_BARS:
        return items
    ranked = sorted(
        (item for item in items if item[0] != OTHER),
        key=lambda kv: -_number(kv[1]["screenings"]),
    )
    kept = {key for key, _ in ranked[: MAX_BARS - 1]}
    merged = [cells for key, cells in items if key not in kept]
    k = int(chart.data["min_cell"])
    screenings, count = (
        sum(c[name] for c in merged) if all(isinstance(c[name], int) for c in merged) else None
        for name in ("screenings", "count")
    )
    rate = (
        round(count / screenings, 3)
        if screenings is not None and count is not None and min(count, screenings) >= k
        else None
    )
    joined = {
        "screenings": screenings if screenings is not None else chart.marker,
        "count": count if count is not None else chart.marker,
        "rate": rate,
    }
    return [(key, cells) for key, cells in items if key in kept] + [(OTHER, joined)]


def _capped_checkins(
    chart: Chart, items: list[tuple[str, Mapping[str, Any]]]
) -> list[tuple[str, Mapping[str, Any]]]:
    """At most MAX_PAIRS - 1 outcome rows: those with the fewest answers join "other", whose
    counts are sums only where every part is shown (else the marker, as for booking)."""
    if len(items) <= MAX_PAIRS - 1:
        return items
    ranked = sorted(
        (item for item in items if item[0] != OTHER), key=lambda kv: -_number(kv[1]["answered"])
    )
    kept = {key for key, _ in ranked[: MAX_PAIRS - 2]}
    merged = [cells for key, cells in items if key not in kept]
    joined = {
        name: sum(c[name] for c in merged)
        if all(isinstance(c[name], int) for c in merged)
        else chart.marker
        for name in ("answered", "asked_school", "school_agreed")
    }
    return [(key, cells) for key, cells in items if key in kept] + [(OTHER, joined)]


def _share(count: Any, total: Any, min_cell: int) -> float | None:
    """count / total, only when both are shown counts of at least the threshold (the rule of
    every rate in the JSON, so a joined row shows no more than its parts)."""
    if not (isinstance(count, int) and isinstance(total, int)):
        return None
    return count / total if min(count, total) >= min_cell and total else None


def _number(value: Any) -> int:
    """The drawable length of a cell: a hidden ("<5") cell draws nothing."""
    return value if isinstance(value, int) else 0


def _label(key: str, names: Mapping[str, str]) -> str:
    """The bar's name (an outcome title, or the id made readable), on at most two lines."""
    name = names.get(key, key.replace("_", " "))
    return textwrap.fill(textwrap.shorten(name, 56, placeholder="…"), LABEL_WIDTH)


def _row(label: str) -> float:
    """A bar's row height in UNIT_PX: a name on two lines gets a higher row, the bar keeps
    its width."""
    return 0.75 * (label.count("\n") + 1) + 0.65


def _pair_row(label: str) -> float:
    """A follow-through row's height in UNIT_PX: its two bars, or its name if taller."""
    return max(PAIR_ROW, _row(label))


def _bars_px(labels: Sequence[str]) -> int:
    """The plot height of a bar panel with these names."""
    return round(sum(_row(label) for label in labels) * UNIT_PX) + 2 * BAR_PAD_PX


def _bar_axes(
    ax: Axes, labels: Sequence[str], row: Callable[[str], float] = _row, top: float = 0.0
) -> list[float]:
    """Names on the left, no frame but the left line; the first item on top, under `top`
    units of room (a legend's)."""
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    rows = [row(label) for label in labels]
    total = sum(rows)
    positions = [total - sum(rows[:i]) - height / 2 for i, height in enumerate(rows)]
    ax.set_yticks(positions, labels, fontsize=LABEL_SIZE, linespacing=0.95)
    pad = BAR_PAD_PX / UNIT_PX
    ax.set_ylim(-pad, total + top + pad)
    if top:  # the left line stops under the legend
        ax.spines["left"].set_bounds(-pad, total + pad)
    return positions


def _draw_bars(ax: Axes, labels: Sequence[str], values: Sequence[Any], color: str) -> None:
    """Horizontal bars, each labelled with its count or "<5"."""
    positions = _bar_axes(ax, labels)
    lengths = [_number(value) for value in values]
    ax.barh(positions, lengths, color=color, height=BAR_WIDTH)
    peak = max(lengths) or 1
    ax.set_xlim(0, peak * 1.25)
    for y, value, length in zip(positions, values, lengths, strict=True):
        ax.text(length + peak * 0.02, y, str(value), va="center", fontsize=VALUE_SIZE)


def _draw_rates(
    ax: Axes, rows: Sequence[tuple[str, Mapping[str, Any]]], words: Mapping[str, str]
) -> None:
    """A share per row on a 0–100 % track: "35% · 30 of 86", or "<5 of 7" with no bar."""
    positions = _bar_axes(ax, [label for label, _ in rows])
    ax.set_xlim(0, 100)
    ax.barh(positions, [100] * len(rows), color=TRACK_COLOR, height=BAR_WIDTH)
    for y, (_, cells) in zip(positions, rows, strict=True):
        rate, count, total = cells["rate"], cells["count"], cells["screenings"]
        if rate is None:
            label = words["count_of"].format(count=count, total=total)
            ax.text(2, y, label, va="center", fontsize=VALUE_SIZE)
            continue
        share = rate * 100
        ax.barh([y], [share], color=BOOKING_COLOR, height=BAR_WIDTH)
        label = words["rate"].format(rate=f"{share:.0f}%", count=count, total=total)
        # Inside a long bar in white; after a short one in black.
        inside = share >= 55
        ax.text(share - 2 if inside else share + 2, y, label, va="center",
                ha="right" if inside else "left", fontsize=VALUE_SIZE,
                color="white" if inside else "black")  # fmt: skip


def _draw_pairs(ax: Axes, rows: Sequence[tuple[str, Mapping[str, Any]]], chart: Chart) -> None:
    """Two shares per row on 0–100 % tracks, of those who answered: asked the school (light),
    the school agreed (dark); a hidden count draws no bar and reads "<5 of 20"."""
    words, k = chart.words, int(chart.data["min_cell"])
    positions = _bar_axes(ax, [label for label, _ in rows], _pair_row, top=LEGEND_ROW)
    ax.set_xlim(0, 100)
    half = BAR_WIDTH / 2 + 0.07  # each bar's middle, above and below the row's middle
    for y, (_, cells) in zip(positions, rows, strict=True):
        total = cells["answered"]
        for key, color, ink, side in PAIR_BARS:
            at, count = y + side * half, cells[key]
            ax.barh([at], [100], color=TRACK_COLOR, height=BAR_WIDTH)
            rate = _share(count, total, k)
            if rate is None:
                label = words["count_of"].format(count=count, total=total)
                ax.text(2, at, label, va="center", fontsize=VALUE_SIZE)
                continue
            share = rate * 100
            ax.barh([at], [share], color=color, height=BAR_WIDTH)
            label = words["rate"].format(rate=f"{share:.0f}%", count=count, total=total)
            inside = share >= 55
            ax.text(share - 2 if inside else share + 2, at, label, va="center",
                    ha="right" if inside else "left", fontsize=VALUE_SIZE,
                    color=ink if inside else "black")  # fmt: skip
    # The legend starts at the titles' left margin, above the names and the bars.
    left = (0.03 - BARS_LEFT) / (RIGHT - BARS_LEFT)
    handles = [
        Patch(color=ASKED_COLOR, label=words["followup_asked"]),
        Patch(color=AGREED_COLOR, label=words["followup_agreed"]),
    ]
    ax.legend(handles=handles, fontsize=LABEL_SIZE, frameon=False, loc="upper left", ncols=2,
              bbox_to_anchor=(left, 1.0), borderaxespad=0.0, columnspacing=3.0)  # fmt: skip


def _draw_timeline(
    ax: Axes, buckets: Sequence[Mapping[str, Any]], unit: str | None, words: Mapping[str, str]
) -> None:
    """Started and finished bars per bucket, dated under the axis."""
    ax.spines[["top", "right"]].set_visible(False)
    xs = range(len(buckets))
    started = [_number(b["started"]) for b in buckets]
    finished = [_number(b["completed"]) for b in buckets]
    ax.bar([x - 0.2 for x in xs], started, width=0.4, color=STARTED_COLOR, label=words["started"])
    ax.bar([x + 0.2 for x in xs], finished, width=0.4, color=FINISHED_COLOR,
           label=words["finished"])  # fmt: skip
    ax.legend(fontsize=LABEL_SIZE, frameon=False, loc="upper left", ncols=2,
              bbox_to_anchor=(0, 1.02))  # fmt: skip
    peak = max(started) or 1
    ax.set_ylim(0, peak * 1.3)
    # Room for at least six buckets: one or two bars keep a bar's width, in the middle.
    spare = max(0.0, (6 - len(buckets)) / 2)
    ax.set_xlim(-0.6 - spare, len(buckets) - 0.4 + spare)
    ax.tick_params(axis="y", labelsize=LABEL_SIZE - 4)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    step = max(1, -(-len(buckets) // 6))  # at most about six date labels
    # Counted back from the newest, so the period's last day is always labelled: it is the
    # day the title ends on.
    ticks = list(xs)[::-1][::step][::-1]
    months = words["months"].split()
    ax.set_xticks(ticks, [_when(buckets[i], unit, months) for i in ticks],
                  fontsize=LABEL_SIZE - 4)  # fmt: skip
    if len(buckets) <= 8:  # few buckets: write the numbers on the bars
        for x, b in zip(xs, buckets, strict=True):
            top = max(_number(b["started"]), _number(b["completed"]))
            label = f"{b['started']} / {b['completed']}"
            ax.text(x, top + peak * 0.03, label, ha="center", fontsize=16)


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
