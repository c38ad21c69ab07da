"""Load and validate content/: the shared screening definition and one text tree per language.

A language is a folder content/<code>/ with ui.yaml, screening.yaml, learn.yaml, crisis.yaml
(the typed words that bring up the crisis notice), tips.yaml for broadcasts, and any other
NAME.yaml of UI strings for a feature (read as "NAME.key").
Adding a language is adding a folder: nothing here names one, except that English is the
reference the others are compared with.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.html import html_problem, visible_text
from flows.crisis import CrisisMatcher, CrisisPatternError
from flows.spec import NOTICES, ContentError, ScreeningSpec, parse_spec

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
REFERENCE_LANGUAGE = "en"
EXPLAINER_PAGE_LIMIT = 450  # visible characters of one page: one phone screen with buttons
MESSAGE_LIMIT = 4096  # Telegram's hard limit for a text message
_LANG = re.compile(r"^[a-z]{2,3}$")
_CORE_FILES = {"ui", "screening", "learn", "tips", "crisis"}
SOURCES_FILE = "sources.yaml"
# Sources the bot writes itself: no start, `iep-bot chat`, anything not listed, and the name
# older versions gave a malformed link. A listed source may not take one of them.
RESERVED_SOURCES = ("direct", "terminal", "other", "unknown")
# Telegram's rule for a start parameter (1-64 of A-Za-z0-9_-), in lower case: a link's word
# is matched whatever its case, so two listed words may never differ by case alone.
_SOURCE = re.compile(r"^[a-z0-9_-]{1,64}$")


def _yaml12(base: Any) -> Any:
    """A loader class on `base` where only true/false are booleans: `yes`, `no`, `on` stay
    strings."""
    loader: Any = type(f"Yaml12{base.__name__}", (base,), {})
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
    )
    return loader


# PyYAML's own parser is pure Python; libyaml's (C) parses the content over ten times faster,
# about 20 ms instead of 0.3 s at every start (bench/startup_bench.py). Tags are resolved by
# the same Python rules either way, so both give the same values (tests/test_startup.py).
_Yaml12Loader = _yaml12(yaml.SafeLoader)
_FastYaml12Loader = _yaml12(yaml.CSafeLoader) if yaml.__with_libyaml__ else _Yaml12Loader


def load_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors become a ContentError naming the file."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_FastYaml12Loader)
    except FileNotFoundError:
        raise ContentError(str(path), "(file)", "missing") from None
    except yaml.YAMLError:
        return _load_with_pyyaml(path)


def _load_with_pyyaml(path: Path) -> Any:
    """Parse with PyYAML's own parser, for its words on a syntax error: they say what it
    found where ("expected ',' or ']', but got ':'"), libyaml's only what it expected."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_Yaml12Loader)
    except yaml.YAMLError as exc:
        raise ContentError(str(path), "(syntax)", str(exc).replace("\n", " ")) from None


@dataclass(frozen=True)
class Explainer:
    id: str
    button: str
    title: str
    pages: tuple[str, ...]  # `body` in the file: one text, or a list of pages
    sources: tuple[str, ...]
    reviewed: dt.date

    @property
    def body(self) -> str:
        """Every page, for checks that read the whole text."""
        return "\n\n".join(self.pages)


@dataclass(frozen=True)
class Tip:
    id: str
    text: str
    interests: tuple[str, ...]
    sources: tuple[str, ...]
    reviewed: dt.date


@dataclass(frozen=True)
class QuestionText:
    text: str
    why: str
    options: Mapping[str, str]
    said: Mapping[str, str]


@dataclass(frozen=True)
class OutcomeText:
    title: str
    lead: str  # one or two sentences, on the first result message
    steps: tuple[str, ...]  # the first on the first message, every one in the details


@dataclass(frozen=True)
class LanguagePack:
    """Every word the bot says in one language."""

    code: str
    ui: Mapping[str, Any]
    questions: Mapping[str, QuestionText]
    notices: Mapping[str, str]  # red flags in full: the result's details, the crisis pause
    flags: Mapping[str, str]  # red flags in one short line: the top of a result
    outcomes: Mapping[str, OutcomeText]
    explainers: Mapping[str, Explainer]
    tips: tuple[Tip, ...]
    crisis_words: tuple[str, ...]

    @property
    def name(self) -> str:
        return str(self.ui["language_name"])

    def t(self, key: str, **values: Any) -> str:
        """A UI string by dotted key, with its placeholders filled."""
        node: Any = self.ui
        for part in key.split("."):
            node = node[part]
        return str(node).strip().format(**values) if values else str(node).strip()


