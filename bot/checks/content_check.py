"""Everything `iep-bot content check` reports: schema errors, parity between languages, limits.

The loader stops at the first schema error (the bot must not start on broken content);
this check goes on and lists every problem it can find, each naming the file and key.
"""

from __future__ import annotations

from pathlib import Path

from bot.callbacks import Action, CallbackCodec
from bot.checks import forbidden, readability
from bot.checks.letters_check import check_letters
from bot.checks.screens import check_screens
from bot.content import (
    REFERENCE_LANGUAGE,
    SOURCES_FILE,
    Content,
    LanguagePack,
    flatten,
    load_content,
    load_yaml,
    placeholders,
    read_sources,
)
from bot.html import visible_text
from flows.spec import ContentError

WHY_LIMIT = 200  # answerCallbackQuery shows at most 200 characters
# Strings that may legitimately be the same in every language.
_SAME_OK = {"IEP", "504", "IEE", "OT", "RTI", "MTSS"}
_SAME_MIN_LENGTH = 12


def check_content(root: Path) -> list[str]:
    """Every problem found under `root`, as readable lines; empty when all is well."""
    try:
        content = load_content(root)
    except ContentError as exc:
        if exc.source == str(root / SOURCES_FILE):  # the loader stops at the first of them
            return [str(problem) for problem in read_sources(root)[1]]
        return [str(exc)]
    problems: list[str] = []
    reference = content.languages[REFERENCE_LANGUAGE]
    for code, pack in content.languages.items():
        problems += _limits(content, pack)
        if code != REFERENCE_LANGUAGE:
            problems += _parity(root, reference, pack)
    problems += _callback_sizes(content)
    problems += check_screens(content)
    problems += readability.reading_level_problems(content)
    problems += forbidden.check(readability.parent_strings(content))
    problems += check_letters(content)
    return problems


def _limits(content: Content, pack: LanguagePack) -> list[str]:
    src = f"content/{pack.code}/screening.yaml"
    problems = []
    for qid, words in pack.questions.items():
        if len(visible_text(words.why)) > WHY_LIMIT:
            problems.append(f"{src}: questions.{qid}.why: over {WHY_LIMIT} characters")
    return problems


def _parity(root: Path, reference: LanguagePack, pack: LanguagePack) -> list[str]:
    """Same keys, same placeholders, same explainers and tips, nothing left untranslated."""
    problems = []
    names = {p.name for p in (root / reference.code).glob("*.yaml")}
    names |= {p.name for p in (root / pack.code).glob("*.yaml")}
    for name in sorted(names):
        ref_path, path = root / reference.code / name, root / pack.code / name
        if not ref_path.exists() and not path.exists():
            continue
        if not path.exists():
            problems.append(f"content/{pack.code}/{name}: missing ({reference.code} has it)")
            continue
        if not ref_path.exists():
            problems.append(f"content/{pack.code}/{name}: {reference.code} has no such file")
            continue
        ref_flat = dict(flatten(load_yaml(ref_path)))
        flat = dict(flatten(load_yaml(path)))
        for key in sorted(set(ref_flat) - set(flat)):
            if not _is_list_item(key):
                problems.append(f"content/{pack.code}/{name}: {key}: missing")
        for key in sorted(set(flat) - set(ref_flat)):
            if not _is_list_item(key):
                problems.append(f"content/{pack.code}/{name}: {key}: not in {reference.code}")
        for key in sorted(set(ref_flat) & set(flat)):
            ref_value, value = ref_flat[key], flat[key]
            if not isinstance(ref_value, str) or not isinstance(value, str):
                continue
            if placeholders(ref_value) != placeholders(value):
                problems.append(
                    f"content/{pack.code}/{name}: {key}: placeholders "
                    f"{sorted(placeholders(value))} differ from {reference.code}'s "
                    f"{sorted(placeholders(ref_value))}"
                )
            if _untranslated(key, ref_value, value) and not _place_name(name, key):
                problems.append(f"content/{pack.code}/{name}: {key}: still in {reference.code}")
    ref_tips = [t.id for t in reference.tips]
    tips = [t.id for t in pack.tips]
    if ref_tips != tips:
        problems.append(f"content/{pack.code}/tips.yaml: tip ids differ from {reference.code}")
    if list(reference.explainers) != list(pack.explainers):
        problems.append(f"content/{pack.code}/learn.yaml: explainer ids differ")
    return problems


def _is_list_item(key: str) -> bool:
    # Crisis words and citations are lists whose length may differ between languages.
    return key.startswith("words[") or ".sources[" in key or key.startswith("tips[")


def _place_name(name: str, key: str) -> bool:
    """A state's name (timelines.yaml): often the same in every language (Massachusetts)."""
    return name == "timelines.yaml" and key.startswith("states.")


def _untranslated(key: str, ref_value: str, value: str) -> bool:
    if ".sources[" in key or key.endswith((".id", "reviewed")) or ".interests[" in key:
        return False
    text = visible_text(value).strip()
    return (
        ref_value.strip() == value.strip()
        and len(text) >= _SAME_MIN_LENGTH
        and text not in _SAME_OK
    )


def _callback_sizes(content: Content) -> list[str]:
    """The longest button data the screening can produce must fit Telegram's 64 bytes."""
    codec = CallbackCodec(b"x" * 32)
    sid = "f" * 12
    problems = []
    for qid, question in content.spec.questions.items():
        for option in question.options:
            try:
                codec.encode(Action("a", (sid, qid, option)))
            except ValueError as exc:
                problems.append(f"content/screening.yaml: questions.{qid}.{option}: {exc}")
    for pack in content.languages.values():
        for eid in pack.explainers:
            try:
                codec.encode(Action("e", (eid,)))
            except ValueError as exc:
                problems.append(f"content/{pack.code}/learn.yaml: explainers.{eid}: {exc}")
    return problems
