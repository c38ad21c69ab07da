"""The evaluation clock in the chat: the day the school got the signed consent (a calendar or
a typed date), the state, a summary with the due date, its rule and the reminders, then the
reminders set; /deadlines shows, changes or deletes them. No Telegram here.

The buttons carry everything a step needs (the day, the state), signed by the codec, so a
restart loses nothing and an old button still does what it says. The one thing kept in
memory is that a chat was just asked for the date, so a typed "Nov 3" is read as the answer
(an hour at most; after a restart the calendar still works). Nothing is stored until the
parent taps "Set the reminders": that tap is their consent to keep the chat id and the date
until the last reminder (bot/followup/store.py deletes them then).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from bot.callbacks import Action, Kind
from bot.config import Settings
from bot.content import LanguagePack
from bot.followup.due import DueDate, ReminderKind, due_date, reminder_schedule
from bot.followup.month_grid import (
    YearMonth,
    allowed,
    earliest_day,
    month_grid,
    next_month,
    previous_month,
    weekday_names,
)
from bot.followup.plan import local_day, reminder_times
from bot.followup.store import FollowUps
from bot.followup.timelines import FEDERAL, Timelines, TimelineWords
from bot.followup.typed_dates import DateProblem, read_typed_date
from bot.letters.book import LetterBook
from bot.parent.layout import option_rows
from bot.storage import Storage
from bot.views import Button, Reply, Screen

DEADLINE_KIND = Kind.DEADLINE
ASKING_SECONDS = 3600  # how long a typed text is read as the date after the question
_ASKED_AT_MOST = 10_000  # chats remembered as just asked (nothing else is kept of them)
ANY_STATE = "-"  # "another state" or "not sure": the federal rule
# The letter each reminder offers: the records request gets the evaluation reports before
# the meeting (facts.md 19). None fits a delay better; Prior Written Notice answers a "no".
REMINDER_LETTER = "records"
TRACK_STEP = "track_timeline"  # a result whose first step is this offers the clock
KNOWN_KINDS = frozenset(kind.value for kind in ReminderKind)
Rows = tuple[tuple[Button, ...], ...]


class DateWriter:
    """Dates written out in a chat's language: "Tuesday, January 5, 2027", "5 de enero"."""

    def __init__(self, timelines: Timelines) -> None:
        self.timelines = timelines

    def long(self, pack: LanguagePack, day: dt.date) -> str:
        words = self.timelines.words(pack.code)
        return pack.t(
            "followup.date",
            weekday=_weekday_names(pack)[day.weekday()],
            month=words.month_names[day.month - 1],
            day=day.day,
            year=day.year,
        )

    def short(self, pack: LanguagePack, day: dt.date) -> str:
        words = self.timelines.words(pack.code)
        return pack.t("followup.short_date", month=words.month_names[day.month - 1], day=day.day)


def _weekday_names(pack: LanguagePack) -> list[str]:
    """The weekdays as written, Monday first: each first name in timelines.yaml `dates`
    (the loader checked there are seven)."""
    raw = pack.ui["timelines"]["dates"]["weekdays"]
    return [str(item).split(",")[0].strip() for item in raw]


def day_code(day: dt.date) -> str:
    """A day as it travels in a button: 20261103."""
    return day.strftime("%Y%m%d")


