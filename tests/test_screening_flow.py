"""The screening machine, built from the real content: every path, Back, and the advocate's
invariants checked over every answer combination (not a sample)."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.content import Content
from flows.machine import NotAllowed
from flows.outcomes import Decision, decide, matched_signs, not_sure_count
from flows.screening import InvalidAnswer, Screening
from flows.spec import NOTICES, OUTCOME_STATE
from tests.screening_paths import Path, paths_from

RED_FLAG_ANSWERS = {("emotions", "harm"), ("removals", "over10"), ("evaluation", "refused")}
CALM_OUTCOMES = {"no_strong_signs", "plan_504_may_fit", "plan_504_working", "find_out_first"}
EVALUATION_STARTED = {"refused", "pending", "not_elig", "disagree"}


@pytest.fixture(scope="module")
def screening(content: Content) -> Screening:
    return Screening(content.spec)


@pytest.fixture(scope="session")
def paths(every_path: list[tuple[Path, Decision]]) -> list[tuple[Path, Decision]]:
    return every_path


def test_the_fast_walk_agrees_with_the_machine(
    screening: Screening, paths: list[tuple[Path, Decision]]
) -> None:
    # The invariants below use the spec-only walk; here the transitions machine, pressing
    # every option, must find the very same paths and decisions: every young child's path,
    # and the none, not-sure and IEP branches (the 504 branch alone has 165,888 paths).
    branches = {
        ("under3",),
        ("pre",),
        ("school", "none"),
        ("school", "not_sure"),
        ("school", "iep"),
    }
    machine: dict[tuple[tuple[str, str], ...], Decision] = {}
    for branch in branches:
        session = screening.new_session()
        prefix: list[tuple[str, str]] = []
        for option in branch:
            prefix.append((session.state, option))
            step = screening.answer(session, option)
        if step.decision is not None:
            machine[tuple(prefix)] = step.decision
            continue
        for taken, decision in paths_from(screening, session):
            machine[tuple(prefix + taken)] = decision
    fast = {
        tuple(taken): decision
        for taken, decision in paths
        if tuple(o for _, o in taken[:2]) in branches or (taken[0][1],) in branches
    }
    assert len(machine) > 20_000
    assert machine == fast


def test_every_path_ends_in_exactly_one_known_outcome(paths, content: Content) -> None:
    assert len(paths) > 100_000  # every answer combination, not a sample
    for taken, decision in paths:
        assert decision.outcome_id in content.spec.outcome_ids, taken


def test_every_outcome_and_every_question_is_reachable(paths, content: Content) -> None:
    reached = {decision.outcome_id for _, decision in paths}
    assert reached == set(content.spec.outcome_ids)
    asked = {q for taken, _ in paths for q, _ in taken}
    assert asked == set(content.spec.questions)


def test_a_school_age_screening_takes_nine_to_eleven_questions(paths) -> None:
    lengths = Counter(len(taken) for taken, _ in paths if dict(taken)["age"] == "school")
    assert set(lengths) == {9, 11}, lengths  # no plan or an IEP: 9; a 504 plan: 11
    assert max(len(taken) for taken, _ in paths) <= 13
    # Young children are asked only what applies to them.
    assert {len(t) for t, _ in paths if dict(t)["age"] != "school"} == {1, 4, 6}


def test_no_red_flag_ever_reaches_a_calm_outcome(paths) -> None:
    for taken, decision in paths:
        if RED_FLAG_ANSWERS & set(taken):
            assert decision.outcome_id not in CALM_OUTCOMES, taken


def test_every_red_flag_raised_is_carried_to_the_result(paths, content: Content) -> None:
    for taken, decision in paths:
        raised = {content.spec.questions[q].option_notice.get(o) for q, o in taken} - {None}
        assert set(decision.flags) == raised, taken
        assert list(decision.flags) == [n for n in NOTICES if n in raised]


def test_harm_not_sure_and_context_are_never_reasons(paths, content: Content) -> None:
    for taken, decision in paths:
        assert len(decision.reasons) <= 3
        for question, option in decision.reasons:
            assert (question, option) != ("emotions", "harm"), taken
            assert option != "not_sure", taken
            assert not content.spec.questions[question].context, taken
            assert (question, option) in taken


def test_harm_always_puts_safety_first(paths) -> None:
    for taken, decision in paths:
        if ("emotions", "harm") in taken:
            assert decision.outcome_id == "safety_first"
            assert decision.flags[0] == "crisis"


def test_no_one_whose_evaluation_began_is_told_to_request_one_first(paths) -> None:
    for taken, decision in paths:
        if dict(taken).get("evaluation") in EVALUATION_STARTED:
            assert decision.first_step != "request_evaluation", taken


def test_refused_pending_disagree_each_have_their_own_outcome(paths) -> None:
    expected = {"refused": "eval_refused", "pending": "eval_pending", "disagree": "eval_disagree"}
    for taken, decision in paths:
        answers = dict(taken)
        outcome = expected.get(answers.get("evaluation", ""))
        if outcome and decision.outcome_id not in {"safety_first", "discipline"}:
            assert decision.outcome_id == outcome, taken


def test_the_school_saying_no_iep_is_never_a_sign(content: Content, paths) -> None:
    assert all(sign.question != "evaluation" for sign in content.spec.signs)
    # A parent who says the 504 plan is followed and enough, with no services needed and
    # at most one other sign, is never told the plan is not enough or to evaluate first.
    for taken, decision in paths:
        answers = dict(taken)
        if (
            answers.get("plan_followed") == "yes"
            and answers.get("plan_enough") == "yes"
            and answers.get("services") == "no"
            and answers.get("learning") != "failing"
            and len(matched_signs(content.spec, answers)) <= 1
        ):
            assert decision.outcome_id not in {"current_504_not_enough", "full_evaluation_first"}


def test_a_504_may_fit_only_with_at_most_one_sign(paths, content: Content) -> None:
    for taken, decision in paths:
        if decision.outcome_id == "plan_504_may_fit":
            assert len(matched_signs(content.spec, dict(taken))) <= 1, taken


def test_no_strong_signs_only_without_flags_signs_or_many_not_sure(paths, content) -> None:
    for taken, decision in paths:
        if decision.outcome_id == "no_strong_signs":
            answers = dict(taken)
            assert not decision.flags and not matched_signs(content.spec, answers), taken
            assert not_sure_count(answers) <= 2, taken


def test_mostly_not_sure_finds_out_first(paths) -> None:
    for taken, decision in paths:
        if not_sure_count(dict(taken)) >= 3 and decision.outcome_id in CALM_OUTCOMES:
            assert decision.outcome_id == "find_out_first", taken


def test_under_3_goes_to_early_intervention_and_preschoolers_to_the_district(paths) -> None:
    for taken, decision in paths:
        answers = dict(taken)
        if answers["age"] == "under3":
            assert decision.outcome_id == "early_intervention"
        if answers["age"] == "pre":
            assert decision.outcome_id not in {"current_504_not_enough", "full_evaluation_first"}


def test_a_plan_not_followed_is_told_apart_from_a_plan_not_enough(paths) -> None:
    for taken, decision in paths:
        answers = dict(taken)
        followed = answers.get("plan_followed") in ("no", "partly")
        red_flag = RED_FLAG_ANSWERS & set(taken)
        if followed and not red_flag and answers["evaluation"] not in {"pending", "disagree"}:
            assert decision.outcome_id == "plan_not_followed", taken
        if decision.outcome_id == "current_504_not_enough":
            assert answers["plan_followed"] in ("yes", "not_sure"), taken


def test_estimated_total_is_exact_once_the_plan_is_known(screening: Screening) -> None:
    for age in ("pre", "school"):
        for plan in screening.spec.questions["plan"].options:
            session = screening.new_session()
            screening.answer(session, age)
            screening.answer(session, plan)
            estimate = screening.estimated_total(session)
            while not session.finished:
                assert screening.estimated_total(session) == estimate
                options = screening.spec.questions[session.state].options
                screening.answer(session, options[-1] if session.state != "emotions" else "often")
            assert len(session.history) == estimate


def test_an_existing_iep_changes_the_path(screening: Screening) -> None:
    iep, none = screening.new_session(), screening.new_session()
    for session, plan in ((iep, "iep"), (none, "none")):
        screening.answer(session, "school")
        screening.answer(session, plan)
    assert iep.state == "iep_progress"
    assert none.state == "learning"


def test_back_returns_to_the_previous_question_and_keeps_the_answer(screening) -> None:
    session = screening.new_session()
    screening.answer(session, "school")
    screening.answer(session, "504")
    screening.answer(session, "partly")
    assert session.state == "plan_enough"
    screening.back(session)
    assert session.state == "plan_followed"
    assert session.answers["plan_followed"] == "partly"
    screening.back(session)
    screening.back(session)
    assert session.state == "age"
    with pytest.raises(NotAllowed):
        screening.back(session)


def test_answers_left_behind_by_back_do_not_count(screening: Screening) -> None:
    session = screening.new_session()
    screening.answer(session, "school")
    screening.answer(session, "504")
    screening.back(session)
    screening.answer(session, "none")
    assert "plan_followed" not in session.path_answers()
    # Going back to the age and choosing "under 3" ends at once, whatever came after.
    screening.back(session)
    screening.back(session)
    step = screening.answer(session, "under3")
    assert step.decision is not None and step.decision.outcome_id == "early_intervention"
    assert session.path_answers() == {"age": "under3"}


def test_wrong_options_and_finished_sessions_are_refused(screening: Screening) -> None:
    session = screening.new_session()
    with pytest.raises(InvalidAnswer):
        screening.answer(session, "maybe")
    screening.answer(session, "under3")
    assert session.state == OUTCOME_STATE
    with pytest.raises(NotAllowed):
        screening.answer(session, "yes")
    with pytest.raises(NotAllowed):
        screening.back(session)


def test_red_flags_raise_notices_in_the_order_asked(screening: Screening) -> None:
    session = screening.new_session()
    raised = []
    answers = ["school", "none", "failing", "yes", "harm", "yes", "over10", "yes", "refused"]
    for option in answers:
        step = screening.answer(session, option)
        raised += step.new_notices
    assert raised == ["crisis", "mdr", "pwn"]
    assert step.decision is not None and step.decision.flags == ("crisis", "mdr", "pwn")


def test_decide_is_the_machines_decision(screening: Screening, content: Content) -> None:
    session = screening.new_session()
    for option in ["school", "none", "stuck", "yes", "often", "yes", "no", "no", "no"]:
        step = screening.answer(session, option)
    assert step.decision == decide(content.spec, session.path_answers())
    assert step.decision.outcome_id == "full_evaluation_first"


def test_the_first_estimate_never_promises_fewer_questions_than_asked(screening, paths) -> None:
    # "Question 1 of about 11": the longest way, not the one-question way of an under-3.
    session = screening.new_session()
    assert screening.estimated_total(session) == max(len(taken) for taken, _ in paths)
