"""The evaluation clock's rules as content: content/timelines.yaml (each rule's count, unit
and citation; every state and the rule it uses) and content/<lang>/timelines.yaml (the words:
each rule, each state's name, "not sure", and the words a parent may type for a date),
loaded and checked into one `Timelines`.

The loader stops at the first problem with a ContentError naming the file and the key, like
bot/content.py: the bot must not start with a rule it cannot explain. It also refuses a rule
for a state that facts.md (17) does not give, or one that says other than facts.md does
(`VETTED_STATES`): a state rule is a legal claim, and never invented.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.content import REFERENCE_LANGUAGE, Content, load_yaml, mapping_at, plain_text
from bot.followup.typed_dates import N_SLOT, DateReader, DateWords, normalize
from flows.spec import ContentError

SHARED_FILE = "timelines.yaml"
WORDS_KEY = "timelines"  # content/<lang>/timelines.yaml, merged into the language's ui
FEDERAL = "federal"  # the rule of every state without its own, and of "not sure"
# The 50 states and DC, by USPS code: the states list must name each once.
# fmt: off
USPS_CODES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY",
})
# fmt: on
_RULE_ID = re.compile(r"^[a-z0-9_]{1,12}$")  # rule ids may travel in callback data


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    SCHOOL_DAYS = "school_days"  # estimated: weekends and federal holidays skipped
    # Calendar days without the school's breaks longer than 5 school days (California);
    # counted as calendar days, since the school's calendar is unknown: the earliest date.
    CALENDAR_DAYS_EXCLUDING_LONG_BREAKS = "calendar_days_excluding_long_breaks"


@dataclass(frozen=True)
class Vetted:
    """What facts.md says of a rule: its count, its unit, and the section its citation names."""

    count: int
    unit: Unit
    section: str


# facts.md 4 (federal) and 17 (the states). Add a state here only after facts.md gives its
# rule and citation; content/timelines.yaml may then use it.
VETTED_FEDERAL = Vetted(60, Unit.CALENDAR_DAYS, "34 CFR 300.301")
VETTED_STATES: Mapping[str, Vetted] = {
    "CA": Vetted(60, Unit.CALENDAR_DAYS_EXCLUDING_LONG_BREAKS, "56344"),
    "TX": Vetted(45, Unit.SCHOOL_DAYS, "29.004"),
    "NY": Vetted(60, Unit.CALENDAR_DAYS, "200.4"),
    "IL": Vetted(60, Unit.SCHOOL_DAYS, "226.110"),
}


@dataclass(frozen=True)
class TimelineRule:
    """How long the school has after it receives the signed consent."""

    id: str
    count: int
    unit: Unit
    citation: str
    estimate: bool  # the date shown is an estimate (the message says so and names the rule)


@dataclass(frozen=True)
class RuleWords:
    name: str  # "Texas rule"
    explain: str  # one line: the count, the unit, from when
    estimate: str | None  # why the date is an estimate; for estimate rules only


@dataclass(frozen=True)
class TimelineWords:
    """Every word of the clock in one language."""

    code: str
    rules: Mapping[str, RuleWords]
    states: Mapping[str, str]  # USPS code -> the state's name
    not_sure: str  # the "not sure" choice
    federal_unless: str  # after the federal rule: "unless your state sets its own timeline"
    dates: DateWords
    month_names: tuple[str, ...]  # 12, as written: the calendar's heading
    weekday_letters: tuple[str, ...]  # 7, Monday first: the calendar's column heads


@dataclass(frozen=True)
class Timelines:
    rules: Mapping[str, TimelineRule]
    states: Mapping[str, str]  # USPS code -> rule id, in the file's order
    languages: Mapping[str, TimelineWords]
    dates: DateReader

    def rule_for(self, state: str | None) -> TimelineRule:
        """The state's own rule, or the federal one (unknown state, "not sure": None)."""
        return self.rules[self.states.get(state or "", FEDERAL)]

    def has_own_rule(self, state: str | None) -> bool:
        """Whether the state's rule is recorded; if not, say "unless your state sets its own
        timeline" (facts.md 17)."""
        return self.rule_for(state).id != FEDERAL

    def words(self, lang: str | None) -> TimelineWords:
        return self.languages.get(lang or "", self.languages[REFERENCE_LANGUAGE])

    def state_choices(self, lang: str | None) -> list[tuple[str, str]]:
        """(code, name) for every state, alphabetical in that language."""
        names = self.words(lang).states
        return sorted(names.items(), key=lambda item: normalize(item[1]))


# --- the shared file ------------------------------------------------------------------------


