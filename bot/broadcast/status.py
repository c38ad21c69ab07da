"""A broadcast's state for staff: when it goes or went, to whom, and how far it got.

One text for the status message the engine keeps up to date, for the redraw after Pause,
Resume or Cancel, and for `iep-bot broadcast status`. Times are in TIMEZONE. A broadcast that
has not started says when it will go and how many parents its audience holds now; only one
that is sending has a bar and an estimate; "sent" is said only of one that went.
"""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

from bot.broadcast.labels import audience_label, subject
from bot.broadcast.queue import ACTIVE, BroadcastRow
from bot.broadcast.when import LIST_FORMAT, date_time
from bot.callbacks import Action, Kind
from bot.content import Content, LanguagePack
from bot.views import Button, Screen

P = "staff.progress"
SUBJECT_CHARS = 60  # of what the broadcast says: the status message has room for a line


def status_screen(
    row: BroadcastRow,
    content: Content,
    lang: str | None,
    *,
    tz: ZoneInfo,
    now: float,
    eta: float | None = None,
) -> Screen:
    """The status message with its Pause / Resume / Cancel buttons, in `lang`."""
    pack = content.pack(lang)
    buttons = []
    if row.status in ("sending", "queued", "scheduled"):
        buttons.append(("pause", pack.t(f"{P}.pause")))
    if row.status == "paused":
        buttons.append(("resume", pack.t(f"{P}.resume")))
    if row.status in ACTIVE:
        buttons.append(("cancel", pack.t(f"{P}.cancel")))
    row_of_buttons = tuple(
        Button(label, Action(Kind.BROADCAST_CONTROL, (op, str(row.id)))) for op, label in buttons
    )
    text = status_text(row, content, lang, tz=tz, now=now, eta=eta)
    return Screen(text, (row_of_buttons,) if row_of_buttons else ())


def eta_seconds(row: BroadcastRow, rate: float) -> float | None:
    """Seconds until the last parent is reached at `rate` a second; None unless sending."""
    if row.status != "sending" or not row.total:
        return None
    return row.remaining / rate


def status_text(
    row: BroadcastRow,
    content: Content,
    lang: str | None,
    *,
    tz: ZoneInfo,
    now: float,
    eta: float | None = None,
) -> str:
    """The state, the audience, what it says, then (once started) the bar and the counts.

    `row` as Broadcasts.as_shown gives it: before the start, `total` is the audience's size now.
    """
    pack = content.pack(lang)
    lines = [headline(row, pack, tz=tz, now=now)]
    audience = audience_label(content, pack, row.audience)
    if row.started_at is None and row.status in ACTIVE:
        lines.append(pack.t(f"{P}.audience_now", audience=audience, count=row.total))
    else:
        lines.append(pack.t(f"{P}.audience", audience=audience))
    what = "what_tip" if row.tip_id is not None else "what"
    lines.append(pack.t(f"{P}.{what}", what=subject(row, pack, SUBJECT_CHARS)))
    if row.started_at is None:
        return "\n".join(lines)
    if row.total:
        lines.append(progress_bar(row.done, row.total))
    if row.status in ("sending", "paused"):
        counts = pack.t(
            f"{P}.counts",
            sent=row.sent,
            remaining=row.remaining,
            blocked=row.blocked,
            failed=row.failed,
        )
    else:
        counts = pack.t(f"{P}.counts_final", sent=row.sent, blocked=row.blocked, failed=row.failed)
        if row.remaining:
            counts += " · " + pack.t(f"{P}.not_sent", count=row.remaining)
    lines.append(counts)
    if row.unknown or row.skipped:
        lines.append(pack.t(f"{P}.extra", unknown=row.unknown, skipped=row.skipped))
    if eta is not None and row.status == "sending" and row.remaining:
        lines.append(pack.t(f"{P}.eta", time=_duration(eta)))
    return "\n".join(lines)


def headline(row: BroadcastRow, pack: LanguagePack, *, tz: ZoneInfo, now: float) -> str:
    """The first line: the state in words, with the time that goes with it."""
    zone = str(tz)

    def when(moment: float) -> str:
        return date_time(pack, moment, tz)

    if row.status == "scheduled" and row.not_before is not None:
        return pack.t(f"{P}.state.scheduled", id=row.id, time=when(row.not_before), zone=zone)
    if row.status == "paused" and row.started_at is None:
        if row.not_before is None:
            return pack.t(f"{P}.state.paused_unstarted", id=row.id)
        # Resume sends one whose time has passed at once: say so before it is pressed.
        key = "paused_was_scheduled" if row.not_before > now else "paused_time_passed"
        return pack.t(f"{P}.state.{key}", id=row.id, time=when(row.not_before), zone=zone)
    if row.status in ("sending", "paused") and row.started_at is not None:
        started = when(row.started_at)
        return pack.t(f"{P}.state.{row.status}", id=row.id, time=started, zone=zone)
    if row.status in ("done", "cancelled"):
        key = "cancelled_unstarted" if row.started_at is None else row.status
        finished = when(row.finished_at or now)
        return pack.t(f"{P}.state.{key}", id=row.id, time=finished, zone=zone)
    return pack.t(f"{P}.state.queued", id=row.id)


def control_toast(
    op: str, changed: bool, row: BroadcastRow | None, pack: LanguagePack, *, tz: ZoneInfo
) -> str:
    """What pressing Pause, Resume or Cancel did, said truly: "Resumed: scheduled for …"."""
    if row is None:
        return pack.t(f"{P}.gone")
    # Only a scheduled broadcast's words name the time: it always has one.
    time = date_time(pack, row.not_before, tz, LIST_FORMAT) if row.not_before else ""
    if not changed:
        return pack.t(f"{P}.unchanged.{row.status}", id=row.id, time=time)
    if op == "resume":
        return pack.t(f"{P}.resumed.{row.status}", time=time)
    return pack.t(f"{P}.{'paused' if op == 'pause' else 'cancelled'}")


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
