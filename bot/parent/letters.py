"""The letter in the chat: from a result (or the Learn menu) to a finished letter, as text to
copy, a Word file and a PDF, then what to do with it. No Telegram here.

The steps: which letter (when a result offers several), the letter's language, then each
detail, typed or left blank, after one plain sentence on what happens to them; then the
letter. What the parent types lives in LetterDrafts (memory only) and nowhere else: it is
never logged, stored or put in an exception, and it is gone once the letter is made.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.callbacks import Action, Kind
from bot.config import Settings
from bot.content import REFERENCE_LANGUAGE, Content, LanguagePack
from bot.letters.book import BOTH, LetterBook
from bot.letters.fill import fill_all, languages_of
from bot.letters.render import render
from bot.parent.layout import option_rows
from bot.parent.letter_drafts import LetterDrafts, OpenLetter
from bot.storage import Storage
from bot.views import Button, Reply, Screen
from flows.letter import InvalidValue, LetterSteps
from flows.machine import NotAllowed

log = logging.getLogger(__name__)

# The letter buttons' kind, "W" (write): bot/callbacks.py registers it as Kind.LETTER.
LETTER_KIND = Kind.LETTER
NO_SESSION = "-"  # a letter started from the Learn menu: no answers to fill it in from
# Letters after which the school sends a consent form: their advice offers the evaluation
# clock ("Not signed yet" there says the time starts when the school gets the signed form).
STARTS_THE_CLOCK = frozenset({"evaluation"})
# The informational buttons a parent may press mid-letter without losing it.
KEEPS_THE_LETTER = frozenset(
    {Kind.WHY, Kind.DETAILS, Kind.EXPLAIN, Kind.BOOK, Kind.FREE_HELP, Kind.PRIVACY, Kind.LEARN}
)


@dataclass(frozen=True)
class Attachment:
    """A file to hand the parent, with a one-line caption."""

    filename: str
    data: bytes
    caption: str


@dataclass
class LetterReply(Reply):
    """A Reply that hands over files too: they go after the first `documents_at` screens."""

    documents: list[Attachment] = field(default_factory=list)
    documents_at: int = 0


class LetterDesk:
    """Every letter step of the conversation; one per process, shared by all chats."""

    def __init__(
        self,
        content: Content,
        storage: Storage,
        settings: Settings,
        book: LetterBook,
        *,
        menu_row: Callable[[LanguagePack], tuple[tuple[Button, ...], ...]],
        book_row: Callable[[LanguagePack], tuple[Button, ...]],
    ) -> None:
        self.content = content
        self.storage = storage
        self.settings = settings
        self.book = book
        self.steps = LetterSteps(book.fields)
        self.drafts = LetterDrafts(storage.clock)
        self._menu_row = menu_row
        self._book_row = book_row

    # --- what other screens offer -----------------------------------------------------------

    def result_row(
        self, pack: LanguagePack, outcome_id: str, session_id: str
    ) -> tuple[Button, ...]:
        """ "Write the letter" under a result whose next step is a request (else nothing)."""
        if not self.book.offered(outcome_id):
            return ()
        return (
            Button(pack.t("letters.flow.write_button"), Action(LETTER_KIND, ("o", session_id))),
        )

    def learn_row(self, pack: LanguagePack) -> tuple[Button, ...]:
        return (Button(pack.t("letters.flow.learn_button"), Action(LETTER_KIND, ("m",))),)

    # --- buttons -----------------------------------------------------------------------------

    def press(self, chat_key: str, pack: LanguagePack, action: Action) -> Reply:
        """A letter button (verified by the codec); an old or unknown one is answered kindly."""
        op = action.arg(0)
        if op == "o":
            return self._offers(chat_key, pack, action.arg(1))
        if op == "m":
            return self._menu(pack)
        if op == "n":
            return self._start(chat_key, pack, action.arg(1), action.arg(2), replace=True)
        letter = self.drafts.get(chat_key)
        if letter is None or letter.draft_id != action.arg(1):
            if self.drafts.was_made(chat_key, action.arg(1)):
                return Reply(toast=pack.t("stale_button"))  # a second tap on the last step
            if letter is not None:
                return self._stale(pack, letter)  # an earlier letter's: show the open one
            return self._lost(chat_key, pack, action)
        if letter.draft.done:  # the same tap again, after a busy database stopped it
            return self._finish(chat_key, pack, letter, replace=True)
        if op == "g":
            return self._language(chat_key, pack, letter, action.arg(2))
        if op == "k":
            try:
                self.steps.skip(letter.draft, action.arg(2))
            except NotAllowed:
                return self._stale(pack, letter)
            return self._next(chat_key, pack, letter, replace=True)
        if op == "x":
            self.drafts.close(chat_key)
            return Reply().add(
                Screen(pack.t("letters.flow.cancelled"), self._menu_row(pack), replace=True)
            )
        if op == "c":
            return Reply().add(self._current_screen(pack, letter, replace=False))
        return self._stale(pack, letter)

    # --- typed text ----------------------------------------------------------------------------

    def typed(
        self, chat_key: str, pack: LanguagePack, text: str | None, *, edited: bool
    ) -> Reply | None:
        """Text sent while a letter is open: the detail asked for. None when no letter is open
        (nor one that just expired), so the conversation answers as usual."""
        letter = self.drafts.get(chat_key)
        if letter is None:
            gone = self.drafts.gone(chat_key)
            if gone is None:
                return None
            return self._again(pack, "expired", gone.letter_id, gone.session_id)
        if letter.draft.done:  # the same message again, after a busy database stopped it
            return self._finish(chat_key, pack, letter, replace=False)
        if letter.draft.state not in self.book.fields:
            return Reply().add(self._current_screen(pack, letter, replace=False))
        if edited or not text:
            key = "no_edits" if edited else "type_it"
            reply = Reply().add(Screen(pack.t(f"letters.flow.{key}")))
            return reply.add(self._current_screen(pack, letter, replace=False))
        try:
            self.steps.give(letter.draft, text)
        except InvalidValue:
            reply = Reply().add(Screen(pack.t("letters.flow.type_it")))
            return reply.add(self._current_screen(pack, letter, replace=False))
        return self._next(chat_key, pack, letter, replace=False)

    def is_open(self, chat_key: str) -> bool:
        return self.drafts.get(chat_key) is not None

    def continue_row(self, chat_key: str, pack: LanguagePack) -> tuple[Button, ...]:
        """ "Continue the letter", for the crisis screen shown over an open letter."""
        letter = self.drafts.get(chat_key)
        if letter is None:
            return ()
        action = Action(LETTER_KIND, ("c", letter.draft_id, letter.letter_id, letter.session_id))
        return (Button(pack.t("letters.flow.continue"), action),)

    def discard(self, chat_key: str) -> None:
        """The parent went on to something else: the letter and its details go."""
        self.drafts.close(chat_key)

    def forget_expired(self) -> int:
        return self.drafts.sweep()

    # --- the steps ----------------------------------------------------------------------------

    def _offers(self, chat_key: str, pack: LanguagePack, session_id: str) -> Reply:
        """The letters a result offers: straight to the one, or a choice of several."""
        letters = self.book.offered(self._outcome(session_id))
        if len(letters) == 1:
            return self._start(chat_key, pack, letters[0], session_id, replace=False)
        if not letters:
            return self._menu(pack, replace=False)
        words = self.book.language(pack.code).letters
        rows = [
            (Button(words[lid].button, Action(LETTER_KIND, ("n", lid, session_id))),)
            for lid in letters
        ]
        # A way out that is not a letter: the result stays above, the menu is one tap.
        return Reply().add(
            Screen(pack.t("letters.flow.choose_letter"), (*rows, *self._menu_row(pack)))
        )

    def _menu(self, pack: LanguagePack, *, replace: bool = True) -> Reply:
        """Every letter, from the Learn menu: filled in without answers (blank concerns)."""
        words = self.book.language(pack.code).letters
        buttons = [
            Button(words[lid].button, Action(LETTER_KIND, ("n", lid, NO_SESSION)))
            for lid in self.book.plans
        ]
        rows = [tuple(buttons[i] for i in row) for row in option_rows([b.label for b in buttons])]
        rows.append(
            (
                Button(pack.t("buttons.learn_menu"), Action(Kind.LEARN)),
                Button(pack.t("menu.menu"), Action(Kind.MENU)),
            )
        )
        return Reply().add(
            Screen(pack.t("letters.flow.letters_intro"), tuple(rows), replace=replace)
        )

    def _start(
        self, chat_key: str, pack: LanguagePack, letter_id: str, session_id: str, *, replace: bool
    ) -> Reply:
        if letter_id not in self.book.plans:
            return self._menu(pack, replace=False)
        letter = OpenLetter(
            draft_id=secrets.token_hex(3),
            letter_id=letter_id,
            session_id=session_id or NO_SESSION,
            answers=self._answers(session_id),
            draft=self.steps.new_draft(),
            started=self.storage.clock(),
        )
        self.drafts.open(chat_key, letter)
        return Reply().add(self._current_screen(pack, letter, replace=replace))

    def _language(
        self, chat_key: str, pack: LanguagePack, letter: OpenLetter, choice: str
    ) -> Reply:
        if choice not in self._language_choices():
            return self._stale(pack, letter)
        try:
            self.steps.choose_language(letter.draft, choice)
        except NotAllowed:
            return self._stale(pack, letter)
        return Reply().add(self._current_screen(pack, letter, replace=True, first=True))

    def _next(
        self, chat_key: str, pack: LanguagePack, letter: OpenLetter, *, replace: bool
    ) -> Reply:
        if letter.draft.done:
            return self._finish(chat_key, pack, letter, replace=replace)
        return Reply().add(self._current_screen(pack, letter, replace=replace))

    def _finish(
        self, chat_key: str, pack: LanguagePack, letter: OpenLetter, *, replace: bool
    ) -> LetterReply:
        """The letter in all three forms, then what to do with it; the details are dropped."""
        choice = letter.draft.language or REFERENCE_LANGUAGE
        langs = languages_of(choice, pack.code, list(self.content.languages))
        day = dt.datetime.fromtimestamp(self.storage.clock(), self.settings.tz).date()
        try:
            letters = fill_all(
                self.book,
                letter.letter_id,
                langs,
                answers=letter.answers,
                details=letter.draft.values,
                day=day,
            )
            made = render(letters, day)
        except Exception:
            # Whatever happens next, the details go now (a LetterRenderError names the form
            # that failed, never what it held).
            self.drafts.close(chat_key)
            raise
        # Counted before the details go: a busy database reruns this step with them.
        self.storage.count_letter(letter.letter_id, "+".join(langs))
        self.drafts.close(chat_key, made=True)
        log.info("letter made type=%s lang=%s", letter.letter_id, "+".join(langs))
        reply = LetterReply()
        reply.add(Screen(pack.t("letters.flow.ready"), replace=replace))
        for text in made.messages:
            reply.add(Screen(text))
        reply.documents_at = len(reply.screens)
        reply.documents = [
            Attachment(made.docx.filename, made.docx.data, pack.t("letters.flow.caption_docx")),
            Attachment(made.pdf.filename, made.pdf.data, pack.t("letters.flow.caption_pdf")),
        ]
        advice = pack.t("letters.flow.advice", next=pack.t(f"letters.flow.next.{letter.letter_id}"))
        rows = (self._book_row(pack), *self._menu_row(pack))
        if letter.letter_id in STARTS_THE_CLOCK:
            track = Action(Kind.DEADLINE, ("i",))
            rows = ((Button(pack.t("followup.deadline.track_button"), track),), *rows)
        reply.add(Screen(advice, rows))
        return reply

    # --- screens --------------------------------------------------------------------------------

    def _current_screen(
        self, pack: LanguagePack, letter: OpenLetter, *, replace: bool, first: bool = False
    ) -> Screen:
        """The question the letter is at: its language, or the next detail."""
        draft, ids = letter.draft, (letter.draft_id, letter.letter_id, letter.session_id)
        cancel = (Button(pack.t("letters.flow.cancel"), Action(LETTER_KIND, ("x", *ids))),)
        words = self.book.language(pack.code).letters[letter.letter_id]
        if draft.state not in self.book.fields:  # the language (done letters are closed)
            choices = tuple(
                (
                    Button(
                        self._language_label(pack, code),
                        Action(LETTER_KIND, ("g", letter.draft_id, code, *ids[1:])),
                    ),
                )
                for code in self._language_choices()
            )
            text = pack.t("letters.flow.language_prompt", letter=words.button)
            return Screen(text, (*choices, cancel), replace=replace)
        total = len(self.book.fields)
        parts = [pack.t("letters.flow.privacy", total=total)] if first else []
        progress = pack.t("letters.flow.progress", n=self.steps.position(draft), total=total)
        parts.append(f"<i>{progress}</i>\n<b>{pack.t(f'letters.flow.fields.{draft.state}')}</b>")
        skip = Action(LETTER_KIND, ("k", letter.draft_id, draft.state, *ids[1:]))
        return Screen(
            "\n\n".join(parts),
            ((Button(pack.t("letters.flow.skip"), skip),), cancel),
            replace=replace,
        )

    def _lost(self, chat_key: str, pack: LanguagePack, action: Action) -> Reply:
        """A button of a letter that is no longer here: expired, or the bot restarted."""
        letter_id, session_id = _letter_of(action)
        gone = self.drafts.gone(chat_key)
        reason = "expired" if gone is not None else "interrupted"
        return self._again(pack, reason, letter_id, session_id)

    def _again(self, pack: LanguagePack, reason: str, letter_id: str, session_id: str) -> Reply:
        reply = Reply(toast=pack.t("stale_button") if reason == "interrupted" else None)
        rows: list[tuple[Button, ...]] = []
        if letter_id in self.book.plans:
            again = Action(LETTER_KIND, ("n", letter_id, session_id or NO_SESSION))
            rows.append((Button(pack.t("letters.flow.start_again"), again),))
        rows.extend(self._menu_row(pack))
        return reply.add(Screen(pack.t(f"letters.flow.{reason}"), tuple(rows)))

    def _stale(self, pack: LanguagePack, letter: OpenLetter) -> Reply:
        """An old button of the open letter (a double tap): show where the letter is."""
        return Reply(toast=pack.t("stale_button")).add(
            self._current_screen(pack, letter, replace=False)
        )

    # --- helpers --------------------------------------------------------------------------------

    def _language_choices(self) -> tuple[str, ...]:
        """The school's language first, then each other one, then both side by side."""
        codes = sorted(self.content.languages, key=lambda c: (c != REFERENCE_LANGUAGE, c))
        return (*codes, BOTH) if len(codes) > 1 else tuple(codes)

    def _language_label(self, pack: LanguagePack, code: str) -> str:
        labels = pack.ui.get("letters", {}).get("flow", {}).get("languages", {})
        if code in labels:
            return str(labels[code]).strip()
        return self.content.pack(code).name

    def _outcome(self, session_id: str) -> str | None:
        row = self.storage.outcome_of(session_id) if session_id not in ("", NO_SESSION) else None
        return str(row["outcome_id"]) if row and row["outcome_id"] else None

    def _answers(self, session_id: str) -> Mapping[str, str]:
        """The finished screening's answers (the anonymous outcome log), or none."""
        row = self.storage.outcome_of(session_id) if session_id not in ("", NO_SESSION) else None
        if row is None:
            return {}
        try:
            answers = json.loads(str(row["answers"]))
        except ValueError:
            return {}
        return {str(q): str(o) for q, o in answers.items()} if isinstance(answers, dict) else {}


def _letter_of(action: Action) -> tuple[str, str]:
    """The letter and screening a draft-bound button names (its last two arguments)."""
    if len(action.args) >= 4:
        return action.args[-2], action.args[-1]
    return "", NO_SESSION