def _mapping(value: Any, source: str, key: str) -> Mapping[str, Any]:
    return mapping_at(value, source, key, empty_ok=False)  # every part of the clock is needed


def _rule(rid: str, node: Any, source: str) -> TimelineRule:
    where = f"rules.{rid}"
    if not _RULE_ID.match(rid):
        raise ContentError(source, where, "use 1 to 12 of a-z, 0-9 and _")
    node = _mapping(node, source, where)
    count = node.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 365:
        raise ContentError(source, f"{where}.count", "expected a number of days, 1 to 365")
    try:
        unit = Unit(node.get("unit"))
    except ValueError:
        raise ContentError(
            source, f"{where}.unit", f"expected one of {', '.join(u.value for u in Unit)}"
        ) from None
    estimate = node.get("estimate")
    if not isinstance(estimate, bool):
        raise ContentError(source, f"{where}.estimate", "expected true or false")
    if unit is not Unit.CALENDAR_DAYS and not estimate:
        raise ContentError(
            source, f"{where}.estimate", f"must be true: {unit.value} depend on the school"
        )
    return TimelineRule(rid, count, unit, plain_text(node, "citation", source, where), estimate)


def _check_vetted(rule: TimelineRule, vetted: Vetted, source: str, where: str) -> None:
    said = (rule.count, rule.unit)
    if said != (vetted.count, vetted.unit):
        raise ContentError(
            source,
            where,
            f"{rule.count} {rule.unit.value}: facts.md says {vetted.count} {vetted.unit.value}",
        )
    if vetted.section not in rule.citation:
        raise ContentError(source, where, f"its citation must name {vetted.section} (facts.md)")


def _shared(raw: Any, source: str) -> tuple[dict[str, TimelineRule], dict[str, str]]:
    node = _mapping(raw, source, "(top level)")
    if node.get("version") != 1:
        raise ContentError(source, "version", "expected 1")
    rules = {
        str(rid): _rule(str(rid), rule, source)
        for rid, rule in _mapping(node.get("rules"), source, "rules").items()
    }
    if FEDERAL not in rules:
        raise ContentError(source, f"rules.{FEDERAL}", "missing")
    _check_vetted(rules[FEDERAL], VETTED_FEDERAL, source, f"rules.{FEDERAL}")
    states: dict[str, str] = {}
    for code, rid in _mapping(node.get("states"), source, "states").items():
        code, rid = str(code), str(rid)
        if code not in USPS_CODES:
            raise ContentError(source, f"states.{code}", "not a state's USPS code (or DC)")
        if rid not in rules:
            raise ContentError(source, f"states.{code}", f"no rule {rid!r} under rules")
        if rid != FEDERAL:
            vetted = VETTED_STATES.get(code)
            if vetted is None:
                raise ContentError(
                    source,
                    f"states.{code}",
                    "facts.md gives no rule for this state: use federal",
                )
            _check_vetted(rules[rid], vetted, source, f"rules.{rid}")
        states[code] = rid
    missing = sorted(USPS_CODES - set(states))
    if missing:
        raise ContentError(source, "states", f"missing {missing}")
    unused = sorted(set(rules) - set(states.values()) - {FEDERAL})
    if unused:
        raise ContentError(source, "rules", f"no state uses {unused}")
    return rules, states


# --- one language -----------------------------------------------------------------------------


def _split(text: str, source: str, key: str) -> tuple[str, ...]:
    """A comma-separated list of what a parent may type, normalized."""
    found = tuple(normalize(a) for a in text.split(","))
    if not all(found):
        raise ContentError(source, key, "an empty alternative (two commas?)")
    return found


def _alternatives(node: Mapping[str, Any], key: str, source: str, where: str) -> tuple[str, ...]:
    return _split(plain_text(node, key, source, where), source, f"{where}.{key}")


def _items(value: Any, size: int, source: str, key: str) -> list[str]:
    """A list of `size` texts."""
    if not isinstance(value, list) or len(value) != size:
        raise ContentError(source, key, f"expected a list of {size}")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise ContentError(source, key, "expected text in every item")
    return [str(v).strip() for v in value]


def _names(value: Any, size: int, source: str, key: str) -> tuple[tuple[str, ...], ...]:
    """Month or weekday names: each item its alternatives, no word in two items."""
    items = _items(value, size, source, key)
    names = tuple(_split(item, source, f"{key}[{i}]") for i, item in enumerate(items))
    seen: dict[str, int] = {}
    for i, alternatives in enumerate(names):
        for word in alternatives:
            if " " in word:
                raise ContentError(source, f"{key}[{i}]", f"{word!r}: one word each")
            if seen.setdefault(word, i) != i:
                raise ContentError(source, f"{key}[{i}]", f"{word!r} is listed twice")
    return names


