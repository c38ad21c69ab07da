"""The screening definition (content/screening.yaml) as typed, validated data.

Pure: parses an already-loaded mapping; reading files is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OUTCOME_STATE = "outcome"
# Red flags, most urgent first: the order they are shown in at the top of a result.
NOTICES = ("crisis", "mdr", "pwn")
NOT_SURE = "not_sure"  # the option key that means "I don't know"; never a reason
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
    """One test on the answers: an answer in a set, or a minimum of signs or "not sure"s."""

    question: str | None = None
    options: frozenset[str] = frozenset()
    signs_at_least: int | None = None
    not_sure_at_least: int | None = None


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
    context: bool = False  # says where the family is (age, plan); never a reason


@dataclass(frozen=True)
class Clause:
    """Every condition in `all`, and at least one in `any` when it has any."""

    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class OutcomeRule:
    id: str
    explainer: str
    first_step: str
    clauses: tuple[Clause, ...]  # any one of them; none means "always"

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(c for clause in self.clauses for c in (*clause.all, *clause.any))


@dataclass(frozen=True)
class ScreeningSpec:
    start: str
    questions: Mapping[str, Question]
    signs: tuple[Condition, ...]
    outcomes: tuple[OutcomeRule, ...]

    @property
    def outcome_ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.outcomes)

    def rule(self, outcome_id: str) -> OutcomeRule:
        return next(rule for rule in self.outcomes if rule.id == outcome_id)

    def may_be_reason(self, question_id: str, option: str) -> bool:
        """Whether this answer can be shown as "Because you said ...".

        Not where the family is (age, plan), not "not sure", and never a crisis disclosure.
        """
        question = self.questions[question_id]
        return (
            not question.context
            and option != NOT_SURE
            and question.option_notice.get(option) != "crisis"
        )

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

    def edges(self) -> list[Edge]:
        """Every way from a question to the next state, with the answers or rules that lead
        there: the running machine (flows/screening.py) and the diagram are built from this."""
        return [
            Edge(qid, dest, tuple(labels))
            for qid in self.questions
            for dest, labels in sorted(_edge_labels(self.questions[qid]).items())
        ]

    def successors(self, question_id: str) -> set[str]:
        """Every state that can follow `question_id`."""
        question = self.questions[question_id]
        return set(question.option_next.values()) | {route.goto for route in question.routes}


@dataclass(frozen=True)
class Edge:
    """One transition of the screening: answering `source` can lead to `dest`."""

    source: str
    dest: str
    labels: tuple[str, ...]  # the options ("yes") or rules ("if plan is iep") that lead there


def _edge_labels(question: Question) -> dict[str, list[str]]:
    """For each next state, the answers (or rules) that lead there."""
    labels: dict[str, list[str]] = {}
    for option, dest in question.option_next.items():
        labels.setdefault(dest, []).append(option)
    for route in question.routes:
        if route.when:
            rule = " and ".join(f"{q} is {'/'.join(sorted(v))}" for q, v in route.when.items())
            labels.setdefault(route.goto, []).append(f"if {rule}")
        elif not question.option_next or len(question.option_next) < len(question.options):
            labels.setdefault(route.goto, []).append(
                "otherwise" if len(question.routes) > 1 else "any answer"
            )
    return labels


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
    for counter in ("signs_at_least", "not_sure_at_least"):
        if counter in raw:
            count = raw[counter]
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise ContentError(source, key, f"{counter} must be a positive integer")
            if counter == "signs_at_least":
                return Condition(signs_at_least=count)
            return Condition(not_sure_at_least=count)
    if "question" not in raw or "in" not in raw:
        raise ContentError(source, key, "a condition needs `question` and `in`")
    return Condition(
        question=str(raw["question"]), options=_options_list(raw["in"], source, f"{key}.in")
    )


def _question(qid: str, raw: Any, source: str) -> Question:
    key = f"questions.{qid}"
    raw = _mapping(raw, source, key)
    options_raw = _mapping(raw.get("options"), source, f"{key}.options")
    if not 2 <= len(options_raw) <= 6:
        raise ContentError(source, f"{key}.options", "a question needs 2 to 6 options")
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
    unknown_keys = set(raw) - {"options", "next", "context"}
    if unknown_keys:
        raise ContentError(source, key, f"unknown keys {sorted(unknown_keys)}")
    context = raw.get("context", False)
    if not isinstance(context, bool):
        raise ContentError(source, f"{key}.context", "expected true or false")
    return Question(qid, tuple(options), option_next, option_notice, tuple(routes), context)


def _clause(raw: Any, source: str, key: str) -> Clause:
    raw = _mapping(raw, source, key)
    unknown = set(raw) - {"all", "any"}
    if unknown:
        raise ContentError(source, key, f"unknown keys {sorted(unknown)} (use all, any)")
    parts: dict[str, tuple[Condition, ...]] = {}
    for part in ("all", "any"):
        items = raw.get(part) or []
        if not isinstance(items, list):
            raise ContentError(source, f"{key}.{part}", "expected a list of conditions")
        parts[part] = tuple(
            _condition(c, source, f"{key}.{part}[{j}]") for j, c in enumerate(items)
        )
    if not parts["all"] and not parts["any"]:
        raise ContentError(source, key, "an empty condition block")
    return Clause(**parts)


def _clauses(raw: Any, source: str, key: str) -> tuple[Clause, ...]:
    """`when`: one block of conditions, or a list of blocks of which any one will do."""
    if raw is None:
        return ()
    if isinstance(raw, list):
        if not raw:
            raise ContentError(source, key, "an empty list of condition blocks")
        return tuple(_clause(block, source, f"{key}[{i}]") for i, block in enumerate(raw))
    return (_clause(raw, source, key),)


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
        unknown = set(rule_raw) - {"id", "explainer", "first_step", "when"}
        if unknown:
            raise ContentError(source, key, f"unknown keys {sorted(unknown)}")
        outcomes.append(
            OutcomeRule(
                id=_key(rule_raw.get("id", ""), source, f"{key}.id", _OUTCOME_ID),
                explainer=str(rule_raw.get("explainer", "")),
                first_step=_key(
                    rule_raw.get("first_step", ""), source, f"{key}.first_step", _OUTCOME_ID
                ),
                clauses=_clauses(rule_raw.get("when"), source, f"{key}.when"),
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
        for cond in rule.conditions:
            _check_condition(spec, cond, source, f"outcomes[{i}]")
        if not rule.clauses and i != len(spec.outcomes) - 1:
            raise ContentError(
                source, f"outcomes[{i}].when", "missing: only the last rule may match everything"
            )
    if spec.outcomes[-1].clauses:
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
