"""The screening definition (content/screening.yaml) as typed, validated data.

Pure: parses an already-loaded mapping; reading files is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OUTCOME_STATE = "outcome"
NOTICES = ("crisis", "mdr", "pwn")
_KEY = re.compile(r"^[a-z0-9_]{1,16}$")  # question and option keys travel in callback data
_OUTCOME_ID = re.compile(r"^[a-z0-9_]{1,40}$")  # outcome ids appear in logs and UTM tags


class ContentError(ValueError):
    """Content that cannot be used; the message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Condition:
    """One test on the answers: an answer in a set, or a minimum number of signs."""

    question: str | None = None
    options: frozenset[str] = frozenset()
    signs_at_least: int | None = None


@dataclass(frozen=True)
class Route:
    """A branching rule: go to `goto` when every listed answer is in its set."""

    goto: str
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    id: str
    options: tuple[str, ...]
    option_next: Mapping[str, str]
    option_notice: Mapping[str, str]
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class OutcomeRule:
    id: str
    explainer: str
    all: tuple[Condition, ...]
    any: tuple[Condition, ...]


@dataclass(frozen=True)
class ScreeningSpec:
    start: str
    questions: Mapping[str, Question]
    signs: tuple[Condition, ...]
    outcomes: tuple[OutcomeRule, ...]

    @property
    def outcome_ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.outcomes)

    def next_question(self, question_id: str, answers: Mapping[str, str]) -> str:
        """Where to go after `question_id`, given the answers so far (including it)."""
        question = self.questions[question_id]
        chosen = answers.get(question_id)
        if chosen is not None and chosen in question.option_next:
            return question.option_next[chosen]
        for route in question.routes:
            if all(answers.get(q) in opts for q, opts in route.when.items()):
                return route.goto
        raise AssertionError(f"{question_id}: no route matched")  # validated away at parse

    def successors(self, question_id: str) -> set[str]:
        """Every state that can follow `question_id`."""
        question = self.questions[question_id]
        return set(question.option_next.values()) | {route.goto for route in question.routes}


