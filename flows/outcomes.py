"""Outcome rules: the answers of a finished screening -> one outcome id and its reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flows.spec import Condition, OutcomeRule, ScreeningSpec

MIN_REASONS = 2
MAX_REASONS = 4


@dataclass(frozen=True)
class Decision:
    """The outcome and the answers (question id, option) that led there, most telling first."""

    outcome_id: str
    explainer: str
    reasons: tuple[tuple[str, str], ...]


def matched_signs(spec: ScreeningSpec, answers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The answers that count as signs a 504 plan may not be enough."""
    return [
        (sign.question, answers[sign.question])
        for sign in spec.signs
        if sign.question is not None and answers.get(sign.question) in sign.options
    ]


def _holds(cond: Condition, answers: Mapping[str, str], signs: list[tuple[str, str]]) -> bool:
    if cond.signs_at_least is not None:
        return len(signs) >= cond.signs_at_least
    return cond.question is not None and answers.get(cond.question) in cond.options


def _rule_matches(
    rule: OutcomeRule, answers: Mapping[str, str], signs: list[tuple[str, str]]
) -> bool:
    if not all(_holds(c, answers, signs) for c in rule.all):
        return False
    return not rule.any or any(_holds(c, answers, signs) for c in rule.any)


def _reasons(
    rule: OutcomeRule,
    answers: Mapping[str, str],
    signs: list[tuple[str, str]],
    path: list[str],
) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []

    def add(pair: tuple[str, str]) -> None:
        if pair not in found:
            found.append(pair)

    # The answers that made this rule fire come first; the opening "which plan" answer
    # is context rather than a reason, so it goes last.
    start = path[0] if path else None
    conditions = sorted((*rule.any, *rule.all), key=lambda c: c.question == start)
    for cond in conditions:
        if cond.signs_at_least is not None and _holds(cond, answers, signs):
            for pair in signs:
                add(pair)
        elif cond.question is not None and _holds(cond, answers, signs):
            add((cond.question, answers[cond.question]))
    # A rule with few conditions (or none) still explains itself with the parent's answers.
    for pair in signs:
        if len(found) >= MIN_REASONS:
            break
        add(pair)
    for question in path:
        if len(found) >= MIN_REASONS:
            break
        add((question, answers[question]))
    return tuple(found[:MAX_REASONS])


def decide(spec: ScreeningSpec, answers: Mapping[str, str], path: list[str]) -> Decision:
    """Apply the outcome rules in order; the first that matches wins (the last always does)."""
    signs = matched_signs(spec, answers)
    for rule in spec.outcomes:
        if _rule_matches(rule, answers, signs):
            return Decision(rule.id, rule.explainer, _reasons(rule, answers, signs, path))
    raise AssertionError("the last outcome rule has no conditions")  # enforced by parse_spec