@dataclass(frozen=True)
class Content:
    spec: ScreeningSpec
    languages: Mapping[str, LanguagePack]
    root: Path
    # The deep-link sources the practice uses (content/sources.yaml), lower case.
    sources: tuple[str, ...] = ()

    @property
    def known_sources(self) -> tuple[str, ...]:
        """Every source the bot may store: the listed ones and its own."""
        return (*self.sources, *RESERVED_SOURCES)

    def source_of(self, payload: str | None) -> str:
        """A /start payload as the source to store: `direct` without one, a listed source
        (whatever its case), else `other`: never what a parent typed."""
        if not payload:
            return "direct"
        word = payload.lower()
        return word if word in self.sources else "other"

    def pack(self, code: str | None) -> LanguagePack:
        """The pack for a language code, falling back to the reference language."""
        return self.languages.get(code or "", self.languages[REFERENCE_LANGUAGE])

    def pick_language(self, telegram_code: str | None) -> str:
        """Map Telegram's language_code (es, es-MX, pt-BR...) to a language we have."""
        base = (telegram_code or "").split("-")[0].lower()
        return base if base in self.languages else REFERENCE_LANGUAGE


# --- the files -------------------------------------------------------------------------


def _require(node: Mapping[str, Any], key: str, source: str, where: str) -> Any:
    if not isinstance(node, Mapping) or key not in node or node[key] in (None, ""):
        raise ContentError(source, f"{where}.{key}".lstrip("."), "missing")
    return node[key]


def _text(node: Mapping[str, Any], key: str, source: str, where: str) -> str:
    value = _require(node, key, source, where)
    if not isinstance(value, str | int | float):
        raise ContentError(
            source, f"{where}.{key}".lstrip("."), "expected text (quote it if it has ': ')"
        )
    text = str(value).strip()
    problem = html_problem(text)
    if problem:
        raise ContentError(source, f"{where}.{key}".lstrip("."), str(problem))
    return text


def _date(node: Mapping[str, Any], key: str, source: str, where: str) -> dt.date:
    value = _require(node, key, source, where)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ContentError(source, f"{where}.{key}", "expected a date like 2026-11-28") from None


def _sources(node: Mapping[str, Any], source: str, where: str) -> tuple[str, ...]:
    value = _require(node, "sources", source, where)
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise ContentError(source, f"{where}.sources", "expected a list of citations")
    return tuple(value)


def _load_questions(
    raw: Mapping[str, Any], spec: ScreeningSpec, source: str
) -> dict[str, QuestionText]:
    questions = _require(raw, "questions", source, "")
    result: dict[str, QuestionText] = {}
    for qid, question in spec.questions.items():
        where = f"questions.{qid}"
        node = _require(questions, qid, source, "questions")
        options = _require(node, "options", source, where)
        said = _require(node, "said", source, where)
        for kind, mapping in (("options", options), ("said", said)):
            extra = set(map(str, mapping)) - set(question.options)
            if extra:
                raise ContentError(source, f"{where}.{kind}", f"unknown options {sorted(extra)}")
        result[qid] = QuestionText(
            text=_text(node, "text", source, where),
            why=_text(node, "why", source, where),
            options={o: _text(options, o, source, f"{where}.options") for o in question.options},
            said={o: _text(said, o, source, f"{where}.said") for o in question.options},
        )
    extra_q = set(questions) - set(spec.questions)
    if extra_q:
        raise ContentError(source, "questions", f"not in the screening: {sorted(extra_q)}")
    return result


