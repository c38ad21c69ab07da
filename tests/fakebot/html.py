"""Telegram's HTML parse mode: visible text and entities, UTF-16 offsets, Telegram's errors."""

from __future__ import annotations

import re

from tests.fakebot.common import JSON, utf16_len

_HTML_SPECIAL = re.compile(r"[<&]")
_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"<([a-zA-Z0-9-]*)")
_TAG_REST = re.compile(r"""((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*>""")
_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_END_TAG = re.compile(r"</([a-zA-Z0-9-]*)\s*>")
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}


class EntityParseError(ValueError):
    """HTML that Telegram rejects with "Bad Request: can't parse entities: <message>"."""


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Telegram's HTML parse mode: the visible text and its MessageEntity dicts.

    Entity offsets/lengths are in UTF-16 code units, as in the Bot API. Only &lt; &gt; &amp;
    &quot; and numeric character references are decoded; other `&...;` stay literal.

    Raises:
        EntityParseError: unsupported or unbalanced tags, a bare `<`, a span without
            class "tg-spoiler"; the message uses Telegram's wording.
    """
    if "<" not in source and "&" not in source:
        return source, []
    return _HtmlParser(source).parse()


def _decode_ref(match: re.Match[str]) -> str | None:
    """The character a reference stands for, or None when Telegram leaves it literal."""
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_REFS.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


class _HtmlParser:
    """One pass over the source, building visible text and entities."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.chunks: list[str] = []
        self.offset = 0  # UTF-16 length of the visible text so far
        self.open_tags: list[tuple[str, int, JSON | None]] = []
        self.entities: list[JSON] = []

    def parse(self) -> tuple[str, list[JSON]]:
        source, pos = self.source, 0
        while (special := _HTML_SPECIAL.search(source, pos)) is not None:
            i = special.start()
            self._text(source[pos:i])
            if source[i] == "&":
                ref = _CHAR_REF.match(source, i)
                char = _decode_ref(ref) if ref else None
                self._text(char if char is not None else "&")
                pos = ref.end() if ref and char is not None else i + 1
            elif source.startswith("</", i):
                pos = self._end_tag(i)
            else:
                pos = self._start_tag(i)
        self._text(source[pos:])
        if self.open_tags:
            tag = self.open_tags[-1][0]
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.chunks), self.entities

    def _text(self, chunk: str) -> None:
        if chunk:
            self.chunks.append(chunk)
            self.offset += utf16_len(chunk)

    def _byte_offset(self, i: int) -> int:
        return len(self.source[:i].encode())

    def _start_tag(self, i: int) -> int:
        name_match = _TAG_NAME.match(self.source, i)
        assert name_match is not None  # the pattern matches any "<"
        name = name_match.group(1).lower()
        if name not in _ENTITY_TYPES:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {self._byte_offset(i)}'
            )
        rest = _TAG_REST.match(self.source, name_match.end())
        if rest is None:
            raise EntityParseError(f"Unclosed start tag at byte offset {self._byte_offset(i)}")
        attributes = {
            attr.group(1).lower(): _CHAR_REF.sub(
                lambda ref: _decode_ref(ref) or ref.group(0),
                next((value for value in attr.groups()[1:] if value is not None), ""),
            )
            for attr in _ATTRIBUTE.finditer(rest.group(1))
        }
        entity: JSON | None = {"type": _ENTITY_TYPES[name]}
        if name == "a":
            href = attributes.get("href")
            entity = {"type": "text_link", "url": href} if href else None
        elif name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        elif name == "blockquote" and "expandable" in attributes:
            entity = {"type": "expandable_blockquote"}
        elif name == "code" and self.open_tags and self.open_tags[-1][0] == "pre":
            language = attributes.get("class", "")
            parent = self.open_tags[-1][2]
            if language.startswith("language-") and parent is not None:
                parent["language"] = language.removeprefix("language-")
                entity = None
        self.open_tags.append((name, self.offset, entity))
        return rest.end()

    def _end_tag(self, i: int) -> int:
        match = _END_TAG.match(self.source, i)
        if match is None:
            raise EntityParseError(f"Unclosed end tag at byte offset {self._byte_offset(i)}")
        if not self.open_tags:
            raise EntityParseError(f"Unexpected end tag at byte offset {self._byte_offset(i)}")
        name = match.group(1).lower()
        tag, start, entity = self.open_tags.pop()
        if name != tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(i)}, "
                f'expected "</{tag}>", found "</{name}>"'
            )
        if entity is not None and self.offset > start:
            self.entities.append({**entity, "offset": start, "length": self.offset - start})
        return match.end()
