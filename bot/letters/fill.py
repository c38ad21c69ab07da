"""A letter filled in: the parent's answers choose its paragraphs and tell its concerns, the
details they typed (or blank lines) and the date go in. Pure: words in, blocks of text out;
text.py, word.py and pdf.py lay the same blocks out as a message, a Word file and a PDF.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.content import REFERENCE_LANGUAGE
from bot.letters.book import BOTH, CONCERNS, LetterBook, LetterLanguage

BLANK = "________"  # a detail left blank: a line to fill in by hand
BLANK_CONCERN = "_" * 44  # a concern to write in by hand, when the answers tell none


class BlockKind(StrEnum):
    LINES = "lines"  # lines kept together (the date, the addresses, the signature)
    SUBJECT = "subject"  # the "Re:" line, in bold where the form allows
    PARAGRAPH = "paragraph"
    BULLETS = "bullets"  # one item a line


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Letter:
    """One letter in one language, ready to lay out."""

    letter_id: str
    lang: str
    subject: str
    file_stem: str
    blocks: tuple[Block, ...]
    heading: str | None = None  # above a translation: whom it is for, which one to send


def letter_date(day: dt.date, words: LetterLanguage) -> str:
    """The date as a letter in this language writes it."""
    return words.common["date"].format(
        day=day.day, month=words.months[day.month - 1], year=day.year
    )


def languages_of(choice: str, chat_lang: str, available: Sequence[str]) -> tuple[str, ...]:
    """The letter languages a choice means: one code, or for "both" the school's (English)
    and the parent's (the chat's, or the first other one when the chat is in English)."""
    if choice != BOTH:
        return (choice,)
    other = chat_lang if chat_lang != REFERENCE_LANGUAGE else None
    other = other or next((c for c in available if c != REFERENCE_LANGUAGE), None)
    return (REFERENCE_LANGUAGE, other) if other else (REFERENCE_LANGUAGE,)


def fill(
    book: LetterBook,
    letter_id: str,
    lang: str,
    *,
    answers: Mapping[str, str],
    details: Mapping[str, str | None],
    day: dt.date,
    translation: bool = False,
) -> Letter:
    """The letter `letter_id` in `lang` for these answers and details, dated `day`."""
    plan = book.plans[letter_id]
    words = book.language(lang)
    own = words.letters[letter_id]
    values = {field: details.get(field) or BLANK for field in book.fields}
    values["date"] = letter_date(day, words)
    common = words.common

    def said(key: str, **extra: str) -> str:
        return common[key].format(**values, **extra)

    blocks = [
        Block(BlockKind.LINES, (values["date"],)),
        Block(BlockKind.LINES, (said("to"), said("copy"))),
        Block(BlockKind.SUBJECT, (said("subject", subject=own.subject),)),
        Block(BlockKind.LINES, (said("student"), said("birth_date"), said("school_grade"))),
        Block(BlockKind.PARAGRAPH, (said("greeting"),)),
    ]
    for paragraph in plan.paragraphs(answers):
        if paragraph == CONCERNS:
            blocks += _concerns(plan.concerns, words, answers)
        else:
            blocks.append(Block(BlockKind.PARAGRAPH, (own.paragraphs[paragraph].format(**values),)))
    blocks.append(Block(BlockKind.PARAGRAPH, (said("reply"),)))
    blocks.append(
        Block(BlockKind.LINES, (said("closing"), "", values["parent_name"], said("contact")))
    )
    return Letter(
        letter_id=letter_id,
        lang=words.code,
        subject=own.subject,
        file_stem=own.file,
        blocks=tuple(blocks),
        heading=common["translation"] if translation else None,
    )


def fill_all(
    book: LetterBook,
    letter_id: str,
    langs: Sequence[str],
    *,
    answers: Mapping[str, str],
    details: Mapping[str, str | None],
    day: dt.date,
) -> tuple[Letter, ...]:
    """The letter in each language; every one after the first is a translation of it."""
    return tuple(
        fill(
            book,
            letter_id,
            lang,
            answers=answers,
            details=details,
            day=day,
            translation=i > 0,
        )
        for i, lang in enumerate(langs)
    )


def concerns_told(
    questions: Sequence[str], words: LetterLanguage, answers: Mapping[str, str]
) -> list[str]:
    """The concern sentences these answers give, in the letter's order."""
    return [
        sentence
        for qid in questions
        if (sentence := words.concern_sentences.get(qid, {}).get(answers.get(qid, ""))) is not None
    ]


def _concerns(
    questions: Sequence[str], words: LetterLanguage, answers: Mapping[str, str]
) -> list[Block]:
    told = concerns_told(questions, words, answers)
    if told:
        return [
            Block(BlockKind.PARAGRAPH, (words.concerns_intro,)),
            Block(BlockKind.BULLETS, tuple(told)),
        ]
    # Nothing told (a letter from the Learn menu): room to write the concerns in by hand.
    return [
        Block(BlockKind.PARAGRAPH, (words.concerns_none,)),
        Block(BlockKind.BULLETS, (BLANK_CONCERN, BLANK_CONCERN)),
    ]


def file_name(letters: Sequence[Letter], day: dt.date, extension: str) -> str:
    """What the files are called: what and when, in the first letter's language
    (evaluation-request-2026-12-02.pdf; with a translation, evaluation-request-en-es-...)."""
    first = letters[0]
    langs = "-" + "-".join(letter.lang for letter in letters) if len(letters) > 1 else ""
    return f"{first.file_stem}{langs}-{day.isoformat()}.{extension}"
