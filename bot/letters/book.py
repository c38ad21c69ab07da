"""The letters as content: content/letters.yaml (which result offers which letter, and each
letter's paragraphs in order, with their conditions) and content/<lang>/letters.yaml (the
words), loaded and checked into one `LetterBook`.

The loader stops at the first problem with a ContentError naming the file and the key, like
bot/content.py: the bot must not start with a letter it cannot fill in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content import REFERENCE_LANGUAGE, Content, load_yaml, mapping_at, placeholders, plain_text
from flows.spec import ContentError, ScreeningSpec

SHARED_FILE = "letters.yaml"
WORDS_KEY = "letters"  # content/<lang>/letters.yaml, merged into the language's ui by the loader
CONCERNS = "concerns"  # the paragraph written from the parent's answers
BOTH = "both"  # the letter in the school's language, with a translation beside it
# What a letter's own words may fill in; anything else is a typo that would print as "{...}".
DETAILS = ("parent_name", "child_name", "birth_date", "school", "grade")
PARAGRAPH_PLACEHOLDERS = frozenset({*DETAILS, "date"})
COMMON_PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "date": frozenset({"day", "month", "year"}),
    "to": frozenset({"school"}),
    "copy": frozenset(),
    "subject": frozenset({"subject"}),
    "student": frozenset({"child_name"}),
    "birth_date": frozenset({"birth_date"}),
    "school_grade": frozenset({"school", "grade"}),
    "greeting": frozenset(),
    "reply": frozenset(),
    "closing": frozenset(),
    "contact": frozenset(),
    "translation": frozenset(),
}
_ID = re.compile(r"^[a-z0-9_]{1,12}$")  # letter and detail ids travel in callback data
_PARAGRAPH_ID = re.compile(r"^[a-z0-9_]{1,40}$")
_FILE_STEM = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # plain ASCII: every phone saves it


@dataclass(frozen=True)
class Part:
    """One paragraph choice: the paragraph id (None: nothing) and the answers it needs."""

    paragraph: str | None
    when: Mapping[str, frozenset[str]]

    def holds(self, answers: Mapping[str, str]) -> bool:
        return all(answers.get(q) in options for q, options in self.when.items())


@dataclass(frozen=True)
class LetterPlan:
    """How one letter is put together, in every language."""

    id: str
    concerns: tuple[str, ...]  # the questions whose answers the concerns paragraph tells
    body: tuple[tuple[Part, ...], ...]  # each item: the first part that holds is used
    sample: Mapping[str, str]  # answers for `iep-bot letter preview`

    def paragraphs(self, answers: Mapping[str, str]) -> list[str]:
        """The paragraph ids these answers call for, in order."""
        found = []
        for choices in self.body:
            part = next((p for p in choices if p.holds(answers)), None)
            if part is not None and part.paragraph is not None:
                found.append(part.paragraph)
        return found

    def every_paragraph(self) -> set[str]:
        return {p.paragraph for choices in self.body for p in choices if p.paragraph}


@dataclass(frozen=True)
class LetterWords:
    """One letter in one language."""

    button: str  # its name in the chat
    file: str  # the file names' stem: evaluation-request -> evaluation-request-2026-12-02.pdf
    subject: str
    paragraphs: Mapping[str, str]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class LetterLanguage:
    """Every word the letters use in one language (the chat's words stay in the ui)."""

    code: str
    months: tuple[str, ...]
    common: Mapping[str, str]  # the parts every letter shares (COMMON_PLACEHOLDERS' keys)
    concerns_intro: str
    concerns_none: str
    concern_sentences: Mapping[str, Mapping[str, str]]  # question -> option -> sentence
    letters: Mapping[str, LetterWords]


@dataclass(frozen=True)
class LetterBook:
    fields: tuple[str, ...]
    first_steps: Mapping[str, str]  # an outcome rule's first step -> the letter it asks for
    offers: Mapping[str, tuple[str, ...]]  # outcome id -> its letters, the first step's first
    plans: Mapping[str, LetterPlan]
    languages: Mapping[str, LetterLanguage]
    sample_details: Mapping[str, str]

    def offered(self, outcome_id: str | None) -> tuple[str, ...]:
        return self.offers.get(outcome_id or "", ())

    def language(self, code: str) -> LetterLanguage:
        return self.languages.get(code, self.languages[REFERENCE_LANGUAGE])


# --- the shared file --------------------------------------------------------------------------


def _list(value: Any, source: str, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise ContentError(source, key, "expected a list")
    return value


def _id(value: Any, source: str, key: str, pattern: re.Pattern[str] = _ID) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        longest = 12 if pattern is _ID else 40
        raise ContentError(source, key, f"{value!r}: use 1 to {longest} of a-z, 0-9 and _")
    return value


def _when(raw: Any, spec: ScreeningSpec, source: str, key: str) -> dict[str, frozenset[str]]:
    when: dict[str, frozenset[str]] = {}
    for qid, options in mapping_at(raw, source, key).items():
        question = spec.questions.get(str(qid))
        if question is None:
            raise ContentError(source, f"{key}.{qid}", "not a question of the screening")
        listed = [str(o) for o in _list(options, source, f"{key}.{qid}")]
        unknown = sorted(set(listed) - set(question.options))
        if unknown or not listed:
            raise ContentError(source, f"{key}.{qid}", f"unknown or no options {unknown}")
        when[str(qid)] = frozenset(listed)
    return when


def _part(raw: Any, spec: ScreeningSpec, source: str, key: str, *, in_first: bool) -> Part:
    if isinstance(raw, str):
        return Part(_id(raw, source, key, _PARAGRAPH_ID), {})
    node = mapping_at(raw, source, key)
    extra = sorted(set(node) - {"paragraph", "when"})
    if extra:
        raise ContentError(source, key, f"unknown keys {extra} (paragraph, when)")
    paragraph = node.get("paragraph")
    if paragraph is None and not in_first:
        raise ContentError(source, f"{key}.paragraph", "missing")
    when = _when(node["when"], spec, source, f"{key}.when") if "when" in node else {}
    return Part(
        None if paragraph is None else _id(paragraph, source, f"{key}.paragraph", _PARAGRAPH_ID),
        when,
    )


def _body_item(raw: Any, spec: ScreeningSpec, source: str, key: str) -> tuple[Part, ...]:
    if isinstance(raw, Mapping) and "first" in raw:
        if len(raw) != 1:
            raise ContentError(source, key, "`first` stands alone in its item")
        items = _list(raw["first"], source, f"{key}.first")
        parts = tuple(
            _part(item, spec, source, f"{key}.first[{i}]", in_first=True)
            for i, item in enumerate(items)
        )
        if len(parts) < 2 or parts[-1].when or any(not p.when for p in parts[:-1]):
            raise ContentError(
                source, f"{key}.first", "give two or more items, each with `when` but the last"
            )
        return parts
    return (_part(raw, spec, source, key, in_first=False),)


def _plan(letter_id: str, raw: Any, spec: ScreeningSpec, source: str, key: str) -> LetterPlan:
    node = mapping_at(raw, source, key)
    concerns = tuple(_list(node.get("concerns", []), source, f"{key}.concerns"))
    for i, qid in enumerate(concerns):
        if qid not in spec.questions:
            raise ContentError(source, f"{key}.concerns[{i}]", f"{qid!r} is not a question")
    body = tuple(
        _body_item(item, spec, source, f"{key}.body[{i}]")
        for i, item in enumerate(_list(node.get("body"), source, f"{key}.body"))
    )
    plan = LetterPlan(letter_id, concerns, body, {})
    if (CONCERNS in plan.every_paragraph()) != bool(concerns):
        raise ContentError(
            source, f"{key}.concerns", "a letter lists concerns if and only if its body has them"
        )
    sample = {str(q): str(o) for q, o in mapping_at(node.get("sample", {}), source, key).items()}
    _when({q: [o] for q, o in sample.items()}, spec, source, f"{key}.sample")
    return LetterPlan(letter_id, concerns, body, sample)


def _shared(
    raw: Any, spec: ScreeningSpec, source: str
) -> tuple[
    tuple[str, ...],
    dict[str, str],
    dict[str, tuple[str, ...]],
    dict[str, LetterPlan],
    dict[str, str],
]:
    node = mapping_at(raw, source, "(top level)")
    if node.get("version") != 1:
        raise ContentError(source, "version", "expected 1")
    fields = tuple(_id(f, source, "fields") for f in _list(node.get("fields"), source, "fields"))
    if sorted(fields) != sorted(DETAILS):
        raise ContentError(source, "fields", f"expected each of {list(DETAILS)} once")
    plans = {
        _id(lid, source, "letters"): _plan(str(lid), plan, spec, source, f"letters.{lid}")
        for lid, plan in mapping_at(node.get("letters"), source, "letters").items()
    }
    steps = {rule.first_step for rule in spec.outcomes}
    first_steps: dict[str, str] = {}
    for step, lid in mapping_at(node.get("first_steps"), source, "first_steps").items():
        if step not in steps:
            raise ContentError(source, f"first_steps.{step}", "no outcome has this first step")
        if lid not in plans:
            raise ContentError(source, f"first_steps.{step}", f"no letter {lid!r}")
        first_steps[str(step)] = str(lid)
    offers: dict[str, tuple[str, ...]] = {}
    for oid, listed in mapping_at(node.get("offers"), source, "offers").items():
        if oid not in spec.outcome_ids:
            raise ContentError(source, f"offers.{oid}", "not an outcome of the screening")
        letters = tuple(str(lid) for lid in _list(listed, source, f"offers.{oid}"))
        unknown = [lid for lid in letters if lid not in plans]
        if not letters or unknown or len(set(letters)) != len(letters):
            raise ContentError(
                source, f"offers.{oid}", f"unknown, repeated or no letters {unknown}"
            )
        wanted = first_steps.get(spec.rule(str(oid)).first_step)
        if wanted is not None and letters[0] != wanted:
            raise ContentError(
                source, f"offers.{oid}", f"its first step asks for {wanted!r}: list it first"
            )
        offers[str(oid)] = letters
    for rule in spec.outcomes:
        if rule.first_step in first_steps and rule.id not in offers:
            raise ContentError(
                source, f"offers.{rule.id}", "missing: its first step asks for a letter"
            )
    details = {
        str(k): str(v)
        for k, v in mapping_at(node.get("sample_details"), source, "sample_details").items()
    }
    if sorted(details) != sorted(fields):
        raise ContentError(source, "sample_details", f"expected exactly {list(fields)}")
    return fields, first_steps, offers, plans, details


# --- one language -----------------------------------------------------------------------------


def _allowed(text: str, allowed: frozenset[str], source: str, key: str) -> str:
    unknown = sorted(placeholders(text) - allowed)
    if unknown:
        raise ContentError(
            source, key, f"unknown placeholders {unknown}; allowed: {sorted(allowed) or 'none'}"
        )
    return text


def _language(
    code: str,
    raw: Any,
    plans: Mapping[str, LetterPlan],
    fields: tuple[str, ...],
    spec: ScreeningSpec,
    source: str,
) -> LetterLanguage:
    node = mapping_at(raw, source, "(top level)")
    # The chat's words are read with LanguagePack.t; here only what each letter needs.
    flow = mapping_at(node.get("flow"), source, "flow")
    field_words = mapping_at(flow.get("fields"), source, "flow.fields")
    for field in fields:
        plain_text(field_words, field, source, "flow.fields")
    for lid in plans:
        plain_text(mapping_at(flow.get("next"), source, "flow.next"), lid, source, "flow.next")
    letter = mapping_at(node.get("letter"), source, "letter")
    months = tuple(str(m) for m in _list(letter.get("months"), source, "letter.months"))
    if len(months) != 12 or not all(m.strip() for m in months):
        raise ContentError(source, "letter.months", "expected the 12 month names")
    common = {
        key: _allowed(plain_text(letter, key, source, "letter"), allowed, source, f"letter.{key}")
        for key, allowed in COMMON_PLACEHOLDERS.items()
    }
    concerns = mapping_at(node.get("concerns"), source, "concerns")
    sentences: dict[str, dict[str, str]] = {}
    for qid, options in mapping_at(concerns.get("questions"), source, "concerns.questions").items():
        question = spec.questions.get(str(qid))
        if question is None:
            raise ContentError(source, f"concerns.questions.{qid}", "not a question")
        sentences[str(qid)] = {}
        for option in mapping_at(options, source, f"concerns.questions.{qid}"):
            where = f"concerns.questions.{qid}.{option}"
            if option not in question.options:
                raise ContentError(source, where, "not an option of this question")
            if not spec.may_be_reason(str(qid), str(option)):
                # A crisis disclosure, a "not sure", or where the family is: never a concern.
                raise ContentError(source, where, "this answer is never told in a letter")
            text = plain_text(options, option, source, f"concerns.questions.{qid}")
            sentences[str(qid)][str(option)] = _allowed(text, frozenset(), source, where)
    words: dict[str, LetterWords] = {}
    letters = mapping_at(node.get("letters"), source, "letters")
    for lid, plan in plans.items():
        where = f"letters.{lid}"
        entry = mapping_at(letters.get(lid), source, where)
        file_stem = plain_text(entry, "file", source, where)
        if not _FILE_STEM.match(file_stem):
            raise ContentError(source, f"{where}.file", "use a-z, 0-9 and single hyphens")
        paragraphs_raw = mapping_at(entry.get("paragraphs"), source, f"{where}.paragraphs")
        needed = plan.every_paragraph() - {CONCERNS}
        missing, extra = sorted(needed - set(paragraphs_raw)), sorted(set(paragraphs_raw) - needed)
        if missing or extra:
            raise ContentError(
                source, f"{where}.paragraphs", f"missing {missing}, not used {extra}"
            )
        paragraphs = {
            str(pid): _allowed(
                plain_text(paragraphs_raw, pid, source, f"{where}.paragraphs"),
                PARAGRAPH_PLACEHOLDERS,
                source,
                f"{where}.paragraphs.{pid}",
            )
            for pid in paragraphs_raw
        }
        sources = _list(entry.get("sources"), source, f"{where}.sources")
        if not sources or not all(isinstance(s, str) and s.strip() for s in sources):
            raise ContentError(source, f"{where}.sources", "expected a list of citations")
        words[lid] = LetterWords(
            button=plain_text(entry, "button", source, where),
            file=file_stem,
            subject=_allowed(
                plain_text(entry, "subject", source, where), frozenset(), source, f"{where}.subject"
            ),
            paragraphs=paragraphs,
            sources=tuple(str(s) for s in sources),
        )
    extra_letters = sorted(set(map(str, letters)) - set(plans))
    if extra_letters:
        raise ContentError(source, "letters", f"not in content/{SHARED_FILE}: {extra_letters}")
    return LetterLanguage(
        code=code,
        months=months,
        common=common,
        concerns_intro=plain_text(concerns, "intro", source, "concerns"),
        concerns_none=plain_text(concerns, "none", source, "concerns"),
        concern_sentences=sentences,
        letters=words,
    )


def load_letters(content: Content) -> LetterBook:
    """The letters of this content tree; ContentError (file and key) on the first problem."""
    shared_source = str(Path(content.root) / SHARED_FILE)
    raw = load_yaml(Path(content.root) / SHARED_FILE)
    fields, first_steps, offers, plans, details = _shared(raw, content.spec, shared_source)
    languages = {}
    for code, pack in content.languages.items():
        source = str(Path(content.root) / code / f"{WORDS_KEY}.yaml")
        if WORDS_KEY not in pack.ui:
            raise ContentError(source, "(file)", "missing")
        languages[code] = _language(code, pack.ui[WORDS_KEY], plans, fields, content.spec, source)
    return LetterBook(
        fields=fields,
        first_steps=first_steps,
        offers=offers,
        plans=plans,
        languages=languages,
        sample_details=details,
    )
