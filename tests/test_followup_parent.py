"""Follow-through as the conversation says it, without Telegram: the evaluation clock's steps
(calendar, typed dates in both languages, states, the summary for federal and Texas rules),
the reminders as the engine gets them, the check-in's offer, answers and next steps, /mydata
and /forget, every screen on the phone ruler and every button within 64 bytes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.callbacks import Action, CallbackCodec, Kind
from bot.checks import forbidden
from bot.checks.followup_screens import followup_screens
from bot.config import Settings
from bot.content import Content, visible_text
from bot.followup.due import ReminderKind, due_date
from bot.followup.month_grid import YearMonth
from bot.followup.plan import SEND_AT, checkin_time, local_day, reminder_times
from bot.followup.store import SENT, Notice
from bot.parent.checkins import offers_checkin
from bot.parent.conversation import Chat, Conversation
from bot.parent.deadlines import day_code
from bot.parent.layout import SCREEN_LINES, fits_row, fits_week, screen_lines
from bot.storage import StoredSession
from bot.views import Button, Reply, Screen
from flows.screening import Screening
from tests.clock import FakeClock

CHICAGO = ZoneInfo("America/Chicago")
TODAY = dt.date(2026, 11, 28)  # the fake clock's day in TIMEZONE (a Saturday)
CONSENT = dt.date(2026, 11, 3)
ADDRESS = 777_000_111


@pytest.fixture
def conversation(content: Content, tmp_path: Path, clock: FakeClock) -> Iterator[Conversation]:
    from bot.storage import Storage

    storage = Storage(tmp_path / "bot.sqlite3", clock=clock, timezone="America/Chicago")
    storage.migrate()
    settings = Settings(
        booking_url="https://book.example.org/", practice_name="Practice", checkin_days=28
    )
    yield Conversation(content, storage, settings, Screening(content.spec))
    storage.close()


def chat(lang: str = "en", address: int | None = ADDRESS) -> Chat:
    return Chat(f"key-{lang}-{address}", lang, address)


def press(conversation: Conversation, who: Chat, kind: str, *args: str) -> Reply:
    return conversation.press(who, Action(kind, args))


def labels(screen: Screen) -> list[str]:
    return [button.label for row in screen.rows for button in row]


def find(screen: Screen, label: str) -> Button:
    return next(b for row in screen.rows for b in row if b.label == label)


def texts(reply: Reply) -> list[str]:
    return [visible_text(s.text) for s in reply.screens]


def finished(conversation: Conversation, outcome_id: str, sid: str) -> None:
    """A logged result, as a finished screening leaves it."""
    session = StoredSession(
        chat_key=f"someone-{sid}",
        session_id=sid,
        lang="en",
        source="direct",
        state="age",
        answers={},
        history=[],
        started_day=TODAY.isoformat(),
        updated_at=0.0,
    )
    conversation.storage.finish_session(session, outcome_id=outcome_id, answers={"age": "school"})
    conversation.storage.result_shown(session.chat_key, sid)


# --- when things are sent ----------------------------------------------------------------------


def test_reminders_and_check_ins_go_at_ten_in_the_morning_local_time() -> None:
    due = dt.date(2027, 1, 2)
    times = reminder_times(due, today=TODAY, tz=CHICAGO)
    assert [kind.value for kind, _ in times] == ["two_weeks", "three_days", "due_day", "day_after"]
    local = [dt.datetime.fromtimestamp(at, CHICAGO) for _, at in times]
    assert [d.date() for d in local] == [
        dt.date(2026, 12, 19),
        dt.date(2026, 12, 30),
        dt.date(2027, 1, 2),
        dt.date(2027, 1, 3),
    ]
    assert all(d.time() == SEND_AT for d in local)
    # Set ten days before the due date: the two-week reminder has gone by, never sent late.
    late = reminder_times(due, today=dt.date(2026, 12, 23), tz=CHICAGO)
    assert [kind.value for kind, _ in late] == ["three_days", "due_day", "day_after"]
    at = checkin_time(TODAY, days=28, tz=CHICAGO)
    assert dt.datetime.fromtimestamp(at, CHICAGO) == dt.datetime(
        2026, 12, 26, 10, 0, tzinfo=CHICAGO
    )
    assert local_day(at, CHICAGO) == dt.date(2026, 12, 26)


# --- the evaluation clock ------------------------------------------------------------------------


def test_the_clock_says_what_is_kept_then_asks_the_day_with_a_calendar(
    conversation: Conversation,
) -> None:
    maria = chat()
    intro, calendar = press(conversation, maria, Kind.DEADLINE, "i").screens
    assert "I keep this chat's id and the date until the last reminder" in intro.text
    assert "/mydata" in intro.text
    assert "When did the school get your signed consent form?" in intro.text
    assert labels(intro) == ["Not signed yet", "✖ Cancel"]
    assert calendar.text.startswith("<b>November 2026</b>")
    days = [b.label for row in calendar.rows for b in row if b.label.isdigit()]
    assert days == [str(d) for d in range(1, 29)]  # nothing after today, the 28th
    assert labels(calendar)[0] == "◀ October"  # no ▶: December is still to come
    assert labels(calendar)[-2:] == ["Today", "Yesterday"]
    # The first month shown is a year back, and nothing before today a year ago.
    pack = conversation.content.pack("en")
    first = conversation.deadlines.calendar(pack, YearMonth(2025, 11), replace=False)
    days = [b.label for row in first.rows for b in row if b.label.isdigit()]
    assert days[0] == "28" and "◀" not in " ".join(labels(first))
    assert "December ▶" in labels(first)


def test_a_federal_deadline_from_the_calendar_in_english(conversation: Conversation) -> None:
    maria = chat()
    _, calendar = press(conversation, maria, Kind.DEADLINE, "i").screens
    state = conversation.press(maria, find(calendar, "3").action)  # type: ignore[arg-type]
    [question] = state.screens
    assert question.replace  # the calendar becomes the state question
    assert "The school got your consent on <b>Tuesday, November 3, 2026</b>" in question.text
    assert labels(question) == [
        "California",
        "Illinois",
        "New York",
        "Texas",
        "Another state",
        "Not sure",
        "✖ Cancel",
    ]
    rule, reminders = conversation.press(maria, find(question, "Not sure").action).screens  # type: ignore[arg-type]
    assert rule.text == (
        "<b>⏰ Your evaluation deadline</b>\n"
        "Consent received: Tuesday, November 3, 2026\n"
        "Federal rule (IDEA) (34 CFR 300.301(c)(1)): "
        + conversation.timelines.words("en").rules["federal"].explain
        + "\n<i>I used the federal rule, unless your state sets its own timeline. Your free"
        " Parent Center can tell you your state's rule.</i>"
    )
    assert visible_text(reminders.text) == (
        "Due: Saturday, January 2, 2027\n\n"
        "I will remind you on:\n"
        "• December 19: two weeks before\n"
        "• December 30: three days before\n"
        "• January 2: the day it is due\n"
        "• January 3: the day after\n\n"
        "When you tap “Set the reminders”, I keep this chat's id and the date until the last"
        " reminder."
    )
    assert conversation.followups.deadline(maria.key) is None  # nothing kept yet
    saved = conversation.press(maria, find(reminders, "✅ Set the reminders").action)  # type: ignore[arg-type]
    assert "Reminders set." in saved.screens[0].text
    assert "Saturday, January 2, 2027" in saved.screens[0].text
    deadline = conversation.followups.deadline(maria.key)
    assert deadline is not None and deadline.chat_id == ADDRESS and deadline.state is None
    assert (deadline.received, deadline.due, deadline.rule_id) == (
        CONSENT,
        dt.date(2027, 1, 2),
        "federal",
    )
    assert [kind for kind, _ in deadline.pending] == [
        "two_weeks",
        "three_days",
        "due_day",
        "day_after",
    ]


def test_a_texas_deadline_is_an_estimate_and_says_so_in_spanish(conversation: Conversation) -> None:
    ana = chat("es")
    press(conversation, ana, Kind.DEADLINE, "i")
    question = conversation.text(ana, "3 de noviembre")
    assert "martes 3 de noviembre de 2026" in question.screens[0].text
    rule_screen, reminders = conversation.press(
        ana, find(question.screens[0], "Texas").action
    ).screens  # type: ignore[arg-type]
    texas = conversation.timelines.words("es").rules["tx"]
    assert "Regla de Texas (Tex. Educ. Code 29.004" in rule_screen.text
    assert f"<i>{texas.estimate}</i>" in rule_screen.text
    assert "salvo que su estado" not in rule_screen.text  # Texas has its own rule
    due = due_date(CONSENT, conversation.timelines.rule_for("TX"))
    assert due.is_estimate
    written = conversation.deadlines.dates.long(conversation.content.pack("es"), due.date)
    assert f"Vence: <b>{written}</b> (fecha aproximada)" in reminders.text
    assert labels(reminders) == ["✅ Fijar los avisos", "✏️ Otra fecha", "✖ Cancelar"]
    conversation.press(ana, find(reminders, "✅ Fijar los avisos").action)  # type: ignore[arg-type]
    deadline = conversation.followups.deadline(ana.key)
    assert deadline is not None and (deadline.state, deadline.rule_id, deadline.lang) == (
        "TX",
        "tx",
        "es",
    )


def test_dates_are_written_out_in_each_language(conversation: Conversation) -> None:
    dates = conversation.deadlines.dates
    day = dt.date(2027, 1, 5)
    assert dates.long(conversation.content.pack("en"), day) == "Tuesday, January 5, 2027"
    assert dates.long(conversation.content.pack("es"), day) == "martes 5 de enero de 2027"
    assert dates.short(conversation.content.pack("es"), day) == "5 de enero"


@pytest.mark.parametrize(
    ("lang", "typed", "day"),
    [
        ("en", "2026-11-03", CONSENT),
        ("en", "Nov 3", CONSENT),
        ("en", "yesterday", dt.date(2026, 11, 27)),
        ("es", "3 nov", CONSENT),
        ("es", "ayer", dt.date(2026, 11, 27)),
        ("es", "3/11", CONSENT),
    ],
)
def test_typed_dates_in_both_languages(
    conversation: Conversation, lang: str, typed: str, day: dt.date
) -> None:
    parent = chat(lang)
    press(conversation, parent, Kind.DEADLINE, "i")
    [question] = conversation.text(parent, typed).screens
    pack = conversation.content.pack(lang)
    assert conversation.deadlines.dates.long(pack, day) in question.text
    assert f"|u|{day_code(day)}|" in CallbackCodec(b"k" * 32).encode(question.rows[0][0].action)  # type: ignore[arg-type]


def test_a_future_or_unreadable_typed_date_gets_one_kind_line_and_the_same_question(
    conversation: Conversation,
) -> None:
    maria = chat()
    press(conversation, maria, Kind.DEADLINE, "i")
    future = conversation.text(maria, "December 25, 2026")
    assert texts(future)[0] == (
        "Friday, December 25, 2026 is still to come. Please give the day the school got your"
        " signed form."
    )
    assert future.screens[1].text.startswith("<b>November 2026</b>")  # the calendar again
    nonsense = conversation.text(maria, "the day after the meeting")
    assert texts(nonsense)[0].startswith("Sorry, I could not read that date.")
    assert nonsense.screens[1].text.startswith("<b>November 2026</b>")
    old = conversation.text(maria, "2024-01-15")
    assert "more than a year ago" in texts(old)[0]
    assert conversation.followups.deadline(maria.key) is None
    # Once the day is given, typed text is the conversation's again.
    conversation.text(maria, "Nov 3")
    assert "only answer the buttons" in texts(conversation.text(maria, "Nov 4"))[0]


def test_crisis_words_at_the_date_step_come_first_and_are_never_a_date(
    conversation: Conversation,
) -> None:
    maria = chat()
    press(conversation, maria, Kind.DEADLINE, "i")
    reply = conversation.text(maria, "I want to kill myself")
    [crisis] = reply.screens
    assert "988" in crisis.text and "911" in crisis.text
    assert "⏰ Back to the deadline" in labels(crisis)
    back = conversation.press(maria, find(crisis, "⏰ Back to the deadline").action)  # type: ignore[arg-type]
    assert "When did the school get your signed consent form?" in back.screens[0].text


def test_not_signed_yet_explains_when_the_time_starts(conversation: Conversation) -> None:
    for lang in ("en", "es"):
        parent = chat(lang)
        press(conversation, parent, Kind.DEADLINE, "i")
        [said] = press(conversation, parent, Kind.DEADLINE, "n").screens
        text = visible_text(said.text)
        assert "/deadlines" in text
        assert forbidden.check([("not_signed", lang, said.text)]) == []
    en = visible_text(press(conversation, chat(), Kind.DEADLINE, "n").screens[0].text)
    assert "starts on the day it gets your signed consent form" in en
    assert "It does not start on the day you asked for the evaluation." in en
    assert "60 days from your request" not in en


def test_change_cancel_deadlines_and_delete(conversation: Conversation) -> None:
    maria = chat()
    assert "no evaluation deadline set" in texts(conversation.deadlines_command(maria))[0]
    press(conversation, maria, Kind.DEADLINE, "k", day_code(CONSENT), "-")
    rule, listed = conversation.deadlines_command(maria).screens
    assert "Federal rule (IDEA)" in rule.text
    assert "Reminders still to come:\n• December 19: two weeks before" in listed.text
    assert labels(listed) == ["✏️ Change", "🗑 Delete", "Main menu"]
    # Change: the same steps; a new clock replaces the old one, and says so.
    changed = press(conversation, maria, Kind.DEADLINE, "k", day_code(dt.date(2026, 11, 10)), "NY")
    assert "This replaces your earlier deadline." in changed.screens[0].text
    deadline = conversation.followups.deadline(maria.key)
    assert deadline is not None and deadline.state == "NY" and deadline.due == dt.date(2027, 1, 9)
    [cancelled] = press(conversation, maria, Kind.DEADLINE, "x").screens
    assert "did not keep anything" in cancelled.text
    assert conversation.followups.deadline(maria.key) is not None  # cancel drops only the steps
    [deleted] = press(conversation, maria, Kind.DEADLINE, "r").screens
    assert "no longer keep this chat's id" in deleted.text
    assert conversation.followups.deadline(maria.key) is None
    assert "no deadline to delete" in press(conversation, maria, Kind.DEADLINE, "r").screens[0].text


def test_a_due_date_long_past_sets_nothing_and_says_what_to_do(conversation: Conversation) -> None:
    maria = chat()
    _, passed = press(conversation, maria, Kind.DEADLINE, "u", "20260601", "-").screens
    assert "The evaluation was due 120 days ago" in visible_text(passed.text)
    assert "No report yet?" in passed.text
    assert "✅ Set the reminders" not in labels(passed)
    assert labels(passed)[0] == "✍️ Records request"


def test_the_terminal_cannot_get_reminders(conversation: Conversation) -> None:
    terminal = chat(address=None)
    reply = press(conversation, terminal, Kind.DEADLINE, "k", day_code(CONSENT), "TX")
    assert "come through Telegram" in reply.screens[0].text
    assert conversation.followups.deadline(terminal.key) is None


def test_a_calendar_day_out_of_reach_or_a_bad_state_is_answered_kindly(
    conversation: Conversation,
) -> None:
    maria = chat()
    reply = press(conversation, maria, Kind.DEADLINE, "p", "20261215")  # after today
    assert reply.toast == "That day can't be picked. Please tap another day."
    stale = press(conversation, maria, Kind.DEADLINE, "u", day_code(CONSENT), "ZZ")
    assert stale.toast is not None and "earlier screen" in stale.toast
    assert conversation.followups.deadline(maria.key) is None


# --- reminders, as the engine gets them ---------------------------------------------------------


def _notice(conversation: Conversation, who: Chat, kind: str) -> Notice:
    deadline = conversation.followups.deadline(who.key)
    assert deadline is not None
    at = dict(deadline.pending)[kind]
    [notice] = [n for n in conversation.followups.due(at, 10) if n.step == kind]
    return notice


@pytest.mark.parametrize("lang", ["en", "es"])
def test_each_reminder_says_the_days_left_and_offers_the_records_letter(
    conversation: Conversation, clock: FakeClock, lang: str
) -> None:
    parent = chat(lang)
    press(conversation, parent, Kind.DEADLINE, "k", day_code(CONSENT), "-")
    said = {}
    for kind in ReminderKind:
        notice = _notice(conversation, parent, kind.value)
        clock.now = notice.send_at
        out = conversation.notices.compose(notice)
        assert out is not None and out.chat_id == ADDRESS
        said[kind.value] = visible_text(out.text)
        records = "✍️ Records request" if lang == "en" else "✍️ Pedir registros"
        assert out.rows[0][0].label == records
        assert screen_lines(out.text, len(out.rows)) <= SCREEN_LINES
    if lang == "en":
        assert said["two_weeks"].startswith(
            "⏰ 14 days left. The evaluation is due on Saturday, January 2, 2027."
        )
        assert said["three_days"].startswith("⏰ 3 days left.")
        assert said["due_day"].startswith("⏰ Due today.")
        assert said["day_after"].startswith(
            "⏰ The evaluation was due yesterday, Saturday, January 2, 2027.\n\nNo report yet?"
        )
        assert "Prior Written Notice" in said["day_after"]
        assert "Parent Center" in said["day_after"]
    else:
        assert said["two_weeks"].startswith("⏰ Faltan 14 días. La evaluación vence el sábado")
        assert "Aviso Previo por Escrito" in said["day_after"]
    for text in said.values():
        assert "qualif" not in text and "califica" not in text
        assert forbidden.check([("reminder", lang, text)]) == []


def test_a_late_reminder_counts_from_today_and_an_estimate_says_so(
    conversation: Conversation, clock: FakeClock
) -> None:
    maria = chat()
    press(conversation, maria, Kind.DEADLINE, "k", day_code(CONSENT), "TX")
    notice = _notice(conversation, maria, "two_weeks")
    deadline = conversation.followups.deadline(maria.key)
    assert deadline is not None
    clock.now = notice.send_at + 5 * 86400  # the bot was down for five days
    out = conversation.notices.compose(notice)
    assert out is not None
    assert visible_text(out.text).startswith("⏰ 9 days left.")
    assert "This date is an estimate (Texas rule)." in visible_text(out.text)


def test_a_notice_this_version_cannot_write_is_not_sent(conversation: Conversation) -> None:
    odd = Notice("reminder", "k", "next_year", 1, "k", "en", 0, "2027-01-02")
    assert conversation.notices.compose(odd) is None
    assert conversation.notices.compose(Notice("fax", "k", "x", 1, "k", "en", 0)) is None


# --- the check-in ---------------------------------------------------------------------------


def test_which_results_offer_the_check_in(content: Content) -> None:
    offering = {r.id for r in content.spec.outcomes if offers_checkin(r.first_step)}
    never = {"safety_first", "early_intervention", "eval_pending", "no_strong_signs"}
    assert never.isdisjoint(offering) and "plan_504_working" not in offering
    assert {"iep_evaluation", "eval_refused", "discipline", "plan_not_followed"} <= offering


def test_the_offer_says_the_weeks_and_keeps_the_chat_only_for_it(
    conversation: Conversation,
) -> None:
    pack = conversation.content.pack("en")
    offer = conversation.checkins.offer(pack, "iep_evaluation", "a" * 12, ADDRESS)
    assert offer is not None
    assert offer.text == "May we check in with you in 4 weeks? Two taps, to see how it went."
    assert conversation.checkins.offer(pack, "safety_first", "a" * 12, ADDRESS) is None
    assert conversation.checkins.offer(pack, "iep_evaluation", "a" * 12, None) is None  # terminal
    maria = chat()
    finished(conversation, "iep_evaluation", "a" * 12)
    [accepted] = conversation.press(maria, offer.rows[0][0].action).screens  # type: ignore[arg-type]
    assert accepted.replace
    assert "I will write on Saturday, December 26, 2026." in accepted.text
    assert "until you answer, or two days after I ask" in accepted.text
    again = conversation.press(maria, offer.rows[0][0].action)  # type: ignore[arg-type]
    assert "The check-in is set." in again.screens[0].text
    checkin = conversation.followups.checkin_of_chat(maria.key)
    assert checkin is not None and checkin.outcome_id == "iep_evaluation"


def _sent(
    conversation: Conversation, who: Chat, sid: str, outcome: str = "iep_evaluation"
) -> Screen:
    """A check-in said yes to, sent by the engine: the message the parent gets."""
    finished(conversation, outcome, sid)
    press(conversation, who, Kind.CHECKIN, "y", sid)
    followups = conversation.followups
    [notice] = [n for n in followups.due(1e12, 100) if n.ref == sid]
    out = conversation.notices.compose(notice)
    assert out is not None and followups.claim(notice)
    followups.record(notice, SENT)
    return Screen(out.text, out.rows)


def test_the_check_in_asks_then_gives_a_next_step_for_each_answer(
    conversation: Conversation,
) -> None:
    maria = chat()
    ask = _sent(conversation, maria, "b" * 12)
    assert visible_text(ask.text) == (
        "Hello again! A few weeks ago, your screening here pointed to: An IEP evaluation looks"
        " worth it\n\nDid you ask the school?"
    )
    assert labels(ask) == ["Yes", "Not yet", "Decided not to"]
    [question] = conversation.press(maria, find(ask, "Yes").action).screens  # type: ignore[arg-type]
    assert "What did the school say?" in question.text
    assert labels(question) == [
        "Agreed to evaluate or meet",
        "Said no",
        "Still waiting",
        "Something else",
    ]
    [refused] = conversation.press(maria, find(question, "Said no").action).screens  # type: ignore[arg-type]
    assert "Prior Written Notice" in refused.text
    assert labels(refused)[:3] == ["✍️ Prior Written Notice", "Book a consult", "Free help"]
    assert "no longer linked to this chat" in refused.text
    answered = conversation.storage.db.execute(
        "SELECT asked, school_said, chat_key, chat_id, status FROM checkins"
    ).fetchone()
    assert tuple(answered) == ("yes", "refused", None, None, "answered")
    # The same buttons again: answered already, a kind line.
    old = conversation.press(maria, find(question, "Still waiting").action)  # type: ignore[arg-type]
    assert "This check-in is closed" in old.screens[0].text

    for sid, said, expect, first in (
        ("c" * 12, "Agreed to evaluate or meet", "Sign it, keep a copy", "⏰ Track the deadline"),
        ("d" * 12, "Still waiting", "within 45 days at most", "✍️ Records request"),
        ("e" * 12, "Something else", "plan the next step", "Book a consult"),
    ):
        ask = _sent(conversation, maria, sid)
        question = conversation.press(maria, find(ask, "Yes").action).screens[0]  # type: ignore[arg-type]
        [step] = conversation.press(maria, find(question, said).action).screens  # type: ignore[arg-type]
        assert expect in step.text and labels(step)[0] == first
    ask = _sent(conversation, maria, "f" * 12)
    [not_yet] = conversation.press(maria, find(ask, "Not yet").action).screens  # type: ignore[arg-type]
    assert "The letter for your result is ready" in not_yet.text
    assert labels(not_yet)[0] == "✍️ Write the letter"
    ask = _sent(conversation, maria, "9" * 12)
    [decided] = conversation.press(maria, find(ask, "Decided not to").action).screens  # type: ignore[arg-type]
    assert "It is your choice." in decided.text
    assert labels(decided)[:2] == ["Book a consult", "Free help"]


def test_another_chats_or_a_forged_check_in_button_gets_a_kind_answer(
    conversation: Conversation,
) -> None:
    maria, ana = chat(), chat(address=ADDRESS + 1)
    ask = _sent(conversation, maria, "a1" * 6)
    yes = find(ask, "Yes").action
    [closed] = conversation.press(ana, yes).screens  # type: ignore[arg-type]
    assert "This check-in is closed" in closed.text
    assert conversation.followups.checkin("a1" * 6, maria.key) is not None  # still hers
    nonsense = conversation.press(maria, Action(Kind.CHECKIN, ("a", "a1" * 6, "maybe")))
    assert nonsense.toast is not None and "earlier screen" in nonsense.toast
    empty = conversation.press(maria, Action(Kind.CHECKIN, ()))
    assert empty.toast is not None


# --- /mydata and /forget ---------------------------------------------------------------------


def test_mydata_lists_each_part_and_deletes_just_that(conversation: Conversation) -> None:
    maria = chat()
    storage = conversation.storage
    assert "I keep nothing about this chat" in texts(conversation.my_data(maria))[0]
    storage.set_language(maria.key, "en")
    storage.add_subscriber(maria.key, ADDRESS, "en")
    storage.set_interest(maria.key, "waiting_evaluation")
    press(conversation, maria, Kind.DEADLINE, "k", day_code(CONSENT), "-")
    finished(conversation, "iep_evaluation", "m" * 12)
    press(conversation, maria, Kind.CHECKIN, "y", "m" * 12)
    conversation.press(maria, Action(Kind.SCREEN))
    conversation.press(maria, Action(Kind.LETTER, ("n", "records", "-")))
    [shown] = conversation.my_data(maria).screens
    assert visible_text(shown.text) == (
        "What I keep about this chat:\n"
        "• Language: English; the link you came from\n"
        "• A screening, at question 1\n"
        "• Tips, in English: Waiting for an evaluation\n"
        "• A deadline, due January 2, and its reminders\n"
        "• A check-in, on December 26\n"
        "• A letter you are writing (in memory)"
    )
    assert labels(shown) == [
        "🗑 Language, link",
        "🗑 Screening",
        "🗑 Tips",
        "🗑 Deadline",
        "🗑 Check-in",
        "🗑 Letter",
        "🗑 Delete all",
        "Main menu",
    ]
    assert screen_lines(shown.text, len(shown.rows)) <= SCREEN_LINES
    assert conversation.letters.is_open(maria.key)  # /mydata itself keeps the letter
    for part, gone in (
        ("🗑 Deadline", lambda: conversation.followups.deadline(maria.key) is None),
        ("🗑 Check-in", lambda: conversation.followups.checkin_of_chat(maria.key) is None),
        ("🗑 Tips", lambda: storage.get_subscriber(maria.key) is None),
        ("🗑 Letter", lambda: not conversation.letters.is_open(maria.key)),
        ("🗑 Screening", lambda: storage.get_session(maria.key) is None),
        ("🗑 Language, link", lambda: storage.get_language(maria.key) is None),
    ):
        reply = conversation.press(maria, find(shown, part).action)  # type: ignore[arg-type]
        assert reply.toast == "Deleted." and gone(), part
        shown = reply.screens[0]
        assert shown.replace and part not in labels(shown)
    assert "I keep nothing about this chat" in shown.text


def test_forget_deletes_the_deadline_the_check_in_and_the_letter_too(
    conversation: Conversation,
) -> None:
    maria = chat()
    press(conversation, maria, Kind.DEADLINE, "k", day_code(CONSENT), "TX")
    finished(conversation, "iep_evaluation", "z" * 12)
    press(conversation, maria, Kind.CHECKIN, "y", "z" * 12)
    conversation.press(maria, Action(Kind.LETTER, ("n", "records", "-")))
    [done] = press(conversation, maria, Kind.MYDATA, "all").screens
    assert "We deleted everything we kept about this chat" in done.text and done.replace
    assert conversation.followups.deadline(maria.key) is None
    assert conversation.followups.checkin_of_chat(maria.key) is None
    assert not conversation.letters.is_open(maria.key)
    dump = "\n".join(conversation.storage.db.conn.iterdump())
    assert maria.key not in dump and str(ADDRESS) not in dump


# --- every screen on a phone, every button within 64 bytes -----------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_follow_through_screen_fits_a_phone_and_64_bytes(
    conversation: Conversation, lang: str
) -> None:
    codec = CallbackCodec(b"k" * 32)
    pack = conversation.content.pack(lang)
    seen = 0
    for where, screen in followup_screens(conversation, pack):
        seen += 1
        assert screen_lines(screen.text, len(screen.rows)) <= SCREEN_LINES, where
        for row in screen.rows:
            row_labels = [visible_text(b.label) for b in row]
            assert fits_row(row_labels) or fits_week(row_labels), (where, row_labels)
            for button in row:
                if button.action is not None:
                    assert len(codec.encode(button.action).encode()) <= 64, where
    assert seen >= 250  # the clock, 120 reminders, the check-in for every result, /mydata
