"""Phone geometry: how buttons share rows, and how many lines a message takes on a phone.

The yardstick is a 360-pixel-wide phone (the narrowest common Android width): about 35
characters of text a line, about 20 lines a screen, and an inline-keyboard row as tall as
two lines of text. Telegram cuts a label that does not fit its button with "…", so labels
have a width budget by how many buttons share the row. Pure: no Telegram here, so the
conversation, the content check and the tests all measure with the same ruler.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from html import unescape

LINE_CHARS = 35  # characters of message text a line
SCREEN_LINES = 20  # lines a screen, text and keyboard together
ROW_LINES = 2  # an inline-keyboard row is as tall as two lines of text
# The longest label that fits a button, by how many buttons share the row; never four.
LABEL_WIDTH = {1: 32, 2: 18, 3: 10}
# The one exception: a calendar's week, seven buttons of a day's number ("28") or a column's
# head ("Mo"), each a seventh of the row.
WEEK_DAYS = 7
WEEK_LABEL_WIDTH = 3

_TAG = re.compile(r"<[^>]+>")


def fits_row(labels: Sequence[str]) -> bool:
    """Whether these labels fit side by side in one row without being cut."""
    width = LABEL_WIDTH.get(len(labels))
    return width is not None and all(len(label) <= width for label in labels)


def fits_week(labels: Sequence[str]) -> bool:
    """Whether these labels are a calendar's week that fits one row: seven tiny ones."""
    return len(labels) == WEEK_DAYS and all(len(label) <= WEEK_LABEL_WIDTH for label in labels)


def option_rows(labels: Sequence[str]) -> list[list[int]]:
    """Indexes of answer buttons, grouped into rows: as few rows as fit, order kept.

    All in one row when they fit (Yes / No / Not sure), else pairs where both fit,
    else one a row.
    """
    if len(labels) <= 3 and fits_row(labels):
        return [list(range(len(labels)))]
    rows: list[list[int]] = []
    i = 0
    while i < len(labels):
        if i + 1 < len(labels) and fits_row([labels[i], labels[i + 1]]):
            rows.append([i, i + 1])
            i += 2
        else:
            rows.append([i])
            i += 1
    return rows


def text_lines(html_text: str) -> int:
    """Lines a Telegram HTML text takes on the phone: each paragraph line wraps at 35."""
    plain = unescape(_TAG.sub("", html_text))
    return sum(max(1, math.ceil(len(line) / LINE_CHARS)) for line in plain.split("\n"))


def screen_lines(html_text: str, keyboard_rows: int) -> int:
    """Lines a whole message takes: its text plus its keyboard."""
    return text_lines(html_text) + ROW_LINES * keyboard_rows
