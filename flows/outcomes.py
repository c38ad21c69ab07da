"""Outcome rules: the answers of a finished screening -> one outcome, its reasons, red flags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flows.spec import NOT_SURE, NOTICES, Clause, Condition, OutcomeRule, ScreeningSpec

MAX_REASONS = 3  # a phone shows three reasons above the first step; the rest is one tap away
# First steps too general to be worth an "also" beside a more specific outcome.
_QUIET_FIRST_STEPS = frozenset({"keep_watching", "ask_about_504", "request_records"})


@dataclass(frozen=True)
class Decision:
    """What a finished screening suggests.

    `reasons`: the answers (question id, option) that led there, most telling first; never
    a crisis disclosure, a "not sure" or where the family is (age, plan).
    `flags`: the red flags raised on the path (crisis, mdr, pwn), most urgent first.
    `also`: another outcome the answers point to, with a different first step, or None.
    """

    outcome_id: str
    explainer: str
    first_step: str
    reasons: tuple[tuple[str, str], ...]
    flags: tuple[str, ...] = ()
    also: str | None = None


def matched_signs(spec: ScreeningSpec, answers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The answers that count as signs a child may need more than accommodations."""
    return [
        (sign.question, answers[sign.question])
        for sign in spec.signs
        if sign.question is not None and answers.get(sign.question) in sign.options
    ]


def not_sure_count(answers: Mapping[str, str]) -> int:
    return sum(1 for option in answers.values() if option == NOT_SURE)


def raised_flags(spec: ScreeningSpec, answers: Mapping[str, str]) -> tuple[str, ...]:
    """The red flags these answers raise, in NOTICES order (most urgent first)."""
    raised = {
        spec.questions[qid].option_notice.get(option)
        for qid, option in answers.items()
        if qid in spec.questions
    }
    return tuple(n for n in NOTICES if n in raised)


def _holds(cond: Condition, answers: Mapping[str, str], signs: Sequence[object]) -> bool:
    if cond.signs_at_least is not None:
        return len(signs) >= cond.signs_at_least
    if cond.not_sure_at_least is not None:
        return not_sure_count(answers) >= cond.not_sure_at_least
    return cond.question is not None and answers.get(cond.question) in cond.options


def _clause_holds(clause: Clause, answers: Mapping[str, str], signs: Sequence[object]) -> bool:
    if not all(_holds(c, answers, signs) for c in clause.all):
        return False
    return not clause.any or any(_holds(c, answers, signs) for c in clause.any)


def _matching_clause(
    rule: OutcomeRule, answers: Mapping[str, str], signs: Sequence[object]
) -> Clause | None:
    """The first clause of the rule that holds (an empty Clause for the catch-all)."""
    if not rule.clauses:
        return Clause()
    return next((c for c in rule.clauses if _clause_holds(c, answers, signs)), None)


def _reasons(
    spec: ScreeningSpec,
    clause: Clause,
    answers: Mapping[str, str],
    signs: list[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []

    def add(pair: tuple[str, str]) -> None:
        if pair not in found and spec.may_be_reason(*pair):
            found.append(pair)

    # The answers that decided it: an `any` is the specific trigger, so it leads.
    for cond in (*clause.any, *clause.all):
        if not _holds(cond, answers, signs):
            continue
        if cond.signs_at_least is not None:
            for pair in signs:
                add(pair)
        elif cond.question is not None:
            add((cond.question, answers[cond.question]))
    # An outcome about a specific answer is explained further by the signs beside it; one
    # that rests on no shown answer (safety, "not sure", age) lists none rather than
    # pretend that unrelated answers led there.
    if found:
        for pair in signs:
            add(pair)
    return tuple(found[:MAX_REASONS])


def _also(
    spec: ScreeningSpec,
    chosen: OutcomeRule,
    answers: Mapping[str, str],
    signs: Sequence[object],
) -> str | None:
    later = spec.outcomes[spec.outcomes.index(chosen) + 1 : -1]  # the catch-all says nothing
    for rule in later:
        if rule.first_step in _QUIET_FIRST_STEPS or rule.first_step == chosen.first_step:
            continue
        if _matching_clause(rule, answers, signs) is not None:
            return rule.id
    return None


def decide(spec: ScreeningSpec, answers: Mapping[str, str]) -> Decision:
    """Apply the outcome rules in order; the first that matches wins (the last always does)."""
    signs = matched_signs(spec, answers)
    for rule in spec.outcomes:
        clause = _matching_clause(rule, answers, signs)
        if clause is not None:
            return Decision(
                outcome_id=rule.id,
                explainer=rule.explainer,
                first_step=rule.first_step,
                reasons=_reasons(spec, clause, answers, signs),
                flags=raised_flags(spec, answers),
                also=_also(spec, rule, answers, signs),
            )
    raise AssertionError("the last outcome rule has no conditions")  # enforced by parse_spec
