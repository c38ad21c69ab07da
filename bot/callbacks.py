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

VERSION = "1"
MAX_BYTES = 64  # Telegram's limit for callback_data
_SEP = "|"
_TAG_CHARS = 6  # 36 bits: enough to make guessing pointless for a button


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
