"""A broadcast named in the staff member's words: its audience, and what it says."""

from __future__ import annotations

import html
import re

from bot.broadcast.message import split_audience
from bot.broadcast.queue import BroadcastRow
from bot.content import REFERENCE_LANGUAGE, Content, LanguagePack
from bot.html import visible_text

SUBJECT_CHARS = 30  # of the message's text, when it is not a ready-made tip


def audience_label(content: Content, pack: LanguagePack, audience: str) -> str:
    """The audience in words: "Everyone", "Español only", "Has a 504 plan"."""
    kind, value = split_audience(audience)
    if kind == "lang" and value in content.languages:
        return pack.t("staff.audience.lang", language=content.languages[value].name)
    if kind == "interest":
        return interest_label(pack, value)
    return pack.t("staff.audience.all")


def interest_label(pack: LanguagePack, interest: str) -> str:
    """An interest parents can pick, as staff read it (its id if the content has no label)."""
    labels = pack.ui.get("staff", {}).get("interests", {})
    return str(labels.get(interest, interest))


def subject(row: BroadcastRow, pack: LanguagePack, chars: int = SUBJECT_CHARS) -> str:
    """What a broadcast is, in at most `chars` characters, escaped for HTML: a ready-made
    tip's title, else the start of its text; in the staff member's language if it has one,
    else in the reference language."""
    words = _text_for(row, pack.code).strip()
    if row.tip_id is not None and words:
        # A tip starts with its title, in bold: the line staff know it by in /tips.
        words = words.splitlines()[0]
    return html.escape(shortened(words, chars), quote=False)


def shortened(text: str, chars: int) -> str:
    """`text` on one line, cut after a whole word within `chars` characters, with "…"."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= chars:
        return flat
    cut = flat[: chars - 1]
    if " " in cut[chars // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:–-") + "…"


def _text_for(row: BroadcastRow, lang: str) -> str:
    texts = row.texts
    raw = (
        texts.get(lang)
        or texts.get(REFERENCE_LANGUAGE)
        or texts.get("*")
        or next(iter(texts.values()), "")
    )
    return visible_text(raw)
