"""The staff chart: drop-off funnel and outcomes as one PNG sized for a phone (1080x1350).

Drawn from the suppressed JSON only, so a small count can never appear: such a bar has
zero length and the label "<5".
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt

WIDTH_PX, HEIGHT_PX, DPI = 1080, 1350, 100
FUNNEL_COLOR, OUTCOME_COLOR = "#d1495b", "#00798c"


def _bars(ax: Any, title: str, items: Sequence[tuple[str, Any]], color: str, empty: str) -> None:
    """Horizontal bars, first item on top, each labelled with its count or "<5"."""
    # Titles start at the figure's left edge, not the axes', so long ones still fit.
    ax.annotate(
        textwrap.fill(title, 40),
        xy=(0.03, 1.03),
        xycoords=("figure fraction", "axes fraction"),
        fontsize=28,
        fontweight="bold",
        va="bottom",
    )
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    if not items:
        ax.set_yticks([])
        ax.text(0.5, 0.5, empty, ha="center", va="center", fontsize=24, transform=ax.transAxes)
        return
    names = [textwrap.fill(name.replace("_", " "), 18) for name, _ in items]
    values = [value if isinstance(value, int) else 0 for _, value in items]
    positions = list(range(len(items)))[::-1]
    ax.barh(positions, values, color=color, height=0.7)
    ax.set_yticks(positions, names, fontsize=20)
    peak = max(values) or 1
    ax.set_xlim(0, peak * 1.2)
    for y, (_, value), length in zip(positions, items, values, strict=True):
        ax.text(length + peak * 0.02, y, str(value), va="center", fontsize=22)


def render_chart(
    data: dict[str, Any],
    *,
    question_order: Sequence[str] = (),
    titles: dict[str, str] | None = None,
) -> bytes:
    """PNG bytes: where abandoned screenings stopped (in question order), then outcomes."""
    words = {
        "dropoff": "Where unfinished screenings stopped",
        "outcomes": "Outcomes of finished screenings",
        "empty": "None in this period",
        "period": "",
    } | (titles or {})
    rank = {q: i for i, q in enumerate(question_order)}
    dropoff = sorted(data["dropoff"].items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
    outcomes = list(data["outcomes"].items())

    fig = plt.figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    try:
        funnel_ax, outcome_ax = fig.subplots(
            2, 1, gridspec_kw={"height_ratios": [max(len(dropoff), 3), max(len(outcomes), 3)]}
        )
        _bars(funnel_ax, words["dropoff"], dropoff, FUNNEL_COLOR, words["empty"])
        _bars(outcome_ax, words["outcomes"], outcomes, OUTCOME_COLOR, words["empty"])
        if words["period"]:
            fig.suptitle(words["period"], fontsize=22, x=0.03, y=0.985, ha="left", va="top")
        fig.subplots_adjust(left=0.3, right=0.9, top=0.86, bottom=0.03, hspace=0.35)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI)
        return out.getvalue()
    finally:
        plt.close(fig)
