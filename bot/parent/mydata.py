"""/mydata: everything kept about this chat right now, in plain words, each with a button that
deletes just that part (then the list again), and "Delete everything" (/forget). No Telegram.

What a chat can have: its settings (chosen language, the link it came from: chat_prefs), an
unfinished screening (sessions), the tips subscription and its interest (subscribers) with
the record of tips sent (deliveries, unlinked only by /forget: the broadcasts' audit keeps
its counts), an evaluation deadline and its reminders (deadlines, reminders), a check-in
still linked to the chat (checkins), and a letter being written (memory only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.callbacks import Action, Kind
from bot.config import Settings
from bot.content import Content, LanguagePack
from bot.followup.plan import local_day
from bot.followup.store import PENDING, FollowUps
from bot.parent.deadlines import DateWriter
from bot.parent.layout import option_rows
from bot.parent.letters import LetterDesk
from bot.storage import INTERESTS, Storage
from bot.views import Button, Reply, Screen
from flows.spec import OUTCOME_STATE

MYDATA_KIND = Kind.MYDATA
EVERYTHING = "all"
Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Item:
    """One thing kept: its line, and the id its 🗑 button deletes ("" for none of its own)."""

    part: str
    line: str


class MyData:
    """Lists and deletes what is kept about one chat."""

    def __init__(
        self,
        content: Content,
        storage: Storage,
        settings: Settings,
        followups: FollowUps,
        letters: LetterDesk,
        dates: DateWriter,
        *,
        menu_row: Callable[[LanguagePack], Rows],
    ) -> None:
        self.content = content
        self.storage = storage
        self.settings = settings
        self.followups = followups
        self.letters = letters
        self.dates = dates
        self._menu_row = menu_row

    def show(self, chat_key: str, pack: LanguagePack, *, replace: bool = False) -> Reply:
        """The list, each part with its 🗑, then "Delete everything"."""
        items = self.items(chat_key, pack)
        if not items:
            return Reply().add(
                Screen(pack.t("followup.mydata.nothing"), self._menu_row(pack), replace=replace)
            )
        text = "\n".join([pack.t("followup.mydata.title"), *(item.line for item in items)])
        buttons = [
            Button(pack.t(f"followup.mydata.delete.{item.part}"), Action(MYDATA_KIND, (item.part,)))
            for item in items
            if item.part
        ]
        rows = [tuple(buttons[i] for i in row) for row in option_rows([b.label for b in buttons])]
        label = pack.t("followup.mydata.everything")
        everything = Button(label, Action(MYDATA_KIND, (EVERYTHING,)))
        # Beside the main menu's button: the whole list keeps to one phone screen.
        rows.append((everything, *self._menu_row(pack)[0]))
        return Reply().add(Screen(text, tuple(rows), replace=replace))

    def items(self, chat_key: str, pack: LanguagePack) -> list[Item]:
        """What is kept about this chat now, in the order the privacy note tells it."""
        found: list[Item] = []
        lang = self.storage.get_language(chat_key)
        if lang is not None:
            name = self.content.pack(lang).name
            found.append(Item("prefs", pack.t("followup.mydata.prefs", language=name)))
        elif self.storage.get_source(chat_key) is not None:
            found.append(Item("prefs", pack.t("followup.mydata.prefs_no_language")))
        session = self.storage.get_session(chat_key)
        if session is not None and session.state == OUTCOME_STATE:
            found.append(Item("screening", pack.t("followup.mydata.result_waiting")))
        elif session is not None:
            line = pack.t("followup.mydata.screening", n=len(session.history) + 1)
            found.append(Item("screening", line))
        subscriber = self.storage.get_subscriber(chat_key)
        if subscriber is not None:
            language = self.content.pack(str(subscriber["lang"])).name
            interest = subscriber["interest"]
            if interest in INTERESTS:
                said = pack.t(f"subscribe.interests.{interest}")
                line = pack.t("followup.mydata.tips_interest", language=language, interest=said)
            else:
                line = pack.t("followup.mydata.tips", language=language)
            found.append(Item("tips", line))
        if self._tips_sent(chat_key):  # unlinked by "Delete all" (/forget) only
            found.append(Item("", pack.t("followup.mydata.tips_sent")))
        deadline = self.followups.deadline(chat_key)
        if deadline is not None:
            due = self.dates.short(pack, deadline.due)
            found.append(Item("deadline", pack.t("followup.mydata.deadline", date=due)))
        checkin = self.followups.checkin_of_chat(chat_key)
        if checkin is not None and checkin.status == PENDING:
            day = local_day(checkin.send_at, self.settings.tz)
            line = pack.t("followup.mydata.checkin", date=self.dates.short(pack, day))
            found.append(Item("checkin", line))
        elif checkin is not None:
            found.append(Item("checkin", pack.t("followup.mydata.checkin_sent")))
        if self.letters.is_open(chat_key):
            found.append(Item("letter", pack.t("followup.mydata.letter")))
        return found

    def delete(
        self,
        chat_key: str,
        chat_id: int | None,
        pack: LanguagePack,
        part: str,
        forget_all: Callable[[], Reply],
    ) -> Reply | None:
        """Delete one part, then show the list again; None for a part we do not know."""
        if part == EVERYTHING:
            return forget_all()
        if part == "prefs":
            self._delete_prefs(chat_key)
        elif part == "screening":
            self.storage.delete_session(chat_key)
        elif part == "tips":
            self.storage.remove_subscriber(chat_key, event="left", chat_id=chat_id)
        elif part == "deadline":
            self.followups.cancel_deadline(chat_key)
        elif part == "checkin":
            self.followups.cancel_checkin(chat_key)
        elif part == "letter":
            self.letters.discard(chat_key)
        else:
            return None
        reply = self.show(chat_key, pack, replace=True)
        reply.toast = pack.t("followup.mydata.deleted")
        return reply

    def _delete_prefs(self, chat_key: str) -> None:
        # Storage deletes chat_prefs only with everything else (/forget); this is one part.
        self.storage.db.execute("DELETE FROM chat_prefs WHERE chat_key = ?", [chat_key])

    def _tips_sent(self, chat_key: str) -> bool:
        row = self.storage.db.execute(
            "SELECT 1 FROM deliveries WHERE chat_key = ? LIMIT 1", [chat_key]
        ).fetchone()
        return row is not None
