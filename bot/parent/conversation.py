"""The parent conversation, independent of Telegram: an event in, a Reply out.

Telegram handlers and the terminal chat both drive this class, so `iep-bot chat` runs the
very same flow, content and storage as the bot.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from bot.callbacks import Action, Kind
from bot.config import Settings
from bot.content import Content, LanguagePack
from bot.followup.store import FollowUps
from bot.followup.timelines import load_timelines
from bot.letters.book import load_letters
from bot.parent.checkins import CheckinDesk
from bot.parent.deadlines import DeadlineDesk
from bot.parent.layout import option_rows
from bot.parent.letters import KEEPS_THE_LETTER, LETTER_KIND, LetterDesk
from bot.parent.mydata import MyData
from bot.parent.notices import NoticeWriter
from bot.parent.result import book_row, details_screen, first_screen
from bot.parent.subscriptions import Subscriptions
from bot.storage import Storage, StoredSession, new_session_id
from bot.views import Button, Reply, Screen
from flows.crisis import CrisisMatcher
from flows.machine import NotAllowed
from flows.outcomes import Decision, decide
from flows.screening import InvalidAnswer, Screening, ScreeningSession
from flows.spec import OUTCOME_STATE

log = logging.getLogger(__name__)

PARENT_CENTER_URL = "https://www.parentcenterhub.org/find-your-center/"


@dataclass(frozen=True)
class Chat:
    """Who we talk to, as far as the conversation needs: a keyed hash and a language hint.

    `address` is the raw chat id, used only where the parent asked us to write to them:
    stored for a tip subscription, a deadline's reminders or a check-in (sending needs it),
    and used to find them again on /stop or /forget even when made under another
    PSEUDONYM_KEY. Never stored anywhere else. None in the terminal.
    """

    key: str
    language_hint: str | None = None
    address: int | None = None


def booking_link(base: str, outcome_id: str | None) -> str:
    """The booking URL with UTM tags naming the outcome (kept: any query already there)."""
    parts = urlsplit(base)
    tags = {"utm_source": "telegram", "utm_medium": "bot", "utm_campaign": outcome_id or "menu"}
    query = f"{parts.query}&{urlencode(tags)}" if parts.query else urlencode(tags)
    return urlunsplit(parts._replace(query=query))


class Conversation:
    def __init__(
        self, content: Content, storage: Storage, settings: Settings, screening: Screening
    ) -> None:
        self.content = content
        self.storage = storage
        self.settings = settings
        self.screening = screening
        self.subscriptions = Subscriptions(storage, content)
        self.ttl_seconds = settings.session_ttl_days * 86400
        # Messages are Telegram HTML: "Smith & <Jones>" must show as typed, not break /start.
        self.practice = html.escape(settings.practice_name, quote=False)
        # Every language's crisis words, whatever the chat's language: a parent who reads
        # Spanish may type English, and the other way round.
        self.crisis = CrisisMatcher(
            word for pack in content.languages.values() for word in pack.crisis_words
        )
        # Letters to the school, filled in from a result; what a parent types for one is
        # kept in this process's memory only (bot/parent/letter_drafts.py).
        self.letters = LetterDesk(
            content,
            storage,
            settings,
            load_letters(content),
            menu_row=self._menu_row,
            book_row=book_row,
        )
        # Follow-through: the evaluation clock and its reminders, the check-in weeks after a
        # screening, and /mydata; `notices` writes what the follow-through engine sends.
        self.followups = FollowUps(storage)
        self.timelines = load_timelines(content)
        self.deadlines = DeadlineDesk(
            storage,
            settings,
            self.timelines,
            self.followups,
            self.letters.book,
            menu_row=self._menu_row,
            book_row=book_row,
        )
        self.checkins = CheckinDesk(
            content,
            storage,
            settings,
            self.followups,
            self.deadlines,
            menu_row=self._menu_row,
            book_row=book_row,
            result_letter_row=self.letters.result_row,
        )
        self.mydata = MyData(
            content,
            storage,
            settings,
            self.followups,
            self.letters,
            self.deadlines.dates,
            menu_row=self._menu_row,
        )
        self.notices = NoticeWriter(
            content,
            storage,
            settings,
            self.timelines,
            self.followups,
            self.deadlines,
            self.checkins,
        )
        self._first_steps = {rule.id: rule.first_step for rule in content.spec.outcomes}

    # --- entry points -----------------------------------------------------------------

    def start(self, chat: Chat, payload: str | None) -> Reply:
        """/start: welcome and menu, or the offer to resume an unfinished screening."""
        # Only a source the practice listed is kept: a payload may be whatever the parent typed.
        self.storage.set_source(chat.key, self.content.source_of(payload))
        self.letters.discard(chat.key)
        self.deadlines.stop_asking(chat.key)
        if (pending := self._pending_result(chat)) is not None:
            return pending
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        if session is not None:
            return reply.add(self._resume_offer(pack, session))
        return reply.add(self._welcome(pack))

    def restart(self, chat: Chat) -> Reply:
        """/restart: a fresh screening, logging any unfinished one as abandoned."""
        self.letters.discard(chat.key)
        self.deadlines.stop_asking(chat.key)
        if (pending := self._pending_result(chat)) is not None:
            return pending
        return self._start_screening(chat, replace=False, fresh=True)

    def help(self, chat: Chat) -> Reply:
        pack = self._pack(chat)
        return Reply().add(Screen(pack.t("help"), self._menu_row(pack)))

    def privacy(self, chat: Chat, *, replace: bool = False) -> Reply:
        pack = self._pack(chat)
        text = pack.t("privacy", ttl_days=self.settings.session_ttl_days)
        rows = (
            (
                Button(pack.t("followup.mydata.button"), Action(Kind.MYDATA, ("l",))),
                Button(pack.t("menu.menu"), Action(Kind.MENU)),
            ),
        )
        return Reply().add(Screen(text, rows, replace=replace))

    def forget(self, chat: Chat, *, replace: bool = False) -> Reply:
        """/forget: delete everything kept about this chat: what is kept under its keyed hash
        (tips included), its deadline and check-in, and a letter being written."""
        pack = self._pack(chat)
        self.letters.discard(chat.key)
        self.deadlines.stop_asking(chat.key)
        self.storage.forget_chat(chat.key, chat_id=chat.address)
        self.followups.forget_chat(chat.key, chat_id=chat.address)
        return Reply().add(Screen(pack.t("forget_done"), self._menu_row(pack), replace=replace))

    def deadlines_command(self, chat: Chat) -> Reply:
        """/deadlines: the evaluation clock and its reminders, to change or delete."""
        self.deadlines.stop_asking(chat.key)
        return self.deadlines.show(chat.key, self._pack(chat))

    def my_data(self, chat: Chat) -> Reply:
        """/mydata: everything kept about this chat, each part with its own delete button."""
        return self.mydata.show(chat.key, self._pack(chat))

    def languages(self, chat: Chat, *, replace: bool = False) -> Reply:
        pack = self._pack(chat)
        rows = tuple(
            (Button(lp.name, Action(Kind.SET_LANGUAGE, (code,))),)
            for code, lp in self.content.languages.items()
        )
        return Reply().add(Screen(pack.t("language_prompt"), rows, replace=replace))

    def subscribe(self, chat: Chat) -> Reply:
        """/subscribe: offer the tips."""
        return self.subscriptions.offer(chat.key, self._pack(chat))

    def unsubscribe(self, chat: Chat) -> Reply:
        """/stop and /unsubscribe."""
        return self.subscriptions.stop(chat.key, chat.address, self._pack(chat))

    def _tips(self, chat: Chat, choice: str) -> Reply:
        pack = self._pack(chat)
        if not choice:
            return self.subscriptions.offer(chat.key, pack)
        return self.subscriptions.answer_offer(chat.key, chat.address, pack, choice)

    def unknown_command(self, chat: Chat) -> Reply:
        pack = self._pack(chat)
        return Reply().add(Screen(pack.t("unknown_command"), self._menu_row(pack)))

    def text(self, chat: Chat, text: str | None, *, edited: bool = False) -> Reply:
        """Anything typed, sent or edited where a button is expected (or a letter's detail)."""
        if text and self.crisis.matches(text):
            if self.letters.is_open(chat.key):
                # 988 and 911 first, and never the text as a detail of the letter.
                return Reply().add(self._letter_crisis_screen(chat))
            if self.deadlines.is_asking(chat.key):
                # 988 and 911 first, never read as a date; the date question waits.
                return Reply().add(self._deadline_crisis_screen(chat))
            pending = self._pending_result(chat)
            if pending is not None:  # 988 and 911 first, then the result they never saw
                crisis = self.crisis_screen(self._pack(chat), None, replace=False)
                pending.screens.insert(0, crisis)
                return pending
            session, reply = self._load(chat)
            # Safety first, before anything else (an "expired" note included), and nothing
            # after it: the screening waits for the parent.
            crisis = self.crisis_screen(self._pack(chat, session), session, replace=False)
            reply.screens.insert(0, crisis)
            return reply
        letter = self.letters.typed(chat.key, self._pack(chat), text, edited=edited)
        if letter is not None:
            return letter
        deadline = self.deadlines.typed(chat.key, self._pack(chat), text)
        if deadline is not None:
            return deadline
        if (pending := self._pending_result(chat)) is not None:
            return pending
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        if session is not None:
            reply.add(Screen(pack.t("not_understood")))
            return reply.add(self._question_screen(pack, session, replace=False))
        reply.add(Screen(pack.t("not_understood_menu")))
        return reply.add(self._welcome(pack, with_intro=False))

    def press(self, chat: Chat, action: Action) -> Reply:
        """A button press (already decoded and verified)."""
        if action.kind == LETTER_KIND:
            # Pressed on a result the parent sees, or on the letter itself: never held back
            # for a result that is waiting to be shown again.
            return self.letters.press(chat.key, self._pack(chat), action)
        if action.kind not in KEEPS_THE_LETTER and action.kind != Kind.MYDATA:
            self.letters.discard(chat.key)  # on to something else: the letter's details go
        if action.kind != Kind.DEADLINE:
            self.deadlines.stop_asking(chat.key)  # typed text is no longer read as the date
        if action.kind == Kind.MYDATA:
            # /mydata lists a result waiting to be shown; it is not held back for it.
            return self._my_data_press(chat, action)
        if (pending := self._pending_result(chat)) is not None:
            return pending
        handlers: dict[str, Callable[[], Reply]] = {
            Kind.MENU: lambda: Reply().add(self._welcome(self._pack(chat), replace=True)),
            # The welcome (with its disclaimer) and an outcome stay readable: new message.
            Kind.SCREEN: lambda: self._start_screening(chat, replace=False, fresh=False),
            Kind.OVER: lambda: self._start_screening(chat, replace=False, fresh=True),
            Kind.CONTINUE: lambda: self._continue(chat, replace=action.arg(0) != "new"),
            Kind.PAUSE: lambda: self._pause(chat),
            Kind.ANSWER: lambda: self._answer(chat, action),
            Kind.BACK: lambda: self._back(chat, action),
            Kind.WHY: lambda: self._why(chat, action),
            Kind.DETAILS: lambda: self._details(chat, action.arg(0)),
            Kind.LEARN: lambda: self._learn_menu(chat),
            Kind.EXPLAIN: lambda: self._explainer(chat, action.arg(0), action.arg(1, "0")),
            Kind.BOOK: lambda: self._book(chat, action.arg(0)),
            Kind.FREE_HELP: lambda: self._free_help(chat),
            Kind.PRIVACY: lambda: self.privacy(chat, replace=True),
            Kind.LANGUAGES: lambda: self.languages(chat, replace=True),
            Kind.SET_LANGUAGE: lambda: self._set_language(chat, action.arg(0)),
            Kind.TIPS_OFFER: lambda: self._tips(chat, action.arg(0)),
            Kind.TIPS_INTEREST: lambda: self.subscriptions.pick_interest(
                chat.key, self._pack(chat), action.arg(0)
            ),
            Kind.DEADLINE: lambda: self._followup(
                self.deadlines.press(chat.key, chat.address, self._pack(chat), action), chat
            ),
            Kind.CHECKIN: lambda: self._followup(
                self.checkins.press(chat.key, chat.address, self._pack(chat), action), chat
            ),
        }
        handler = handlers.get(action.kind)
        if handler is None:
            return self.stale(chat)
        return handler()

    def _followup(self, reply: Reply | None, chat: Chat) -> Reply:
        """A follow-through step's answer; one it could not act on is a stale button."""
        return reply if reply is not None else self.stale(chat)

    def _my_data_press(self, chat: Chat, action: Action) -> Reply:
        pack = self._pack(chat)
        if action.arg(0) == "l":
            return self.mydata.show(chat.key, pack)
        reply = self.mydata.delete(
            chat.key,
            chat.address,
            pack,
            action.arg(0),
            forget_all=lambda: self.forget(chat, replace=True),
        )
        return self._followup(reply, chat)

    def stale(self, chat: Chat) -> Reply:
        """A button we cannot act on (old, finished, forged): say so, show where we are."""
        if (pending := self._pending_result(chat)) is not None:
            return pending
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        reply.toast = pack.t("stale_button")
        if session is not None:
            return reply.add(self._question_screen(pack, session, replace=False))
        return reply.add(self._welcome(pack, with_intro=False))

    def expire_all(self) -> int:
        """Log every expired screening as abandoned; return how many. Letters older than
        30 minutes go too (they are not counted here: nothing of them was logged)."""
        self.letters.forget_expired()
        count = 0
        for session in list(self.storage.expired_sessions(self.ttl_seconds)):
            count += session.state != OUTCOME_STATE  # a finished one was counted already
            self._abandon(session)
        return count

    # --- the screening ------------------------------------------------------------------

    def _start_screening(self, chat: Chat, *, replace: bool, fresh: bool) -> Reply:
        session, reply = self._load(chat)
        if session is not None and not fresh:
            pack = self._pack(chat, session)
            return reply.add(self._resume_offer(pack, session, replace=replace))
        if session is not None:
            self._abandon(session)
        lang = self.language_of(chat)
        session = StoredSession(
            chat_key=chat.key,
            session_id=new_session_id(),
            lang=lang,
            source=self.storage.get_source(chat.key) or "direct",
            state=self.content.spec.start,
            answers={},
            history=[],
            started_day=self.storage.today(),
            updated_at=0.0,
        )
        self.storage.save_session(session)
        return reply.add(self._question_screen(self._pack(chat, session), session, replace=replace))

    def _continue(self, chat: Chat, *, replace: bool = True) -> Reply:
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        if session is None:
            return reply.add(self._welcome(pack, replace=replace))
        return reply.add(self._question_screen(pack, session, replace=replace))

    def _pause(self, chat: Chat) -> Reply:
        """ "Stop for now" at the crisis pause: the screening is kept for later."""
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        text = pack.t("crisis.stopped", ttl_days=self.settings.session_ttl_days)
        return reply.add(Screen(text, self._menu_row(pack)))

    def _current(self, chat: Chat, action: Action) -> tuple[StoredSession | None, Reply]:
        """The session a question button belongs to, or None (with a stale reply) if not."""
        session, reply = self._load(chat)
        session_id, question_id = action.arg(0), action.arg(1)
        if session is None or session.session_id != session_id or session.state != question_id:
            stale = self.stale(chat)
            stale.screens[:0] = reply.screens
            return None, stale
        return session, reply

    def _answer(self, chat: Chat, action: Action) -> Reply:
        session, reply = self._current(chat, action)
        if session is None:
            return reply
        model = _model(session)
        try:
            step = self.screening.answer(model, action.arg(2))
        except (InvalidAnswer, NotAllowed):
            return self.stale(chat)
        _store(session, model)
        pack = self._pack(chat, session)
        crisis = "crisis" in step.new_notices
        if step.decision is not None:
            self.storage.finish_session(
                session, outcome_id=step.decision.outcome_id, answers=model.path_answers()
            )
            log.info("screening completed outcome=%s", step.decision.outcome_id)
            if crisis:  # the last answer: 988 and 911 still come first, the result below
                reply.add(self.crisis_screen(pack, None, replace=True))
            reply.result_of = session.session_id
            reply.add(
                self.result_screen(pack, step.decision, session.session_id, replace=not crisis)
            )
            # One short message after the result, which stays the first thing to read.
            offer = self.checkins.offer(
                pack, step.decision.outcome_id, session.session_id, chat.address
            )
            return reply.add(offer) if offer is not None else reply
        self.storage.save_session(session)
        if crisis:
            # Safety first: the screening pauses on the crisis notice until the parent
            # chooses to go on (the next question is saved, not shown).
            return reply.add(self.crisis_screen(pack, session, replace=True))
        return reply.add(
            self._question_screen(pack, session, replace=True, notices=step.new_notices)
        )

    def _back(self, chat: Chat, action: Action) -> Reply:
        session, reply = self._current(chat, action)
        if session is None:
            return reply
        model = _model(session)
        try:
            self.screening.back(model)
        except NotAllowed:
            return self.stale(chat)
        _store(session, model)
        self.storage.save_session(session)
        pack = self._pack(chat, session)
        return reply.add(self._question_screen(pack, session, replace=True))

    def _why(self, chat: Chat, action: Action) -> Reply:
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        question = pack.questions.get(action.arg(1))
        if question is None:
            return self.stale(chat)
        reply.toast, reply.alert = question.why, True
        return reply

    # --- screens ---------------------------------------------------------------------------

    def _question_screen(
        self,
        pack: LanguagePack,
        session: StoredSession,
        *,
        replace: bool,
        notices: tuple[str, ...] = (),
    ) -> Screen:
        model = _model(session)
        qid = session.state
        question = self.content.spec.questions[qid]
        words = pack.questions[qid]
        progress = pack.t(
            "progress", n=len(session.history) + 1, total=self.screening.estimated_total(model)
        )
        parts = [f"<i>{progress}</i>"]
        parts += [pack.flags[n] for n in notices]  # in full on the result's details
        parts.append(f"<b>{words.text}</b>")
        earlier = session.answers.get(qid)
        if earlier is not None:
            parts.append(pack.t("you_answered", answer=words.options[earlier]))
        sid = session.session_id

        def option_button(option: str) -> Button:
            mark = "✓ " if option == earlier else ""
            return Button(mark + words.options[option], Action(Kind.ANSWER, (sid, qid, option)))

        buttons = [option_button(o) for o in question.options]
        # Laid out with the labels as shown, "✓ " included: the mark takes room too.
        rows = [tuple(buttons[i] for i in row) for row in option_rows([b.label for b in buttons])]
        nav = []
        if self.screening.can_go_back(model):
            nav.append(Button(pack.t("buttons.back"), Action(Kind.BACK, (sid, qid))))
        nav.append(Button(pack.t("buttons.why"), Action(Kind.WHY, (sid, qid))))
        return Screen("\n\n".join(parts), (*rows, tuple(nav)), replace=replace)

    def crisis_screen(
        self, pack: LanguagePack, session: StoredSession | None, *, replace: bool
    ) -> Screen:
        """988 and 911 first, with a link to the Lifeline; then the parent decides."""
        rows: list[tuple[Button, ...]] = [
            (Button(pack.t("crisis.link"), url=pack.t("crisis.url")),)
        ]
        if session is not None:
            rows.append((Button(pack.t("crisis.continue"), Action(Kind.CONTINUE, ("new",))),))
            rows.append((Button(pack.t("crisis.stop"), Action(Kind.PAUSE)),))
        else:
            rows.append((Button(pack.t("crisis.menu"), Action(Kind.MENU)),))
        return Screen(pack.notices["crisis"], tuple(rows), replace=replace)

    def _deadline_crisis_screen(self, chat: Chat) -> Screen:
        """988 and 911 while the consent's date is asked: the parent may go back to it."""
        pack = self._pack(chat)
        rows: list[tuple[Button, ...]] = [
            (Button(pack.t("crisis.link"), url=pack.t("crisis.url")),),
            self.deadlines.continue_row(chat.key, pack),
            (Button(pack.t("crisis.menu"), Action(Kind.MENU)),),
        ]
        return Screen(pack.notices["crisis"], tuple(row for row in rows if row))

    def _letter_crisis_screen(self, chat: Chat) -> Screen:
        """988 and 911 over an open letter: the parent may go on with the letter later."""
        pack = self._pack(chat)
        rows: list[tuple[Button, ...]] = [
            (Button(pack.t("crisis.link"), url=pack.t("crisis.url")),),
            self.letters.continue_row(chat.key, pack),
            (Button(pack.t("crisis.menu"), Action(Kind.MENU)),),
        ]
        return Screen(pack.notices["crisis"], tuple(row for row in rows if row))

    def _details(self, chat: Chat, session_id: str) -> Reply:
        """A result's next steps and details, worked out again from its logged answers."""
        pack = self._pack(chat)
        decision = self._logged_decision(session_id)
        if decision is None:
            return Reply().add(Screen(pack.t("details_gone"), self._menu_row(pack)))
        return Reply().add(self.details_result(pack, decision, session_id))

    def result_screen(
        self, pack: LanguagePack, decision: Decision, session_id: str, *, replace: bool
    ) -> Screen:
        """A result's first message, with the letter and the clock it offers."""
        return first_screen(
            pack,
            decision,
            session_id,
            replace=replace,
            letter_row=self.letters.result_row(pack, decision.outcome_id, session_id),
            deadline_row=self._deadline_row(pack, decision),
        )

    def details_result(self, pack: LanguagePack, decision: Decision, session_id: str) -> Screen:
        """A result's details, with the letter and the clock it offers."""
        return details_screen(
            pack,
            decision,
            session_id,
            letter_row=self.letters.result_row(pack, decision.outcome_id, session_id),
            deadline_row=self._deadline_row(pack, decision),
        )

    def _deadline_row(self, pack: LanguagePack, decision: Decision) -> tuple[Button, ...]:
        return self.deadlines.result_row(pack, self._first_steps.get(decision.outcome_id, ""))

    def _logged_decision(self, session_id: str) -> Decision | None:
        """The decision behind a logged result, or None when it is gone or today's rules
        would decide otherwise (logged under older rules: not re-explained with words it
        never had)."""
        row = self.storage.outcome_of(session_id) if session_id else None
        if row is None or not row["outcome_id"]:
            return None
        try:
            answers = json.loads(str(row["answers"]))
        except ValueError:
            return None
        if not isinstance(answers, dict):
            return None
        decision = decide(self.content.spec, {str(q): str(o) for q, o in answers.items()})
        return decision if decision.outcome_id == row["outcome_id"] else None

    def _welcome(
        self, pack: LanguagePack, *, replace: bool = False, with_intro: bool = True
    ) -> Screen:
        text = pack.t("welcome", practice=self.practice) if with_intro else pack.t("menu_prompt")
        rows = (
            (Button(pack.t("menu.screening"), Action(Kind.SCREEN)),),
            (Button(pack.t("menu.learn"), Action(Kind.LEARN)),),
            (
                Button(pack.t("menu.book"), Action(Kind.BOOK, ("-",))),
                Button(pack.t("menu.free_help"), Action(Kind.FREE_HELP)),
            ),
            (
                Button(pack.t("subscribe.menu_button"), Action(Kind.TIPS_OFFER)),
                self.deadlines.menu_button(pack),
            ),
            (
                Button(pack.t("menu.privacy"), Action(Kind.PRIVACY)),
                Button(pack.t("menu.language"), Action(Kind.LANGUAGES)),
            ),
        )
        return Screen(text, rows, replace=replace)

    def _menu_row(self, pack: LanguagePack) -> tuple[tuple[Button, ...], ...]:
        return ((Button(pack.t("menu.menu"), Action(Kind.MENU)),),)

    def _resume_offer(
        self, pack: LanguagePack, session: StoredSession, *, replace: bool = False
    ) -> Screen:
        text = pack.t("resume", n=len(session.history) + 1)
        rows = (
            (
                Button(pack.t("buttons.continue"), Action(Kind.CONTINUE)),
                Button(pack.t("buttons.start_over"), Action(Kind.OVER)),
            ),
        )
        return Screen(text, rows, replace=replace)

    def _learn_menu(self, chat: Chat) -> Reply:
        pack = self._pack(chat)
        buttons = [
            Button(e.button, Action(Kind.EXPLAIN, (e.id,))) for e in pack.explainers.values()
        ]
        rows = [tuple(buttons[i] for i in row) for row in option_rows([b.label for b in buttons])]
        rows.append(self.letters.learn_row(pack))
        return Reply().add(
            Screen(pack.t("learn_intro"), (*rows, *self._menu_row(pack)), replace=True)
        )

    def _explainer(self, chat: Chat, explainer_id: str, page: str = "0") -> Reply:
        pack = self._pack(chat)
        explainer = pack.explainers.get(explainer_id)
        index = int(page) if page.isdigit() else -1
        if explainer is None or not 0 <= index < len(explainer.pages):
            return self.stale(chat)
        parts = [f"<b>{explainer.title}</b>"] if index == 0 else []
        parts.append(explainer.pages[index])
        last = index == len(explainer.pages) - 1
        if last:
            parts.append(f"<i>{pack.t('reviewed', date=explainer.reviewed.isoformat())}</i>")
        rows: list[tuple[Button, ...]] = []
        if not last:
            label = pack.t("buttons.next_page")
            rows.append((Button(label, Action(Kind.EXPLAIN, (explainer.id, str(index + 1)))),))
        rows.append(book_row(pack))
        rows.append(
            (
                Button(pack.t("buttons.learn_menu"), Action(Kind.LEARN)),
                Button(pack.t("menu.menu"), Action(Kind.MENU)),
            )
        )
        # The first page is a new message (the result or menu it came from stays readable
        # above it); the next pages turn this one's page in place.
        return Reply().add(Screen("\n\n".join(parts), tuple(rows), replace=index > 0))

    def _book(self, chat: Chat, session_id: str) -> Reply:
        """Record the press first, then show the link (the press counts even if unopened)."""
        pack = self._pack(chat)
        if not self.settings.booking_url:
            return Reply(toast=pack.t("book_missing"), alert=True)
        outcome_id = self.storage.record_booking(
            session_id=None if session_id == "-" else session_id, lang=pack.code
        )
        url = booking_link(self.settings.booking_url, outcome_id)
        text = pack.t("book_intro", practice=self.practice)
        row = (
            Button(pack.t("book_link"), url=url),
            Button(pack.t("buttons.free_help"), url=PARENT_CENTER_URL),
        )
        return Reply().add(Screen(text, (row,)))

    def _free_help(self, chat: Chat) -> Reply:
        pack = self._pack(chat)
        rows = ((Button(pack.t("free_help_link"), url=PARENT_CENTER_URL),),)
        return Reply().add(Screen(pack.t("free_help"), rows))

    def _set_language(self, chat: Chat, code: str) -> Reply:
        if code not in self.content.languages:
            return self.stale(chat)
        self.letters.discard(chat.key)
        self.storage.set_language(chat.key, code)
        # Tips follow the language the parent chose last (and lang:xx audiences with them).
        self.storage.set_subscriber_language(chat.key, code)
        session, reply = self._load(chat)
        pack = self.content.pack(code)
        reply.toast = pack.t("language_set")
        if session is not None:
            session.lang = code
            self.storage.save_session(session)
            return reply.add(self._question_screen(pack, session, replace=True))
        return reply.add(self._welcome(pack, replace=True))

    # --- helpers ----------------------------------------------------------------------------

    def _load(self, chat: Chat) -> tuple[StoredSession | None, Reply]:
        """The chat's unfinished session; an expired one is logged and reported instead."""
        reply = Reply()
        session = self.storage.get_session(chat.key)
        if session is not None and self.storage.is_expired(session, self.ttl_seconds):
            self._abandon(session)
            reply.add(Screen(self._pack(chat, session).t("expired")))
            return None, reply
        if session is not None and session.state == OUTCOME_STATE:
            return None, reply  # finished: its result is logged (see _pending_result)
        return session, reply

    def _pending_result(self, chat: Chat) -> Reply | None:
        """A result that was logged but never reached the parent (a crash, a failed send):
        shown now, whatever they did next, so they need not (and do not) count twice."""
        session = self.storage.get_session(chat.key)
        if session is None or session.state != OUTCOME_STATE:
            return None
        decision = self._logged_decision(session.session_id)
        if decision is None or self.storage.is_expired(session, self.ttl_seconds):
            self.storage.result_shown(chat.key, session.session_id)  # nothing left to show
            return None
        pack = self._pack(chat, session)
        reply = Reply(result_of=session.session_id)
        reply.add(Screen(pack.t("result_again")))
        return reply.add(self.result_screen(pack, decision, session.session_id, replace=False))

    def result_seen(self, chat: Chat, session_id: str) -> None:
        """The screens of `Reply.result_of` were delivered: the result will not come back."""
        self.storage.result_shown(chat.key, session_id)

    def _abandon(self, session: StoredSession) -> None:
        if session.state == OUTCOME_STATE:  # logged as completed already; only unshown
            self.storage.result_shown(session.chat_key, session.session_id)
            return
        model = _model(session)
        self.storage.finish_session(session, outcome_id=None, answers=model.path_answers())
        log.info("screening abandoned at=%s", session.state)

    def language_of(self, chat: Chat) -> str:
        stored = self.storage.get_language(chat.key)
        if stored is not None and stored in self.content.languages:
            return stored
        return self.content.pick_language(chat.language_hint)

    def _pack(self, chat: Chat, session: StoredSession | None = None) -> LanguagePack:
        if session is not None and session.lang in self.content.languages:
            return self.content.pack(session.lang)
        return self.content.pack(self.language_of(chat))


def _model(session: StoredSession) -> ScreeningSession:
    """The machine's view of a stored session: the same answers and history, not copies."""
    return ScreeningSession(state=session.state, answers=session.answers, history=session.history)


def _store(session: StoredSession, model: ScreeningSession) -> None:
    session.state, session.answers, session.history = model.state, model.answers, model.history
