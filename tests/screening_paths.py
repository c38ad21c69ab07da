"""Every way through the screening: the machine's own walk, and a fast one over the spec."""

from __future__ import annotations

from collections.abc import Iterator

from flows.outcomes import Decision
from flows.paths import Path, spec_paths
from flows.screening import Screening, ScreeningSession

__all__ = ["Path", "all_paths", "paths_from", "spec_paths"]


def all_paths(screening: Screening) -> Iterator[tuple[Path, Decision]]:
    """Yield (the (question, option) pairs answered, the decision), pressing every option
    at every step through the transitions machine itself."""
    yield from paths_from(screening, screening.new_session())


def paths_from(screening: Screening, session: ScreeningSession) -> Iterator[tuple[Path, Decision]]:
    """Every way on from `session` (left untouched), through the machine."""
    question = screening.spec.questions[session.state]
    for option in question.options:
        branch = ScreeningSession(session.state, dict(session.answers), list(session.history))
        step = screening.answer(branch, option)
        if step.decision is not None:
            yield [(question.id, option)], step.decision
        else:
            for taken, decision in paths_from(screening, branch):
                yield [(question.id, option), *taken], decision
