"""The forbidden-claims guard: it catches paraphrases of the three errors and passes real text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.checks.forbidden import (
    ACCOMMODATIONS_ONLY,
    ELIGIBILITY,
    SIXTY_FROM_REQUEST,
    WRITTEN_REQUIRED,
    check,
    forbidden_claims,
    sentences,
)

ROOT = Path(__file__).resolve().parent.parent

# (sentence, the reason it must be caught for). From the content review's list, and more.
CAUGHT = [
    # 1. a written request as a federal rule
    ("You must request the evaluation in writing.", WRITTEN_REQUIRED),
    ("The request has to be in writing.", WRITTEN_REQUIRED),
    ("IDEA requires a written request.", WRITTEN_REQUIRED),
    ("Federal law says your request must be written.", WRITTEN_REQUIRED),
    ("You need to put your request in writing.", WRITTEN_REQUIRED),
    ("A request for an evaluation is only valid in writing.", WRITTEN_REQUIRED),
    ("Parents are required to send a written request to the school.", WRITTEN_REQUIRED),
    ("A written request is mandatory under IDEA.", WRITTEN_REQUIRED),
    ("The school must get your request in writing before it can act.", WRITTEN_REQUIRED),
    ("Debe pedir la evaluación por escrito.", WRITTEN_REQUIRED),
    ("La ley exige que la solicitud sea por escrito.", WRITTEN_REQUIRED),
    ("Tiene que hacer la solicitud por escrito.", WRITTEN_REQUIRED),
    ("La solicitud debe ser por escrito.", WRITTEN_REQUIRED),
    ("Es obligatorio pedir la evaluación por escrito.", WRITTEN_REQUIRED),
    ("Hay que pedirla por escrito, así lo dice la ley federal.", WRITTEN_REQUIRED),
    ("IDEA requiere una solicitud escrita.", WRITTEN_REQUIRED),
    ("Your request will only count if it is written.", WRITTEN_REQUIRED),
    (
        "Under IDEA, a spoken request does not count; you must write to the school.",
        WRITTEN_REQUIRED,
    ),
    ("Usted necesita enviar la solicitud por escrito.", WRITTEN_REQUIRED),
    # 2. 60 days from the request
    ("The school has 60 days from your request.", SIXTY_FROM_REQUEST),
    ("The school must finish the evaluation 60 days after you ask.", SIXTY_FROM_REQUEST),
    ("Within sixty days of your request, the evaluation must be done.", SIXTY_FROM_REQUEST),
    ("Once you ask, the school has 60 days to evaluate.", SIXTY_FROM_REQUEST),
    ("The 60-day clock starts the day the school gets your request.", SIXTY_FROM_REQUEST),
    ("La escuela tiene 60 días a partir de su solicitud.", SIXTY_FROM_REQUEST),
    ("La escuela tiene 60 días desde que usted la pide.", SIXTY_FROM_REQUEST),
    ("Tienen sesenta días después de su petición para evaluar.", SIXTY_FROM_REQUEST),
    ("The 60-day timeline begins when you submit your request.", SIXTY_FROM_REQUEST),
    ("El plazo de 60 días empieza cuando usted hace la petición.", SIXTY_FROM_REQUEST),
    # 3. 504 = accommodations only
    ("A 504 plan is accommodations only.", ACCOMMODATIONS_ONLY),
    ("A 504 plan only provides accommodations.", ACCOMMODATIONS_ONLY),
    ("504 plans cannot include services.", ACCOMMODATIONS_ONLY),
    ("A 504 plan is just accommodations, not services.", ACCOMMODATIONS_ONLY),
    ("A 504 plan never includes services.", ACCOMMODATIONS_ONLY),
    ("Section 504 gives accommodations but no services.", ACCOMMODATIONS_ONLY),
    ("Un plan 504 solo ofrece adaptaciones.", ACCOMMODATIONS_ONLY),
    ("Un plan 504 no incluye servicios.", ACCOMMODATIONS_ONLY),
    ("Los planes 504 no pueden incluir servicios.", ACCOMMODATIONS_ONLY),
    ("Un plan 504 es únicamente de adaptaciones.", ACCOMMODATIONS_ONLY),
    ("504 plans do not provide related services.", ACCOMMODATIONS_ONLY),
    ("Los planes 504 son solamente adaptaciones.", ACCOMMODATIONS_ONLY),
    # 4. eligibility in the bot's own voice
    ("Your child qualifies for an IEP.", ELIGIBILITY),
    ("Based on your answers, your child is eligible for a 504 plan.", ELIGIBILITY),
    ("Your child doesn't qualify for special education.", ELIGIBILITY),
    ("Su hijo califica para un IEP.", ELIGIBILITY),
    ("Según sus respuestas, su hija es elegible para un plan 504.", ELIGIBILITY),
]

# Correct sentences of the kind the bot really says: none may be flagged.
PASSED = [
    "Federal law does not require writing, but it gives you a record.",
    "Writing is best. Date it and keep a copy.",
    "The school must finish it within 60 days of getting your signed consent, "
    "unless your state sets its own timeline.",
    "When a school refuses to evaluate, it must tell you in writing why.",
    "A 504 plan is mostly accommodations, and it can include services.",
    'Schools may say "your child doesn\'t qualify for an IEP"',
    "Lo mejor es pedirla por escrito.",
    "La escuela debe explicarle por escrito por qué.",
    "Un plan 504 consiste sobre todo en adaptaciones, y puede incluir servicios.",
    "La escuela tiene 60 días desde que recibe su consentimiento firmado.",
    "Ask the school in writing for an IEE at public expense.",
    "Ask in writing for a 504 meeting.",
    "Some states do require a written request.",
    "Writing is best (federal law does not require it): date it and keep a copy.",
    "You can ask for an evaluation at any time, and the school must answer you in writing.",
    "The school must put its reasons in writing, with the data it used.",
    "The school needs your written consent before it evaluates.",
    "The 60 days start when the school gets your signed consent, not when you ask.",
    "Service minutes must be written into the IEP.",
    "If the school says your child doesn't qualify, ask for Prior Written Notice.",
    "Only the school team, with you, decides whether your child qualifies.",
    "A 504 plan may not be enough if your child needs more than just accommodations.",
    "La escuela tiene 60 días, contados desde que recibe su consentimiento firmado.",
    "La ley federal no exige que la solicitud sea por escrito, pero le da un registro.",
    'La escuela puede decir que su hijo "no califica" para un IEP.',
    "Si la escuela dice que su hijo no califica, pida un aviso previo por escrito.",
    "Solo el equipo escolar, con usted, decide si su hijo califica.",
    "Pida por escrito una reunión del plan 504.",
    "Records: the school must let you see them within 45 days of your request.",
    "If removals add up to more than 10 school days this year, ask the school in writing "
    "whether a manifestation determination review is due.",
    "Eligibility is decided by the school team.",
    "Write down what your child needs to learn.",
    "Escriba lo que su hijo necesita aprender.",
    "No tiene que ser por escrito, pero le conviene.",
    "Ask for a 504 plan that includes services, not only accommodations.",
    '<b>"Your child has to fail first."</b>\nNo. You can ask for an evaluation at any time.',
]


@pytest.mark.parametrize(("sentence", "reason"), CAUGHT)
def test_a_paraphrase_of_a_forbidden_claim_is_caught(sentence: str, reason: str) -> None:
    claims = forbidden_claims(sentence)
    assert claims, sentence
    assert claims[0].startswith(reason), claims


@pytest.mark.parametrize("sentence", PASSED)
def test_a_correct_sentence_is_not_flagged(sentence: str) -> None:
    assert forbidden_claims(sentence) == []


def test_there_are_enough_fixtures() -> None:
    spanish = [s for s, _ in CAUGHT if any(w in s for w in ("ó", "í", "é", "ú", " la ", " su "))]
    three_errors = [s for s, r in CAUGHT if r != ELIGIBILITY]
    assert len(three_errors) >= 20
    assert len(spanish) >= 7
    assert len(PASSED) >= 12


def test_quoted_text_is_the_school_s_voice_not_the_bot_s() -> None:
    assert forbidden_claims('The school said "your child does not qualify."') == []
    assert forbidden_claims("«Su hijo no califica», le dijo la escuela.") == []
    assert forbidden_claims("Your child does not qualify.") != []


def test_a_sentence_is_judged_alone() -> None:
    # "writing" and "must" in different sentences are not one claim.
    assert forbidden_claims("Put your request in writing. The school must answer.") == []
    text = "Writing is best.\nYou must ask in writing."
    assert [c.split(": ", 1)[1] for c in forbidden_claims(text)] == ['"You must ask in writing."']


def test_sentences_are_split_by_lines_and_stops_but_not_inside_quotes() -> None:
    text = '<b>Steps</b>\n• Ask the school.\n• It said "no. never." Then call us'
    assert sentences(text) == ["Steps.", "Ask the school.", 'It said "no. never." Then call us.']


def test_check_names_the_file_and_key() -> None:
    items = [
        ("content/en/tips.yaml: tips[3].text", "en", "Hello. The request has to be in writing."),
        ("content/en/tips.yaml: tips[4].text", "en", "Writing is best."),
    ]
    where = "content/en/tips.yaml: tips[3].text"
    assert check(items) == [f'{where}: {WRITTEN_REQUIRED}: "The request has to be in writing."']


def test_check_content_reports_a_claim_planted_in_a_copy(tmp_path: Path) -> None:
    from bot.checks.content_check import check_content

    copy = tmp_path / "content"
    shutil.copytree(ROOT / "content", copy)
    path = copy / "es" / "tips.yaml"
    tips = yaml.safe_load(path.read_text(encoding="utf-8"))
    tips["tips"][1]["text"] += "\nUn plan 504 solo ofrece adaptaciones."
    path.write_text(yaml.safe_dump(tips, allow_unicode=True, sort_keys=False), encoding="utf-8")
    line = (
        f"content/es/tips.yaml: tips[1].text: {ACCOMMODATIONS_ONLY}: "
        '"Un plan 504 solo ofrece adaptaciones."'
    )
    assert line in check_content(copy)


def test_shipped_content_makes_no_forbidden_claim() -> None:
    from bot.checks.readability import parent_strings
    from bot.content import load_content

    assert check(parent_strings(load_content())) == []
