"""The letters themselves: every letter in every language in all three forms, read back as a
parent (and the school) would: the Word file opened, the PDF's text extracted and its pages
counted, the message within Telegram's limit."""

from __future__ import annotations

import datetime as dt
import io
from functools import cache

import docx
import pypdf
import pytest

from bot.content import Content
from bot.letters.book import LetterBook, load_letters
from bot.letters.fill import BLANK, fill_all, languages_of
from bot.letters.render import LetterRenderError, RenderedLetter, render
from bot.letters.text import MESSAGE_LIMIT, messages, plain_text
from flows.letter import InvalidValue, LetterSteps, clean_value
from flows.machine import NotAllowed

DAY = dt.date(2026, 12, 2)
CHOICES = (("en",), ("es",), ("en", "es"))


@pytest.fixture(scope="module")
def book(content: Content) -> LetterBook:
    return load_letters(content)


@cache
def _made(letter_id: str, langs: tuple[str, ...]) -> RenderedLetter:
    """Each letter rendered once for the whole module (the PDF and Word files are read
    back by several tests)."""
    from bot.content import DEFAULT_CONTENT_DIR, load_content

    book = load_letters(load_content(DEFAULT_CONTENT_DIR))
    plan = book.plans[letter_id]
    letters = fill_all(
        book, letter_id, langs, answers=plan.sample, details=book.sample_details, day=DAY
    )
    return render(letters, DAY)