def _date_words(code: str, raw: Any, source: str) -> DateWords:
    node = _mapping(raw, source, "dates")
    order = node.get("order")
    if order not in ("month_first", "day_first"):
        raise ContentError(source, "dates.order", "expected month_first or day_first")
    days_ago = _alternatives(node, "days_ago", source, "dates")
    if not all(p.split().count(N_SLOT) == 1 for p in days_ago):
        raise ContentError(source, "dates.days_ago", f"each must hold {N_SLOT} once, as a word")
    return DateWords(
        code=code,
        day_first=order == "day_first",
        months=_names(node.get("months"), 12, source, "dates.months"),
        weekdays=_names(node.get("weekdays"), 7, source, "dates.weekdays"),
        today=_alternatives(node, "today", source, "dates"),
        yesterday=_alternatives(node, "yesterday", source, "dates"),
        day_before_yesterday=_alternatives(node, "day_before_yesterday", source, "dates"),
        days_ago=days_ago,
        fillers=frozenset(_alternatives(node, "fillers", source, "dates")),
    )


def _calendar_words(raw: Any, source: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The months' first names as written, and the 7 column heads."""
    node = _mapping(raw, source, "dates")
    months = _items(node.get("months"), 12, source, "dates.months")
    names = tuple(month.split(",")[0].strip() for month in months)
    raw_letters = plain_text(node, "weekday_letters", source, "dates")
    letters = tuple(a.strip() for a in raw_letters.split(","))
    if len(letters) != 7 or not all(letters):
        raise ContentError(source, "dates.weekday_letters", "expected 7, Monday first")
    return names, letters


def _language(code: str, raw: Any, rules: Mapping[str, TimelineRule], source: str) -> TimelineWords:
    node = _mapping(raw, source, "(top level)")
    rules_raw = _mapping(node.get("rules"), source, "rules")
    words: dict[str, RuleWords] = {}
    for rid, rule in rules.items():
        where = f"rules.{rid}"
        entry = _mapping(rules_raw.get(rid), source, where)
        explain = plain_text(entry, "explain", source, where)
        if not re.search(rf"(?<!\d){rule.count}(?!\d)", explain):
            raise ContentError(source, f"{where}.explain", f"must say the count, {rule.count}")
        estimate = entry.get("estimate")
        if rule.estimate:
            estimate = plain_text(entry, "estimate", source, where)
        elif estimate is not None:
            raise ContentError(source, f"{where}.estimate", "this rule is exact: no estimate")
        words[rid] = RuleWords(plain_text(entry, "name", source, where), explain, estimate)
    extra = sorted(set(map(str, rules_raw)) - set(rules))
    if extra:
        raise ContentError(source, "rules", f"not in content/{SHARED_FILE}: {extra}")
    states_raw = _mapping(node.get("states"), source, "states")
    states = {code: plain_text(states_raw, code, source, "states") for code in sorted(USPS_CODES)}
    extra = sorted(set(map(str, states_raw)) - USPS_CODES)
    if extra:
        raise ContentError(source, "states", f"not a state's USPS code: {extra}")
    dates = _date_words(code, node.get("dates"), source)  # checks the months first
    month_names, weekday_letters = _calendar_words(node.get("dates"), source)
    return TimelineWords(
        code=code,
        rules=words,
        states=states,
        not_sure=plain_text(node, "not_sure", source, ""),
        federal_unless=plain_text(node, "federal_unless", source, ""),
        dates=dates,
        month_names=month_names,
        weekday_letters=weekday_letters,
    )


def load_timelines(content: Content) -> Timelines:
    """The clock's rules and words; ContentError (file and key) on the first problem."""
    root = Path(content.root)
    shared_source = str(root / SHARED_FILE)
    rules, states = _shared(load_yaml(root / SHARED_FILE), shared_source)
    languages = {}
    for code, pack in content.languages.items():
        source = str(root / code / f"{WORDS_KEY}.yaml")
        if WORDS_KEY not in pack.ui:
            raise ContentError(source, "(file)", "missing")
        languages[code] = _language(code, pack.ui[WORDS_KEY], rules, source)
    reader = DateReader({code: words.dates for code, words in languages.items()})
    return Timelines(rules=rules, states=states, languages=languages, dates=reader)


def timeline_problems(content: Content) -> list[str]:
    """The clock's part of `iep-bot content check`: the loader's first problem, if any."""
    try:
        load_timelines(content)
    except ContentError as exc:
        return [str(exc)]
    return []
