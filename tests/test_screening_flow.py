"""The screening machine, built from the real content: every path, Back, limits."""

from __future__ import annotations

import pytest

from bot.content import Content
from flows.machine import NotAllowed
from flows.screening import InvalidAnswer, Screening
from flows.spec import OUTCOME_STATE
from tests.screening_paths import all_paths


@pytest.fixture(scope="module")
def screening(content: Content) -> Screening:
    return Screening(content.spec)


@pytest.fixture(scope="module")
def paths(screening: Screening):  # type: ignore[no-untyped-def]
    return list(all_paths(screening))


def test_every_path_ends_in_exactly_one_known_outcome(paths, content: Content) -> None:
    assert len(paths) > 1000  # every answer combination, not a sample
    for taken, decision in paths:
        assert decision.outcome_id in content.spec.outcome_ids, taken


def test_every_outcome_and_every_question_is_reachable(paths, content: Content) -> None:
    reached = {decision.outcome_id for _, decision in paths}
    assert reached == set(content.spec.outcome_ids)
    asked = {q for taken, _ in paths for q, _ in taken}
    assert asked == set(content.spec.questions)


def test_each_path_asks_eight_to_fourteen_questions(paths) -> None:
    lengths = {len(taken) for taken, _ in paths}
    assert min(lengths) >= 8 and max(lengths) <= 14, lengths


def test_outcome_explains_itself_with_two_to_four_answers_given(paths) -> None:
    for taken, decision in paths:
        assert 2 <= len(decision.reasons) <= 4, (taken, decision)
        assert set(decision.reasons) <= set(taken)


def test_estimated_total_is_exact_once_the_plan_is_known(screening: Screening) -> None:
    for first in screening.spec.questions[screening.spec.start].options:
        session = screening.new_session()
        screening.answer(session, first)
        estimate = screening.estimated_total(session)
        while not session.finished:
            assert screening.estimated_total(session) == estimate
            screening.answer(session, screening.spec.questions[session.state].options[-1])
        assert len(session.history) == estimate


def test_an_existing_iep_changes_the_path(screening: Screening) -> None:
    iep, none = screening.new_session(), screening.new_session()
    screening.answer(iep, "iep")
    screening.answer(none, "none")
    assert iep.state == "iep_progress"
    assert none.state == "school_said"


def test_back_returns_to_the_previous_question_and_keeps_the_answer(screening) -> None:
    session = screening.new_session()
    screening.answer(session, "504")
    screening.answer(session, "partly")
    assert session.state == "school_said"
    screening.back(session)
    assert session.state == "plan_working"
    assert session.answers["plan_working"] == "partly"
    screening.back(session)
    assert session.state == "plan"
    with pytest.raises(NotAllowed):
        screening.back(session)


def test_answers_left_behind_by_back_do_not_count(screening: Screening) -> None:
    session = screening.new_session()
    screening.answer(session, "504")
    screening.back(session)
    screening.answer(session, "none")
    assert "plan_working" not in session.path_answers()


def test_wrong_options_and_finished_sessions_are_refused(screening: Screening) -> None:
    session = screening.new_session()
    with pytest.raises(InvalidAnswer):
        screening.answer(session, "maybe")
    while not session.finished:
        screening.answer(session, screening.spec.questions[session.state].options[0])
    assert session.state == OUTCOME_STATE
    with pytest.raises(NotAllowed):
        screening.answer(session, "yes")
    with pytest.raises(NotAllowed):
        screening.back(session)


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        (["iep", "no", "yes", "yes", "no", "rarely", "no", "no"], "iep_review"),
        (["iep", "yes", "yes", "yes", "no", "rarely", "no", "no"], "no_strong_signs"),
        (
            ["504", "no", "yes", "yes", "yes", "sometimes", "no", "no", "no", "yes"],
            "current_504_not_enough",
        ),
        (["none", "yes", "yes", "no", "sometimes", "no", "no", "yes", "yes"], "iep_evaluation"),
        (["none", "no", "no", "no", "rarely", "yes", "no", "no", "no"], "full_evaluation_first"),
        (["none", "no", "no", "no", "rarely", "yes", "no", "no", "yes"], "plan_504_may_fit"),
        (["not_sure", "no", "no", "no", "rarely", "no", "no", "no", "yes"], "no_strong_signs"),
    ],
)
def test_known_answers_give_the_practice_s_expected_outcome(screening, answers, outcome) -> None:
    session = screening.new_session()
    for option in answers:
        step = screening.answer(session, option)
    assert step.decision is not None and step.decision.outcome_id == outcome


def test_red_flags_raise_notices(screening: Screening) -> None:
    session = screening.new_session()
    raised = []
    for option in ["none", "yes", "yes", "yes", "harm", "yes", "yes", "yes", "refused"]:
        raised += screening.answer(session, option).new_notices
    assert raised == ["crisis", "mdr", "pwn"]
    assert screening.notices(session) == ["crisis", "mdr", "pwn"]
