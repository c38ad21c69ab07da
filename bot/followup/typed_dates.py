"""Read a date a parent types on a phone: `2026-11-03`, `11/3`, `3 nov`, `3 de noviembre`,
`yesterday`, `hace 2 días`, `el lunes`.

The words (month and weekday names, "today", "2 days ago", which number comes first in
`11/3`) are language data from content/<lang>/timelines.yaml (`dates`), so a new language
is a new folder, not code. Case and accents never matter. The parent's own language is
read first; a word only another language uses is understood too ("November 3" in a Spanish
chat), unless the parent's language uses that word itself ("3 ago": not agosto in English,
where "ago" is part of "2 days ago").

The day asked for is the day the school received the signed consent, which is in the past:
a date without a year is the latest such date not after today, a weekday name the latest
such day before today, and a date after today is refused (the bot explains).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

N_SLOT = "{n}"  # the number in a "2 days ago" pattern
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{4}|\d{2}))?$")
# A day of the month as typed: 3, 03, 3rd, 1st, 1o, 1ro, 1ero, 1er, 1.o (from 1.º), 1°.
_DAY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|\.?o|ro|ero|er|°)?$")
_YEAR = re.compile(r"^\d{4}$")
_COUNT = re.compile(r"^\d{1,4}$")
_SPLIT = re.compile(r"[\s,;]+")
_LEAP_SEARCH = 8  # years to look back for a February 29 (2100 is not a leap year)


class DateProblem(StrEnum):
    """Why a typed text gave no usable date."""

    UNREADABLE = "unreadable"  # not a date in any form we know
    IMPOSSIBLE = "impossible"  # a date that does not exist: February 30, 13/13
    FUTURE = "future"  # after today
    TOO_OLD = "too_old"  # before the earliest day the caller allows


@dataclass(frozen=True)
class DateReading:
    """What a typed text said: the date understood (also for FUTURE and TOO_OLD, so the bot
    can name it), and the problem with it, if any."""

    day: dt.date | None
    problem: DateProblem | None = None

    @property
    def accepted(self) -> dt.date | None:
        return self.day if self.problem is None else None


@dataclass(frozen=True)
class DateWords:
    """One language's date words, each already `normalize`d; alternatives in a tuple."""

    code: str
    day_first: bool  # 3/11 is 3 November (es), not March 11 (en)
    months: tuple[tuple[str, ...], ...]  # 12, January first
    weekdays: tuple[tuple[str, ...], ...]  # 7, Monday first
    today: tuple[str, ...]
    yesterday: tuple[str, ...]
    day_before_yesterday: tuple[str, ...]
    days_ago: tuple[str, ...]  # patterns with {n}: "{n} days ago", "hace {n} dias"
    fillers: frozenset[str]  # words that add nothing: "the", "of", "el", "de", "pasado"


def normalize(text: str) -> str:
    """Lower case, accents and other marks gone (º becomes o), one space between words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def _tokens(text: str, fillers: frozenset[str] = frozenset()) -> tuple[str, ...]:
    words = (w.rstrip(".") if not w[:1].isdigit() else w for w in _SPLIT.split(text) if w)
    return tuple(w for w in words if w and w not in fillers)


@dataclass(frozen=True)
class _Vocabulary:
    """The words understood in one chat language, the other languages' filling the gaps."""

    day_first: bool
    fillers: frozenset[str]
    months: Mapping[str, int]  # token -> 1..12
    weekdays: Mapping[str, int]  # token -> 0 (Monday)..6
    days_back: Mapping[tuple[str, ...], int]  # "today", "yesterday"... -> days before today
    days_ago: tuple[tuple[str, ...], ...]  # patterns as tokens, N_SLOT among them


