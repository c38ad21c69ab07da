"""Every way through a screening spec, walked without the machine (fast enough to check all).

The content check renders every distinct result this way, and the tests check the
advocate's invariants on every path; a test holds this walk equal to the machine's own.
"""

from __future__ import annotations

from collections.abc import Iterator

from flows.outcomes import Decision, decide
from flows.spec import OUTCOME_STATE, ScreeningSpec

Path = list[tuple[str, str]]


def spec_paths(spec: ScreeningSpec) -> Iterator[tuple[Path, Decision]]:
    """Yield (the (question, option) pairs answered, in order, and the decision) for every
    answer combination the branching allows."""

    def walk(state: str, answers: dict[str, str]) -> Iterator[tuple[Path, Decision]]:
        for option in spec.questions[state].options:
            now = {**answers, state: option}
            nxt = spec.next_question(state, now)
            if nxt == OUTCOME_STATE:
                yield list(now.items()), decide(spec, now)
            else:
                yield from walk(nxt, now)

    yield from walk(spec.start, {})


def distinct_decisions(spec: ScreeningSpec) -> frozenset[Decision]:
    """Every different result a parent can be shown (far fewer than the paths)."""
    # Keyed by the spec's text: a spec holds dicts, so it is not hashable itself, and the
    # content check loads a fresh, equal one each time it runs.
    key = repr(spec)
    if key not in _DISTINCT:
        if len(_DISTINCT) >= 4:
            _DISTINCT.pop(next(iter(_DISTINCT)))
        _DISTINCT[key] = frozenset(decision for _, decision in spec_paths(spec))
    return _DISTINCT[key]


_DISTINCT: dict[str, frozenset[Decision]] = {}
