"""Letters in the making, in this process's memory only: what a parent types for a letter (a
child's name, a school, a birth date) is never written to the database, a log or a report.

A letter is kept by the chat's keyed hash for 30 minutes from its start at most, and dropped
as soon as it is sent or cancelled; a restart forgets every one (the parent is asked again).
What stays of an expired letter is which letter it was and the screening it came from, so
the parent can be offered to start it again: nothing they typed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from bot.storage import Clock
from flows.letter import LetterDraft

LETTER_TTL_SECONDS = 30 * 60
_REMEMBERED_AT_MOST = 10_000  # expired letters whose kind is remembered (no personal data)


@dataclass
class OpenLetter:
    """One chat's letter: which, from what, and the draft with the details typed so far."""

    draft_id: str  # random; the letter's buttons carry it, so an old button is recognised
    letter_id: str
    session_id: str  # the screening whose answers fill it in, or "-" (from the Learn menu)
    answers: Mapping[str, str]
    draft: LetterDraft
    started: float


@dataclass(frozen=True)
class GoneLetter:
    """What is left of a letter that expired: enough to offer it again, nothing typed."""

    letter_id: str
    session_id: str


class LetterDrafts:
    """The open letters, oldest first; each expires 30 minutes after it started."""

    def __init__(self, clock: Clock, ttl_seconds: float = LETTER_TTL_SECONDS) -> None:
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self._open: OrderedDict[str, OpenLetter] = OrderedDict()
        self._gone: OrderedDict[str, GoneLetter] = OrderedDict()
        self._made: OrderedDict[str, str] = OrderedDict()  # chat key -> its last letter's id

    def __len__(self) -> int:
        self.sweep()
        return len(self._open)

    def open(self, chat_key: str, letter: OpenLetter) -> None:
        """Start a letter for this chat (one a chat: a new one replaces the last)."""
        self.sweep()
        self._open.pop(chat_key, None)
        self._gone.pop(chat_key, None)
        self._open[chat_key] = letter

    def get(self, chat_key: str) -> OpenLetter | None:
        """The chat's open letter, unless it expired (then it is gone, see `gone`)."""
        self.sweep()
        return self._open.get(chat_key)

    def gone(self, chat_key: str) -> GoneLetter | None:
        """The letter that expired in this chat, once: asking again forgets it."""
        self.sweep()
        return self._gone.pop(chat_key, None)

    def close(self, chat_key: str, *, made: bool = False) -> None:
        """The letter was made or cancelled: everything of it goes now. A made letter's id
        is remembered, so a second tap on its last button is known for what it is."""
        letter = self._open.pop(chat_key, None)
        self._gone.pop(chat_key, None)
        if made and letter is not None:
            self._made[chat_key] = letter.draft_id
            while len(self._made) > _REMEMBERED_AT_MOST:
                self._made.popitem(last=False)

    def was_made(self, chat_key: str, draft_id: str) -> bool:
        """Whether this chat's last letter made was this one."""
        return self._made.get(chat_key) == draft_id

    def sweep(self) -> int:
        """Drop every letter older than the limit; return how many went."""
        deadline = self.clock() - self.ttl_seconds
        expired = 0
        while self._open:
            chat_key, letter = next(iter(self._open.items()))
            if letter.started > deadline:
                break  # oldest first: the rest are younger
            del self._open[chat_key]
            self._gone[chat_key] = GoneLetter(letter.letter_id, letter.session_id)
            expired += 1
        while len(self._gone) > _REMEMBERED_AT_MOST:
            self._gone.popitem(last=False)
        return expired
