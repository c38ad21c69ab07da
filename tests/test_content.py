"""Content is code: it loads, it is complete in every language, it says nothing forbidden."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.checks.content_check import check_content
from bot.content import (
    EXPLAINER_PAGE_LIMIT,
    REFERENCE_LANGUAGE,
    Content,
    load_content,
    visible_text,
)
from flows.diagram import mermaid
from flows.spec import ContentError
from tests.conftest import replace_once

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


def all_texts(content: Content) -> list[tuple[str, str]]:
    """(where, text) for every parent-facing string in every language."""
    found: list[tuple[str, str]] = []
    for code, pack in content.languages.items():
        for qid, q in pack.questions.items():
            found += [(f"{code}:{qid}.text", q.text), (f"{code}:{qid}.why", q.why)]
            found += [(f"{code}:{qid}.said.{k}", v) for k, v in q.said.items()]
        for oid, o in pack.outcomes.items():
            found += [(f"{code}:{oid}", f"{o.title}\n{o.lead}\n" + "\n".join(o.steps))]
        found += [(f"{code}:notice.{k}", v) for k, v in pack.notices.items()]
        found += [(f"{code}:flag.{k}", v) for k, v in pack.flags.items()]
        found += [(f"{code}:explainer.{e.id}", e.body) for e in pack.explainers.values()]
        found += [(f"{code}:tip.{t.id}", t.text) for t in pack.tips]
    return found


def test_the_shipped_content_has_no_problems() -> None:
    assert check_content(CONTENT) == []


def test_spanish_is_complete(content: Content) -> None:
    assert set(content.languages) >= {"en", "es"}


def test_every_outcome_links_to_an_explainer_in_every_language(content: Content) -> None:
    for pack in content.languages.values():
        for rule in content.spec.outcomes:
            assert rule.explainer in pack.explainers
            assert rule.id in pack.outcomes


def test_explainer_pages_fit_one_screen_and_are_dated_and_cited(content: Content) -> None:
    for pack in content.languages.values():
        assert len(pack.explainers) >= 8
        for e in pack.explainers.values():
            first, *rest = e.pages
            assert len(visible_text(e.title)) + len(visible_text(first)) <= EXPLAINER_PAGE_LIMIT
            assert all(len(visible_text(page)) <= EXPLAINER_PAGE_LIMIT for page in rest)
            assert e.sources and e.reviewed


def test_every_result_offers_a_first_step_and_at_most_four(content: Content) -> None:
    for pack in content.languages.values():
        for words in pack.outcomes.values():
            assert 1 <= len(words.steps) <= 4


def test_crisis_notice_names_988_and_911_first(content: Content) -> None:
    for pack in content.languages.values():
        first_lines = visible_text(pack.notices["crisis"]).splitlines()[:3]
        assert "988" in " ".join(first_lines) and "911" in " ".join(first_lines)


def test_committed_flow_diagram_matches_the_content(content: Content) -> None:
    committed = (ROOT / "flows" / "screening.mmd").read_text(encoding="utf-8")
    assert committed == mermaid(content.spec), "run: make diagram"


# --- broken content files give a clear error naming the file and the key -----------------


@pytest.mark.parametrize(
    ("file", "old", "new", "names"),
    [
        ("screening.yaml", "start: age", "start: nowhere", "start"),
        ("screening.yaml", "next: iep_goals", "next: iep_gaols", "questions.iep_progress.next"),
        ("screening.yaml", "in: [disagree]}", "in: [nope]}", "outcomes[4]"),
        (
            "screening.yaml",
            "  - id: plan_504_may_fit\n",
            "  - id: plan_504_may_fit\n    colour: red\n",
            "outcomes[15]",
        ),
        (
            "screening.yaml",
            "differences\n    first_step: keep_watching\n",
            "differences\n    first_step: keep_watching\n    when: {all: [{signs_at_least: 9}]}\n",
            "outcomes[16]",
        ),
        ("screening.yaml", "{not_sure_at_least: 3}", "{not_sure_at_least: three}", "outcomes[13]"),
        ("en/screening.yaml", "      none: Neither\n", "", "questions.plan.options.none"),
        ("en/screening.yaml", '  pwn: "⚠️', '  pwm: "⚠️', "flags.pwn"),
        ("en/crisis.yaml", "words:", "werds:", "words"),
        ("es/crisis.yaml", "words:\n", "words:\n  - hurt+\n", "words"),
        (
            "en/screening.yaml",
            "title: A 504 plan may fit",
            "title: A <u>504</u> plan",
            "outcomes.plan_504_may_fit.title",
        ),
        ("en/ui.yaml", "menu:\n", "menu: [\n", "(syntax)"),
        ("en/learn.yaml", "reviewed: 2026-12-02", "reviewed: someday", "explainers.iep.reviewed"),
    ],
)
def test_broken_content_names_file_and_key(
    content_copy: Path, file: str, old: str, new: str, names: str
) -> None:
    replace_once(content_copy / file, old, new)
    with pytest.raises(ContentError) as caught:
        load_content(content_copy)
    assert file.split("/")[-1] in caught.value.source
    assert names in str(caught.value)
    assert check_content(content_copy) == [str(caught.value)]


def test_parity_problems_are_all_reported(content_copy: Path) -> None:
    replace_once(content_copy / "es/ui.yaml", "{n}", "{numero}")
    es_learn = content_copy / "es/learn.yaml"
    en_learn = (content_copy / "en/learn.yaml").read_text(encoding="utf-8")
    en_title = re.search(r"title: (.+)", en_learn).group(1)  # type: ignore[union-attr]
    es_text = es_learn.read_text(encoding="utf-8")
    es_title = re.search(r"title: (.+)", es_text).group(1)  # type: ignore[union-attr]
    es_learn.write_text(es_text.replace(es_title, en_title, 1), encoding="utf-8")
    problems = check_content(content_copy)
    assert any("placeholders" in p and "es/ui.yaml" in p for p in problems), problems
    assert any("still in en" in p and "learn.yaml" in p for p in problems), problems


def test_a_new_language_is_a_folder(content_copy: Path) -> None:
    shutil.copytree(content_copy / REFERENCE_LANGUAGE, content_copy / "pt")
    loaded = load_content(content_copy)
    assert "pt" in loaded.languages
    assert loaded.pick_language("pt-BR") == "pt"
    problems = check_content(content_copy)
    assert problems and all("still in en" in p for p in problems)


def test_the_readme_outcome_table_matches_the_rules(content: Content) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| Outcome id | What leads to it | First step |", 1)[1]
    ids = re.findall(r"^\| `([a-z0-9_]+)` \|", table.split("\n\n", 1)[0], re.MULTILINE)
    assert ids == list(content.spec.outcome_ids)  # every outcome, in the order rules apply


def test_the_spanish_crisis_notice_gives_the_spanish_ways_to_reach_988(content: Content) -> None:
    notice = visible_text(content.pack("es").notices["crisis"])
    assert "988" in notice and "911" in notice
    assert "marque 2" in notice.lower() and "AYUDA" in notice
    assert content.pack("es").t("crisis.url") == "https://988lineadevida.org/"
