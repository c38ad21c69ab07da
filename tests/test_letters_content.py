"""The letters as content: which result offers which letter (as an advocate would), what the
content check says about a broken template, and `iep-bot letter preview`."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.checks.letters_check import check_letters
from bot.content import Content, load_content
from bot.letters.book import load_letters
from bot.letters.cli import letter
from flows.outcomes import decide
from flows.spec import OUTCOME_STATE, ContentError
from tests.conftest import replace_once

# First steps that are a request to the school (content/screening.yaml `first_step`): a
# result with one of them must offer its letter first.
REQUESTS = {
    "request_evaluation": "evaluation",
    "request_notice": "pwn",
    "request_report": "pwn",
    "request_iee": "iee",
    "request_504_meeting": "meeting_504",
    "request_iep_meeting": "iep_meeting",
    "ask_about_review": "mdr",
    "request_records": "records",
    "ask_about_504": "plan_504",
}
# What must be true of the answers for a letter to make sense; anything else contradicts
# the result it is offered with (an evaluation asked for again while one is under way, a
# 504 meeting for a child without a 504 plan, ...).
REQUIRES = {
    "evaluation": {"evaluation": {"no", "not_sure"}},
    "pwn": {"evaluation": {"refused", "not_elig"}},
    "iee": {"evaluation": {"disagree", "not_elig"}},
    "meeting_504": {"plan": {"504"}},
    "iep_meeting": {"plan": {"iep"}},
    "mdr": {"removals": {"over10", "some"}},
    "plan_504": {"plan": {"none", "not_sure"}},
    "records": {},
}
NO_LETTER = {"early_intervention", "safety_first", "plan_504_working", "no_strong_signs"}


def test_every_request_offers_its_letter_first_and_the_rest_offer_none(content: Content) -> None:
    book = load_letters(content)
    assert set(REQUIRES) == set(book.plans)
    for rule in content.spec.outcomes:
        offered = book.offered(rule.id)
        if rule.first_step in REQUESTS:
            assert offered and offered[0] == REQUESTS[rule.first_step], rule.id
        elif rule.id in NO_LETTER:
            assert offered == (), rule.id
        else:  # under way: ask to see the reports before the meeting (its third step)
            assert (rule.id, offered) == ("eval_pending", ("records",))


def test_no_letter_contradicts_the_answers_of_its_result(content: Content) -> None:
    book, spec = load_letters(content), content.spec
    # What every path to a result has in common (its rule's `all`), for every letter...
    for rule in spec.outcomes:
        for lid in book.offered(rule.id):
            for question, allowed in REQUIRES[lid].items():
                held = [
                    c.options
                    for clause in rule.clauses
                    for c in clause.all
                    if c.question == question
                ]
                implied = question == "plan" and any(
                    c.question in ("plan_followed", "plan_enough")
                    for clause in rule.clauses
                    for c in clause.all
                )  # the 504 plan questions are asked only of families with a 504 plan
                assert implied or (held and all(o <= allowed for o in held)), (rule.id, lid)
    # ... and on the ways parents really take: a seeded sample of whole screenings.
    rng = random.Random(14)
    for _ in range(3000):
        answers: dict[str, str] = {}
        state = spec.start
        while state != OUTCOME_STATE:
            answers[state] = rng.choice(spec.questions[state].options)
            state = spec.next_question(state, answers)
        for lid in book.offered(decide(spec, answers).outcome_id):
            for question, allowed in REQUIRES[lid].items():
                assert answers.get(question) in allowed, (lid, answers)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "en/letters.yaml",
            "evaluation of my child, {child_name}, to find out",
            "evaluation of my child, {child}, to find out",
            "letters.evaluation.paragraphs.opening: unknown placeholders ['child']",
        ),
        (
            "es/letters.yaml",
            "      not_enough: Aun cuando se usa",
            "      not_enuf: Aun cuando se usa",
            "letters.meeting_504.paragraphs: missing ['not_enough'], not used ['not_enuf']",
        ),
        (
            "letters.yaml",
            "  eval_refused: [pwn]",
            "  eval_refused: [records, pwn]",
            "offers.eval_refused: its first step asks for 'pwn': list it first",
        ),
        (
            "letters.yaml",
            '{paragraph: has_504, when: {plan: ["504"]}}',
            '{paragraph: has_504, when: {plan: ["505"]}}',
            "letters.evaluation.body[1].when.plan: unknown or no options ['505']",
        ),
        (
            "en/letters.yaml",
            "      often: Feelings or behavior often",
            "      harm: My child talked of hurting someone.\n"
            "      often: Feelings or behavior often",
            "concerns.questions.emotions.harm: this answer is never told in a letter",
        ),
    ],
)
def test_a_broken_template_names_its_file_and_key(
    content_copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    replace_once(content_copy / file, old, new)
    problems = check_letters(load_content(content_copy))
    assert len(problems) == 1 and file.split("/")[-1] in problems[0], problems
    assert expected in problems[0], problems
    with pytest.raises(ContentError):  # and the bot would not start with it
        load_letters(load_content(content_copy))


def test_the_check_finds_a_citation_not_listed_and_a_forbidden_claim(content_copy: Path) -> None:
    replace_once(
        content_copy / "en/letters.yaml",
        "      dates: Please offer me a few dates and times for the meeting.\n    sources:\n"
        '      - "34 CFR 104.33(b)',
        "      dates: My child qualifies for an IEP under 34 CFR 300.8. You must get this"
        ' request in writing to count it.\n    sources:\n      - "34 CFR 104.33(b)',
    )
    problems = check_letters(load_content(content_copy))
    assert any("cites '34 CFR 300.8', which letters.meeting_504.sources" in p for p in problems)
    assert any("meeting_504" in p and "qualifies" in p for p in problems), problems
    assert any("meeting_504" in p and "written request is required" in p for p in problems)


def test_the_real_letters_pass_the_check(content: Content) -> None:
    assert check_letters(content) == []


def test_preview_writes_every_form_of_every_letter(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("TIMEZONE", "America/Chicago")
    out = tmp_path / "previews"
    result = CliRunner().invoke(
        letter, ["preview", "--type", "all", "--lang", "both", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 3 * 8 and len(result.output.splitlines()) == 24
    assert any(n.startswith("evaluation-request-en-es-") and n.endswith(".pdf") for n in written)
    text = next(out.glob("removals-review-request-en-es-*.txt")).read_text(encoding="utf-8")
    assert "Zoë Núñez" in text and "Traducción al español" in text
    blank = CliRunner().invoke(
        letter,
        [
            "preview",
            "--type",
            "pwn",
            "--lang",
            "es",
            "--out",
            str(out),
            "--blank",
            "--answer",
            "evaluation=not_elig",
        ],
    )
    assert blank.exit_code == 0, blank.output
    spanish = next(out.glob("solicitud-de-aviso-previo-*.txt")).read_text(encoding="utf-8")
    assert "decidió no ofrecerle educación especial" in spanish and "Zoë" not in spanish


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--type", "nope"], "--type: no letter 'nope'; choose one of: all, evaluation,"),
        (["--type", "pwn", "--lang", "fr"], "--lang: expected en, es or both, got 'fr'"),
        (["--type", "pwn", "--answer", "plan=maybe"], "--answer: 'plan=maybe' is not"),
    ],
)
def test_preview_says_what_is_wrong_in_one_line(
    tmp_path: Path,
    monkeypatch,
    args: list[str],
    said: str,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(letter, ["preview", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2 and said in result.output
    assert len(result.output.strip().splitlines()) == 1
