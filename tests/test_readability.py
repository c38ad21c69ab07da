"""Reading level: the formulas, the normalization, the writers' CLI and the content check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.checks import readability
from bot.checks.readability import (
    INSTALL_HINT,
    english_syllables,
    fernandez_huerta,
    flesch_kincaid,
    hard_strings,
    normalize,
    score,
    sentence_count,
    word_count,
)

ROOT = Path(__file__).resolve().parent.parent

# 17 words, 2 sentences; every word has one syllable except "any" (EH1 N IY0): 18 syllables.
SIMPLE = "You can ask for a test at any time. The school will then write back to you."
HARD_EN = (
    "Notwithstanding procedural considerations, comprehensive psychoeducational evaluations "
    "substantially illuminate individualized educational determinations for the committee."
)
EASY_ES = "Usted puede pedir una prueba. La escuela le dice sí o no. Guarde una copia de todo."
HARD_ES = (
    "La determinación de la elegibilidad corresponde exclusivamente al equipo "
    "multidisciplinario, considerando la documentación proporcionada y las evaluaciones "
    "psicoeducativas administradas."
)


def test_flesch_kincaid_by_hand() -> None:
    assert word_count(SIMPLE) == 17
    assert sentence_count(SIMPLE) == 2
    assert english_syllables(SIMPLE) == 18
    expected = 0.39 * 17 / 2 + 11.8 * 18 / 17 - 15.59  # 0.219
    assert flesch_kincaid(SIMPLE) == pytest.approx(expected)
    assert flesch_kincaid(HARD_EN) > 8


def test_english_syllables_come_from_the_cmu_dictionary_then_pyphen() -> None:
    assert english_syllables("evaluation") == 5  # IH0 V AE2 L Y UW0 EY1 SH AH0 N
    assert english_syllables("accommodations") == 5
    assert english_syllables("zzyzxqq") >= 1  # unknown word: pyphen's guess


def test_fernandez_huerta_easy_and_hard_spanish() -> None:
    easy, hard = fernandez_huerta(EASY_ES), fernandez_huerta(HARD_ES)
    assert easy >= 60 > hard
    words = word_count(EASY_ES)
    syllables = readability.spanish_syllables(EASY_ES)
    assert easy == pytest.approx(206.84 - 60 * syllables / words - 1.02 * words / 3)


def test_spanish_scoring_leaves_textstat_language_alone() -> None:
    import textstat

    before = vars(textstat.textstat).copy()
    fernandez_huerta(HARD_ES)
    assert vars(textstat.textstat) == before


def test_short_sentences_count_as_sentences() -> None:
    # textstat's own count drops sentences of two words or fewer; ours keeps them.
    assert sentence_count("Sign up.\nYes.\nAsk the school for a full evaluation.") == 3


def test_normalize_makes_lines_sentences_and_fills_placeholders() -> None:
    text = (
        "<b>What to do</b>\n"
        "• Ask {practice} for help &amp; advice\n"
        "1. Wait {n} days:\n"
        "- Call {name}!\n"
        "\n"
        "Done."
    )
    assert normalize(text) == (
        "What to do.\nAsk the practice for help & advice.\nWait 5 days.\nCall the practice!\nDone."
    )
    assert normalize("Within {ttl_days} days, about {total} parents") == (
        "Within 5 days, about 5 parents."
    )


def test_numbers_and_decimals_do_not_split_sentences() -> None:
    assert sentence_count("See 34 CFR 300.8 and the U.S. Department of Education today.") == 1


def test_strings_under_12_words_are_not_scored() -> None:
    short = "Notwithstanding psychoeducational considerations, multidisciplinary determinations."
    assert score("x: short", "en", short) is None
    assert hard_strings([("x: short", "en", short)]) == []
    assert score("x: unknown language", "fr", HARD_EN) is None


def test_hard_strings_report_the_score_and_words() -> None:
    items = [
        ("content/en/a.yaml: easy", "en", SIMPLE),
        ("content/en/a.yaml: hard", "en", HARD_EN),
        ("content/es/a.yaml: easy", "es", EASY_ES),
        ("content/es/a.yaml: hard", "es", HARD_ES),
    ]
    found = hard_strings(items)
    assert [f.where for f in found] == ["content/en/a.yaml: hard", "content/es/a.yaml: hard"]
    en, es = found
    assert (
        en.line()
        == f"content/en/a.yaml: hard: Flesch-Kincaid grade {en.score:.1f}, over 8 (14 words)"
    )
    assert es.line().startswith("content/es/a.yaml: hard: Fernández-Huerta ")
    assert es.line().endswith(f"{es.score:.1f}, under 60 ({es.words} words)")


def _write_yaml(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_cli_prints_every_long_string_hardest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "es" / "learn.yaml"
    _write_yaml(
        path,
        {
            "explainers": {
                "easy": {"title": "Corto", "body": [EASY_ES], "sources": [HARD_ES]},
                "hard": {"title": "Difícil", "body": HARD_ES, "reviewed": "2026-01-01"},
            }
        },
    )
    assert readability.main([str(path), "--lang", "es"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"OVER  {path}: explainers.hard.body: Fernández-Huerta ")
    assert lines[1].startswith(f"  ok  {path}: explainers.easy.body[0]: Fernández-Huerta ")
    assert lines[2].startswith("1 of 2 strings")
    assert len(lines) == 3  # the title is short; citations are not prose


def test_cli_runs_as_a_module(tmp_path: Path) -> None:
    path = tmp_path / "en" / "tips.yaml"
    _write_yaml(path, {"tips": [{"id": "a", "text": HARD_EN}]})
    done = subprocess.run(
        [sys.executable, "-m", "bot.checks.readability", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Flesch-Kincaid grade" in done.stdout
    assert "tips[0].text" in done.stdout


def test_without_the_dev_extras_the_check_asks_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "textstat", None)  # import textstat -> ImportError
    assert not readability.available()
    assert readability.reading_level_problems(None) == [INSTALL_HINT]  # type: ignore[arg-type]


def test_check_reports_a_hard_sentence_planted_in_the_content(tmp_path: Path) -> None:
    from bot.checks.content_check import check_content

    copy = tmp_path / "content"
    shutil.copytree(ROOT / "content", copy)
    for code, planted in (("en", HARD_EN), ("es", HARD_ES)):
        path = copy / code / "tips.yaml"
        tips = yaml.safe_load(path.read_text(encoding="utf-8"))
        tips["tips"][0]["text"] = planted
        _write_yaml(path, tips)
    problems = check_content(copy)
    en = [p for p in problems if p.startswith("content/en/tips.yaml: tips[0].text: ")]
    es = [p for p in problems if p.startswith("content/es/tips.yaml: tips[0].text: ")]
    assert en and en[0].endswith(", over 8 (14 words)"), problems
    assert "Flesch-Kincaid grade" in en[0]
    assert es and "Fernández-Huerta" in es[0] and ", under 60 (" in es[0], problems
