"""A letter through Telegram (the fake Bot API): from a result to the message and both files,
what the parent typed kept nowhere, and what happens after 30 minutes or a restart."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import docx
import pypdf
import pytest

from bot.logs import configure_logging
from tests.botenv import BotEnv
from tests.conftest import STAFF_ID
from tests.fakebot import ChatClient
from tests.parents import (
    CHECKIN_OFFERS,
    TO_IEP_EVALUATION,
    TO_IEP_EVALUATION_ES,
    finish,
    result_message,
)

# Distinctive, so that finding one anywhere means it was kept.
PARENT = "Philippa Quennell-Ashbury"
CHILD = "Zebulon Quixote-Marlowe"
BIRTH = "February 29, 2016 (Xq7)"
SCHOOL = "Xylophone Heights Academy"
GRADE = "Grade 4Zq"
DAY = "2026-11-28"  # the fake clock's day in TIMEZONE (America/Chicago)


@pytest.fixture
def debug_log() -> Iterator[list[str]]:
    """Everything logged with the bot's own logging set-up at LOG_LEVEL=DEBUG, tracebacks
    included."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    quiet = ("telegram", "transitions", "httpx", "httpcore", "apscheduler", "tornado.access")
    saved_levels = {name: logging.getLogger(name).level for name in quiet}
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    configure_logging("DEBUG")
    keep = Keep(logging.DEBUG)
    keep.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(keep)
    try:
        yield lines
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


async def _to_the_letter(maria: ChatClient, language: str = "English for the school") -> None:
    await finish(maria, TO_IEP_EVALUATION)
    result = result_message(maria)
    assert "✍️ Write the letter" in result.buttons
    await maria.press_on(result.message_id, "✍️ Write the letter")
    assert "Evaluation request" in maria.last_text and "Which language" in maria.last_text
    await maria.press(language)


async def test_from_a_result_to_the_letter_and_both_files(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    result = result_message(maria)
    assert result.buttons == [
        "Book a consult",
        "Free help",
        "✍️ Write the letter",
        "Next steps and details",
    ]
    await maria.press_on(result.message_id, "✍️ Write the letter")
    assert maria.buttons == [
        "English for the school",
        "Spanish",
        "Both side by side",
        "Cancel the letter",
    ]
    await maria.press("English for the school")
    first = maria.last_text
    assert "I use them only to make this letter, and I do not keep them" in first
    assert "1 of 5" in first and "Your name" in first
    await maria.send(PARENT)
    assert "2 of 5" in maria.last_text
    await maria.press("Leave a blank line")  # the child's name
    assert "3 of 5" in maria.last_text
    await maria.send(BIRTH)
    await maria.send(SCHOOL)
    mark = maria.mark()
    await maria.send(GRADE)

    shown = maria.new_since(mark)
    assert "Your letter is ready" in shown[0].text
    letter = shown[1].text
    assert letter.startswith("November 28, 2026")
    assert f"To: The Principal, {SCHOOL}" in letter and "Student: ________" in letter
    assert "My child passes, but is not making real progress" in letter
    assert "I will sign it when it arrives (34 CFR 300.300(a))" in letter
    assert PARENT in letter and shown[1].buttons == []  # nothing to copy by mistake
    word, pdf = (m for m in shown if m.is_document)
    assert word.document_filename == f"evaluation-request-{DAY}.docx"
    assert pdf.document_filename == f"evaluation-request-{DAY}.pdf"
    assert pdf.document_mime_type == "application/pdf" and "print" in pdf.text
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.document or b"")).paragraphs]
    assert f"Date of birth: {BIRTH}" in "\n".join(paragraphs)
    pages = pypdf.PdfReader(io.BytesIO(pdf.document or b"")).pages
    assert len(pages) == 1 and GRADE in pages[0].extract_text()
    advice = shown[-1].text
    assert "principal" in advice and "director of special education" in advice
    assert "The 60 days start when the school gets your signed consent" in advice
    assert "Book a consult" in shown[-1].buttons
    assert [m.text for m in shown].index(advice) > shown.index(pdf)  # after the files
    assert env.storage is not None
    assert env.storage.letters_made() == {("evaluation", "en"): 1}
    assert len(env.app.services.conversation.letters.drafts) == 0  # the details are gone


async def test_both_languages_send_the_english_letter_then_the_spanish(env: BotEnv) -> None:
    maria = env.client(language_code="es")
    await maria.send("/start")
    await maria.press("Empezar las preguntas")
    for label in TO_IEP_EVALUATION_ES:
        await maria.press(label)
    await maria.press_on(result_message(maria).message_id, "✍️ Escribir la carta")
    await maria.press("Las dos, lado a lado")
    for _ in range(5):
        await maria.press("Dejar una línea en blanco")
    texts = [m.text for m in maria.messages]
    english = next(i for i, t in enumerate(texts) if t.startswith("November 28, 2026"))
    assert texts[english + 1].startswith("Traducción al español, para usted")
    files = [m.document_filename for m in maria.messages if m.is_document]
    assert files == [f"evaluation-request-en-es-{DAY}.docx", f"evaluation-request-en-es-{DAY}.pdf"]
    assert "Qué hacer ahora" in maria.last_text
    assert env.storage is not None
    assert env.storage.letters_made() == {("evaluation", "en+es"): 1}