def _own_vocabulary(words: DateWords) -> _Vocabulary:
    fillers = words.fillers
    days_back: dict[tuple[str, ...], int] = {}
    for back, phrases in enumerate((words.today, words.yesterday, words.day_before_yesterday)):
        for phrase in phrases:
            days_back.setdefault(_tokens(phrase, fillers), back)
    return _Vocabulary(
        day_first=words.day_first,
        fillers=fillers,
        months={t: i + 1 for i, names in enumerate(words.months) for t in names},
        weekdays={t: i for i, names in enumerate(words.weekdays) for t in names},
        days_back=days_back,
        days_ago=tuple(_tokens(p, fillers) for p in words.days_ago),
    )


def _used_words(vocabulary: _Vocabulary) -> set[str]:
    used = set(vocabulary.fillers) | set(vocabulary.months) | set(vocabulary.weekdays)
    used.update(t for phrase in vocabulary.days_back for t in phrase)
    used.update(t for pattern in vocabulary.days_ago for t in pattern)
    return used


def _widened(own: _Vocabulary, others: list[_Vocabulary]) -> _Vocabulary:
    """`own` plus every other language's words that `own` never uses."""
    taken = _used_words(own)
    months, weekdays = dict(own.months), dict(own.weekdays)
    days_back, days_ago = dict(own.days_back), list(own.days_ago)
    fillers = set(own.fillers)
    for other in others:
        months.update({t: m for t, m in other.months.items() if t not in taken})
        weekdays.update({t: w for t, w in other.weekdays.items() if t not in taken})
        fillers.update(t for t in other.fillers if t not in taken)
        for phrase, back in other.days_back.items():
            if not set(phrase) & taken:
                days_back.setdefault(phrase, back)
        days_ago += [p for p in other.days_ago if not (set(p) - {N_SLOT}) & taken]
    return _Vocabulary(
        day_first=own.day_first,
        fillers=frozenset(fillers),
        months=months,
        weekdays=weekdays,
        days_back=days_back,
        days_ago=tuple(days_ago),
    )


class DateReader:
    """Reads typed dates in every language of the content; build it once."""

    def __init__(self, languages: Mapping[str, DateWords], *, fallback: str = "en") -> None:
        own = {code: _own_vocabulary(words) for code, words in languages.items()}
        self._vocabularies = {
            code: _widened(vocabulary, [v for c, v in own.items() if c != code])
            for code, vocabulary in own.items()
        }
        self._fallback = fallback if fallback in own else next(iter(own))

    def read(
        self, text: str, *, today: dt.date, lang: str, earliest: dt.date | None = None
    ) -> DateReading:
        """What `text` says, read in `lang` (its number order), with the reason when it
        gives no usable date."""
        vocabulary = self._vocabularies.get(lang, self._vocabularies[self._fallback])
        reading = _read(normalize(text), vocabulary, today)
        if reading.problem is None and reading.day is not None:
            if reading.day > today:
                return DateReading(reading.day, DateProblem.FUTURE)
            if earliest is not None and reading.day < earliest:
                return DateReading(reading.day, DateProblem.TOO_OLD)
        return reading


def read_typed_date(
    text: str,
    *,
    today: dt.date,
    lang: str,
    reader: DateReader,
    earliest: dt.date | None = None,
) -> DateReading:
    """The date a parent typed, or why there is none (see `DateProblem`)."""
    return reader.read(text, today=today, lang=lang, earliest=earliest)


def parse_typed_date(text: str, *, today: dt.date, lang: str, reader: DateReader) -> dt.date | None:
    """The date a parent typed; None for nonsense, an impossible date or a future one."""
    return reader.read(text, today=today, lang=lang).accepted


# --- the forms ----------------------------------------------------------------------------

_UNREADABLE = DateReading(None, DateProblem.UNREADABLE)
_IMPOSSIBLE = DateReading(None, DateProblem.IMPOSSIBLE)