def read_day_code(code: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(code, "%Y%m%d").date() if len(code) == 8 else None
    except ValueError:
        return None


class DeadlineDesk:
    """Every step of the evaluation clock; one per process, shared by all chats."""

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        timelines: Timelines,
        followups: FollowUps,
        book: LetterBook,
        *,
        menu_row: Callable[[LanguagePack], Rows],
        book_row: Callable[[LanguagePack], tuple[Button, ...]],
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.timelines = timelines
        self.followups = followups
        self.book = book
        self.dates = DateWriter(timelines)
        self._menu_row = menu_row
        self._book_row = book_row
        self._asking: OrderedDict[str, float] = OrderedDict()

    # --- what other screens offer ------------------------------------------------------------

    def track_row(self, pack: LanguagePack) -> tuple[Button, ...]:
        """ "⏰ Track the deadline": from a result, a letter's advice or a check-in's answer."""
        return (Button(pack.t("followup.deadline.track_button"), Action(DEADLINE_KIND, ("i",))),)

    def result_row(self, pack: LanguagePack, first_step: str) -> tuple[Button, ...]:
        """The clock under a result whose first step is to track the school's timeline."""
        return self.track_row(pack) if first_step == TRACK_STEP else ()

    def menu_button(self, pack: LanguagePack) -> Button:
        return Button(pack.t("followup.deadline.menu_button"), Action(DEADLINE_KIND, ("i",)))

    def continue_row(self, chat_key: str, pack: LanguagePack) -> tuple[Button, ...]:
        """Back to the date question, for the crisis screen shown while it is asked."""
        if not self.is_asking(chat_key):
            return ()
        return (Button(pack.t("followup.deadline.continue"), Action(DEADLINE_KIND, ("i",))),)

    # --- /deadlines -------------------------------------------------------------------------------

    def show(self, chat_key: str, pack: LanguagePack) -> Reply:
        """/deadlines: the rule behind the clock, then the due date and the reminders still
        to come with Change and Delete; or how to set one."""
        deadline = self.followups.deadline(chat_key)
        if deadline is None:
            rows = (self.track_row(pack), *self._menu_row(pack))
            return Reply().add(Screen(pack.t("followup.deadline.none"), rows))
        # The date the reminders were set by, with the rule's "estimate" mark.
        due = replace(self._due(deadline.received, deadline.state), date=deadline.due)
        parts = [self._due_line(pack, due)]
        pending = [(kind, at) for kind, at in deadline.pending if kind in KNOWN_KINDS]
        if pending:
            lines = [
                "• " + self._reminder_line(pack, ReminderKind(kind), self._day_of(at))
                for kind, at in pending
            ]
            parts.append(pack.t("followup.deadline.pending_title") + "\n" + "\n".join(lines))
        else:
            parts.append(pack.t("followup.deadline.no_reminders_left"))
        rows = (
            (self._button(pack, "change_button", "i"), self._button(pack, "delete_button", "r")),
            *self._menu_row(pack),
        )
        reply = Reply().add(Screen(self._rule_text(pack, deadline.received, deadline.state)))
        return reply.add(Screen("\n\n".join(parts), rows))

    # --- buttons ------------------------------------------------------------------------------

    def press(
        self, chat_key: str, chat_id: int | None, pack: LanguagePack, action: Action
    ) -> Reply | None:
        """A clock button (verified by the codec); None for one it cannot act on (stale)."""
        op = action.arg(0)
        if op == "i":
            return self.start(chat_key, pack)
        if op == "_":
            return Reply()  # an empty square of the calendar, or a column's head
        if op == "c":
            month = read_day_code(action.arg(1) + "01")
            if month is None:
                return None
            self._ask(chat_key)
            return Reply().add(self.calendar(pack, YearMonth.of(month), replace=True))
        if op in ("p", "t"):
            return self._picked(chat_key, pack, action)
        if op == "n":
            self.stop_asking(chat_key)
            text = pack.t("followup.deadline.not_signed")
            return Reply().add(Screen(text, self._menu_row(pack)))
        if op == "x":
            self.stop_asking(chat_key)
            text = pack.t("followup.deadline.cancelled")
            return Reply().add(Screen(text, self._menu_row(pack), replace=True))
        if op == "r":
            return self._delete(chat_key, pack)
        received, state = read_day_code(action.arg(1)), action.arg(2)
        if received is None or not self._state_ok(state):
            return None
        if op == "u":
            return self._summary(pack, received, state)
        if op == "k":
            return self._set(chat_key, chat_id, pack, received, state)
        return None

    # --- typed text ---------------------------------------------------------------------------

    def is_asking(self, chat_key: str) -> bool:
        self._sweep()
        return chat_key in self._asking

    def stop_asking(self, chat_key: str) -> None:
        self._asking.pop(chat_key, None)

    def typed(self, chat_key: str, pack: LanguagePack, text: str | None) -> Reply | None:
        """Text sent just after the date question: the date, or a kind line and the same
        question. None when the date is not being asked."""
        if not self.is_asking(chat_key):
            return None
        today = self._today()
        earliest = earliest_day(today)
        reading = read_typed_date(
            text or "",
            today=today,
            lang=pack.code,
            reader=self.timelines.dates,
            earliest=earliest,
        )
        day = reading.accepted
        if day is not None:
            self.stop_asking(chat_key)
            return Reply().add(self._state_screen(pack, day, replace=False))
        problem = reading.problem or DateProblem.UNREADABLE
        said = self.dates.long(pack, reading.day) if reading.day is not None else ""
        reply = Reply().add(Screen(pack.t(f"followup.deadline.{problem.value}", date=said)))
        month = YearMonth.of(earliest if problem is DateProblem.TOO_OLD else today)
        return reply.add(self.calendar(pack, month, replace=False))

    # --- the steps ------------------------------------------------------------------------------

    def start(self, chat_key: str, pack: LanguagePack) -> Reply:
        """What this is and what is kept, the question, and this month's calendar."""
        self._ask(chat_key)
        rows = ((self._button(pack, "not_signed_button", "n"), self._cancel(pack)),)
        reply = Reply().add(Screen(pack.t("followup.deadline.intro"), rows))
        return reply.add(self.calendar(pack, YearMonth.of(self._today()), replace=False))

    def calendar(self, pack: LanguagePack, month: YearMonth, *, replace: bool) -> Screen:
        """One month: its days up to today and a year back, the months either side, and
        Today / Yesterday."""
        today = self._today()
        earliest = earliest_day(today)
        month = min(max(month, YearMonth.of(earliest)), YearMonth.of(today))
        words = self.timelines.words(pack.code)
        name = words.month_names[month.month - 1]
        # A heading starts with a capital, whatever the language writes months with.
        heading = name[:1].upper() + name[1:]
        text = pack.t("followup.deadline.calendar", month=heading, year=month.year)
        nav = []
        before = previous_month(month.year, month.month, earliest=earliest)
        if before is not None:
            label = pack.t("followup.deadline.previous", month=words.month_names[before.month - 1])
            nav.append(Button(label, Action(DEADLINE_KIND, ("c", _month_code(before)))))
        after = next_month(month.year, month.month, today=today)
        if after is not None:
            label = pack.t("followup.deadline.next", month=words.month_names[after.month - 1])
            nav.append(Button(label, Action(DEADLINE_KIND, ("c", _month_code(after)))))
        blank = Action(DEADLINE_KIND, ("_",))
        heads = tuple(Button(h, blank) for h in weekday_names(list(words.weekday_letters)))

        def cell(day: dt.date | None) -> Button:
            if day is None or not allowed(day, today, earliest):
                return Button(" ", blank)  # no future day, nothing over a year back
            return Button(str(day.day), Action(DEADLINE_KIND, ("p", day_code(day))))

        weeks = [
            tuple(cell(day) for day in week)
            for week in month_grid(month.year, month.month)
            if any(day is not None and allowed(day, today, earliest) for day in week)
        ]
        quick = (
            Button(pack.t("followup.deadline.today"), Action(DEADLINE_KIND, ("t", "0"))),
            Button(pack.t("followup.deadline.yesterday"), Action(DEADLINE_KIND, ("t", "1"))),
        )
        rows = (*((tuple(nav),) if nav else ()), heads, *weeks, quick)
        return Screen(text, rows, replace=replace)

    def _picked(self, chat_key: str, pack: LanguagePack, action: Action) -> Reply | None:
        today = self._today()
        if action.arg(0) == "t":
            back = {"0": 0, "1": 1}.get(action.arg(1))
            if back is None:
                return None
            day: dt.date | None = today - dt.timedelta(days=back)
        else:
            day = read_day_code(action.arg(1))
        if day is None:
            return None
        if not allowed(day, today, earliest_day(today)):
            # A calendar left open for long: its days moved out of reach.
            self._ask(chat_key)
            reply = Reply(toast=pack.t("followup.deadline.off_calendar"))
            return reply.add(self.calendar(pack, YearMonth.of(today), replace=True))
        self.stop_asking(chat_key)
        return Reply().add(self._state_screen(pack, day, replace=True))

    def _state_screen(self, pack: LanguagePack, received: dt.date, *, replace: bool) -> Screen:
        """The states with a rule of their own, another state, not sure."""
        words = self.timelines.words(pack.code)
        own = sorted(
            (words.states[code], code)
            for code, rid in self.timelines.states.items()
            if rid != FEDERAL
        )
        choices = [(name, code) for name, code in own]
        choices.append((pack.t("followup.deadline.another_state"), ANY_STATE))
        choices.append((words.not_sure, ANY_STATE))
        day = day_code(received)
        buttons = [Button(name, Action(DEADLINE_KIND, ("u", day, code))) for name, code in choices]
        rows = [tuple(buttons[i] for i in row) for row in option_rows([b.label for b in buttons])]
        rows.append((self._cancel(pack),))
        text = pack.t("followup.deadline.state_question", date=self.dates.long(pack, received))
        return Screen(text, tuple(rows), replace=replace)

    def _summary(self, pack: LanguagePack, received: dt.date, state: str) -> Reply:
        """Two messages (each fits a phone screen): the rule, its citation and its caveat in
        place of the state question; then the due date and the reminders, with "Set the
        reminders". Nothing is kept yet."""
        code = None if state == ANY_STATE else state
        due = self._due(received, code)
        reply = Reply().add(Screen(self._rule_text(pack, received, code), replace=True))
        change = (self._button(pack, "change_date_button", "i"), self._cancel(pack))
        ahead = reminder_schedule(due.date, today=self._today())
        if not ahead:  # even the day after has gone by: what to do now, nothing to set
            today = self._today()
            passed = self.reminder_screen(pack, ReminderKind.DAY_AFTER, due, today, sent=False)
            return reply.add(Screen(passed.text, (*passed.rows, change)))
        lines = ["• " + self._reminder_line(pack, r.kind, r.day) for r in ahead]
        text = "\n\n".join(
            [
                self._due_line(pack, due),
                pack.t("followup.deadline.reminders_title") + "\n" + "\n".join(lines),
                pack.t("followup.deadline.keep_note"),
            ]
        )
        set_it = Action(DEADLINE_KIND, ("k", day_code(received), state))
        rows = ((Button(pack.t("followup.deadline.set_button"), set_it),), change)
        return reply.add(Screen(text, rows))

    def _set(
        self, chat_key: str, chat_id: int | None, pack: LanguagePack, received: dt.date, state: str
    ) -> Reply:
        """ "Set the reminders": the chat id, the dates and the reminders are kept now."""
        if chat_id is None:  # `iep-bot chat`: nothing could ever reach the terminal
            text = pack.t("followup.deadline.terminal_only")
            return Reply().add(Screen(text, self._menu_row(pack), replace=True))
        code = None if state == ANY_STATE else state
        rule = self.timelines.rule_for(code)
        due = due_date(received, rule)
        today = self._today()
        times = reminder_times(due.date, today=today, tz=self.settings.tz)
        if not times:  # the last reminder's day went by since the summary: nothing to keep
            screen = self.reminder_screen(pack, ReminderKind.DAY_AFTER, due, today, sent=False)
            return Reply().add(Screen(screen.text, screen.rows, replace=True))
        replaced = self.followups.deadline(chat_key) is not None
        self.followups.set_deadline(
            chat_key,
            chat_id,
            pack.code,
            received=received,
            state=code,
            rule_id=rule.id,
            due=due.date,
            reminders=[(kind.value, at) for kind, at in times],
        )
        parts = [pack.t("followup.deadline.saved", date=self.dates.long(pack, due.date))]
        if replaced:
            parts[0] += " " + pack.t("followup.deadline.replaced")
        lines = ["• " + self._reminder_line(pack, kind, self._day_of(at)) for kind, at in times]
        parts.append(pack.t("followup.deadline.reminders_title") + "\n" + "\n".join(lines))
        parts.append(pack.t("followup.deadline.saved_footer"))
        return Reply().add(Screen("\n\n".join(parts), self._menu_row(pack), replace=True))

    def _delete(self, chat_key: str, pack: LanguagePack) -> Reply:
        gone = self.followups.cancel_deadline(chat_key)
        key = "deleted" if gone else "nothing_to_delete"
        return Reply().add(
            Screen(pack.t(f"followup.deadline.{key}"), self._menu_row(pack), replace=True)
        )

    # --- reminders (the engine sends them; bot/parent/notices.py) -------------------------------

    def reminder_screen(
        self,
        pack: LanguagePack,
        kind: ReminderKind,
        due: DueDate,
        today: dt.date,
        *,
        sent: bool = True,
    ) -> Screen:
        """One reminder: the days left (from today, so a late one says the truth), what to
        do now, the records letter, Book and Free help. Not `sent`: the same advice in the
        chat, under the rule it was worked out with (no estimate note, no way to stop it)."""
        left = (due.date - today).days
        date = self.dates.long(pack, due.date)
        if left > 1:
            head = pack.t("followup.reminders.left.many", n=left, date=date)
        elif left == 1:
            head = pack.t("followup.reminders.left.one", date=date)
        elif left == 0:
            head = pack.t("followup.reminders.left.today", date=date)
        elif left == -1:
            head = pack.t("followup.reminders.left.late_one", date=date)
        else:
            head = pack.t("followup.reminders.left.late_many", n=-left, date=date)
        body = pack.t(f"followup.reminders.{kind.value}")
        if sent and due.is_estimate:
            rule = self.timelines.words(pack.code).rules[due.rule.id].name
            head += "\n" + pack.t("followup.reminders.estimate", rule=rule)
        if sent:
            body += "\n" + pack.t("followup.reminders.footer")
        parts = [head, body]
        rows = (self.letter_row(pack, REMINDER_LETTER), self._book_row(pack))
        return Screen("\n\n".join(parts), tuple(row for row in rows if row))

    def letter_row(
        self, pack: LanguagePack, letter_id: str, session_id: str = "-"
    ) -> tuple[Button, ...]:
        """A button that opens one letter (through the letter desk), if the book has it."""
        words = self.book.language(pack.code).letters.get(letter_id)
        if words is None:
            return ()
        label = pack.t("followup.letter_button", letter=words.button)
        return (Button(label, Action(Kind.LETTER, ("n", letter_id, session_id))),)

    # --- helpers ---------------------------------------------------------------------------------

    def _due(self, received: dt.date, state: str | None) -> DueDate:
        return due_date(received, self.timelines.rule_for(state))

    def _rule_text(self, pack: LanguagePack, received: dt.date, state: str | None) -> str:
        """The title, the day consent was received, the rule with its citation, and its
        caveat: an estimate, or "unless your state sets its own timeline"."""
        rule = self.timelines.rule_for(state)
        words: TimelineWords = self.timelines.words(pack.code)
        rule_words = words.rules[rule.id]
        lines = [
            pack.t("followup.deadline.title"),
            pack.t("followup.deadline.received", date=self.dates.long(pack, received)),
            pack.t(
                "followup.deadline.rule",
                rule=rule_words.name,
                citation=rule.citation,
                explain=rule_words.explain,
            ),
        ]
        if rule_words.estimate:
            lines.append(f"<i>{rule_words.estimate}</i>")
        elif not self.timelines.has_own_rule(state):
            lines.append(f"<i>{words.federal_unless}</i>")
        return "\n".join(lines)

    def _due_line(self, pack: LanguagePack, due: DueDate) -> str:
        key = "due_estimate" if due.is_estimate else "due"
        return pack.t(f"followup.deadline.{key}", date=self.dates.long(pack, due.date))

    def _button(self, pack: LanguagePack, key: str, op: str) -> Button:
        return Button(pack.t(f"followup.deadline.{key}"), Action(DEADLINE_KIND, (op,)))

    def _cancel(self, pack: LanguagePack) -> Button:
        return self._button(pack, "cancel_button", "x")

    def _reminder_line(self, pack: LanguagePack, kind: ReminderKind, day: dt.date) -> str:
        return pack.t(f"followup.deadline.reminder.{kind.value}", date=self.dates.short(pack, day))

    def _state_ok(self, state: str) -> bool:
        return state == ANY_STATE or self.timelines.has_own_rule(state)

    def _today(self) -> dt.date:
        return local_day(self.storage.clock(), self.settings.tz)

    def _day_of(self, at: int) -> dt.date:
        return local_day(at, self.settings.tz)

    def _ask(self, chat_key: str) -> None:
        self._asking.pop(chat_key, None)
        self._asking[chat_key] = self.storage.clock()
        while len(self._asking) > _ASKED_AT_MOST:
            self._asking.popitem(last=False)

    def _sweep(self) -> None:
        limit = self.storage.clock() - ASKING_SECONDS
        while self._asking:
            chat_key, asked = next(iter(self._asking.items()))
            if asked > limit:
                break
            del self._asking[chat_key]


def _month_code(month: YearMonth) -> str:
    return f"{month.year}{month.month:02d}"
