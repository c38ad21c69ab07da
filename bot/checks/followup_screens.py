"""Every follow-through screen a parent can see, for `iep-bot content check` to measure on the
phone ruler: the evaluation clock (each step, every rule's summary, every month the calendar
shows, each typed-date problem), each reminder as the engine sends it, the check-in with
each answer's next step, and /mydata. Rendered by the code the bot runs, over the check's
throwaway in-memory database (bot/checks/screens.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from bot.callbacks import Action, Kind
from bot.content import LanguagePack
from bot.followup.due import ReminderKind, due_date
from bot.followup.month_grid import YearMonth, earliest_day, previous_month
from bot.followup.plan import local_day
from bot.followup.store import ASKED, SCHOOL_SAID, SENT
from bot.parent.checkins import offers_checkin
from bot.parent.conversation import Chat, Conversation
from bot.parent.deadlines import ANY_STATE, day_code
from bot.storage import StoredSession
from bot.views import Reply, Screen

Found = Iterator[tuple[str, Screen]]  # (where, screen)

_ADDRESS = 1  # a chat id for the throwaway database: saved screens need one
_SID = "c" * 12  # the longest session id


def followup_screens(conversation: Conversation, pack: LanguagePack) -> Found:
    """(where, screen) for every follow-through screen in this language."""
    src = f"content/{pack.code}/followup.yaml"
    yield from _clock(conversation, pack, src)
    yield from _reminders(conversation, pack, src)
    yield from _checkin(conversation, pack, src)
    yield from _mydata(conversation, pack, src)


def _chat(conversation: Conversation, pack: LanguagePack, name: str) -> Chat:
    chat = Chat(f"check-{name}-{pack.code}", pack.code, _ADDRESS)
    conversation.storage.set_language(chat.key, pack.code)
    return chat


def _today(conversation: Conversation) -> dt.date:
    return local_day(conversation.storage.clock(), conversation.settings.tz)


def _clock(conversation: Conversation, pack: LanguagePack, src: str) -> Found:
    desk = conversation.deadlines
    chat = _chat(conversation, pack, "clock")

    def press(*args: str) -> Reply:
        return conversation.press(chat, Action(Kind.DEADLINE, args))

    yield f"{src}: deadline.none", conversation.deadlines_command(chat).screens[-1]
    intro = press("i")
    yield f"{src}: deadline.intro", intro.screens[0]
    today = _today(conversation)
    earliest = earliest_day(today)
    month: YearMonth | None = YearMonth.of(today)
    while month is not None:  # every month the calendar shows, back to a year ago
        screen = desk.calendar(pack, month, replace=False)
        yield f"{src}: deadline.calendar ({month.year}-{month.month:02d})", screen
        month = previous_month(month.year, month.month, earliest=earliest)
    for problem, typed in (
        ("unreadable", "xyzzy"),
        ("impossible", "2025-02-30"),
        ("future", (today + dt.timedelta(days=40)).isoformat()),
        ("too_old", (earliest - dt.timedelta(days=40)).isoformat()),
    ):
        press("i")
        reply = conversation.text(chat, typed)
        yield f"{src}: deadline.{problem}", reply.screens[0]
    press("i")
    if pack.crisis_words:
        crisis = conversation.text(chat, pack.crisis_words[0])
        yield f"{src}: the crisis notice over the date question", crisis.screens[0]
    yield f"{src}: deadline.state_question", press("t", "1").screens[-1]
    received = today - dt.timedelta(days=3)
    timelines = conversation.timelines
    own = sorted(code for code in timelines.states if timelines.has_own_rule(code))
    for state in (*own, ANY_STATE):
        first, second = press("u", day_code(received), state).screens
        yield f"{src}: deadline summary, the rule ({state})", first
        yield f"{src}: deadline summary, the reminders ({state})", second
    passed = press("u", day_code(earliest), ANY_STATE).screens
    yield f"{src}: deadline summary, the due date passed", passed[-1]
    yield f"{src}: deadline.saved", press("k", day_code(received), "TX").screens[-1]
    yield f"{src}: deadline.saved (replaced)", press("k", day_code(received), ANY_STATE).screens[-1]
    shown = conversation.deadlines_command(chat).screens
    yield f"{src}: /deadlines, the rule", shown[0]
    yield f"{src}: /deadlines, the reminders", shown[-1]
    yield f"{src}: deadline.deleted", press("r").screens[-1]
    yield f"{src}: deadline.nothing_to_delete", press("r").screens[-1]
    yield f"{src}: deadline.not_signed", press("n").screens[-1]
    yield f"{src}: deadline.cancelled", press("x").screens[-1]
    terminal = Chat(f"check-terminal-{pack.code}", pack.code)
    reply = conversation.press(terminal, Action(Kind.DEADLINE, ("k", day_code(received), "TX")))
    yield f"{src}: deadline.terminal_only", reply.screens[-1]


def _reminders(conversation: Conversation, pack: LanguagePack, src: str) -> Found:
    """Each reminder for each rule, on its day and late (the days-left line varies)."""
    desk = conversation.deadlines
    received = dt.date(2026, 9, 1)  # a long month's dates, in both languages
    for rule in conversation.timelines.rules.values():
        due = due_date(received, rule)
        for kind in ReminderKind:
            for offset in (-14, -3, -1, 0, 1, 5):
                today = due.date + dt.timedelta(days=offset)
                screen = desk.reminder_screen(pack, kind, due, today)
                yield f"{src}: reminders.{kind.value} ({rule.id}, day {offset:+d})", screen


def _finished(conversation: Conversation, pack: LanguagePack, outcome_id: str, sid: str) -> None:
    """A logged result for `sid`, as a finished screening leaves it."""
    storage = conversation.storage
    session = StoredSession(
        chat_key=f"check-result-{sid}",
        session_id=sid,
        lang=pack.code,
        source="check",
        state=conversation.content.spec.start,
        answers={},
        history=[],
        started_day="2026-01-01",
        updated_at=0.0,
    )
    storage.finish_session(session, outcome_id=outcome_id, answers={})
    storage.result_shown(session.chat_key, sid)


def _sent_checkin(conversation: Conversation, chat: Chat, sid: str) -> None:
    """The check-in of `sid`, offered in `chat` and sent by the engine."""
    followups = conversation.followups
    conversation.press(chat, Action(Kind.CHECKIN, ("y", sid)))
    for notice in followups.due(conversation.storage.clock() + 400 * 86400, 1000):
        if notice.ref == sid and followups.claim(notice):
            followups.record(notice, SENT)


def _checkin(conversation: Conversation, pack: LanguagePack, src: str) -> Found:
    desks = conversation.checkins
    chat = _chat(conversation, pack, "checkin")
    asking = [r.id for r in conversation.content.spec.outcomes if offers_checkin(r.first_step)]
    for oid in asking:
        offer = desks.offer(pack, oid, _SID, _ADDRESS)
        if offer is not None:
            yield f"{src}: checkin.offer ({oid})", offer
        yield f"{src}: checkin.ask ({oid})", desks.ask_screen(pack, _SID, oid)
    yield f"{src}: checkin.ask_plain", desks.ask_screen(pack, _SID, None)
    n = 0

    def press(*args: str) -> Reply:
        return conversation.press(chat, Action(Kind.CHECKIN, args))

    def fresh(oid: str) -> str:
        nonlocal n
        n += 1
        sid = f"{pack.code}{n:010d}"
        _finished(conversation, pack, oid, sid)
        return sid

    for oid in asking:
        sid = fresh(oid)
        yield f"{src}: checkin.accepted", press("y", sid).screens[-1]
        yield f"{src}: checkin.already", press("y", sid).screens[-1]
        for asked in ASKED:
            if asked == "yes":
                continue
            sid = fresh(oid)
            _sent_checkin(conversation, chat, sid)
            yield f"{src}: checkin.next.{asked} ({oid})", press("a", sid, asked).screens[-1]
    oid = asking[0] if asking else ""
    for said in SCHOOL_SAID:
        sid = fresh(oid)
        _sent_checkin(conversation, chat, sid)
        yield f"{src}: checkin.school_question", press("a", sid, "yes").screens[-1]
        yield f"{src}: checkin.next.{said}", press("s", sid, said).screens[-1]
        yield f"{src}: checkin.closed", press("s", sid, said).screens[-1]
    yield f"{src}: checkin.declined", press("n", _SID).screens[-1]
    yield f"{src}: checkin.gone", press("y", "0" * 12).screens[-1]


def _mydata(conversation: Conversation, pack: LanguagePack, src: str) -> Found:
    """/mydata with everything a chat can have, then with nothing."""
    storage = conversation.storage
    chat = _chat(conversation, pack, "mydata")
    storage.add_subscriber(chat.key, _ADDRESS, pack.code)
    storage.set_interest(chat.key, "waiting_evaluation")
    received = _today(conversation) - dt.timedelta(days=3)
    conversation.press(chat, Action(Kind.DEADLINE, ("k", day_code(received), "TX")))
    oid = next(r.id for r in conversation.content.spec.outcomes if offers_checkin(r.first_step))
    sid = f"{pack.code}m{'0' * 9}"
    _finished(conversation, pack, oid, sid)
    conversation.press(chat, Action(Kind.CHECKIN, ("y", sid)))
    conversation.start(chat, None)
    conversation.press(chat, Action(Kind.SCREEN))  # an unfinished screening
    letter = next(iter(conversation.letters.book.plans))
    conversation.press(chat, Action(Kind.LETTER, ("n", letter, "-")))  # a letter being written
    yield f"{src}: mydata (everything)", conversation.my_data(chat).screens[-1]
    tips = conversation.press(chat, Action(Kind.MYDATA, ("tips",)))
    yield f"{src}: mydata.deleted", tips.screens[-1]
    everything = conversation.press(chat, Action(Kind.MYDATA, ("all",)))
    yield f"{src}: forget_done", everything.screens[-1]
    yield f"{src}: mydata.nothing", conversation.my_data(chat).screens[-1]
