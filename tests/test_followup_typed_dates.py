"""Dates a parent types on a phone, in English and Spanish: every form, the words from
content/<lang>/timelines.yaml, and what is refused (with the reason the bot explains)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.content import Content
from bot.followup.timelines import load_timelines
from bot.followup.typed_dates import (
    DateProblem,
    DateReader,
    DateWords,
    normalize,
    parse_typed_date,
    read_typed_date,
)

D = dt.date
TODAY = D(2026, 11, 20)  # a Friday
ONE = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def reader(content: Content) -> DateReader:
    return load_timelines(content).dates


ENGLISH = [
    ("2026-11-03", D(2026, 11, 3)),
    ("2026/11/3", D(2026, 11, 3)),
    ("11/3/2026", D(2026, 11, 3)),
    ("11-03-2026", D(2026, 11, 3)),
    ("11/3/26", D(2026, 11, 3)),
    ("11/3", D(2026, 11, 3)),
    ("11.3", D(2026, 11, 3)),
    ("25/11", D(2025, 11, 25)),  # only one order makes a date
    ("3 nov", D(2026, 11, 3)),
    ("nov 3", D(2026, 11, 3)),
    ("Nov. 3rd", D(2026, 11, 3)),
    ("November 3", D(2026, 11, 3)),
    ("NOVEMBER 3, 2026", D(2026, 11, 3)),
    ("the 3rd of November", D(2026, 11, 3)),
    ("Tuesday, November 3", D(2026, 11, 3)),
    ("sept 30", D(2026, 9, 30)),
    ("Dec 25", D(2025, 12, 25)),  # no year: the latest not after today
    ("11/21", D(2025, 11, 21)),  # tomorrow's day without a year: last year's
    ("11/20", TODAY),
    ("2/29", D(2024, 2, 29)),  # the latest February 29
    ("today", TODAY),
    ("  Today  ", TODAY),
    ("yesterday", TODAY - ONE),
    ("day before yesterday", TODAY - 2 * ONE),
    ("the day before yesterday", TODAY - 2 * ONE),
    ("2 days ago", TODAY - 2 * ONE),
    ("1 day ago", TODAY - ONE),
    ("10 days ago", TODAY - 10 * ONE),
    ("monday", D(2026, 11, 16)),
    ("Last Monday", D(2026, 11, 16)),
    ("on thursday", D(2026, 11, 19)),
    ("friday", D(2026, 11, 13)),  # said on a Friday: a week ago ("today" is today)
    ("sat", D(2026, 11, 14)),
    # A Spanish word English does not use is understood too.
    ("hoy", TODAY),
    ("noviembre 3", D(2026, 11, 3)),
]

SPANISH = [
    ("2026-11-03", D(2026, 11, 3)),
    ("3/11/2026", D(2026, 11, 3)),
    ("03-11-2026", D(2026, 11, 3)),
    ("3/11", D(2026, 11, 3)),
    ("3/11/26", D(2026, 11, 3)),
    ("11/25", D(2025, 11, 25)),  # only one order makes a date
    ("3 nov", D(2026, 11, 3)),
    ("nov 3", D(2026, 11, 3)),
    ("3 de noviembre", D(2026, 11, 3)),
    ("3 de Noviembre de 2026", D(2026, 11, 3)),
    ("3 de noviembre del 2026", D(2026, 11, 3)),
    ("el 3 de nov.", D(2026, 11, 3)),
    ("noviembre 3", D(2026, 11, 3)),
    ("1º de noviembre", D(2026, 11, 1)),
    ("1.º de noviembre", D(2026, 11, 1)),
    ("martes 3 de noviembre", D(2026, 11, 3)),
    ("3 setiembre", D(2026, 9, 3)),
    ("25 de diciembre", D(2025, 12, 25)),
    ("hoy", TODAY),
    ("HOY", TODAY),
    ("ayer", TODAY - ONE),
    ("anteayer", TODAY - 2 * ONE),
    ("antier", TODAY - 2 * ONE),
    ("antes de ayer", TODAY - 2 * ONE),
    ("hace 2 días", TODAY - 2 * ONE),
    ("hace 2 dias", TODAY - 2 * ONE),
    ("Hace 1 día", TODAY - ONE),
    ("el lunes", D(2026, 11, 16)),
    ("el lunes pasado", D(2026, 11, 16)),
    ("Miércoles", D(2026, 11, 18)),
    ("miercoles", D(2026, 11, 18)),
    ("el sábado", D(2026, 11, 14)),
    ("mar", D(2026, 11, 17)),  # alone: martes
    ("3 mar", D(2026, 3, 3)),  # with a day: marzo
    ("3 ago", D(2026, 8, 3)),  # agosto
    # An English word Spanish does not use is understood too.
    ("November 3", D(2026, 11, 3)),
    ("yesterday", TODAY - ONE),
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english_forms(reader: DateReader, text: str, expected: dt.date) -> None:
    assert parse_typed_date(text, today=TODAY, lang="en", reader=reader) == expected


@pytest.mark.parametrize(("text", "expected"), SPANISH)
def test_spanish_forms(reader: DateReader, text: str, expected: dt.date) -> None:
    assert parse_typed_date(text, today=TODAY, lang="es", reader=reader) == expected


@pytest.mark.parametrize(
    ("lang", "text", "problem"),
    [
        ("en", "", DateProblem.UNREADABLE),
        ("en", "   ", DateProblem.UNREADABLE),
        ("en", "blah", DateProblem.UNREADABLE),
        ("en", "tomorrow", DateProblem.UNREADABLE),
        ("en", "next week", DateProblem.UNREADABLE),
        ("en", "3 ago", DateProblem.UNREADABLE),  # English's "ago", not agosto
        ("en", "nov", DateProblem.UNREADABLE),
        ("en", "november 2026", DateProblem.UNREADABLE),
        ("en", "3 4 5", DateProblem.UNREADABLE),
        ("en", "11/3/202", DateProblem.UNREADABLE),
        ("en", "123/4", DateProblem.UNREADABLE),
        ("en", "99999 days ago", DateProblem.UNREADABLE),
        ("en", "Feb 30", DateProblem.IMPOSSIBLE),
        ("en", "2/30", DateProblem.IMPOSSIBLE),
        ("en", "13/13", DateProblem.IMPOSSIBLE),
        ("en", "2026-13-01", DateProblem.IMPOSSIBLE),
        ("en", "2/29/2027", DateProblem.IMPOSSIBLE),
        ("en", "april 31", DateProblem.IMPOSSIBLE),
        ("en", "32 dec", DateProblem.IMPOSSIBLE),
        ("en", "2026-12-01", DateProblem.FUTURE),
        ("en", "11/21/2026", DateProblem.FUTURE),
        ("en", "November 3, 2027", DateProblem.FUTURE),
        ("es", "mañana", DateProblem.UNREADABLE),
        ("es", "2 days ago", DateProblem.UNREADABLE),  # "ago" is agosto in Spanish
        ("es", "30/2", DateProblem.IMPOSSIBLE),
        ("es", "31 de abril", DateProblem.IMPOSSIBLE),
        ("es", "21/11/2026", DateProblem.FUTURE),
        ("es", "3 de noviembre de 2027", DateProblem.FUTURE),
    ],
)
def test_refused_with_the_reason(
    reader: DateReader, lang: str, text: str, problem: DateProblem
) -> None:
    reading = read_typed_date(text, today=TODAY, lang=lang, reader=reader)
    assert reading.problem is problem
    assert reading.accepted is None
    assert parse_typed_date(text, today=TODAY, lang=lang, reader=reader) is None
    # A future date is still named, so the bot can say which date it read.
    assert (reading.day is not None) == (problem is DateProblem.FUTURE)


def test_too_old_only_when_the_caller_sets_the_earliest(reader: DateReader) -> None:
    earliest = D(2025, 11, 20)
    old = read_typed_date("2024-05-01", today=TODAY, lang="en", reader=reader, earliest=earliest)
    assert (old.day, old.problem) == (D(2024, 5, 1), DateProblem.TOO_OLD)
    edge = read_typed_date("11/20/2025", today=TODAY, lang="en", reader=reader, earliest=earliest)
    assert edge.accepted == earliest
    assert parse_typed_date("2024-05-01", today=TODAY, lang="en", reader=reader) == D(2024, 5, 1)


def test_an_unknown_language_reads_as_english(reader: DateReader) -> None:
    assert parse_typed_date("11/3", today=TODAY, lang="pt", reader=reader) == D(2026, 11, 3)


def test_every_day_of_five_years_reads_back_in_every_form(reader: DateReader) -> None:
    en_months = ["january", "feb", "March", "apr", "may", "june", "jul", "August", "sept",
                 "oct", "November", "dec"]  # fmt: skip
    es_months = ["enero", "feb", "marzo", "abril", "mayo", "jun", "julio", "ago", "setiembre",
                 "octubre", "nov", "diciembre"]  # fmt: skip
    day = D(2024, 1, 1)
    while day <= D(2028, 12, 31):
        later = day + dt.timedelta(days=day.toordinal() % 300)  # today: up to 299 days later
        m, d, y = day.month, day.day, day.year
        for lang, text in (
            ("en", day.isoformat()),
            ("en", f"{m}/{d}/{y}"),
            ("en", f"{en_months[m - 1]} {d}, {y}"),
            ("en", f"{m}/{d}"),
            ("en", f"{d} {en_months[m - 1]}"),
            ("es", f"{d}/{m}/{y}"),
            ("es", f"{d} de {es_months[m - 1]} de {y}"),
            ("es", f"{d}/{m}"),
            ("es", f"{es_months[m - 1]} {d}"),
        ):
            read = parse_typed_date(text, today=later, lang=lang, reader=reader)
            if str(y) in text or (m, d) != (2, 29):
                assert read == day, (text, later)
            else:  # February 29 without a year: the latest one, at most today
                assert read is not None and read <= later and (read.month, read.day) == (2, 29)
        ago = (later - day).days
        assert parse_typed_date(f"{ago} days ago", today=later, lang="en", reader=reader) == day
        assert parse_typed_date(f"hace {ago} días", today=later, lang="es", reader=reader) == day
        day += ONE


def test_a_yearless_date_is_never_in_the_future_and_weekdays_are_the_last_week(
    reader: DateReader,
) -> None:
    weekdays_en = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    weekdays_es = ["el lunes", "el martes", "el miércoles", "el jueves", "el viernes",
                   "el sábado", "el domingo"]  # fmt: skip
    for today in [D(2028, 1, 1) + dt.timedelta(days=i) for i in range(366)]:
        for text in ("1/1", "2/29", "12/31", "jan 1", "Dec 31"):
            read = parse_typed_date(text, today=today, lang="en", reader=reader)
            assert read is not None and today - dt.timedelta(days=366 * 4) <= read <= today
        for i, (en, es) in enumerate(zip(weekdays_en, weekdays_es, strict=True)):
            for lang, text in (("en", en), ("es", es)):
                read = parse_typed_date(text, today=today, lang=lang, reader=reader)
                assert read is not None and read.weekday() == i, (text, today)
                assert 1 <= (today - read).days <= 7, (text, today)


PT_MONTHS = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
             "setembro", "outubro", "novembro", "dezembro"]  # fmt: skip
PT_WEEKDAYS = ["segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo"]


def test_the_words_come_from_the_content_so_a_language_is_data() -> None:
    words = DateWords(
        code="pt",
        day_first=True,
        months=tuple((normalize(n),) for n in PT_MONTHS),
        weekdays=tuple((n,) for n in PT_WEEKDAYS),
        today=("hoje",),
        yesterday=("ontem",),
        day_before_yesterday=("anteontem",),
        days_ago=("ha {n} dias",),
        fillers=frozenset({"de", "a"}),
    )
    reader = DateReader({"pt": words}, fallback="pt")
    assert parse_typed_date("3 de Novembro", today=TODAY, lang="pt", reader=reader) == D(
        2026, 11, 3
    )
    assert parse_typed_date("Há 2 dias", today=TODAY, lang="pt", reader=reader) == TODAY - 2 * ONE
    assert parse_typed_date("3/11", today=TODAY, lang="pt", reader=reader) == D(2026, 11, 3)
    assert parse_typed_date("a segunda", today=TODAY, lang="pt", reader=reader) == D(2026, 11, 16)
    assert parse_typed_date("yesterday", today=TODAY, lang="pt", reader=reader) is None


def test_normalize_drops_case_accents_and_extra_spaces() -> None:
    assert normalize("  Miércoles   SÁBADO 1.º ") == "miercoles sabado 1.o"
