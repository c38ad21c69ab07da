"""The screening conversation as a `transitions` state machine built from content.

One Machine is built per spec with `model=None`, its transitions from the spec's edge list
(the same list the diagram draws, flows/diagram.py); flows/machine.py's Runner fires each
event on the session itself. States are question ids plus `outcome`. The machine decides;
it never sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transitions import EventData, Machine

from flows.machine import NotAllowed, Runner, subject_of
from flows.outcomes import Decision, decide
from flows.spec import OUTCOME_STATE, ScreeningSpec

_REMEMBER_AT_MOST = 4096  # estimated_total results kept (a few bytes each)


class InvalidAnswer(ValueError):
    """An option that the current question does not offer."""


@dataclass
class ScreeningSession:
    """The part of a session the machine works on: where it is and what was answered."""

    state: str
    answers: dict[str, str] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state == OUTCOME_STATE

    def path_answers(self) -> dict[str, str]:
        """Answers to the questions on the path taken (answers left behind by Back drop out)."""
        return {q: self.answers[q] for q in self.history if q in self.answers}


@dataclass(frozen=True)
class Step:
    """What happened: the new state, notices raised by this answer, and the outcome if done."""

    state: str
    new_notices: tuple[str, ...] = ()
    decision: Decision | None = None


class Screening:
    """The screening machine for one spec; safe to share across sessions."""

    def __init__(self, spec: ScreeningSpec) -> None:
        self.spec = spec
        self.machine = Machine(
            model=None,
            states=[*spec.questions, OUTCOME_STATE],
            initial=spec.start,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for edge in spec.edges():
            self.machine.add_transition(
                "answer",
                source=edge.source,
                dest=edge.dest,
                conditions=[_RoutesTo(spec, edge.source, edge.dest)],
                before=[_record_answer],
            )
        predecessors: dict[str, set[str]] = {}
        for qid in spec.questions:
            for dest in spec.successors(qid):
                predecessors.setdefault(dest, set()).add(qid)
        for qid in spec.questions:
            for prev in sorted(predecessors.get(qid, ())):
                self.machine.add_transition(
                    "back",
                    source=qid,
                    dest=prev,
                    conditions=[_CameFrom(prev)],
                    before=[_forget_last_step],
                )
        # Questions whose answer changes the way on: an option of their own leads elsewhere,
        # or a later branching rule looks at them.
        self._branching = {
            q.id
            for q in spec.questions.values()
            if len(set(q.option_next.values())) > 1 or (q.option_next and q.routes)
        } | {ref for q in spec.questions.values() for route in q.routes for ref in route.when}
        self._runner = Runner(self.machine, ScreeningSession(state=spec.start))
        self._remaining: dict[tuple[str, frozenset[tuple[str, str]]], int] = {}

    def new_session(self) -> ScreeningSession:
        return ScreeningSession(state=self.spec.start)

    def answer(self, session: ScreeningSession, option: str) -> Step:
        """Answer the current question; raises InvalidAnswer or NotAllowed."""
        question = self.spec.questions.get(session.state)
        if question is None:
            raise NotAllowed(f"no question is open in state {session.state!r}")
        if option not in question.options:
            raise InvalidAnswer(f"{session.state} has no option {option!r}")
        self._fire(session, "answer", option=option)
        notice = question.option_notice.get(option)
        new_notices = (notice,) if notice else ()
        decision = None
        if session.finished:
            decision = decide(self.spec, session.path_answers())
        return Step(session.state, new_notices, decision)

    def back(self, session: ScreeningSession) -> Step:
        """Return to the previous question, keeping its earlier answer to show."""
        if not session.history:
            raise NotAllowed("already at the first question")
        self._fire(session, "back")
        return Step(session.state)

    def can_go_back(self, session: ScreeningSession) -> bool:
        return bool(session.history) and not session.finished

    def estimated_total(self, session: ScreeningSession) -> int:
        """How many questions this path will take, as far as the answers so far tell.

        An unanswered question that changes the way (the age, the plan) counts its longest
        way on, so "about N" never promises fewer questions than there will be; any other
        unanswered question is walked with its first option (it cannot change the length).
        """
        key = (session.state, frozenset(session.answers.items()))
        remaining = self._remaining.get(key)
        if remaining is None:
            # The walk costs about a tenth of an answer and depends only on the spec and
            # these answers, which repeat across parents: remembered, within a bound.
            if len(self._remaining) >= _REMEMBER_AT_MOST:
                self._remaining.clear()
            remaining = self._remaining[key] = self._longest(session.state, dict(session.answers))
        return len(session.history) + remaining

    def _longest(self, state: str, answers: dict[str, str]) -> int:
        question = self.spec.questions.get(state)
        if question is None:
            return 0
        if state in answers:
            options: tuple[str, ...] = (answers[state],)
        elif state in self._branching:
            options = question.options
        else:
            options = question.options[:1]
        best = 0
        for option in options:
            now = {**answers, state: option}
            best = max(best, 1 + self._longest(self.spec.next_question(state, now), now))
        return best

    def _fire(self, session: ScreeningSession, trigger: str, **kwargs: Any) -> None:
        self._runner.fire(session, trigger, **kwargs)


def _session(event: EventData) -> ScreeningSession:
    """The model an event runs on: always the machine's one ScreeningSession."""
    session = subject_of(event)
    assert isinstance(session, ScreeningSession)
    return session


class _RoutesTo:
    """Condition: answering `source` with the given option leads to `dest`."""

    def __init__(self, spec: ScreeningSpec, source: str, dest: str) -> None:
        self.spec, self.source, self.dest = spec, source, dest
        self.__name__ = f"routes_to_{dest}"  # transitions names conditions in errors

    def __call__(self, event: EventData) -> bool:
        session = _session(event)
        answers = {**session.answers, self.source: event.kwargs["option"]}
        return self.spec.next_question(self.source, answers) == self.dest


class _CameFrom:
    """Condition: the previous question on the path is `prev`."""

    def __init__(self, prev: str) -> None:
        self.prev = prev
        self.__name__ = f"came_from_{prev}"

    def __call__(self, event: EventData) -> bool:
        session = _session(event)
        return bool(session.history) and session.history[-1] == self.prev


def _record_answer(event: EventData) -> None:
    session = _session(event)
    question = event.transition.source if event.transition else session.state
    session.answers[question] = event.kwargs["option"]
    session.history.append(question)


def _forget_last_step(event: EventData) -> None:
    session = _session(event)
    session.history.pop()
