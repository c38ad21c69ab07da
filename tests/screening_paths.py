"""Every way through the screening, found by pressing every option at every step."""

from __future__ import annotations

from collections.abc import Iterator

from flows.outcomes import Decision
from flows.screening import Screening, ScreeningSession


def all_paths(screening: Screening) -> Iterator[tuple[list[tuple[str, str]], Decision]]:
    """Yield (the (question, option) pairs answered, the decision) for every path."""

    def walk(session: ScreeningSession, taken: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
        question = screening.spec.questions[session.state]
        for option in question.options:
            branch = ScreeningSession(session.state, dict(session.answers), list(session.history))
            step = screening.answer(branch, option)
            now = [*taken, (question.id, option)]
            if step.decision is not None:
                yield now, step.decision
            else:
                yield from walk(branch, now)

    yield from walk(screening.new_session(), [])
