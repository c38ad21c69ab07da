"""A broadcast's progress for staff: in words and a bar, with Pause / Resume / Cancel buttons."""

from __future__ import annotations

import math
from collections.abc import Callable

from bot.broadcast.queue import ACTIVE, BroadcastRow
from bot.callbacks import Action, Kind
from bot.content import LanguagePack
from bot.views import Button, Screen


def status_screen(row: BroadcastRow, pack: LanguagePack, eta: float | None) -> Screen:
    """The status message staff see (and the engine keeps up to date), with its buttons."""
    buttons = []
    if row.status in ("sending", "queued", "scheduled"):
        buttons.append(("pause", pack.t("staff.progress.pause")))
    if row.status == "paused":
        buttons.append(("resume", pack.t("staff.progress.resume")))
    if row.status in ACTIVE:
        buttons.append(("cancel", pack.t("staff.progress.cancel")))
    row_of_buttons = tuple(
        Button(label, Action(Kind.BROADCAST_CONTROL, (op, str(row.id)))) for op, label in buttons
    )
    return Screen(status_text(row, pack.t, eta), (row_of_buttons,) if row_of_buttons else ())


def eta_seconds(row: BroadcastRow, rate: float) -> float | None:
    """Seconds until the last parent is reached at `rate` a second; None when not sending."""
    if row.status not in ("sending", "queued", "scheduled") or not row.total:
        return None
    return row.remaining / rate


def status_text(row: BroadcastRow, t: Callable[..., str], eta: float | None) -> str:
    """Progress in words and a bar, for the status message and `iep-bot broadcast status`."""
    lines = [t(f"staff.progress.state.{row.status}", id=row.id)]
    if row.total:
        lines.append(progress_bar(row.done, row.total))
    lines.append(
        t(
            "staff.progress.counts",
            sent=row.sent,
            remaining=row.remaining,
            blocked=row.blocked,
            failed=row.failed,
        )
    )
    if row.unknown or row.skipped:
        lines.append(t("staff.progress.extra", unknown=row.unknown, skipped=row.skipped))
    if eta is not None and row.remaining:
        lines.append(t("staff.progress.eta", time=_duration(eta)))
    return "\n".join(lines)


def progress_bar(done: int, total: int, width: int = 20) -> str:
    filled = math.floor(width * done / total) if total else width
    return f"{'█' * filled}{'░' * (width - filled)} {done}/{total}"


def _duration(seconds: float) -> str:
    seconds = max(round(seconds), 1)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