def _pdf(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def _docx_paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


def _concerns(book: LetterBook, letter_id: str, lang: str) -> list[str]:
    plan, words = book.plans[letter_id], book.language(lang)
    return [
        words.concern_sentences[q][plan.sample[q]]
        for q in plan.concerns
        if plan.sample.get(q) in words.concern_sentences.get(q, {})
    ]


def test_every_letter_in_every_language_renders_in_all_three_forms(book: LetterBook) -> None:
    for letter_id in book.plans:
        for langs in CHOICES:
            made = _made(letter_id, langs)
            stem = book.language(langs[0]).letters[letter_id].file
            suffix = "-en-es" if len(langs) > 1 else ""
            assert made.docx.filename == f"{stem}{suffix}-2026-12-02.docx"
            assert made.pdf.filename == f"{stem}{suffix}-2026-12-02.pdf"
            assert made.docx.data.startswith(b"PK") and made.pdf.data.startswith(b"%PDF")
            assert len(made.messages) == len(langs)  # one message per language
            assert all(len(text) <= MESSAGE_LIMIT for text in made.messages)


def test_file_names_say_what_and_when_in_the_letters_language(book: LetterBook) -> None:
    assert _made("evaluation", ("en",)).pdf.filename == "evaluation-request-2026-12-02.pdf"
    assert _made("evaluation", ("es",)).pdf.filename == "solicitud-de-evaluacion-2026-12-02.pdf"
    assert _made("records", ("en", "es")).docx.filename == "records-request-en-es-2026-12-02.docx"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_word_file_opens_and_holds_the_letter(book: LetterBook, lang: str) -> None:
    made = _made("evaluation", (lang,))
    paragraphs = _docx_paragraphs(made.docx.data)
    words = book.language(lang)
    text = "\n".join(paragraphs)
    assert paragraphs[0] == ("December 2, 2026" if lang == "en" else "2 de diciembre de 2026")
    assert words.letters["evaluation"].subject in text
    assert "Zoë Núñez" in text and "María José Núñez" in text
    for sentence in _concerns(book, "evaluation", lang):
        assert sentence in paragraphs  # a bullet each, in Word's own list style
    assert "34 CFR 300.301(b)" in text and "34 CFR 300.300(a)" in text
    document = docx.Document(io.BytesIO(made.docx.data))
    assert document.core_properties.author == ""  # never "python-docx", nor a name
    assert document.sections[0].page_width == docx.shared.Inches(8.5)


def test_both_languages_are_two_sections_the_english_letter_first(book: LetterBook) -> None:
    made = _made("pwn", ("en", "es"))
    paragraphs = _docx_paragraphs(made.docx.data)
    english = paragraphs.index("Re: Request for Prior Written Notice")
    spanish = paragraphs.index("Asunto: Solicitud de Aviso Previo por Escrito")
    assert english < spanish
    assert any(p.startswith("Traducción al español, para usted") for p in paragraphs[english:])
    pages, text = _pdf(made.pdf.data)
    assert pages == 2 and text.index("Prior Written Notice") < text.index("Aviso Previo")
    assert made.messages[0].startswith("December 2, 2026")
    assert made.messages[1].startswith("Traducción al español, para usted")


@pytest.mark.parametrize("letter_id", ["evaluation", "pwn", "mdr", "meeting_504", "iep_meeting"])
def test_the_pdf_has_the_accents_and_the_parents_concerns_on_one_page(
    book: LetterBook, letter_id: str
) -> None:
    pages, text = _pdf(_made(letter_id, ("es",)).pdf.data)
    flat = " ".join(text.split())
    assert pages == 1
    for mark in ("é", "ó", "ñ"):
        assert mark in flat, mark
    if letter_id == "mdr":
        assert "¿son estas salidas un cambio de ubicación?" in flat
        assert "más" in flat and "días" in flat and "según" in flat.lower()
    for sentence in _concerns(book, letter_id, "es"):
        assert " ".join(sentence.split()) in flat
    english_pages, english = _pdf(_made(letter_id, ("en",)).pdf.data)
    assert english_pages == 1
    for sentence in _concerns(book, letter_id, "en"):
        assert " ".join(sentence.split()) in " ".join(english.split())


def test_every_single_language_letter_is_one_pdf_page(book: LetterBook) -> None:
    for letter_id in book.plans:
        for lang in ("en", "es"):
            assert _pdf(_made(letter_id, (lang,)).pdf.data)[0] == 1, (letter_id, lang)


def test_spanish_marks_and_typographic_punctuation_reach_the_pdf(book: LetterBook) -> None:
    details = {"parent_name": "¿Ángela? ¡Sí! “Muñoz” — Güemes", "child_name": "Nguyễn Đức"}
    letters = fill_all(book, "records", ("es",), answers={}, details=details, day=DAY)
    _, text = _pdf(render(letters, DAY).pdf.data)
    assert "¿Ángela? ¡Sí! “Muñoz” — Güemes" in text
    assert "Nguyễn Đức" in text  # names beyond Spanish print too


def test_a_detail_left_blank_is_a_line_to_fill_in(book: LetterBook) -> None:
    [letter] = fill_all(book, "evaluation", ("en",), answers={}, details={}, day=DAY)
    text = plain_text(letter)
    assert f"Student: {BLANK}" in text and f"To: The Principal, {BLANK}" in text
    assert f"my child, {BLANK}, to find out" in text
    # No answers (a letter from the Learn menu): room to write the concerns in by hand.
    assert "What I see:" in text and "• ____" in text


def test_what_the_parent_typed_is_escaped_in_the_message_and_kept_in_the_files(
    book: LetterBook,
) -> None:
    details = {"parent_name": "Ana <b>Ruiz</b> & co"}
    letters = fill_all(book, "iee", ("en",), answers={}, details=details, day=DAY)
    made = render(letters, DAY)
    assert "Ana &lt;b&gt;Ruiz&lt;/b&gt; &amp; co" in made.messages[0]
    assert "Ana <b>Ruiz</b> & co" in "\n".join(_docx_paragraphs(made.docx.data))


def test_a_long_letter_is_split_between_blocks_within_the_limit(book: LetterBook) -> None:
    letters = fill_all(
        book, "mdr", ("en", "es"), answers=book.plans["mdr"].sample, details={}, day=DAY
    )
    chunks = messages(letters, limit=900)
    assert len(chunks) > 4 and all(len(chunk) <= 900 for chunk in chunks)
    joined = "\n\n".join(chunks)
    assert joined.startswith("December 2, 2026") and "Asunto:" in joined


def test_a_failure_names_the_form_never_the_letters_words(
    book: LetterBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.letters.render as rendering

    def broken(letters: object) -> bytes:
        raise ValueError("cannot print Zebulon Quixote")

    monkeypatch.setattr(rendering, "pdf_bytes", broken)
    letters = fill_all(book, "iee", ("en",), answers={}, details={}, day=DAY)
    with pytest.raises(LetterRenderError) as caught:
        render(letters, DAY)
    assert str(caught.value) == "the letter's pdf could not be made"
    assert caught.value.__suppress_context__ and caught.value.__cause__ is None


def test_languages_of_a_choice() -> None:
    assert languages_of("both", "es", ["en", "es"]) == ("en", "es")
    assert languages_of("both", "en", ["en", "es"]) == ("en", "es")
    assert languages_of("es", "en", ["en", "es"]) == ("es",)


# --- the pure machine -----------------------------------------------------------------------


def test_the_letter_machine_takes_the_language_then_each_detail() -> None:
    steps = LetterSteps(("parent_name", "child_name", "school"))
    draft = steps.new_draft()
    with pytest.raises(NotAllowed):
        steps.give(draft, "too early")
    steps.choose_language(draft, "both")
    assert (draft.state, draft.language, steps.position(draft)) == ("parent_name", "both", 1)
    with pytest.raises(NotAllowed):
        steps.choose_language(draft, "es")
    steps.give(draft, "  Ana\tRuiz \n")
    with pytest.raises(NotAllowed):
        steps.skip(draft, "parent_name")  # an old button: never skips the next detail
    steps.skip(draft, "child_name")
    with pytest.raises(InvalidValue):
        steps.give(draft, " \u200b\n ")
    steps.give(draft, "x" * 300)
    assert draft.done
    assert draft.values == {"parent_name": "Ana Ruiz", "child_name": None, "school": "x" * 100}


def test_clean_value_keeps_letters_and_drops_control_characters() -> None:
    assert clean_value("Zoë\u0000 Núñez\u202e") == "Zoë Núñez"
    assert clean_value("a\r\nb") == "a b"


def test_a_letter_in_the_making_is_forgotten_30_minutes_after_it_started() -> None:
    from bot.parent.letter_drafts import LetterDrafts, OpenLetter
    from tests.clock import FakeClock

    clock = FakeClock()
    drafts = LetterDrafts(clock)
    steps = LetterSteps(("parent_name",))

    def letter(draft_id: str) -> OpenLetter:
        return OpenLetter(draft_id, "records", "-", {}, steps.new_draft(), clock())

    drafts.open("a", letter("aaaaaa"))
    clock.advance(seconds=600)
    drafts.open("b", letter("bbbbbb"))
    clock.advance(seconds=1200)  # "a" is 30 minutes old
    assert drafts.get("a") is None and drafts.get("b") is not None
    gone = drafts.gone("a")
    assert gone is not None and (gone.letter_id, gone.session_id) == ("records", "-")
    assert drafts.gone("a") is None  # told once
    drafts.close("b", made=True)
    assert len(drafts) == 0 and drafts.was_made("b", "bbbbbb") and drafts.gone("b") is None
