"""Telegram's HTML parse mode, as this bot uses it: one place for checking and reading it.

The content loader, the broadcast check, the screens check and the terminal chat all see a
message's text through these functions, so they agree on what is allowed and what is shown.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_ALLOWED_TAGS = {"b", "i", "a"}
_TAG = re.compile(r"<[^>]+>")


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.problem = self.problem or f"<{tag}> is not allowed (use b, i, a)"
        elif tag == "a" and not (dict(attrs).get("href") or "").startswith(("https://", "http://")):
            self.problem = self.problem or "<a> needs an http(s) href"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problem = self.problem or f"</{tag}> closes nothing open"

    def handle_entityref(self, name: str) -> None:
        if name not in {"amp", "lt", "gt", "quot"}:
            self.problem = self.problem or f"&{name}; is not supported; write &amp;"


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse this HTML, or None if it is fine."""
    if re.search(r"&(?![a-z]+;|#\d+;)", text):
        return "a bare & must be written &amp;"
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.problem:
        return checker.problem
    if checker.stack:
        return f"<{checker.stack[-1]}> is never closed"
    return None


def visible_text(text: str) -> str:
    """The text as a reader sees it: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", text))


def plain(text: str) -> str:
    """Telegram HTML as terminal text: links keep their address, tags go."""
    text = re.sub(r'<a href="([^"]+)">(.*?)</a>', r"\2 (\1)", text)
    return html.unescape(_TAG.sub("", text))
