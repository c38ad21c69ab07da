"""The letters' part of `iep-bot content check`: they load, every paragraph cites the law it
relies on and lists the citation under `sources`, none makes a forbidden claim, each fits
one Telegram message even with the longest details, and their buttons fit 64 bytes.

Placeholders, parity between languages and the structure itself are checked as the letters
load (bot/letters/book.py) and by the content check's parity pass (same keys, same
placeholders, nothing left untranslated).
"""

from __future__ import annotations

import datetime as dt
import re

from bot.callbacks import Action, CallbackCodec
from bot.checks import forbidden
from bot.content import Content
from bot.letters.book import CONCERNS, LetterBook, load_letters
from bot.letters.fill import Block, BlockKind, Letter, fill
from bot.letters.text import MESSAGE_LIMIT, plain_text
from flows.letter import MAX_VALUE_CHARS
from flows.spec import ContentError

# A citation in a letter: a regulation, a statute, a memo or a law by name.
CITATION = re.compile(
    r"\b\d+ CFR \d+(?:\.\d+)?(?:\([a-z0-9]+\))*|\b\d+ U\.S\.C\. \d+(?:\(\d+\))?|OSEP Memo \d+-\d+"
    r"|ADA Amendments Act|Enmiendas de la ADA"
)
_DAY = dt.date(2026, 9, 30)  # the longest date in both languages
_SID = "f" * 12  # the longest screening id, for callback sizes


def check_letters(content: Content) -> list[str]:
    """Every problem with the letters, as readable lines (file and key each)."""
    try:
        book = load_letters(content)
    except ContentError as exc:
        return [str(exc)]
    problems = _callback_sizes(book)
    for code, words in book.languages.items():
        src = f"content/{code}/letters.yaml"
        for lid in book.plans:
            letter = words.letters[lid]
            for pid, text in letter.paragraphs.items():
                for cited in CITATION.findall(text):
                    if not any(cited in source for source in letter.sources):
                        problems.append(
                            f"{src}: letters.{lid}.paragraphs.{pid}: cites {cited!r},"
                            f" which letters.{lid}.sources does not list"
                        )
            if not any(CITATION.search(text) for text in letter.paragraphs.values()):
                problems.append(f"{src}: letters.{lid}: cites no law (34 CFR ..., facts.md)")
            longest = _longest(book, lid, code)
            text = plain_text(longest)
            for claim in forbidden.forbidden_claims(text):
                problems.append(f"{src}: letters.{lid}: {claim}")
            if len(text) > MESSAGE_LIMIT:
                problems.append(
                    f"{src}: letters.{lid}: {len(text)} characters with every paragraph and"
                    f" the longest details; keep it within one message ({MESSAGE_LIMIT})"
                )
    return problems


def _longest(book: LetterBook, letter_id: str, lang: str) -> Letter:
    """The letter with every paragraph it may have and every concern it may tell, and each
    detail as long as a parent may type it: the most a message must hold."""
    words = book.language(lang)
    plan = book.plans[letter_id]
    longest = dict.fromkeys(book.fields, "W" * MAX_VALUE_CHARS)
    sample = fill(book, letter_id, lang, answers={}, details=longest, day=_DAY)
    values = {**longest, "date": sample.blocks[0].lines[0]}
    paragraphs = [
        Block(BlockKind.PARAGRAPH, (words.letters[letter_id].paragraphs[pid].format(**values),))
        for pid in sorted(plan.every_paragraph() - {CONCERNS})
    ]
    told = tuple(
        sentence
        for qid in plan.concerns
        for sentence in words.concern_sentences.get(qid, {}).values()
    )
    if told:
        paragraphs += [
            Block(BlockKind.PARAGRAPH, (words.concerns_intro,)),
            Block(BlockKind.BULLETS, told),
        ]
    # The date, the addresses, the subject, the student and the greeting; at the end the
    # reply and the signature.
    blocks = (*sample.blocks[:5], *paragraphs, *sample.blocks[-2:])
    return Letter(letter_id, lang, sample.subject, sample.file_stem, blocks)


def _callback_sizes(book: LetterBook) -> list[str]:
    """The longest letter button (a skip, with the longest letter and detail ids)."""
    codec = CallbackCodec(b"x" * 32)
    problems = []
    for lid in book.plans:
        for detail in book.fields:
            try:
                codec.encode(Action("W", ("k", "f" * 6, detail, lid, _SID)))
            except ValueError as exc:
                problems.append(f"content/letters.yaml: letters.{lid} with {detail}: {exc}")
    return problems
