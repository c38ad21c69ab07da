"""A letter as a PDF, with ReportLab's canvas and Liberation Serif (fonts/, OFL): every
Spanish letter and mark (á é í ó ú ñ ü ¿ ¡), typographic quotes and dashes, and most Latin
names (Vietnamese included), embedded as a subset so the file prints the same anywhere.

The layout is a business letter on US Letter, one-inch margins: the usual letter fits one
page; a longer one goes on to the next page, and a translation starts on a page of its own.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.letters.fill import BlockKind, Letter

FONTS = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "LetterSerif", "LetterSerif-Bold"
SIZE = 11.5  # points
LEADING = 14.2  # points from one line to the next
GAP = 8.0  # points between blocks
PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0  # US Letter, in points
MARGIN = 72.0  # one inch
BULLET_INDENT = 16.0  # the text of a bullet item starts here, after "•"
_registered = threading.Lock()


def _register_fonts() -> None:
    """Once per process (ReportLab's font registry is global): parsing both fonts takes a
    few milliseconds, every letter after the first reuses them."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _registered:
        if REGULAR not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "LiberationSerif-Regular.ttf")))
            pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "LiberationSerif-Bold.ttf")))


def wrap(text: str, font: str, width: float) -> list[str]:
    """Lines of at most `width` points; a word wider than a line (a long name typed without
    spaces) is cut, never left running off the page."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, SIZE) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while stringWidth(word, font, SIZE) > width:
            cut = len(word)
            while cut > 1 and stringWidth(word[:cut], font, SIZE) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    lines.append(current)
    return lines


class _Page:
    """Where the next line goes; a new page when the bottom margin is reached."""

    def __init__(self, canvas: Any) -> None:
        self.canvas = canvas
        self.y = PAGE_HEIGHT - MARGIN
        self.pages = 1

    def line(self, text: str, *, x: float = MARGIN, font: str = REGULAR) -> None:
        if self.y - LEADING < MARGIN - 4:
            self.new_page()
        self.y -= LEADING
        self.canvas.setFont(font, SIZE)
        self.canvas.drawString(x, self.y, text)

    def gap(self) -> None:
        self.y -= GAP

    def new_page(self) -> None:
        self.canvas.showPage()
        self.pages += 1
        self.y = PAGE_HEIGHT - MARGIN


def pdf_bytes(letters: Sequence[Letter]) -> bytes:
    """The letters in one PDF; each after the first starts on a new page."""
    # Loaded here: the bot starts, and answers every other tap, without ReportLab.
    from reportlab.pdfgen.canvas import Canvas

    _register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    # Nothing about who made it: ReportLab would write "anonymous" as the author.
    canvas.setAuthor("")
    canvas.setCreator("")
    canvas.setTitle(letters[0].subject if letters else "")
    page = _Page(canvas)
    width = PAGE_WIDTH - 2 * MARGIN
    for index, letter in enumerate(letters):
        if index:
            page.new_page()
        if letter.heading:
            for line in wrap(letter.heading, BOLD, width):
                page.line(line, font=BOLD)
            page.gap()
            page.gap()
        for block in letter.blocks:
            font = BOLD if block.kind is BlockKind.SUBJECT else REGULAR
            for text in block.lines:
                if block.kind is BlockKind.BULLETS:
                    for i, line in enumerate(wrap(text, font, width - BULLET_INDENT)):
                        if i == 0:
                            page.line("•", x=MARGIN + 4)
                            page.y += LEADING  # the item's text goes on the bullet's line
                        page.line(line, x=MARGIN + BULLET_INDENT)
                elif not text:
                    page.y -= 2 * LEADING  # room for a signature
                else:
                    for line in wrap(text, font, width):
                        page.line(line, font=font)
            page.gap()
    canvas.showPage()
    canvas.save()
    return out.getvalue()
