"""All three forms of a letter in one go: the messages to copy, a Word file and a PDF.

A failure here says which form failed and nothing else: the letter holds what the parent
typed (a child's name, a birth date), and an exception's message or its chain would carry
that into the logs and the staff alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.letters.fill import Letter, file_name
from bot.letters.pdf import pdf_bytes
from bot.letters.text import messages
from bot.letters.word import docx_bytes

T = TypeVar("T")


class LetterRenderError(RuntimeError):
    """A form of the letter could not be made (which one, never what it held)."""


@dataclass(frozen=True)
class Document:
    filename: str
    data: bytes


@dataclass(frozen=True)
class RenderedLetter:
    messages: tuple[str, ...]  # Telegram HTML, each within 4096 characters
    docx: Document
    pdf: Document


def render(letters: Sequence[Letter], day: dt.date) -> RenderedLetter:
    """The letter (and its translation, if any) as messages, a .docx and a .pdf."""
    return RenderedLetter(
        messages=tuple(_made("text", lambda: messages(letters))),
        docx=Document(file_name(letters, day, "docx"), _made("docx", lambda: docx_bytes(letters))),
        pdf=Document(file_name(letters, day, "pdf"), _made("pdf", lambda: pdf_bytes(letters))),
    )


def _made(form: str, make: Callable[[], T]) -> T:
    try:
        return make()
    except Exception:
        # `from None`, and no message of the original: see the module's docstring.
        raise LetterRenderError(f"the letter's {form} could not be made") from None
