"""What the follow-through engine sends: a due reminder or check-in (a `Notice` from
bot/followup/store.py) as one message, in the language the parent set it in. No Telegram.

`NoticeWriter.compose(notice) -> Outgoing | None` is the engine's one call (the Conversation
holds one as `notices`); None means there is nothing right to say (a kind this version does
not know, a due date it cannot read), and the engine lets the notice go unsent.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.config import Settings
from bot.content import Content
from bot.delivery import Outgoing
from bot.followup.due import DueDate, ReminderKind, due_date
from bot.followup.plan import local_day
from bot.followup.store import FollowUps, Notice
from bot.followup.timelines import Timelines
from bot.parent.checkins import CheckinDesk
from bot.parent.deadlines import DeadlineDesk
from bot.storage import Storage

log = logging.getLogger(__name__)


class NoticeWriter:
    """Turns due notices into messages; one per process."""

    def __init__(
        self,
        content: Content,
        storage: Storage,
        settings: Settings,
        timelines: Timelines,
        followups: FollowUps,
        deadlines: DeadlineDesk,
        checkins: CheckinDesk,
    ) -> None:
        self.content = content
        self.storage = storage
        self.settings = settings
        self.timelines = timelines
        self.followups = followups
        self.deadlines = deadlines
        self.checkins = checkins

    def compose(self, notice: Notice) -> Outgoing | None:
        """The message for a due reminder or check-in; None when there is none to send."""
        pack = self.content.pack(notice.lang)
        if notice.kind == "checkin":
            screen = self.checkins.ask_screen(pack, notice.ref, notice.detail)
            return Outgoing.screen(notice.chat_id, screen)
        if notice.kind != "reminder":
            log.warning("a follow-through notice of an unknown kind was not sent: %s", notice.kind)
            return None
        try:
            kind = ReminderKind(notice.step)
            due = self._due(notice)
        except ValueError:
            log.warning("a reminder this version cannot write was not sent: %s", notice.step)
            return None
        today = local_day(self.storage.clock(), self.settings.tz)
        screen = self.deadlines.reminder_screen(pack, kind, due, today)
        return Outgoing.screen(notice.chat_id, screen)

    def _due(self, notice: Notice) -> DueDate:
        """The due date the reminder speaks of, with its rule (whether it is an estimate)."""
        deadline = self.followups.deadline(notice.chat_key)
        if deadline is not None:
            rule = self.timelines.rules.get(deadline.rule_id) or self.timelines.rule_for(None)
            computed = due_date(deadline.received, rule)
            return DueDate(deadline.received, deadline.due, rule, computed.is_estimate)
        day = dt.date.fromisoformat(notice.detail or "")
        rule = self.timelines.rule_for(None)
        return DueDate(day, day, rule, False)