def _read(text: str, vocabulary: _Vocabulary, today: dt.date) -> DateReading:
    tokens = _tokens(text, vocabulary.fillers)
    if not tokens:
        return _UNREADABLE
    if len(tokens) == 1:
        numeric = _numeric(tokens[0], vocabulary.day_first, today)
        if numeric is not None:
            return numeric
    if tokens in vocabulary.days_back:
        return DateReading(today - dt.timedelta(days=vocabulary.days_back[tokens]))
    back = _days_ago(tokens, vocabulary.days_ago)
    if back is not None:
        return DateReading(today - dt.timedelta(days=back))
    if len(tokens) == 1 and tokens[0] in vocabulary.weekdays:
        return DateReading(_last_weekday(vocabulary.weekdays[tokens[0]], today))
    if len(tokens) > 2 and tokens[0] in vocabulary.weekdays:
        tokens = tokens[1:]  # "lunes 3 de noviembre": the date says it all
    return _with_month_name(tokens, vocabulary.months, today)


def _numeric(token: str, day_first: bool, today: dt.date) -> DateReading | None:
    iso = _ISO.match(token)
    if iso:
        year, month, day = map(int, iso.groups())
        return _dated(year, month, day)
    short = _NUMERIC.match(token)
    if not short:
        return None
    first, second = int(short.group(1)), int(short.group(2))
    month, day = (second, first) if day_first else (first, second)
    if not _exists(month, day) and _exists(day, month) and month > 12:
        month, day = day, month  # 25/11 in English: only one order makes a date
    year_text = short.group(3)
    if year_text is None:
        return _without_year(month, day, today)
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    return _dated(year, month, day)


def _days_ago(tokens: tuple[str, ...], patterns: tuple[tuple[str, ...], ...]) -> int | None:
    for pattern in patterns:
        if len(pattern) != len(tokens):
            continue
        count = None
        for want, got in zip(pattern, tokens, strict=True):
            if want == N_SLOT and _COUNT.match(got):
                count = int(got)
            elif want != got:
                break
        else:
            if count is not None:
                return count
    return None


def _with_month_name(
    tokens: tuple[str, ...], months: Mapping[str, int], today: dt.date
) -> DateReading:
    """`3 nov`, `nov 3`, `November 3, 2026`, `3 de noviembre de 2026`, `noviembre 3`."""
    if len(tokens) not in (2, 3):
        return _UNREADABLE
    year = None
    if len(tokens) == 3:
        if not _YEAR.match(tokens[2]):
            return _UNREADABLE
        year = int(tokens[2])
    first, second = tokens[0], tokens[1]
    if first in months and _DAY.match(second):
        month, day_text = months[first], second
    elif second in months and _DAY.match(first):
        month, day_text = months[second], first
    else:
        return _UNREADABLE
    day = int(_DAY.match(day_text).group(1))  # type: ignore[union-attr]
    return _without_year(month, day, today) if year is None else _dated(year, month, day)


# --- dates --------------------------------------------------------------------------------


def _exists(month: int, day: int) -> bool:
    """Whether the day exists in some year (February 29 does)."""
    try:
        dt.date(2000, month, day)
    except ValueError:
        return False
    return True


def _dated(year: int, month: int, day: int) -> DateReading:
    try:
        return DateReading(dt.date(year, month, day))
    except ValueError:
        return _IMPOSSIBLE


def _without_year(month: int, day: int, today: dt.date) -> DateReading:
    """The latest such day not after today: consent was received in the past."""
    if not _exists(month, day):
        return _IMPOSSIBLE
    for year in range(today.year, today.year - _LEAP_SEARCH - 1, -1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:  # February 29 in a common year
            continue
        if candidate <= today:
            return DateReading(candidate)
    return _IMPOSSIBLE


def _last_weekday(weekday: int, today: dt.date) -> dt.date:
    """The latest such weekday before today ("Monday" said on a Monday: a week ago)."""
    back = (today.weekday() - weekday) % 7 or 7
    return today - dt.timedelta(days=back)
