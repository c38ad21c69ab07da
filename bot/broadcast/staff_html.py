"""What staff typed -> the HTML a broadcast sends (bold, italic and http(s) links only).

Three ways text arrives: formatted with Telegram's own menu (PTB gives it back as HTML via
`text_html`), typed as HTML tags by hand (copied from a tip file, say), or plain. The
broadcast HTML must pass bot.content.html_problem, like every text the bot sends.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_KEPT_TAGS = {"b", "i"}
_TYPED_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?>")
_BARE_AMPERSAND = re.compile(r"&(?![a-zA-Z]+;|#\d+;|#[xX][0-9a-fA-F]+;)")


def looks_like_typed_html(text: str) -> bool:
    """Whether plain text contains something written as a tag, like <b> or </i>."""
    return _TYPED_TAG.search(text) is not None


def typed_html(text: str) -> str:
    """Tags typed by hand are meant as tags; a lone & is meant as a character."""
    return _BARE_AMPERSAND.sub("&amp;", text)


def _attribute(value: str) -> str:
    # html.escape(quote=True) writes &#x27;, which Telegram's checker here refuses.
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


class _Reducer(HTMLParser):
    """Keep <b>, <i> and http(s) links; drop other tags but keep their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []
        self.removed = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag in _KEPT_TAGS:
            self.out.append(f"<{tag}>")
            self.stack.append((tag, True))
        elif tag == "a" and href.startswith(("https://", "http://")):
            self.out.append(f'<a href="{_attribute(href)}">')
            self.stack.append((tag, True))
        else:
            self.removed = True
            self.stack.append((tag, False))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, kept = self.stack.pop()
            if kept:
                self.out.append(f"</{name}>")
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        self.out.append(data.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))

    def handle_entityref(self, name: str) -> None:
        self.handle_data(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.handle_data(html.unescape(f"&#{name};"))

    def result(self) -> str:
        self.close()
        while self.stack:
            name, kept = self.stack.pop()
            if kept:
                self.out.append(f"</{name}>")
        return "".join(self.out)


def from_formatted(text_html: str) -> tuple[str, bool]:
    """PTB's `text_html`/`caption_html` reduced to broadcast HTML; True if formatting was lost."""
    reducer = _Reducer()
    reducer.feed(text_html)
    return reducer.result(), reducer.removed


def staff_html(raw: str, formatted_html: str, *, has_formatting: bool) -> tuple[str, bool]:
    """The broadcast HTML for a staff message and whether some formatting was removed.

    `raw` is the message text as typed, `formatted_html` the same with Telegram's
    formatting as tags; hand-typed tags count only when Telegram's menu was not used.
    """
    if not has_formatting and looks_like_typed_html(raw):
        return typed_html(raw).strip(), False
    reduced, removed = from_formatted(formatted_html)
    return reduced.strip(), removed
