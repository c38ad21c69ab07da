"""callback_data codec: versioned, signed, at most 64 bytes.

Format: "1|kind|arg|arg|tag" where tag is a short HMAC of everything before it. Telegram
only echoes data we sent, but clients can be modified: a bad tag or an unknown version
is rejected as forged, and old-version buttons are answered kindly, never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

VERSION = "1"
MAX_BYTES = 64  # Telegram's limit for callback_data
_SEP = "|"
_TAG_CHARS = 6  # 36 bits: enough to make guessing pointless for a button


class Kind(StrEnum):
    """Every kind of button the bot makes, in one registry (one or two characters: 64 bytes)."""

    # The parent conversation (bot/parent/).
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
    TIPS_OFFER = "T"  # tip subscriptions: T (show the offer), T yes, T no
    TIPS_INTEREST = "I"  # I <interest> or I skip
    # Staff only (bot/broadcast/, bot/stats/): anyone else is answered as an unknown command.
    COMPOSE = "C"
    TIPS_LIST = "Y"
    STATS_PERIOD = "S"
    BROADCAST_CONTROL = "X"  # Pause / Resume / Cancel on a broadcast's status message
    BROADCASTS_LIST = "B"  # /broadcasts: a page of the list, or one broadcast's status
    EXPORT_PERIOD = "E"  # /export: the period whose CSV files to send
    # A letter to the school, each step (bot/parent/letters.py).
    LETTER = "W"
    # Follow-through: the evaluation clock (bot/parent/deadlines.py), the check-in weeks
    # after a screening (bot/parent/checkins.py), /mydata (bot/parent/mydata.py).
    DEADLINE = "D"
    CHECKIN = "K"
    MYDATA = "M"


STAFF_KINDS = frozenset(
    {
        Kind.COMPOSE,
        Kind.TIPS_LIST,
        Kind.STATS_PERIOD,
        Kind.BROADCAST_CONTROL,
        Kind.BROADCASTS_LIST,
        Kind.EXPORT_PERIOD,
    }
)


def kind_of(data: object) -> str | None:
    """The kind a callback data claims, unverified: for routing only (handlers verify)."""
    if not isinstance(data, str):
        return None
    parts = data.split(_SEP)
    return parts[1] if len(parts) >= 3 else None


class ForgedCallback(ValueError):
    """Callback data we did not produce (bad tag, version or shape)."""


@dataclass(frozen=True)
class Action:
    """What a button asks for: a kind (short name) and its arguments."""

    kind: str
    args: tuple[str, ...] = ()

    def arg(self, index: int, default: str = "") -> str:
        return self.args[index] if index < len(self.args) else default


class CallbackCodec:
    def __init__(self, key: bytes) -> None:
        # A key derived for this purpose only, so a leaked tag says nothing about chat hashes.
        self._key = hmac.new(key, b"callback-data", hashlib.sha256).digest()

    def _tag(self, payload: str) -> str:
        digest = hmac.digest(self._key, payload.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest).decode()[:_TAG_CHARS]

    def encode(self, action: Action) -> str:
        parts = (VERSION, action.kind, *action.args)
        if any(_SEP in p or not p for p in parts):
            raise ValueError(f"callback parts must be non-empty and free of {_SEP!r}: {parts}")
        payload = _SEP.join(parts)
        data = f"{payload}{_SEP}{self._tag(payload)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    def decode(self, data: str | None) -> Action:
        if not data or len(data.encode()) > MAX_BYTES:
            raise ForgedCallback("empty or oversized")
        payload, _, tag = data.rpartition(_SEP)
        parts = payload.split(_SEP)
        if len(parts) < 2 or parts[0] != VERSION:
            raise ForgedCallback("unknown version or shape")
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise ForgedCallback("bad tag")
        return Action(parts[1], tuple(parts[2:]))