async def test_the_details_are_kept_nowhere(
    env: BotEnv, debug_log: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    maria = env.client()
    await _to_the_letter(maria)
    for detail in (PARENT, CHILD, BIRTH, SCHOOL, GRADE):
        await maria.send(detail)
    assert CHILD in maria.messages[-4].text  # the letter was made with them
    # A second letter that fails to render: the crash report holds none of it either.
    import bot.letters.render as rendering

    def broken(letters: object) -> bytes:
        raise ValueError(f"cannot draw {CHILD} at {SCHOOL}")

    monkeypatch.setattr(rendering, "pdf_bytes", broken)
    await maria.press("Main menu")
    await _to_the_letter(maria)
    for detail in (PARENT, CHILD, BIRTH, SCHOOL, GRADE):
        await maria.send(detail)
    assert "something went wrong" in maria.last_text
    assert any("LetterRenderError" in line for line in debug_log)

    everything = env.dump() + "\n".join(debug_log)
    staff_chat = "\n".join(m.source for m in env.api.chats.get(STAFF_ID, []))
    for private in (PARENT, CHILD, BIRTH, SCHOOL, GRADE, "Quixote", "Xylophone", "Xq7"):
        assert private not in everything, private
        assert private not in staff_chat, private
    assert len(env.app.services.conversation.letters.drafts) == 0


async def test_after_30_minutes_the_letter_is_forgotten(env: BotEnv) -> None:
    maria = env.client()
    await _to_the_letter(maria)
    await maria.send(PARENT)
    env.clock.advance(seconds=29 * 60)
    await maria.send(CHILD)
    assert "3 of 5" in maria.last_text
    env.clock.advance(seconds=61)
    await maria.send(SCHOOL)
    assert "more than 30 minutes" in maria.last_text and "Nothing was kept" in maria.last_text
    assert len(env.app.services.conversation.letters.drafts) == 0
    await maria.press("Start the letter again")
    assert "Which language" in maria.last_text  # the same letter, from the same result
    await maria.press("Spanish")
    assert "1 of 5" in maria.last_text


async def test_a_letter_button_after_a_restart_asks_again(env: BotEnv) -> None:
    maria = env.client()
    await _to_the_letter(maria)
    await maria.send(PARENT)
    await env.restart()
    maria = env.client()
    await maria.press("Leave a blank line")
    assert "stopped before it was done" in maria.last_text
    assert (
        maria.callback_answers[-1].text
        == "That button is from an earlier screen. Here is where you are now."
    )
    await maria.press("Start the letter again")
    assert "Which language" in maria.last_text


async def test_crisis_words_typed_into_a_detail_come_first_and_are_not_used(env: BotEnv) -> None:
    maria = env.client()
    await _to_the_letter(maria)
    await maria.send("I want to die")
    assert "988" in maria.last_text and "911" in maria.last_text
    assert "Continue the letter" in maria.buttons
    await maria.press("Continue the letter")
    assert "1 of 5" in maria.last_text and "Your name" in maria.last_text


async def test_from_the_learn_menu_any_letter_cancel_and_edits(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/start")
    await maria.press("Learn about IEP vs 504")
    await maria.press("✍️ Letters to the school")
    assert "Records request" in maria.buttons and "Prior Written Notice" in maria.buttons
    await maria.press("Records request")
    await maria.press("English for the school")
    await maria.send("Ana")
    await maria.edit_last_sent("Anna")
    assert "edited message" in maria.messages[-2].text and "2 of 5" in maria.last_text
    await maria.press("Cancel the letter")
    assert "cancelled" in maria.last_text
    assert len(env.app.services.conversation.letters.drafts) == 0
    await maria.send("Hello")  # no letter open: the usual answer
    assert "only answer the buttons" in maria.messages[-2].text


async def test_a_result_with_two_letters_asks_which_and_keeps_a_way_out(env: BotEnv) -> None:
    maria = env.client()
    # Removed over 10 school days: the removals review and the records request.
    answers = [*TO_IEP_EVALUATION]
    answers[6] = "Yes, over 10 school days"  # the removals question
    await finish(maria, answers)
    result = result_message(maria)
    assert "Over 10 school days out" in result.text
    await maria.press_on(result.message_id, "✍️ Write the letter")
    assert "Which letter?" in maria.last_text
    assert maria.buttons == ["Removals review", "Records request", "Main menu"]
    # The result stays above the choice (with the check-in's offer that followed it).
    assert [m.text for m in maria.messages[-3:-1]] == [result.text, CHECKIN_OFFERS[0]]
    await maria.press("Main menu")
    assert "Start the screening" in maria.buttons
    assert len(env.app.services.conversation.letters.drafts) == 0
