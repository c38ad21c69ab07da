"""Button action kinds of the parent conversation (one or two letters: 64-byte callback data)."""

from __future__ import annotations

from bot.parent.subscriptions import INTEREST as INTEREST_KIND
from bot.parent.subscriptions import OFFER as OFFER_KIND


class A:
    """What a parent's button asks for; the arguments travel in bot.callbacks.Action."""

    MENU = "m"
    SCREEN = "s"  # start a screening (or offer to resume one)
    CONTINUE = "c"  # show the open question again (resume, or go on after the crisis pause)
    PAUSE = "z"  # "stop for now" at the crisis pause: the screening is kept
    OVER = "o"  # start over
    ANSWER = "a"
    BACK = "b"
    WHY = "w"
    DETAILS = "d"  # a result's next steps and details
    LEARN = "l"
    EXPLAIN = "e"  # an explainer, at a page
    BOOK = "k"
    FREE_HELP = "f"
    PRIVACY = "p"
    LANGUAGES = "g"
    SET_LANGUAGE = "L"
    TIPS = OFFER_KIND  # tip subscriptions: bot/subscriptions.py
    INTEREST = INTEREST_KIND
