"""The parent conversation, independent of Telegram: an event in, a Reply out.

Telegram handlers and the terminal chat both drive this class, so `iep-bot chat` runs the
very same flow, content and storage as the bot.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from bot.callbacks import Action
from bot.config import Settings
from bot.content import Content, LanguagePack
from bot.storage import Storage, StoredSession, new_session_id
from bot.subscriptions import INTEREST as INTEREST_KIND
from bot.subscriptions import OFFER as OFFER_KIND
from bot.subscriptions import Subscriptions
from bot.views import Button, Reply, Screen
from flows.machine import NotAllowed
from flows.outcomes import Decision
from flows.screening import InvalidAnswer, Screening, ScreeningSession
from flows.spec import OUTCOME_STATE

log = logging.getLogger(__name__)

SOURCE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PARENT_CENTER_URL = "https://www.parentcenterhub.org/find-your-center/"
_SHORT_OPTION = 12  # options this short fit side by side on a phone


class A:
    """Action kinds (kept to one or two letters: callback data has 64 bytes)."""

    MENU = "m"
    SCREEN = "s"  # start a screening (or offer to resume one)
    CONTINUE = "c"
    OVER = "o"  # start over
    ANSWER = "a"
    BACK = "b"
    WHY = "w"
    LEARN = "l"
    EXPLAIN = "e"
    BOOK = "k"
    FREE_HELP = "f"
    PRIVACY = "p"
    LANGUAGES = "g"
    SET_LANGUAGE = "L"
    TIPS = OFFER_KIND  # tip subscriptions: bot/subscriptions.py
    INTEREST = INTEREST_KIND


@dataclass(frozen=True)
class Chat:
    """Who we talk to, as far as the conversation needs: a keyed hash and a language hint.

    `address` is the raw chat id, used for one thing only: storing a tip subscription the
    parent asked for (sending needs it). None in the terminal.
    """

    key: str
    language_hint: str | None = None
    address: int | None = None


def parse_source(payload: str | None) -> str:
    """The deep-link payload as a source name: allowed characters only, else 'unknown'."""
    if not payload:
        return "direct"
    return payload if SOURCE_RE.match(payload) else "unknown"


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

    # --- entry points -----------------------------------------------------------------

    def start(self, chat: Chat, payload: str | None) -> Reply:
        """/start: welcome and menu, or the offer to resume an unfinished screening."""
        self.storage.set_source(chat.key, parse_source(payload))
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        if session is not None:
            return reply.add(self._resume_offer(pack, session))
        return reply.add(self._welcome(pack))

    def restart(self, chat: Chat) -> Reply:
        """/restart: a fresh screening, logging any unfinished one as abandoned."""
        return self._start_screening(chat, replace=False, fresh=True)

    def help(self, chat: Chat) -> Reply:
        pack = self._pack(chat)
        return Reply().add(Screen(pack.t("help"), self._menu_row(pack)))

    def privacy(self, chat: Chat, *, replace: bool = False) -> Reply:
        pack = self._pack(chat)
        text = pack.t("privacy", ttl_days=self.settings.session_ttl_days)
        return Reply().add(Screen(text, self._menu_row(pack), replace=replace))

    def forget(self, chat: Chat) -> Reply:
        """/forget: delete the saved place and the language choice for this chat."""
        pack = self._pack(chat)
        self.storage.forget_chat(chat.key)
        return Reply().add(Screen(pack.t("forget_done"), self._menu_row(pack)))

    def languages(self, chat: Chat, *, replace: bool = False) -> Reply:
        pack = self._pack(chat)
        rows = tuple(
            (Button(lp.name, Action(A.SET_LANGUAGE, (code,))),)
            for code, lp in self.content.languages.items()
        )
        return Reply().add(Screen(pack.t("language_prompt"), rows, replace=replace))

    def subscribe(self, chat: Chat) -> Reply:
        """/subscribe: offer the tips."""
        return self.subscriptions.offer(chat.key, self._pack(chat))

    def unsubscribe(self, chat: Chat) -> Reply:
        """/stop and /unsubscribe."""
        return self.subscriptions.stop(chat.key, self._pack(chat))

    def _tips(self, chat: Chat, choice: str) -> Reply:
        pack = self._pack(chat)
        if not choice:
            return self.subscriptions.offer(chat.key, pack)
        return self.subscriptions.answer_offer(chat.key, chat.address, pack, choice)

    def unknown_command(self, chat: Chat) -> Reply:
        pack = self._pack(chat)
        return Reply().add(Screen(pack.t("unknown_command"), self._menu_row(pack)))

    def text(self, chat: Chat, text: str | None) -> Reply:
        """Anything typed, sent or edited where a button is expected."""
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        if text and self._signals_crisis(text):
            reply.add(Screen(pack.notices["crisis"]))
        if session is not None:
            reply.add(Screen(pack.t("not_understood")))
            return reply.add(self._question_screen(pack, session, replace=False))
        reply.add(Screen(pack.t("not_understood_menu")))
        return reply.add(self._welcome(pack, with_intro=False))

    def press(self, chat: Chat, action: Action) -> Reply:
        """A button press (already decoded and verified)."""
        handler = {
            A.MENU: lambda: Reply().add(self._welcome(self._pack(chat), replace=True)),
            # The welcome (with its disclaimer) and an outcome stay readable: new message.
            A.SCREEN: lambda: self._start_screening(chat, replace=False, fresh=False),
            A.OVER: lambda: self._start_screening(chat, replace=False, fresh=True),
            A.CONTINUE: lambda: self._continue(chat),
            A.ANSWER: lambda: self._answer(chat, action),
            A.BACK: lambda: self._back(chat, action),
            A.WHY: lambda: self._why(chat, action),
            A.LEARN: lambda: self._learn_menu(chat),
            A.EXPLAIN: lambda: self._explainer(chat, action.arg(0)),
            A.BOOK: lambda: self._book(chat, action.arg(0)),
            A.FREE_HELP: lambda: self._free_help(chat),
            A.PRIVACY: lambda: self.privacy(chat, replace=True),
            A.LANGUAGES: lambda: self.languages(chat, replace=True),
            A.SET_LANGUAGE: lambda: self._set_language(chat, action.arg(0)),
            A.TIPS: lambda: self._tips(chat, action.arg(0)),
            A.INTEREST: lambda: self.subscriptions.pick_interest(
                chat.key, self._pack(chat), action.arg(0)
            ),
        }.get(action.kind)
        if handler is None:
            return self.stale(chat)
        return handler()

    def stale(self, chat: Chat) -> Reply:
        """A button we cannot act on (old, finished, forged): say so, show where we are."""
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        reply.toast = pack.t("stale_button")
        if session is not None:
            return reply.add(self._question_screen(pack, session, replace=False))
        return reply.add(self._welcome(pack, with_intro=False))

    def expire_all(self) -> int:
        """Log every expired screening as abandoned; return how many."""
        count = 0
        for session in list(self.storage.expired_sessions(self.ttl_seconds)):
            self._abandon(session)
            count += 1
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

    def _continue(self, chat: Chat) -> Reply:
        session, reply = self._load(chat)
        pack = self._pack(chat, session)
        if session is None:
            return reply.add(self._welcome(pack, replace=True))
        return reply.add(self._question_screen(pack, session, replace=True))

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
        if crisis:
            # Safety first: the pressed message becomes the crisis notice, then we go on.
            reply.add(Screen(pack.notices["crisis"], replace=True))
        if step.decision is not None:
            self.storage.finish_session(
                session, outcome_id=step.decision.outcome_id, answers=model.path_answers()
            )
            log.info("screening completed outcome=%s", step.decision.outcome_id)
            return reply.add(
                self._outcome_screen(pack, session, model, step.decision, replace=not crisis)
            )
        self.storage.save_session(session)
        notices = tuple(n for n in step.new_notices if n != "crisis")
        return reply.add(self._question_screen(pack, session, replace=not crisis, notices=notices))

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
        parts += [pack.notices[n] for n in notices]
        parts.append(f"<b>{words.text}</b>")
        earlier = session.answers.get(qid)
        if earlier is not None:
            parts.append(pack.t("you_answered", answer=words.options[earlier]))
        sid = session.session_id

        def option_button(option: str) -> Button:
            mark = "✓ " if option == earlier else ""
            return Button(mark + words.options[option], Action(A.ANSWER, (sid, qid, option)))

        buttons = [option_button(o) for o in question.options]
        if all(len(words.options[o]) <= _SHORT_OPTION for o in question.options):
            option_rows: list[tuple[Button, ...]] = [tuple(buttons)]
        else:
            option_rows = [(b,) for b in buttons]
        nav = []
        if self.screening.can_go_back(model):
            nav.append(Button(pack.t("buttons.back"), Action(A.BACK, (sid, qid))))
        nav.append(Button(pack.t("buttons.why"), Action(A.WHY, (sid, qid))))
        return Screen("\n\n".join(parts), (*option_rows, tuple(nav)), replace=replace)

    def _outcome_screen(
        self,
        pack: LanguagePack,
        session: StoredSession,
        model: ScreeningSession,
        decision: Decision,
        *,
        replace: bool,
    ) -> Screen:
        words = pack.outcomes[decision.outcome_id]
        notices = self.screening.notices(model)
        parts = [f"<b>{pack.t('outcome_header')}</b>"]
        if "crisis" in notices:
            parts.append(pack.notices["crisis"])
        parts.append(f"<b>{words.title}</b>\n{words.body}")
        because = [f"• {pack.questions[q].said[o]}" for q, o in decision.reasons]
        parts.append(pack.t("because") + "\n" + "\n".join(because))
        steps = [f"{i}. {step}" for i, step in enumerate(words.steps, 1)]
        parts.append(pack.t("next_steps") + "\n" + "\n".join(steps))
        parts += [pack.notices[n] for n in notices if n != "crisis"]
        parts.append(f"<i>{pack.t('disclaimer')}</i>")
        sid = session.session_id
        rows = (
            (Button(pack.t("buttons.book"), Action(A.BOOK, (sid,))),),
            (Button(pack.t("buttons.free_help"), Action(A.FREE_HELP)),),
            (Button(pack.t("subscribe.outcome_button"), Action(A.TIPS)),),
            (
                Button(pack.t("buttons.learn_more"), Action(A.EXPLAIN, (decision.explainer,))),
                Button(pack.t("buttons.start_over"), Action(A.OVER)),
            ),
        )
        return Screen("\n\n".join(parts), rows, replace=replace)

    def _welcome(
        self, pack: LanguagePack, *, replace: bool = False, with_intro: bool = True
    ) -> Screen:
        text = (
            pack.t("welcome", practice=self.settings.practice_name)
            if with_intro
            else pack.t("menu_prompt")
        )
        rows = (
            (Button(pack.t("menu.screening"), Action(A.SCREEN)),),
            (Button(pack.t("menu.learn"), Action(A.LEARN)),),
            (Button(pack.t("menu.book"), Action(A.BOOK, ("-",))),),
            (Button(pack.t("subscribe.menu_button"), Action(A.TIPS)),),
            (
                Button(pack.t("menu.privacy"), Action(A.PRIVACY)),
                Button(pack.t("menu.language"), Action(A.LANGUAGES)),
            ),
        )
        return Screen(text, rows, replace=replace)

    def _menu_row(self, pack: LanguagePack) -> tuple[tuple[Button, ...], ...]:
        return ((Button(pack.t("menu.menu"), Action(A.MENU)),),)

    def _resume_offer(
        self, pack: LanguagePack, session: StoredSession, *, replace: bool = False
    ) -> Screen:
        text = pack.t("resume", n=len(session.history) + 1)
        rows = (
            (
                Button(pack.t("buttons.continue"), Action(A.CONTINUE)),
                Button(pack.t("buttons.start_over"), Action(A.OVER)),
            ),
        )
        return Screen(text, rows, replace=replace)

    def _learn_menu(self, chat: Chat) -> Reply:
        pack = self._pack(chat)
        rows = tuple(
            (Button(e.button, Action(A.EXPLAIN, (e.id,))),) for e in pack.explainers.values()
        )
        return Reply().add(
            Screen(pack.t("learn_intro"), (*rows, *self._menu_row(pack)), replace=True)
        )

    def _explainer(self, chat: Chat, explainer_id: str) -> Reply:
        pack = self._pack(chat)
        explainer = pack.explainers.get(explainer_id)
        if explainer is None:
            return self.stale(chat)
        text = (
            f"<b>{explainer.title}</b>\n\n{explainer.body}\n\n"
            f"<i>{pack.t('reviewed', date=explainer.reviewed.isoformat())}</i>"
        )
        rows = (
            (Button(pack.t("buttons.learn_menu"), Action(A.LEARN)),),
            (Button(pack.t("buttons.book"), Action(A.BOOK, ("-",))),),
            *self._menu_row(pack),
        )
        # A new message: the outcome or menu it came from stays readable above it.
        return Reply().add(Screen(text, rows))

    def _book(self, chat: Chat, session_id: str) -> Reply:
        """Record the press first, then show the link (the press counts even if unopened)."""
        pack = self._pack(chat)
        if not self.settings.booking_url:
            return Reply(toast=pack.t("book_missing"), alert=True)
        outcome_id = self.storage.record_booking(
            session_id=None if session_id == "-" else session_id, lang=pack.code
        )
        url = booking_link(self.settings.booking_url, outcome_id)
        text = pack.t("book_intro", practice=self.settings.practice_name)
        return Reply().add(Screen(text, ((Button(pack.t("book_link"), url=url),),)))

    def _free_help(self, chat: Chat) -> Reply:
        pack = self._pack(chat)
        rows = ((Button(pack.t("free_help_link"), url=PARENT_CENTER_URL),),)
        return Reply().add(Screen(pack.t("free_help"), rows))

    def _set_language(self, chat: Chat, code: str) -> Reply:
        if code not in self.content.languages:
            return self.stale(chat)
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
            return None, reply  # cannot happen: finished sessions are deleted at once
        return session, reply

    def _abandon(self, session: StoredSession) -> None:
        model = _model(session)
        self.storage.finish_session(session, outcome_id=None, answers=model.path_answers())
        log.info("screening abandoned at=%s", session.state)

    def language_of(self, chat: Chat) -> str:
        stored = self.storage.get_language(chat.key)
        if stored in self.content.languages:
            return stored
        return self.content.pick_language(chat.language_hint)

    def _pack(self, chat: Chat, session: StoredSession | None = None) -> LanguagePack:
        if session is not None and session.lang in self.content.languages:
            return self.content.pack(session.lang)
        return self.content.pack(self.language_of(chat))

    def _signals_crisis(self, text: str) -> bool:
        lowered = text.lower()
        return any(
            word in lowered
            for pack in self.content.languages.values()
            for word in pack.crisis_words
        )


def _model(session: StoredSession) -> ScreeningSession:
    return ScreeningSession(
        state=session.state, answers=dict(session.answers), history=list(session.history)
    )


def _store(session: StoredSession, model: ScreeningSession) -> None:
    session.state, session.answers, session.history = model.state, model.answers, model.history
