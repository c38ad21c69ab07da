"""Small pieces the fake Bot API, its HTML parser and the chat client share."""

from __future__ import annotations

import time
from typing import Any

JSON = dict[str, Any]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def now() -> int:
    """The current unix time, for message and edit dates."""
    return int(time.time())
