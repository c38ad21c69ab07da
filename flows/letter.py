"""The letter's steps as a `transitions` state machine: the letter's language, then each
detail (typed or left blank), then done.

Built once per list of details (content/letters.yaml `fields`) with `model=None`; the runner
of flows/machine.py fires each event on the draft itself. The draft holds what the parent
typed, so it lives in memory only (bot/parent/letter_drafts.py): this module decides the
next step, it never stores or sends anything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from transitions import EventData, Machine

from flows.machine import NotAllowed, Runner, subject_of

LANGUAGE_STATE = "language"
DONE_STATE = "done"
MAX_VALUE_CHARS = 100  # a name, a school, a grade: longer text is cut, never refused
_SPACES = re.compile(r"\s+")


class InvalidValue(ValueError):
    """Typed text with nothing left in it once cleaned (only spaces or control characters)."""


@dataclass
class LetterDraft:
    """One letter in the making: where it is, its language, and the details given so far.

    `values` maps a detail to what the parent typed, or None for "leave a blank line".
    """

    state: str = LANGUAGE_STATE
    language: str | None = None
    values: dict[str, str | None] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state == DONE_STATE


def clean_value(text: str) -> str:
    """Typed text as the letter shows it: one line, no control characters, at most 100
    characters; InvalidValue when nothing is left."""
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cf", "Cs", "Co")  # invisible marks, broken halves
    )
    value = _SPACES.sub(" ", kept).strip()
    if not value:
        raise InvalidValue("nothing left to use in the typed text")
    return value[:MAX_VALUE_CHARS].rstrip()


class LetterSteps:
    """The letter machine for one list of details; safe to share across drafts."""

    def __init__(self, fields: Sequence[str]) -> None:
        if not fields or len(set(fields)) != len(fields):
            raise ValueError("the details must be a non-empty list without repeats")
        if {LANGUAGE_STATE, DONE_STATE} & set(fields):
            raise ValueError(f"{LANGUAGE_STATE!r} and {DONE_STATE!r} cannot name a detail")
        self.fields = tuple(fields)
        self.machine = Machine(
            model=None,
            states=[LANGUAGE_STATE, *self.fields, DONE_STATE],
            initial=LANGUAGE_STATE,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        self.machine.add_transition(
            "choose_language", LANGUAGE_STATE, self.fields[0], before=[_record_language]
        )
        following = [*self.fields[1:], DONE_STATE]
        for detail, after in zip(self.fields, following, strict=True):
            self.machine.add_transition("give", detail, after, before=[_record_value])
            self.machine.add_transition("skip", detail, after, before=[_record_blank])
        self._runner = Runner(self.machine, LetterDraft())

    def new_draft(self) -> LetterDraft:
        return LetterDraft()

    def choose_language(self, draft: LetterDraft, language: str) -> None:
        """The letter's language (a code, or "both"); NotAllowed once it is chosen."""
        self._runner.fire(draft, "choose_language", language=language)

    def give(self, draft: LetterDraft, text: str) -> None:
        """The current detail, typed; InvalidValue for empty text, NotAllowed when no
        detail is being asked."""
        if draft.state not in self.fields:
            raise NotAllowed(f"no detail is asked in state {draft.state!r}")
        self._runner.fire(draft, "give", value=clean_value(text))

    def skip(self, draft: LetterDraft, detail: str) -> None:
        """Leave `detail` blank; NotAllowed unless it is the one being asked (a second tap
        on an old button must not skip the next one)."""
        if draft.state != detail:
            raise NotAllowed(f"{detail!r} is not being asked (at {draft.state!r})")
        self._runner.fire(draft, "skip")

    def position(self, draft: LetterDraft) -> int:
        """1-based number of the detail being asked (0 before the first)."""
        return self.fields.index(draft.state) + 1 if draft.state in self.fields else 0


def _draft(event: EventData) -> LetterDraft:
    draft = subject_of(event)
    assert isinstance(draft, LetterDraft)
    return draft


def _record_language(event: EventData) -> None:
    _draft(event).language = event.kwargs["language"]


def _record_value(event: EventData) -> None:
    draft = _draft(event)
    draft.values[draft.state] = event.kwargs["value"]


def _record_blank(event: EventData) -> None:
    draft = _draft(event)
    draft.values[draft.state] = None
