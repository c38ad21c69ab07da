"""What may be broadcast: audiences, the text one parent reads, and the one check of a message.

The compose flow, the queue and the command line all ask `message_problem`, so what the
preview accepts is exactly what the queue accepts and what the CLI's --dry-run accepts.

A broadcast's texts are {language: html}. The key OTHERS ("*") is the text for everyone whose
language has none (old broadcasts hold only that key, and still mean what they meant).
Without it, parents whose language has no text are not sent to at all: `receiving` says who.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.content import MESSAGE_LIMIT, REFERENCE_LANGUAGE, Content
from bot.html import escape_stray, html_problem, visible_text
from bot.storage import INTERESTS
from flows.compose import EVERYONE as EVERYONE  # one name for every subscriber

CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption
OTHERS = "*"  # the text for every language that has none of its own


@dataclass(frozen=True)
class Problem:
    """Why a message or audience cannot be broadcast: a code (staff.compose.<code>) and values."""

    code: str
    values: dict[str, object] = field(default_factory=dict)


class BroadcastError(ValueError):
    """Input that must not be queued; `problem` is shown to staff in their own language."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def split_audience(audience: str) -> tuple[str, str]:
    """'all' -> ('all', ''); 'lang:es' -> ('lang', 'es'); 'interest:x' -> ('interest', 'x')."""
    if audience == EVERYONE:
        return EVERYONE, ""
    kind, _, value = audience.partition(":")
    return kind, value


def audiences(languages: Iterable[str]) -> list[str]:
    """Every audience staff can choose, in the order the buttons show them."""
    return [EVERYONE, *(f"lang:{c}" for c in languages), *(f"interest:{i}" for i in INTERESTS)]


def parse_audience(text: str, languages: Iterable[str]) -> str:
    """'all', a language ('es' or 'lang:es') or 'interest:NAME' -> the stored audience."""
    value, languages = text.strip(), list(languages)
    code = value.removeprefix("lang:")
    if code in languages:
        return f"lang:{code}"
    if value in audiences(languages):
        return value
    raise BroadcastError(Problem("unknown_audience", {"choices": ", ".join(audiences(languages))}))


def audience_languages(audience: str, languages: Iterable[str]) -> list[str]:
    """The languages an audience's parents may read, the reference language first."""
    codes = sorted(languages, key=lambda code: code != REFERENCE_LANGUAGE)
    kind, value = split_audience(audience)
    if kind == "lang":
        return [value] if value in codes else []
    return codes


def receiving(texts: dict[str, str]) -> list[str] | None:
    """The languages whose parents get these texts; None: every language (there is OTHERS)."""
    if OTHERS in texts:
        return None
    return [lang for lang in texts if lang != OTHERS]


def text_for(texts: dict[str, str], lang: str) -> str | None:
    """The text a parent reading `lang` gets: their language's, else OTHERS; None: nothing.

    Never the reference language's text by default: that takes an OTHERS key staff chose.
    """
    return texts.get(lang) or texts.get(OTHERS)


def render_text(texts: dict[str, str], lang: str, content: Content) -> str:
    """What one recipient reads: their language's text and the line on how to stop."""
    body = text_for(texts, lang) or ""
    return f"{body.strip()}\n\n<i>{content.pack(lang).t('subscribe.footer')}</i>"


def escaped(texts: dict[str, str]) -> dict[str, str]:
    """The texts with stray <, > and & escaped, so parents see them as typed ("Escape it")."""
    return {lang: escape_stray(text) for lang, text in texts.items()}


def escape_would_fix(texts: dict[str, str], photo: str | None, content: Content) -> bool:
    """Whether escaping stray characters turns refused texts into texts that can be sent."""
    problem = message_problem(texts, photo, content)
    return (
        problem is not None
        and problem.code == "bad_html"
        and message_problem(escaped(texts), photo, content) is None
    )


def message_problem(texts: dict[str, str], photo: str | None, content: Content) -> Problem | None:
    """Why these texts cannot be broadcast (empty, bad formatting, too long), or None."""
    bodies = [text for text in texts.values() if visible_text(text).strip()]
    if not texts or len(bodies) != len(texts):
        return Problem("photo_needs_caption" if photo else "empty")
    for text in bodies:
        problem = html_problem(text)
        if problem is not None:
            # staff.compose.bad_html.<html>: the reason, with where it is (bot/html.py).
            return Problem("bad_html", {"html": problem.code, **problem.values})
    # Measured exactly as each recipient will get it, stop line included.
    limit = CAPTION_LIMIT if photo else MESSAGE_LIMIT
    readers = receiving(texts)
    longest = max(
        len(visible_text(render_text(texts, lang, content)))
        for lang in (content.languages if readers is None else readers)
    )
    if longest > limit:
        return Problem("too_long", {"length": longest, "limit": limit, "over": longest - limit})
    return None
