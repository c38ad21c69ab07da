"""/broadcasts: scheduled, sending and recent broadcasts on one phone screen. No Telegram here.

A page is one message: a line per broadcast (its number, time in TIMEZONE, audience, counts,
state and what it says) under "Scheduled", "Sending now" and "Recent", and a button per
broadcast that posts its live status message. As many broadcasts as fit one phone screen
(bot/parent/layout.py's ruler); "More" shows the next ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.broadcast.labels import audience_label, subject
from bot.broadcast.queue import BroadcastRow, Broadcasts
from bot.broadcast.when import LIST_FORMAT, date_time
from bot.callbacks import Action, Kind
from bot.content import Content, LanguagePack
from bot.html import visible_text
from bot.parent.layout import SCREEN_LINES, screen_lines
from bot.views import Button, Screen

B = "staff.broadcasts"
PAGE_MOST = 6  # broadcasts on a page at most, even short ones
BUTTONS_A_ROW = 3  # "🕒 #12" fits a third of a row (layout.LABEL_WIDTH)
LINE_VISIBLE = 70  # a list line's visible characters: two lines on the phone
SUBJECT_LEAST = 12  # the subject keeps at least this much ("IEP meeting…"), even on a long line
ACTIVE_MOST = 200  # scheduled or sending broadcasts read at most (a practice has a few)
SEPARATOR = " · "
SHOW, PAGE = "s", "p"  # the buttons: show one broadcast's status, or a page of the list

# Sections in the order shown, each with its broadcasts' condition and order.
SECTIONS = (
    (
        "scheduled",
        "status = 'scheduled' OR (status = 'paused' AND started_at IS NULL)",
        "coalesce(not_before, created_at), id",
    ),
    (
        "sending",
        "status IN ('queued', 'sending') OR (status = 'paused' AND started_at IS NOT NULL)",
        "id",
    ),
    (
        "recent",
        "status IN ('done', 'cancelled')",
        "coalesce(finished_at, created_at) DESC, id DESC",
    ),
)


@dataclass(frozen=True)
class Listed:
    """One broadcast as the list shows it, under its section."""

    section: str
    row: BroadcastRow


def broadcasts_page(
    broadcasts: Broadcasts,
    content: Content,
    lang: str | None,
    *,
    tz: ZoneInfo,
    start: int = 0,
    replace: bool = False,
) -> Screen:
    """The page of the list that begins with its `start`-th broadcast (the first page: 0)."""
    pack = content.pack(lang)
    listed = _listed(broadcasts, start + PAGE_MOST + 1)
    if not listed:
        return Screen(pack.t(f"{B}.empty"), replace=replace)
    if start >= len(listed):
        start = 0  # an old "More" on a list that has shrunk since
    page = listed[start : start + PAGE_MOST]

    def first(count: int) -> Screen:
        more = start + count < len(listed)
        return _screen(page[:count], content, pack, tz, start, more=more, replace=replace)

    count = len(page)
    while count > 1 and not _fits(first(count)):
        count -= 1
    return first(count)


def _fits(screen: Screen) -> bool:
    """Whether the message, its buttons included, fits one phone screen."""
    return screen_lines(screen.text, len(screen.rows)) <= SCREEN_LINES


def show_action(broadcast_id: int) -> Action:
    return Action(Kind.BROADCASTS_LIST, (SHOW, str(broadcast_id)))


def page_action(start: int) -> Action:
    return Action(Kind.BROADCASTS_LIST, (PAGE, str(start)))


def _listed(broadcasts: Broadcasts, recent_most: int) -> list[Listed]:
    """Every scheduled and sending broadcast, then the newest finished ones, brought up to
    date: counts recounted once started, the audience's size now before."""
    found: list[Listed] = []
    for section, where, order in SECTIONS:
        most = recent_most if section == "recent" else ACTIVE_MOST
        for row in broadcasts.select(where, [], order=order, limit=most):
            if row.status in ("sending", "paused") and row.started_at is not None:
                broadcasts.refresh_counts(row.id)
                row = broadcasts.get(row.id) or row
            found.append(Listed(section, broadcasts.as_shown(row)))
    return found