def _load_outcomes(
    raw: Mapping[str, Any], spec: ScreeningSpec, source: str
) -> dict[str, OutcomeText]:
    outcomes = _require(raw, "outcomes", source, "")
    result: dict[str, OutcomeText] = {}
    for oid in spec.outcome_ids:
        node = _require(outcomes, oid, source, "outcomes")
        steps = _require(node, "steps", source, f"outcomes.{oid}")
        if not isinstance(steps, list) or not 1 <= len(steps) <= 4:
            raise ContentError(source, f"outcomes.{oid}.steps", "expected 1 to 4 steps")
        result[oid] = OutcomeText(
            title=_text(node, "title", source, f"outcomes.{oid}"),
            lead=_text(node, "lead", source, f"outcomes.{oid}"),
            steps=tuple(
                _text(dict(enumerate(steps)), i, source, f"outcomes.{oid}.steps")  # type: ignore[arg-type]
                for i in range(len(steps))
            ),
        )
    return result


def _load_explainers(raw: Mapping[str, Any], source: str) -> dict[str, Explainer]:
    explainers = _require(raw, "explainers", source, "")
    result: dict[str, Explainer] = {}
    for eid, node in explainers.items():
        where = f"explainers.{eid}"
        body = _require(node, "body", source, where)
        if isinstance(body, list):
            if not body:
                raise ContentError(source, f"{where}.body", "an empty list of pages")
            pages = tuple(
                _text(dict(enumerate(body)), i, source, f"{where}.body")  # type: ignore[arg-type]
                for i in range(len(body))
            )
        else:
            pages = (_text(node, "body", source, where),)
        explainer = Explainer(
            id=str(eid),
            button=_text(node, "button", source, where),
            title=_text(node, "title", source, where),
            pages=pages,
            sources=_sources(node, source, where),
            reviewed=_date(node, "reviewed", source, where),
        )
        for i, page in enumerate(pages):
            size = len(visible_text(page)) + (len(visible_text(explainer.title)) if i == 0 else 0)
            if size > EXPLAINER_PAGE_LIMIT:
                raise ContentError(
                    source,
                    f"{where}.body" + (f"[{i}]" if len(pages) > 1 else ""),
                    f"{size} characters on one page; keep a page to {EXPLAINER_PAGE_LIMIT}"
                    " (a list of pages is allowed)",
                )
        result[explainer.id] = explainer
    return result


def _load_tips(raw: Mapping[str, Any] | None, source: str) -> tuple[Tip, ...]:
    if raw is None:
        return ()
    tips = _require(raw, "tips", source, "")
    result: list[Tip] = []
    for i, node in enumerate(tips):
        where = f"tips[{i}]"
        result.append(
            Tip(
                id=str(_require(node, "id", source, where)),
                text=_text(node, "text", source, where),
                interests=tuple(node.get("interests") or ()),
                sources=_sources(node, source, where),
                reviewed=_date(node, "reviewed", source, where),
            )
        )
    return tuple(result)


def load_language(root: Path, code: str, spec: ScreeningSpec) -> LanguagePack:
    """Load one language folder and check it against the screening."""
    folder = root / code
    ui_src, scr_src, learn_src, crisis_src = (
        str(folder / f) for f in ("ui.yaml", "screening.yaml", "learn.yaml", "crisis.yaml")
    )
    ui = load_yaml(folder / "ui.yaml")
    if isinstance(ui, Mapping):
        # Features keep their strings in files of their own (subscribe.yaml -> "subscribe.*").
        ui = dict(ui)
        for extra in sorted(folder.glob("*.yaml")):
            if extra.stem not in _CORE_FILES:
                ui[extra.stem] = load_yaml(extra)
    screening = load_yaml(folder / "screening.yaml")
    learn = load_yaml(folder / "learn.yaml")
    crisis = load_yaml(folder / "crisis.yaml")
    tips_path = folder / "tips.yaml"
    tips = load_yaml(tips_path) if tips_path.exists() else None
    for src, node in ((ui_src, ui), (scr_src, screening), (learn_src, learn), (crisis_src, crisis)):
        if not isinstance(node, Mapping):
            raise ContentError(src, "(top level)", "expected a mapping")
    for key, value in flatten(ui):
        if isinstance(value, str):
            _text({"v": value}, "v", ui_src, key)
    notices_raw = _require(screening, "notices", scr_src, "")
    flags_raw = _require(screening, "flags", scr_src, "")
    crisis_words = _require(crisis, "words", crisis_src, "")
    if not isinstance(crisis_words, list) or not all(
        isinstance(w, str) and w.strip() for w in crisis_words
    ):
        raise ContentError(crisis_src, "words", "expected a list of words or phrases")
    try:
        CrisisMatcher(crisis_words)  # a pattern that cannot be read must stop the bot
    except CrisisPatternError as exc:
        raise ContentError(crisis_src, "words", str(exc)) from None
    pack = LanguagePack(
        code=code,
        ui=ui,
        questions=_load_questions(screening, spec, scr_src),
        notices={n: _text(notices_raw, n, scr_src, "notices") for n in NOTICES},
        flags={n: _text(flags_raw, n, scr_src, "flags") for n in NOTICES},
        outcomes=_load_outcomes(screening, spec, scr_src),
        explainers=_load_explainers(learn, learn_src),
        tips=_load_tips(tips, str(tips_path)),
        crisis_words=tuple(w.strip() for w in crisis_words),
    )
    for rule in spec.outcomes:
        if rule.explainer not in pack.explainers:
            raise ContentError(
                learn_src, f"explainers.{rule.explainer}", "missing (an outcome links to it)"
            )
    return pack


