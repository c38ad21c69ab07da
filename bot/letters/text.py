"""A letter as text: plain (to copy into an email) and as Telegram messages (HTML-escaped,
each within Telegram's 4096 characters, split between blocks when one letter is longer)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.letters.fill import BlockKind, Letter

MESSAGE_LIMIT = 4096
BULLET = "• "


def block_text(kind: BlockKind, lines: Sequence[str]) -> str:
    if kind is BlockKind.BULLETS:
        return "\n".join(BULLET + line for line in lines)
    return "\n".join(lines)


def plain_text(letter: Letter) -> str:
    """The letter as plain text, blocks a blank line apart (the heading first, if any)."""
    parts = [letter.heading] if letter.heading else []
    parts += [block_text(block.kind, block.lines) for block in letter.blocks]
    return "\n\n".join(parts)


def messages(letters: Sequence[Letter], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Each letter in as few messages as fit, in order; HTML-escaped (what the parent typed
    may hold < or &), and nothing in bold, so a long press copies it as it should be sent."""
    found: list[str] = []
    for letter in letters:
        parts = [letter.heading] if letter.heading else []
        parts += [block_text(block.kind, block.lines) for block in letter.blocks]
        current = ""
        for part in (html.escape(p, quote=False) for p in parts):
            joined = f"{current}\n\n{part}" if current else part
            if len(joined) <= limit:
                current = joined
                continue
            if current:
                found.append(current)
            while len(part) > limit:  # one block longer than a message: cut at a space
                cut = part.rfind(" ", 0, limit)
                cut = cut if cut > 0 else limit
                found.append(part[:cut])
                part = part[cut:].lstrip()
            current = part
        if current:
            found.append(current)
    return found
