"""Telegram's HTML parse mode, as this bot uses it: one place for checking, escaping and reading it.

The content loader, the broadcast check, the screens check and the terminal chat all see a
message's text through these functions, so they agree on what is allowed and what is shown.

Telegram's rules (core.telegram.org/bots/api#html-style, applied by tdlib's parser): every
`<` starts a tag, and a `<` that does not start a supported, well-formed tag makes Telegram
refuse the whole message ("Can't parse entities"); `&` starts an entity (only &lt; &gt; &amp;
&quot; and numeric ones); a literal `<`, `>` or `&` must be written &lt; &gt; &amp;.

This bot allows a strict subset, so whatever passes here Telegram accepts and shows as meant:
<b>, <i> and <a href="http(s)://..."> (double or single quotes, nothing else in the tag), in
lowercase; the four named entities and numeric ones. A `>` outside a tag is fine (Telegram
shows it as it is); a bare `&` or an unknown entity like &nbsp; is a problem, because Telegram
would show it literally, which is never what was meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

ALLOWED_TAGS = ("b", "i", "a")

_SPACE = " \t\r\n"  # whitespace for Telegram (tdlib) and for Python alike
_SPECIAL = re.compile(r"[<>&]")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_LIKE = re.compile(r"&#?[A-Za-z0-9]{1,32};")
_TAG_SHAPE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*+)(/?>|[ \t\r\n][^<>]*+>)")
_HREF = re.compile(r"""[ \t\r\n]+href[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')[ \t\r\n]*>""")
_LINK = re.compile(r"""https?://([^\s/?#<>"]++)[^\s<>"]*+""")
_ESCAPED = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_AROUND = 10  # characters either side of a problem in its `near` snippet
_TAG_SHOWN = 40  # a tag quoted in a problem is cut to this many characters

# Token kinds: one pass over the text yields non-overlapping tokens covering all of it.
_TEXT = "text"  # characters shown as they are
_REF = "ref"  # a supported entity: shown as its character
_OPEN = "open"  # an allowed start tag (for <a>: up to the address; the address follows)
_CLOSE = "close"  # an allowed end tag
_TAG_PART = "tag_part"  # the rest of an <a> tag after its address
_STRAY = "stray"  # one "<", ">" or "&" that is not markup: escaping shows it as it is


@dataclass(frozen=True)
class HtmlProblem:
    """Why Telegram would refuse a text (or show it wrongly): a code and the values to say it.

    Codes: stray_lt, comment, unknown_tag, bad_attribute, bad_link, bare_amp, bad_entity,
    closes_nothing, wrong_close, unclosed. Every problem has `position` (0-based character),
    `line` (1-based) and `near` (the source around it); see `_problem` for the rest.
    """

    code: str
    values: dict[str, str | int] = field(default_factory=dict)

    def __str__(self) -> str:
        # For developers (content files, logs); staff read content/<lang>/staff.yaml's words.
        extra = ", ".join(f"{k}={v!r}" for k, v in self.values.items() if k != "position")
        return f"invalid Telegram HTML ({self.code}): {extra}"


@dataclass(frozen=True)
class _Token:
    kind: str
    start: int
    end: int
    shown: str = ""  # what a reader sees (text, ref, stray)
    name: str = ""  # open / close: the tag name
    href: str = ""  # open <a>: the decoded address
    code: str | None = None  # stray: the problem code; None for a harmless ">"
    values: dict[str, str | int] = field(default_factory=dict)
    in_tag: bool = False  # part of an <a> tag's address: not shown
    near_end: int = 0  # stray "<" of a whole tag: where that tag ends, for the `near` snippet


def html_problem(text: str) -> HtmlProblem | None:
    """Why Telegram would refuse this HTML (the first problem), or None if it is fine."""
    stack: list[_Token] = []
    for token in _tokens(text):
        if token.code is not None:
            end = max(token.end, token.near_end)
            return _problem(text, token.code, token.start, end, **token.values)
        if token.kind == _OPEN:
            stack.append(token)
        elif token.kind == _CLOSE:
            closing = f"</{token.name}>"
            if not stack:
                return _problem(text, "closes_nothing", token.start, token.end, tag=closing)
            opened = stack.pop()
            if opened.name != token.name:
                return _problem(
                    text,
                    "wrong_close",
                    token.start,
                    token.end,
                    tag=closing,
                    open=f"<{opened.name}>",
                    close=f"</{opened.name}>",
                )
    if stack:
        opened = stack[-1]
        tag = _shorten(text[opened.start : opened.end] if opened.name != "a" else "<a href=…>")
        return _problem(
            text, "unclosed", opened.start, opened.end, tag=tag, close=f"</{opened.name}>"
        )
    return None


def escape_stray(text: str) -> str:
    """The text with every `<`, `>` and `&` that is not markup escaped, so it shows as typed.

    Allowed tags and supported entities stay as they are; a tag this bot does not allow, a
    comment or a broken tag is escaped whole, so the reader sees it literally. Tags that are
    allowed but unbalanced stay a problem: escaping cannot guess where bold was meant to end.
    """
    return "".join(
        _ESCAPED[text[t.start]] if t.kind == _STRAY else text[t.start : t.end]
        for t in _tokens(text)
    )


def visible_text(text: str) -> str:
    """The text as a reader sees it: tags removed, entities decoded, stray characters kept."""
    return "".join(t.shown for t in _tokens(text) if not t.in_tag)


def plain(text: str) -> str:
    """Telegram HTML as terminal text: links keep their address, tags go."""
    out: list[str] = []
    links: list[str] = []
    for token in _tokens(text):
        if token.kind == _OPEN and token.name == "a":
            links.append(token.href)
        elif token.kind == _CLOSE and token.name == "a" and links:
            out.append(f" ({links.pop()})")
        elif not token.in_tag:
            out.append(token.shown)
    return "".join(out)


# --- the one pass ----------------------------------------------------------------------------


def _tokens(text: str) -> Iterator[_Token]:
    """The text as tokens, left to right; never raises, whatever the text."""
    i, n = 0, len(text)
    while i < n:
        special = _SPECIAL.search(text, i)
        if special is None:
            yield _Token(_TEXT, i, n, text[i:n])
            return
        k = special.start()
        if k > i:
            yield _Token(_TEXT, i, k, text[i:k])
        char = text[k]
        if char == "&":
            token = _ampersand(text, k)
            yield token
            i = token.end
        elif char == ">":
            yield _Token(_STRAY, k, k + 1, ">")
            i = k + 1
        else:
            for token in _less_than(text, k):
                yield token
                i = token.end


def _ampersand(text: str, k: int, end: int | None = None, *, in_tag: bool = False) -> _Token:
    end = len(text) if end is None else end
    match = _ENTITY.match(text, k, end)
    char = _entity_char(match) if match else None
    if match is not None and char is not None:
        return _Token(_REF, k, match.end(), char, in_tag=in_tag)
    like = _ENTITY_LIKE.match(text, k, end)
    if like is not None:
        values: dict[str, str | int] = {"entity": like.group()}
        return _Token(_STRAY, k, k + 1, "&", code="bad_entity", values=values, in_tag=in_tag)
    return _Token(_STRAY, k, k + 1, "&", code="bare_amp", in_tag=in_tag)


def _entity_char(match: re.Match[str]) -> str | None:
    """The character a supported entity stands for; None for a number Telegram refuses."""
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        return _NAMED[name]
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    # tdlib leaves 0 and >= 0x10FFFF literal, and refuses the message for a surrogate.
    if not 0 < code < 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _less_than(text: str, k: int) -> Iterator[_Token]:
    """The tokens for a "<" at k: an allowed tag, or a stray "<" with the reason."""

    def stray(code: str, near_end: int = 0, **values: str | int) -> _Token:
        return _Token(_STRAY, k, k + 1, "<", code=code, values=values, near_end=near_end)

    if text.startswith("<!--", k):
        yield stray("comment")
        return
    shape = _TAG_SHAPE.match(text, k)
    if shape is None:
        yield stray("stray_lt")
        return
    closing, name, rest = shape.groups()
    tag = _shorten(shape.group())
    if name not in ALLOWED_TAGS:
        yield stray("unknown_tag", shape.end(), tag=tag, name=name)
    elif closing or name != "a":
        if rest.strip(_SPACE) != ">":
            yield stray("bad_attribute", shape.end(), tag=tag)
        else:
            yield _Token(_CLOSE if closing else _OPEN, k, shape.end(), name=name)
    else:
        yield from _link(text, k, shape, tag)


def _link(text: str, k: int, shape: re.Match[str], tag: str) -> Iterator[_Token]:
    href = _HREF.fullmatch(shape.group(3))
    group = 0 if href is None else (1 if href.group(1) is not None else 2)
    address = "" if href is None else href.group(group)
    decoded = _ENTITY.sub(lambda m: _entity_char(m) or m.group(), address)
    found = _LINK.fullmatch(decoded)
    host = found.group(1) if found else ""
    if href is None or "." not in host.strip("."):
        values: dict[str, str | int] = {"tag": tag}
        yield _Token(_STRAY, k, k + 1, "<", code="bad_link", values=values, near_end=shape.end())
        return
    start = shape.start(3) + href.start(group)
    end = shape.start(3) + href.end(group)
    yield _Token(_OPEN, k, start, name="a", href=decoded)
    i = start
    while i < end:  # the address: entities as in text, so a bare & is found and escaped
        amp = text.find("&", i, end)
        if amp < 0:
            yield _Token(_TEXT, i, end, in_tag=True)
            break
        if amp > i:
            yield _Token(_TEXT, i, amp, in_tag=True)
        token = _ampersand(text, amp, end, in_tag=True)
        yield token
        i = token.end
    yield _Token(_TAG_PART, end, shape.end())


def _problem(text: str, code: str, start: int, end: int, **values: str | int) -> HtmlProblem:
    line = text.count("\n", 0, start) + 1
    return HtmlProblem(
        code, {**values, "position": start, "line": line, "near": _near(text, start, end)}
    )


def _near(text: str, start: int, end: int) -> str:
    """The source around a problem, on one line, without cut words at its ends."""
    end = min(end, start + _TAG_SHOWN)
    left_from, right_to = max(0, start - _AROUND), min(len(text), end + _AROUND)
    left, right = text[left_from:start], text[end:right_to]
    if left_from > 0 and not text[left_from - 1].isspace() and left[:1].strip():
        cut = left.split(None, 1)
        left = cut[1] if len(cut) > 1 else ""
    if right_to < len(text) and not text[right_to].isspace() and right[-1:].strip():
        cut = right.rsplit(None, 1)
        right = cut[0] if len(cut) > 1 else ""
    return " ".join(f"{left}{text[start:end]}{right}".split())


def _shorten(tag: str) -> str:
    """A tag as typed, on one line and cut to a readable length."""
    tag = " ".join(tag.split())
    return tag if len(tag) <= _TAG_SHOWN else tag[: _TAG_SHOWN - 1] + "…"
