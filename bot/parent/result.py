"""A screening result as two screens: the first fits one phone screen, the details follow.

The first message holds what a parent needs to act: the red flags (above the conclusion),
the title, one or two sentences, up to three reasons, the first step, the Book and Free
help buttons, "⏰ Track the deadline" when the first step is to track the school's timeline,
and "Write the letter" when the first step is a request. Everything else
(every step, the red flags in full, another outcome the answers point to, the full
disclaimer) is one tap away. Pure: no Telegram and no storage, so the content check renders
every possible result with the same code the bot uses.
"""

from __future__ import annotations

from bot.callbacks import Action, Kind
from bot.content import LanguagePack
from bot.parent.layout import SCREEN_LINES, screen_lines
from bot.views import Button, Screen
from flows.outcomes import Decision


def book_row(pack: LanguagePack, session_id: str = "-") -> tuple[Button, ...]:
    """Book, with the free Parent Center beside it: trust is earned by showing both."""
    return (
        Button(pack.t("buttons.book"), Action(Kind.BOOK, (session_id,))),
        Button(pack.t("buttons.free_help"), Action(Kind.FREE_HELP)),
    )


def _because(pack: LanguagePack, reasons: tuple[tuple[str, str], ...]) -> str:
    """ "Because you said:" and a bullet for each answer, in the parent's words."""
    return (
        pack.t("because") + "\n" + "\n".join(f"• {pack.questions[q].said[o]}" for q, o in reasons)
    )


def _first_text(pack: LanguagePack, decision: Decision, reasons: int) -> str:
    words = pack.outcomes[decision.outcome_id]
    # Blank lines cost a phone line each: the red flags stand as one block, and the
    # disclaimer sits right under the first step.
    parts = ["\n".join(pack.flags[flag] for flag in decision.flags)] if decision.flags else []
    parts.append(f"<b>{words.title}</b>\n{words.lead}")
    if reasons:
        parts.append(_because(pack, decision.reasons[:reasons]))
    parts.append(
        f"<b>{pack.t('first_step')}</b> {words.steps[0]}\n<i>{pack.t('disclaimer_short')}</i>"
    )
    return "\n\n".join(parts)


def first_screen(
    pack: LanguagePack,
    decision: Decision,
    session_id: str,
    *,
    replace: bool,
    letter_row: tuple[Button, ...] = (),
    deadline_row: tuple[Button, ...] = (),
) -> Screen:
    """The result as it first appears; reasons give way, last first, to fit one screen
    (they are all in the details). Under Book and Free help: `deadline_row` ("⏰ Track the
    deadline") when the first step is to track the school's timeline, and `letter_row`
    ("Write the letter") when it is a request."""
    rows = (
        book_row(pack, session_id),
        *((deadline_row,) if deadline_row else ()),
        *((letter_row,) if letter_row else ()),
        (Button(pack.t("buttons.details"), Action(Kind.DETAILS, (session_id,))),),
    )
    reasons = len(decision.reasons)
    text = _first_text(pack, decision, reasons)
    while reasons > 0 and screen_lines(text, len(rows)) > SCREEN_LINES:
        reasons -= 1
        text = _first_text(pack, decision, reasons)
    return Screen(text, rows, replace=replace)


def details_screen(
    pack: LanguagePack,
    decision: Decision,
    session_id: str,
    *,
    letter_row: tuple[Button, ...] = (),
    deadline_row: tuple[Button, ...] = (),
) -> Screen:
    """Every step, the red flags in full, what else the answers point to, the disclaimer."""
    words = pack.outcomes[decision.outcome_id]
    parts = [f"<b>{words.title}</b>\n{words.lead}"]
    parts += [pack.notices[flag] for flag in decision.flags]
    steps = "\n".join(f"{i}. {step}" for i, step in enumerate(words.steps, 1))
    parts.append(f"<b>{pack.t('next_steps')}</b>\n{steps}")
    if decision.reasons:
        parts.append(_because(pack, decision.reasons))
    if decision.also is not None:
        also = pack.outcomes[decision.also]
        parts.append(f"{pack.t('also')}\n<b>{also.title}</b>: {also.steps[0]}")
    parts.append(f"<i>{pack.t('disclaimer')}</i>")
    rows = (
        book_row(pack, session_id),
        *((deadline_row,) if deadline_row else ()),
        *((letter_row,) if letter_row else ()),
        (Button(pack.t("subscribe.outcome_button"), Action(Kind.TIPS_OFFER)),),
        (
            Button(pack.t("buttons.learn_more"), Action(Kind.EXPLAIN, (decision.explainer,))),
            Button(pack.t("buttons.start_over"), Action(Kind.OVER)),
        ),
    )
    return Screen("\n\n".join(parts), rows)
