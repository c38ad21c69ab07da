"""The ready-made tips: their texts in every language, titles, pages, and the next one not sent."""

from __future__ import annotations

import html

from bot.content import Content
from bot.html import visible_text

TIPS_PER_PAGE = 8  # at most: a page of one line per tip fits one phone screen


def tip_texts(content: Content, tip_id: str) -> dict[str, str] | None:
    """A tip's text in every language (the reference text where one is missing), or None."""
    reference = {t.id: t.text for t in content.pack(None).tips}
    if tip_id not in reference:
        return None
    texts = {}
    for code, pack in content.languages.items():
        own = {t.id: t.text for t in pack.tips}
        texts[code] = own.get(tip_id, reference[tip_id])
    return texts


def tip_title(text: str) -> str:
    """A tip's first line (tips start with a bold title), escaped for an HTML message."""
    lines = visible_text(text).strip().splitlines()
    return html.escape(lines[0].strip(), quote=False) if lines else ""


def next_unsent_tip(content: Content, taken: set[str]) -> str | None:
    """The first tip, in content order, that no broadcast has carried or will carry."""
    return next((t.id for t in content.pack(None).tips if t.id not in taken), None)


def tip_pages(count: int, most: int = TIPS_PER_PAGE) -> list[range]:
    """Tip numbers (from 1) on pages of at most `most`, as even as can be: 17 -> 6, 6, 5."""
    if count <= 0:
        return []
    pages = -(-count // most)
    size = -(-count // pages)
    return [range(first, min(first + size, count + 1)) for first in range(1, count + 1, size)]
