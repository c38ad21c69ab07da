"""What one staff event brings in and what it produces, for the compose desk. No Telegram here."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.views import Reply, Screen


class Op:
    """Compose button operations (kept short: callback data has 64 bytes)."""

    AUDIENCE = "a"
    CONFIRM = "ok"  # arg: the language the others get, as shown when it was pressed
    CONFIRM_IGNORING_QUIET = "now"
    ASK_TIME = "t"
    UNSCHEDULE = "u"
    EDIT_TEXT = "e"  # arg: the language whose text to write (again)
    EDIT_AUDIENCE = "w"
    SKIP = "k"  # arg: the language asked, which gets no text
    OTHERS_GET = "o"  # arg: the language whose text the languages without one get
    LEAVE_OUT = "l"  # the languages without a text get nothing (the default)
    CANCEL = "x"
    TIPS_PAGE = "p"
    TIP_NOW = "n"  # a tip's preview in every language, with Confirm and Schedule
    TIP_SCHEDULE = "s"  # older lists: ask the time first
    # "Escape it for me" on a refused text; arg: a digest of that text, so only its own
    # button works.
    ESCAPE = "esc"


@dataclass(frozen=True)
class Staff:
    """The staff member acting: their Telegram user id (staff, never a parent) and language."""

    user_id: int
    lang: str


@dataclass(frozen=True)
class Incoming:
    """A message staff sent while a draft waits: its broadcast HTML, photo, or neither."""

    html: str = ""
    photo: str | None = None  # Telegram file_id of the largest size
    is_text_or_photo: bool = True
    formatting_removed: bool = False
    raw: str = ""  # the text as typed, for reading a date


@dataclass(frozen=True)
class Preview:
    """One message exactly as a recipient will get it."""

    text: str
    photo: str | None = None


@dataclass
class StaffReply:
    """What one staff event produces, shown in order: head, previews, tail, status message."""

    head: Reply = field(default_factory=Reply)  # answers the press; may edit the pressed message
    previews: list[Preview] = field(default_factory=list)
    tail: list[Screen] = field(default_factory=list)
    status_for: int | None = None  # a queued broadcast: post its status message and attach it

    def merge(self, other: StaffReply) -> StaffReply:
        """This reply followed by `other`, as one."""
        self.head.screens += other.head.screens
        self.head.toast = self.head.toast or other.head.toast
        self.head.alert = self.head.alert or other.head.alert
        self.previews += other.previews
        self.tail += other.tail
        self.status_for = self.status_for or other.status_for
        return self
