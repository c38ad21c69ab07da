"""The check-in weeks after a screening, in the chat: the offer under a result, then (sent by
the follow-through engine) "Did you ask the school?", "What did the school say?" and a short
next step for the answer. No Telegram here.

The answers are kept against the outcome row's random session id, never the chat; the chat
id only until the check-in is answered (bot/followup/store.py). Every button carries the
session id and is checked against this chat: another chat's, an answered or an old one gets
a kind line, never an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.callbacks import Action, Kind
from bot.config import Settings
from bot.content import Content, LanguagePack
from bot.followup.plan import checkin_time, local_day
from bot.followup.store import ASKED, SCHOOL_SAID, FollowUps
from bot.parent.deadlines import DateWriter, DeadlineDesk
from bot.parent.layout import option_rows
from bot.storage import Storage
from bot.views import Button, Reply, Screen

CHECKIN_KIND = Kind.CHECKIN
# "Did you ask the school?" fits a result whose first step is to ask the school for
# something (request_evaluation, ask_about_review, ...). Not safety_first (safety comes
# first), early_intervention (a call to the state's program), nor the results that ask
# nothing yet: keep_watching, or track_timeline (the evaluation is under way: the clock).
ASKING_STEPS = ("request_", "ask_")
# The letter that fits an answer (content/letters.yaml): a "no" asks for Prior Written
# Notice (facts.md 6; its paragraphs fit a refusal); waiting asks to see the records (19).
ANSWER_LETTERS = {"refused": "pwn", "waiting": "records"}
Rows = tuple[tuple[Button, ...], ...]


def offers_checkin(first_step: str) -> bool:
    """Whether a result with this first step offers the check-in."""
    return first_step.startswith(ASKING_STEPS)


class CheckinDesk:
    """The offer and the answers; one per process, shared by all chats."""

    def __init__(
        self,
        content: Content,
        storage: Storage,
        settings: Settings,
        followups: FollowUps,
        deadlines: DeadlineDesk,
        *,
        menu_row: Callable[[LanguagePack], Rows],
        book_row: Callable[[LanguagePack, str], tuple[Button, ...]],
        result_letter_row: Callable[[LanguagePack, str, str], tuple[Button, ...]],
    ) -> None:
        self.content = content
        self.storage = storage
        self.settings = settings
        self.followups = followups
        self.deadlines = deadlines
        self.dates: DateWriter = deadlines.dates
        self._menu_row = menu_row
        self._book_row = book_row
        self._result_letter_row = result_letter_row

    # --- the offer, under a result ------------------------------------------------------------

    def offer(
        self, pack: LanguagePack, outcome_id: str, session_id: str, chat_id: int | None
    ) -> Screen | None:
        """ "May we check in with you in 4 weeks?", for a result that asks the school for
        something, in a chat the check-in can reach (not `iep-bot chat`)."""
        rule = next((r for r in self.content.spec.outcomes if r.id == outcome_id), None)
        if rule is None or not offers_checkin(rule.first_step) or chat_id is None:
            return None
        days = self.settings.checkin_days
        if days % 7 == 0 and days >= 14:
            text = pack.t("followup.checkin.offer_weeks", n=days // 7)
        elif days > 1:
            text = pack.t("followup.checkin.offer_days", n=days)
        else:
            text = pack.t("followup.checkin.offer_tomorrow")
        rows = (
            (
                Button(pack.t("followup.checkin.yes"), Action(CHECKIN_KIND, ("y", session_id))),
                Button(pack.t("followup.checkin.no"), Action(CHECKIN_KIND, ("n", session_id))),
            ),
        )
        return Screen(text, rows)

    # --- the check-in, weeks later --------------------------------------------------------------

    def ask_screen(self, pack: LanguagePack, session_id: str, outcome_id: str | None) -> Screen:
        """ "Did you ask the school?", reminding the parent of their result."""
        outcome = pack.outcomes.get(outcome_id or "")
        if outcome is not None:
            text = pack.t("followup.checkin.ask", outcome=outcome.title)
        else:
            text = pack.t("followup.checkin.ask_plain")
        buttons = [
            Button(
                pack.t(f"followup.checkin.asked.{asked}"),
                Action(CHECKIN_KIND, ("a", session_id, asked)),
            )
            for asked in ASKED
        ]
        rows = [tuple(buttons[i] for i in row) for row in option_rows([b.label for b in buttons])]
        return Screen(text, tuple(rows))

    # --- buttons ------------------------------------------------------------------------------

    def press(
        self, chat_key: str, chat_id: int | None, pack: LanguagePack, action: Action
    ) -> Reply | None:
        """A check-in button (verified by the codec); None for one it cannot act on."""
        op, session_id, answer = action.arg(0), action.arg(1), action.arg(2)
        if not session_id:
            return None
        if op == "y":
            return self._accept(chat_key, chat_id, pack, session_id)
        if op == "n":
            return Reply().add(Screen(pack.t("followup.checkin.declined"), replace=True))
        if op == "a" and answer in ASKED:
            return self._asked(chat_key, pack, session_id, answer)
        if op == "s" and answer in SCHOOL_SAID:
            return self._school_said(chat_key, pack, session_id, answer)
        return None

    def _accept(
        self, chat_key: str, chat_id: int | None, pack: LanguagePack, session_id: str
    ) -> Reply:
        if chat_id is None:
            return Reply().add(Screen(pack.t("followup.checkin.terminal_only"), replace=True))
        row = self.storage.outcome_of(session_id)
        outcome_id = str(row["outcome_id"]) if row and row.get("outcome_id") else None
        if outcome_id is None:
            return Reply().add(Screen(pack.t("followup.checkin.gone"), replace=True))
        send_at = checkin_time(self._today(), days=self.settings.checkin_days, tz=self.settings.tz)
        if not self.followups.offer_checkin(
            session_id,
            outcome_id=outcome_id,
            lang=pack.code,
            chat_key=chat_key,
            chat_id=chat_id,
            send_at=send_at,
        ):
            kept = self.followups.checkin(session_id, chat_key)
            if kept is None or kept.status != "pending":
                return Reply().add(Screen(pack.t("followup.checkin.closed"), replace=True))
            send_at = kept.send_at
            key = "already"
        else:
            key = "accepted"
        date = self.dates.long(pack, local_day(send_at, self.settings.tz))
        return Reply().add(Screen(pack.t(f"followup.checkin.{key}", date=date), replace=True))

    def _asked(self, chat_key: str, pack: LanguagePack, session_id: str, asked: str) -> Reply:
        checkin = self.followups.checkin(session_id, chat_key)
        if checkin is None or not self.followups.record_asked(session_id, chat_key, asked):
            return self._closed(pack)
        if asked == "yes":
            buttons = [
                Button(
                    pack.t(f"followup.checkin.said.{said}"),
                    Action(CHECKIN_KIND, ("s", session_id, said)),
                )
                for said in SCHOOL_SAID
            ]
            labels = [b.label for b in buttons]
            rows = tuple(tuple(buttons[i] for i in row) for row in option_rows(labels))
            text = pack.t("followup.checkin.school_question")
            return Reply().add(Screen(text, rows, replace=True))
        letter: tuple[Button, ...] = ()
        key = asked
        if asked == "not_yet":
            letter = self._result_letter_row(pack, checkin.outcome_id or "", session_id)
            key = "not_yet" if letter else "not_yet_no_letter"
        return self._next_step(pack, session_id, key, letter)

    def _school_said(self, chat_key: str, pack: LanguagePack, session_id: str, said: str) -> Reply:
        if not self.followups.record_school_said(session_id, chat_key, said):
            return self._closed(pack)
        if said == "agreed":
            extra = self.deadlines.track_row(pack)
        elif said in ANSWER_LETTERS:
            extra = self.deadlines.letter_row(pack, ANSWER_LETTERS[said], session_id)
        else:
            extra = ()
        return self._next_step(pack, session_id, said, extra)

    def _next_step(
        self, pack: LanguagePack, session_id: str, key: str, first_row: tuple[Button, ...]
    ) -> Reply:
        text = f"{pack.t(f'followup.checkin.next.{key}')}\n\n{pack.t('followup.checkin.footer')}"
        rows = (first_row, self._book_row(pack, session_id), *self._menu_row(pack))
        rows = tuple(row for row in rows if row)
        return Reply().add(Screen(text, rows, replace=True))

    def _closed(self, pack: LanguagePack) -> Reply:
        text = pack.t("followup.checkin.closed")
        return Reply().add(Screen(text, self._menu_row(pack), replace=True))

    def _today(self) -> dt.date:
        return local_day(self.storage.clock(), self.settings.tz)