def _screen(
    page: list[Listed],
    content: Content,
    pack: LanguagePack,
    tz: ZoneInfo,
    start: int,
    *,
    more: bool,
    replace: bool,
) -> Screen:
    parts = [pack.t(f"{B}.title", zone=str(tz))]
    section = None
    for item in page:
        if item.section != section:
            section = item.section
            parts.append(pack.t(f"{B}.{section}"))
        parts.append(line(item.row, content, pack, tz))
    buttons = [Button(_button_label(item.row, pack), show_action(item.row.id)) for item in page]
    rows = [tuple(buttons[i : i + BUTTONS_A_ROW]) for i in range(0, len(buttons), BUTTONS_A_ROW)]
    nav = []
    if start > 0:
        nav.append(Button(pack.t(f"{B}.first"), page_action(0)))
    if more:
        nav.append(Button(pack.t(f"{B}.more"), page_action(start + len(page))))
    if nav:
        rows.append(tuple(nav))
    return Screen("\n".join(parts), tuple(rows), replace=replace)


def line(row: BroadcastRow, content: Content, pack: LanguagePack, tz: ZoneInfo) -> str:
    """One broadcast in two phone lines or so: "🕒 #12 Tue 8 Dec, 09:30 · Everyone · …"."""
    facts = [_when(row, pack, tz), audience_label(content, pack, row.audience), _counts(row, pack)]
    head = f"{_icon(row, pack)} <b>#{row.id}</b> {SEPARATOR.join(facts)}{SEPARATOR}"
    # What it says gets the room the rest leaves on two lines (some, however long the rest).
    room = max(LINE_VISIBLE - len(visible_text(head)), SUBJECT_LEAST)
    return f"{head}<i>{subject(row, pack, chars=room)}</i>"


def _when(row: BroadcastRow, pack: LanguagePack, tz: ZoneInfo) -> str:
    """When it goes, went, or started, with the state in words: "sent Tue 8 Dec, 09:30"."""

    def time(moment: float) -> str:
        return date_time(pack, moment, tz, LIST_FORMAT)

    if row.status == "paused" and row.started_at is None:
        if row.not_before is None:
            return pack.t(f"{B}.when.paused_unstarted")
        return pack.t(f"{B}.when.paused_scheduled", time=time(row.not_before))
    if row.status == "scheduled" and row.not_before is not None:
        return pack.t(f"{B}.when.scheduled", time=time(row.not_before))
    if row.status in ("sending", "paused") and row.started_at is not None:
        return pack.t(f"{B}.when.{row.status}", time=time(row.started_at))
    if row.status in ("done", "cancelled"):
        return pack.t(f"{B}.when.{row.status}", time=time(row.finished_at or row.created_at))
    return pack.t(f"{B}.when.queued")


def _counts(row: BroadcastRow, pack: LanguagePack) -> str:
    """Before the start, the audience's size now; after, sent of total and any trouble."""
    if row.started_at is None:
        if row.status == "cancelled":
            return pack.t(f"{B}.none_sent")
        return pack.t(f"{B}.audience_now", count=row.total)
    counts = [pack.t(f"{B}.progress", sent=row.sent, total=row.total)]
    if row.blocked:
        counts.append(pack.t(f"{B}.blocked", count=row.blocked))
    if row.failed:
        counts.append(pack.t(f"{B}.failed", count=row.failed))
    return " · ".join(counts)


def _button_label(row: BroadcastRow, pack: LanguagePack) -> str:
    return f"{_icon(row, pack)} #{row.id}"


def _icon(row: BroadcastRow, pack: LanguagePack) -> str:
    return pack.t(f"{B}.icon.{row.status}")