def read_sources(root: Path) -> tuple[tuple[str, ...], list[ContentError]]:
    """content/sources.yaml: the valid sources, and every problem found (file and key each).

    No file lists no source: every deep link then counts as `other`.
    """
    path = root / SOURCES_FILE
    if not path.exists():
        return (), []
    try:
        raw = load_yaml(path)
    except ContentError as exc:  # a syntax error
        return (), [exc]
    listed = raw.get("sources") if isinstance(raw, Mapping) else None
    if not isinstance(listed, list):
        return (), [ContentError(str(path), "sources", "expected a list of words")]
    found: list[str] = []
    problems: list[ContentError] = []
    for i, word in enumerate(listed):
        problem = _source_problem(word, found)
        if problem:
            problems.append(ContentError(str(path), f"sources[{i}]", problem))
        else:
            found.append(str(word))
    return tuple(found), problems


def _source_problem(word: object, earlier: list[str]) -> str | None:
    if not isinstance(word, str) or not _SOURCE.match(word):
        return (
            f"{word!r}: use 1 to 64 lower-case letters, digits, _ or - (what Telegram allows"
            " after ?start=)"
        )
    if word in RESERVED_SOURCES:
        return f"{word!r} is taken by the bot ({', '.join(RESERVED_SOURCES)}): pick another word"
    if word in earlier:
        return f"{word!r} is listed twice"
    return None


def load_content(root: Path = DEFAULT_CONTENT_DIR) -> Content:
    """Load and validate everything under content/; raise ContentError on the first problem."""
    spec = parse_spec(load_yaml(root / "screening.yaml"), str(root / "screening.yaml"))
    codes = sorted(p.name for p in root.iterdir() if p.is_dir() and _LANG.match(p.name))
    if REFERENCE_LANGUAGE not in codes:
        raise ContentError(str(root), REFERENCE_LANGUAGE, "the reference language is missing")
    languages = {code: load_language(root, code, spec) for code in codes}
    sources, problems = read_sources(root)
    if problems:
        raise problems[0]
    return Content(spec=spec, languages=languages, root=root, sources=sources)


# --- checks shared by the loader, `iep-bot content check` and the tests ------------------


def plain_text(node: Mapping[str, Any], key: str, source: str, where: str) -> str:
    """`node[key]` as stripped text, or a ContentError naming the file and the key: for the
    loaders of other content files (letters, timelines), whose words are not Telegram HTML."""
    value = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(value, str | int | float) or not str(value).strip():
        raise ContentError(source, f"{where}.{key}".lstrip("."), "missing or not text")
    return str(value).strip()


def mapping_at(value: Any, source: str, key: str, *, empty_ok: bool = True) -> Mapping[str, Any]:
    """`value` if it is a mapping (and not empty, unless `empty_ok`), else a ContentError."""
    if not isinstance(value, Mapping) or not (value or empty_ok):
        raise ContentError(source, key, "expected a mapping")
    return value


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def flatten(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from flatten(value, f"{prefix}[{i}]")
    else:
        yield prefix, node
