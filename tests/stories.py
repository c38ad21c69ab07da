"""Parents' stories, each with the outcome an experienced advocate would give.

Written from facts.md and the practice's framing before looking at what the rules give:
where a story and the rules disagree, the rules are fixed, not the story. Each story lists
the answers a parent in that situation would tap, in order, by question and option id; the
tests press the matching buttons through the fake Bot API in each language listed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Story:
    name: str
    told: str  # the parent's situation, in plain words
    answers: tuple[tuple[str, str], ...]
    outcome: str
    also: str | None = None  # another outcome the advocate would mention, if any
    languages: tuple[str, ...] = ("en",)


def _a(*pairs: str) -> tuple[tuple[str, str], ...]:
    """'question=option' pairs, in the order asked."""
    return tuple(tuple(p.split("=", 1)) for p in pairs)  # type: ignore[misc]


_SCHOOL_504 = ("age=school", "plan=504")
_SCHOOL_NONE = ("age=school", "plan=none")
_SCHOOL_IEP = ("age=school", "plan=iep")

STORIES: tuple[Story, ...] = (
    Story(
        "working_504_allergy",
        "A 504 plan for a severe food allergy; it is followed, it works, learning is fine.",
        _a(
            *_SCHOOL_504,
            "plan_followed=yes",
            "plan_enough=yes",
            "learning=well",
            "effort=no",
            "emotions=rarely",
            "attention=no",
            "removals=no",
            "services=no",
            "evaluation=no",
        ),
        "plan_504_working",
        languages=("en", "es"),
    ),
    Story(
        "straight_as_five_hours",
        "ADHD and a 504; straight A's, but five hours of homework a night and meltdowns. The "
        "parent thinks the plan is fine because the grades are.",
        _a(
            *_SCHOOL_504,
            "plan_followed=yes",
            "plan_enough=yes",
            "learning=well",
            "effort=yes",
            "emotions=often",
            "attention=yes",
            "removals=no",
            "services=not_sure",
            "evaluation=no",
        ),
        "current_504_not_enough",
        languages=("en", "es"),
    ),
    Story(
        "kindergartner_sent_home",
        "A kindergartner is sent home early again and again (about six days so far), with "
        "big feelings in class. No plan, never evaluated.",
        _a(
            *_SCHOOL_NONE,
            "learning=not_sure",
            "effort=not_sure",
            "emotions=often",
            "attention=yes",
            "removals=some",
            "services=not_sure",
            "evaluation=no",
        ),
        "full_evaluation_first",
    ),
    Story(
        "kindergartner_over_10_days",
        "The same kindergartner, now sent home or suspended for more than 10 school days.",
        _a(
            *_SCHOOL_NONE,
            "learning=well",
            "effort=no",
            "emotions=often",
            "attention=no",
            "removals=over10",
            "services=not_sure",
            "evaluation=no",
        ),
        "discipline",
        also="full_evaluation_first",
    ),
    Story(
        "evaluation_pending",
        "The parent signed consent three weeks ago; the child is failing reading.",
        _a(
            *_SCHOOL_NONE,
            "learning=failing",
            "effort=yes",
            "emotions=sometimes",
            "attention=yes",
            "removals=no",
            "services=yes",
            "evaluation=pending",
        ),
        "eval_pending",
        languages=("en", "es"),
    ),
    Story(
        "disagrees_with_evaluation",
        "A 504 that helps only a little; the school's evaluation missed the dyslexia the "
        "parent sees every night.",
        _a(
            *_SCHOOL_504,
            "plan_followed=yes",
            "plan_enough=partly",
            "learning=stuck",
            "effort=yes",
            "emotions=sometimes",
            "attention=yes",
            "removals=no",
            "services=yes",
            "evaluation=disagree",
        ),
        "eval_disagree",
    ),
    Story(
        "teachers_ignore_504",
        "The 504 says extended time and notes; teachers never give them. Never evaluated for "
        "special education.",
        _a(
            *_SCHOOL_504,
            "plan_followed=no",
            "plan_enough=not_sure",
            "learning=stuck",
            "effort=yes",
            "emotions=sometimes",
            "attention=yes",
            "removals=no",
            "services=no",
            "evaluation=no",
        ),
        "plan_not_followed",
        also="current_504_not_enough",
        languages=("en", "es"),
    ),
    Story(
        "preschool_speech_delay",
        "A four-year-old with few words; not in the district's schools; nothing asked yet.",
        _a("age=pre", "plan=none", "emotions=rarely", "evaluation=no"),
        "preschool_evaluation",
        languages=("en", "es"),
    ),
    Story(
        "toddler_not_talking",
        "A two-year-old who is not talking yet.",
        _a("age=under3"),
        "early_intervention",
    ),
    Story(
        "harm_with_a_working_504",
        "A working 504; the child said he wants to hurt himself. Safety comes before anything "
        "the plan could do.",
        _a(
            *_SCHOOL_504,
            "plan_followed=yes",
            "plan_enough=yes",
            "learning=well",
            "effort=no",
            "emotions=harm",
            "attention=no",
            "removals=no",
            "services=no",
            "evaluation=no",
        ),
        "safety_first",
        languages=("en", "es"),
    ),
    Story(
        "refused_wait_for_rti",
        "Failing, needs help; the school said no to an evaluation and told the parent to wait "
        "for RTI.",
        _a(
            *_SCHOOL_NONE,
            "learning=failing",
            "effort=yes",
            "emotions=sometimes",
            "attention=no",
            "removals=no",
            "services=yes",
            "evaluation=refused",
        ),
        "eval_refused",
        languages=("en", "es"),
    ),
    Story(
        "refused_nothing_else",
        "The school refused to evaluate; nothing else looks wrong to the parent right now.",
        _a(
            *_SCHOOL_NONE,
            "learning=well",
            "effort=no",
            "emotions=rarely",
            "attention=no",
            "removals=no",
            "services=no",
            "evaluation=refused",
        ),
        "eval_refused",
    ),
    Story(
        "not_eligible_still_failing",
        "Evaluated, told 'not eligible for an IEP', still failing and needing help.",
        _a(
            *_SCHOOL_NONE,
            "learning=failing",
            "effort=yes",
            "emotions=sometimes",
            "attention=yes",
            "removals=no",
            "services=yes",
            "evaluation=not_elig",
        ),
        "evaluation_review",
        languages=("en", "es"),
    ),
    Story(
        "not_eligible_504_fine",
        "Evaluated, no IEP, a 504 instead; it is followed and it works.",
        _a(
            *_SCHOOL_504,
            "plan_followed=yes",
            "plan_enough=yes",
            "learning=well",
            "effort=no",
            "emotions=rarely",
            "attention=no",
            "removals=no",
            "services=no",
            "evaluation=not_elig",
        ),
        "plan_504_working",
    ),
    Story(
        "iep_services_missing",
        "The IEP lists speech therapy twice a week; it has not happened for two months.",
        _a(
            *_SCHOOL_IEP,
            "iep_progress=no",
            "iep_goals=yes",
            "iep_services=no",
            "effort=yes",
            "emotions=sometimes",
            "attention=no",
            "removals=no",
        ),
        "iep_review",
    ),
    Story(
        "iep_going_well",
        "An IEP that is delivered, with clear goals and real progress.",
        _a(
            *_SCHOOL_IEP,
            "iep_progress=yes",
            "iep_goals=yes",
            "iep_services=yes",
            "effort=no",
            "emotions=rarely",
            "attention=no",
            "removals=no",
        ),
        "no_strong_signs",
    ),
    Story(
        "iep_suspended_12_days",
        "A child with an IEP suspended 12 school days this year for behavior.",
        _a(
            *_SCHOOL_IEP,
            "iep_progress=yes",
            "iep_goals=yes",
            "iep_services=yes",
            "effort=no",
            "emotions=often",
            "attention=no",
            "removals=over10",
        ),
        "discipline",
        also="iep_review",
    ),
    Story(
        "parent_not_sure",
        "A parent who does not know what plan there is, or much about school yet.",
        _a(
            "age=school",
            "plan=not_sure",
            "learning=not_sure",
            "effort=not_sure",
            "emotions=sometimes",
            "attention=not_sure",
            "removals=no",
            "services=not_sure",
            "evaluation=not_sure",
        ),
        "find_out_first",
    ),
    Story(
        "mild_attention_doing_well",
        "No plan; doing well, but starting and finishing work is hard.",
        _a(
            *_SCHOOL_NONE,
            "learning=well",
            "effort=no",
            "emotions=rarely",
            "attention=yes",
            "removals=no",
            "services=no",
            "evaluation=no",
        ),
        "plan_504_may_fit",
    ),
    Story(
        "nothing_wrong",
        "No plan; a parent checking after a friend's story; nothing looks wrong.",
        _a(
            *_SCHOOL_NONE,
            "learning=well",
            "effort=no",
            "emotions=rarely",
            "attention=no",
            "removals=no",
            "services=no",
            "evaluation=no",
        ),
        "no_strong_signs",
    ),
    Story(
        "passing_not_reading",
        "Passing, but still cannot read well in third grade; needs a reading specialist.",
        _a(
            *_SCHOOL_NONE,
            "learning=stuck",
            "effort=yes",
            "emotions=sometimes",
            "attention=no",
            "removals=no",
            "services=yes",
            "evaluation=no",
        ),
        "iep_evaluation",
    ),
    Story(
        "failing_nothing_else_known",
        "Failing two subjects; the parent sees no other sign and is unsure about services.",
        _a(
            *_SCHOOL_NONE,
            "learning=failing",
            "effort=no",
            "emotions=rarely",
            "attention=no",
            "removals=no",
            "services=not_sure",
            "evaluation=no",
        ),
        "full_evaluation_first",
    ),
    Story(
        "504_not_enough_never_evaluated",
        "The 504 is followed but does not help enough; never evaluated for special education.",
        _a(
            *_SCHOOL_504,
            "plan_followed=yes",
            "plan_enough=no",
            "learning=stuck",
            "effort=no",
            "emotions=sometimes",
            "attention=no",
            "removals=no",
            "services=not_sure",
            "evaluation=no",
        ),
        "current_504_not_enough",
    ),
    Story(
        "preschool_iep_not_working",
        "A preschooler with an IEP who is not progressing on the goals.",
        _a(
            "age=pre",
            "plan=iep",
            "iep_progress=no",
            "iep_goals=not_sure",
            "iep_services=yes",
            "emotions=sometimes",
        ),
        "iep_review",
    ),
    Story(
        "preschool_refused",
        "The district said no to evaluating a three-year-old with big behavior needs.",
        _a("age=pre", "plan=none", "emotions=often", "evaluation=refused"),
        "eval_refused",
    ),
    Story(
        "504_partly_followed_and_refused",
        "A 504 followed only in part; failing; the school refused a special education evaluation.",
        _a(
            *_SCHOOL_504,
            "plan_followed=partly",
            "plan_enough=no",
            "learning=failing",
            "effort=yes",
            "emotions=often",
            "attention=yes",
            "removals=no",
            "services=yes",
            "evaluation=refused",
        ),
        "eval_refused",
        also="plan_not_followed",
    ),
    Story(
        "threatened_other_kids_iep",
        "A teen with an IEP who threatened to hurt other kids.",
        _a(
            *_SCHOOL_IEP,
            "iep_progress=yes",
            "iep_goals=yes",
            "iep_services=yes",
            "effort=no",
            "emotions=harm",
            "attention=no",
            "removals=no",
        ),
        "safety_first",
    ),
    Story(
        "504_followed_not_sure_enough",
        "The 504 is followed; the parent cannot tell yet whether it is enough.",
        _a(
            *_SCHOOL_504,
            "plan_followed=yes",
            "plan_enough=not_sure",
            "learning=well",
            "effort=no",
            "emotions=rarely",
            "attention=no",
            "removals=no",
            "services=no",
            "evaluation=no",
        ),
        "find_out_first",
    ),
    Story(
        "removed_and_refused",
        "Failing, suspended more than 10 days, and the school refused to evaluate.",
        _a(
            *_SCHOOL_NONE,
            "learning=failing",
            "effort=yes",
            "emotions=often",
            "attention=no",
            "removals=over10",
            "services=yes",
            "evaluation=refused",
        ),
        "discipline",
        also="eval_refused",
    ),
)
