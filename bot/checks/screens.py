"""Render every screen a parent can see, in every language, and measure it on a phone.

Part of `iep-bot content check`: the same Conversation and result code the bot runs, over
a throwaway in-memory database, so a content edit that pushes Book off the first screen or
cuts a button is caught before a parent sees it. Limits come from bot/layout.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bot.callbacks import Action, Kind
from bot.checks.followup_screens import followup_screens
from bot.config import Settings
from bot.content import MESSAGE_LIMIT, Content, LanguagePack
from bot.html import visible_text
from bot.parent.conversation import Chat, Conversation
from bot.parent.layout import LABEL_WIDTH, SCREEN_LINES, fits_row, fits_week, screen_lines
from bot.parent.letters import LETTER_KIND
from bot.storage import Storage, StoredSession
from bot.views import Screen
from flows.outcomes import Decision
from flows.paths import distinct_decisions
from flows.screening import Screening
from flows.spec import ContentError

_SID = "f" * 12  # the longest session id, for callback sizes


def check_screens(content: Content) -> list[str]:
    """Problems with how screens fit a phone: long results, cut buttons, over-long messages."""
    storage = Storage(":memory:", clock=lambda: 1_767_225_600.0)
    storage.migrate()
    settings = Settings(booking_url="https://book.example.org/", practice_name="Practice")
    try:
        conversation = Conversation(content, storage, settings, Screening(content.spec))
    except ContentError:
        storage.close()
        return []  # the letters do not load: bot/checks/letters_check.py says why
    problems: list[str] = []
    try:
        decisions = sorted(distinct_decisions(content.spec), key=repr)
        for pack in content.languages.values():
            try:
                problems += _results(conversation, pack, decisions)
                for where, screen in _other_screens(conversation, content, pack):
                    problems += _fits(pack, where, screen)
                for where, screen in _letter_screens(conversation, pack):
                    problems += _fits(pack, where, screen)
                for where, screen in followup_screens(conversation, pack):
                    problems += _fits(pack, where, screen) + _one_screen(pack, where, screen)
            except (KeyError, IndexError, ValueError) as exc:
                # A broken placeholder or key, reported above by the parity check.
                problems.append(
                    f"content/{pack.code}: screens could not be drawn ({exc!r}): "
                    "fix the problems above first"
                )
    finally:
        storage.close()
    return problems


def _results(
    conversation: Conversation, pack: LanguagePack, decisions: Sequence[Decision]
) -> list[str]:
    """The first result message fits one screen for every result this language can show
    ("Write the letter" included, where the result offers one)."""
    worst: dict[str, tuple[int, str]] = {}
    problems: list[str] = []
    for decision in decisions:
        first = conversation.result_screen(pack, decision, _SID, replace=False)
        lines = screen_lines(first.text, len(first.rows))
        oid = decision.outcome_id
        if lines > worst.get(oid, (0, ""))[0]:
            worst[oid] = (lines, ", ".join(decision.flags) or "no red flags")
        problems += _fits(pack, f"outcomes.{oid} (result)", first)
        details = conversation.details_result(pack, decision, _SID)
        problems += _fits(pack, f"outcomes.{oid} (details)", details)
    src = f"content/{pack.code}/screening.yaml"
    for oid, (lines, flags) in sorted(worst.items()):
        if lines > SCREEN_LINES:
            problems.append(
                f"{src}: outcomes.{oid}: the first result message takes {lines} phone lines "
                f"({flags}); it must fit {SCREEN_LINES}"
            )
    return sorted(set(problems))


def _fits(pack: LanguagePack, where: str, screen: Screen) -> list[str]:
    problems = []
    if len(screen.text) > MESSAGE_LIMIT:
        problems.append(f"content/{pack.code}: {where}: over {MESSAGE_LIMIT} characters")
    for row in screen.rows:
        labels = [visible_text(b.label) for b in row]
        if not fits_row(labels) and not fits_week(labels):
            width = LABEL_WIDTH.get(len(labels))
            limit = f"at most {width} characters each" if width else "never four in a row"
            problems.append(
                f"content/{pack.code}: {where}: buttons {labels} are cut on a phone "
                f"({len(labels)} in a row: {limit})"
            )
    return problems


def _one_screen(pack: LanguagePack, where: str, screen: Screen) -> list[str]:
    """A message that must fit one phone screen, its buttons included."""
    lines = screen_lines(screen.text, len(screen.rows))
    if lines <= SCREEN_LINES:
        return []
    return [f"content/{pack.code}: {where}: takes {lines} phone lines; it must fit {SCREEN_LINES}"]


def _other_screens(
    conversation: Conversation, content: Content, pack: LanguagePack
) -> Iterator[tuple[str, Screen]]:
    """Every screen but results, as the conversation renders it in this language."""
    chat = Chat(f"check-{pack.code}", pack.code)
    conversation.storage.set_language(chat.key, pack.code)
    yield "welcome", conversation.start(chat, None).screens[-1]
    yield "learn menu", conversation.press(chat, Action(Kind.LEARN)).screens[-1]
    for explainer in pack.explainers.values():
        for page in range(len(explainer.pages)):
            reply = conversation.press(chat, Action(Kind.EXPLAIN, (explainer.id, str(page))))
            yield f"learn.yaml explainers.{explainer.id} page {page + 1}", reply.screens[-1]
    yield "booking", conversation.press(chat, Action(Kind.BOOK, ("-",))).screens[-1]
    yield "free help", conversation.press(chat, Action(Kind.FREE_HELP)).screens[-1]
    yield "privacy", conversation.privacy(chat).screens[-1]
    yield "help", conversation.help(chat).screens[-1]
    for qid, question in content.spec.questions.items():
        # Once with no earlier answer, then with each option marked "✓" (after Back).
        for earlier in (None, *question.options):
            session = StoredSession(
                chat_key=chat.key,
                session_id=_SID,
                lang=pack.code,
                source="check",
                state=qid,
                answers={qid: earlier} if earlier else {},
                history=[] if qid == content.spec.start else [content.spec.start],
                started_day="2026-01-01",
                updated_at=0.0,
            )
            conversation.storage.save_session(session)
            screen = conversation.press(chat, Action(Kind.CONTINUE)).screens[-1]
            yield f"screening.yaml questions.{qid}", screen
    yield "resume offer", conversation.start(chat, None).screens[-1]
    yield "crisis pause", conversation.crisis_screen(pack, session, replace=False)
    conversation.storage.delete_session(chat.key)
    yield "crisis, no screening", conversation.crisis_screen(pack, None, replace=False)


def _letter_screens(conversation: Conversation, pack: LanguagePack) -> Iterator[tuple[str, Screen]]:
    """Every screen of the letter steps, as the conversation renders it in this language."""
    desk = conversation.letters
    chat = f"check-letters-{pack.code}"

    def press(*args: str) -> Screen:
        return desk.press(chat, pack, Action(LETTER_KIND, args)).screens[-1]

    def open_letter() -> tuple[str, str, str]:
        press("n", next(iter(desk.book.plans)), "-")
        letter = desk.drafts.get(chat)
        assert letter is not None
        return letter.draft_id, letter.letter_id, letter.session_id

    yield "letters.yaml: the letters menu", press("m")
    for lid in desk.book.plans:
        yield f"letters.yaml: letters.{lid} (its language)", press("n", lid, "-")
    draft, *ids = open_letter()
    yield "letters.yaml: flow.privacy and the first detail", press("g", draft, "en", *ids)
    for field in desk.book.fields[:-1]:
        yield f"letters.yaml: flow.fields.{field}", press("k", draft, field, *ids)
    done = desk.press(chat, pack, Action(LETTER_KIND, ("k", draft, desk.book.fields[-1], *ids)))
    yield "letters.yaml: flow.ready", done.screens[0]
    yield "letters.yaml: flow.advice", done.screens[-1]
    yield "letters.yaml: flow.interrupted", press("k", "000000", "grade", *ids)
    draft, *ids = open_letter()
    yield "letters.yaml: flow.cancelled", press("x", draft, *ids)