def _mapping(value: Any, source: str, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ContentError(source, key, "expected a mapping")
    return value


def _key(value: Any, source: str, key: str, pattern: re.Pattern[str] = _KEY) -> str:
    text = str(value)
    if not pattern.match(text):
        size = "1-16" if pattern is _KEY else "1-40"
        raise ContentError(source, key, f"{text!r} must be {size} of a-z, 0-9, _")
    return text


def _options_list(value: Any, source: str, key: str) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        raise ContentError(source, key, "expected a non-empty list of options")
    return frozenset(str(v) for v in value)


def _condition(raw: Any, source: str, key: str) -> Condition:
    raw = _mapping(raw, source, key)
    if "signs_at_least" in raw:
        count = raw["signs_at_least"]
        if not isinstance(count, int) or count < 1:
            raise ContentError(source, key, "signs_at_least must be a positive integer")
        return Condition(signs_at_least=count)
    if "question" not in raw or "in" not in raw:
        raise ContentError(source, key, "a condition needs `question` and `in`")
    return Condition(
        question=str(raw["question"]), options=_options_list(raw["in"], source, f"{key}.in")
    )


def _question(qid: str, raw: Any, source: str) -> Question:
    key = f"questions.{qid}"
    raw = _mapping(raw, source, key)
    options_raw = _mapping(raw.get("options"), source, f"{key}.options")
    if not 2 <= len(options_raw) <= 5:
        raise ContentError(source, f"{key}.options", "a question needs 2 to 5 options")
    options: list[str] = []
    option_next: dict[str, str] = {}
    option_notice: dict[str, str] = {}
    for opt_raw, extra in options_raw.items():
        opt = _key(opt_raw, source, f"{key}.options")
        options.append(opt)
        extra = _mapping(extra or {}, source, f"{key}.options.{opt}")
        unknown = set(extra) - {"next", "notice"}
        if unknown:
            raise ContentError(source, f"{key}.options.{opt}", f"unknown keys {sorted(unknown)}")
        if "next" in extra:
            option_next[opt] = str(extra["next"])
        if "notice" in extra:
            if extra["notice"] not in NOTICES:
                raise ContentError(
                    source, f"{key}.options.{opt}.notice", f"must be one of {', '.join(NOTICES)}"
                )
            option_notice[opt] = str(extra["notice"])
    routes: list[Route] = []
    nxt = raw.get("next")
    if isinstance(nxt, str):
        routes.append(Route(goto=nxt))
    elif isinstance(nxt, list):
        for i, rule in enumerate(nxt):
            rule = _mapping(rule, source, f"{key}.next[{i}]")
            if "goto" not in rule:
                raise ContentError(source, f"{key}.next[{i}]", "a rule needs `goto`")
            when = _mapping(rule.get("if", {}), source, f"{key}.next[{i}].if")
            routes.append(
                Route(
                    goto=str(rule["goto"]),
                    when={
                        str(q): _options_list(v, source, f"{key}.next[{i}].if.{q}")
                        for q, v in when.items()
                    },
                )
            )
        if routes and routes[-1].when:
            raise ContentError(source, f"{key}.next", "the last rule must have no `if`")
    elif nxt is not None:
        raise ContentError(source, f"{key}.next", "expected a question id or a list of rules")
    if not routes and set(option_next) != set(options):
        raise ContentError(source, f"{key}.next", "missing: not every option says where to go")
    return Question(qid, tuple(options), option_next, option_notice, tuple(routes))


def parse_spec(raw: Any, source: str = "content/screening.yaml") -> ScreeningSpec:
    """Validate the screening definition and return it typed; raise ContentError if wrong."""
    raw = _mapping(raw, source, "(top level)")
    questions_raw = _mapping(raw.get("questions"), source, "questions")
    questions = {
        _key(qid, source, "questions"): _question(str(qid), q, source)
        for qid, q in questions_raw.items()
    }
    start = str(raw.get("start", ""))
    if start not in questions:
        raise ContentError(source, "start", f"{start!r} is not a question")
    signs = tuple(
        _condition(c, source, f"signs[{i}]") for i, c in enumerate(raw.get("signs") or [])
    )
    outcomes: list[OutcomeRule] = []
    for i, rule_raw in enumerate(raw.get("outcomes") or []):
        key = f"outcomes[{i}]"
        rule_raw = _mapping(rule_raw, source, key)
        when = _mapping(rule_raw.get("when") or {}, source, f"{key}.when")
        outcomes.append(
            OutcomeRule(
                id=_key(rule_raw.get("id", ""), source, f"{key}.id", _OUTCOME_ID),
                explainer=str(rule_raw.get("explainer", "")),
                all=tuple(
                    _condition(c, source, f"{key}.when.all[{j}]")
                    for j, c in enumerate(when.get("all") or [])
                ),
                any=tuple(
                    _condition(c, source, f"{key}.when.any[{j}]")
                    for j, c in enumerate(when.get("any") or [])
                ),
            )
        )
    spec = ScreeningSpec(start, questions, signs, tuple(outcomes))
    _check_references(spec, source)
    return spec


def _check_references(spec: ScreeningSpec, source: str) -> None:
    """Every id points somewhere real, and the last outcome rule catches everything."""
    targets = set(spec.questions) | {OUTCOME_STATE}
    for q in spec.questions.values():
        for nxt in spec.successors(q.id):
            if nxt not in targets:
                raise ContentError(source, f"questions.{q.id}.next", f"unknown target {nxt!r}")
        for route in q.routes:
            for ref, opts in route.when.items():
                _check_condition(spec, Condition(ref, opts), source, f"questions.{q.id}.next")
    for i, sign in enumerate(spec.signs):
        _check_condition(spec, sign, source, f"signs[{i}]")
    if not spec.outcomes:
        raise ContentError(source, "outcomes", "at least one outcome rule is needed")
    seen: set[str] = set()
    for i, rule in enumerate(spec.outcomes):
        if rule.id in seen:
            raise ContentError(source, f"outcomes[{i}].id", f"{rule.id!r} is used twice")
        seen.add(rule.id)
        if not rule.explainer:
            raise ContentError(source, f"outcomes[{i}].explainer", "missing")
        for cond in (*rule.all, *rule.any):
            _check_condition(spec, cond, source, f"outcomes[{i}]")
    if spec.outcomes[-1].all or spec.outcomes[-1].any:
        raise ContentError(
            source, f"outcomes[{len(spec.outcomes) - 1}]", "the last rule must have no `when`"
        )


def _check_condition(spec: ScreeningSpec, cond: Condition, source: str, key: str) -> None:
    if cond.question is None:
        return
    question = spec.questions.get(cond.question)
    if question is None:
        raise ContentError(source, key, f"unknown question {cond.question!r}")
    unknown = cond.options - set(question.options)
    if unknown:
        raise ContentError(source, key, f"{cond.question} has no option {sorted(unknown)}")
