"""`iep-bot letter preview`: a letter in all three forms from sample answers, without
Telegram, so staff who edit a template see what parents will get.

Sample answers and details come from content/letters.yaml (never a real family); --answer
overrides an answer, --blank leaves every detail blank. No database is opened. The letters
modules load when the command runs, so `iep-bot --help` does not load them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli_errors import Fail
from bot.wiring import open_content, open_settings

if TYPE_CHECKING:
    from flows.spec import Question

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
def letter() -> None:
    """Letters parents can send the school.

    \b
    Example:
        iep-bot letter preview --type evaluation --lang both --out previews
    """


@letter.command(short_help="Write a letter's text, Word file and PDF from sample answers.")
@click.option(
    "--type",
    "letter_type",
    required=True,
    help="A letter id from content/letters.yaml (evaluation, pwn, ...), or `all`.",
)
@click.option(
    "--lang",
    default="en",
    show_default=True,
    help="The letter's language: a language code (en, es), or `both` (English and Spanish).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write into (made if missing).",
)
@click.option(
    "--answer",
    "answers",
    multiple=True,
    metavar="QUESTION=OPTION",
    help="Instead of a sample answer, e.g. --answer plan=none (repeat for more).",
)
@click.option("--blank", is_flag=True, help="Leave every detail blank (names, school, ...).")
def preview(letter_type: str, lang: str, out: Path, answers: tuple[str, ...], blank: bool) -> None:
    """Write the letter as the parent gets it: LETTER.txt (the message), .docx and .pdf,
    dated today in TIMEZONE; print the files written.

    \b
    Example:
        iep-bot letter preview --type evaluation --lang es --out previews
        iep-bot letter preview --type all --lang both --out previews --blank
    """
    import datetime as dt

    from bot.letters.book import BOTH, load_letters
    from bot.letters.fill import fill_all, languages_of
    from bot.letters.render import render
    from bot.letters.text import plain_text
    from flows.spec import ContentError

    settings = open_settings()
    content = open_content(settings)
    try:
        book = load_letters(content)
    except ContentError as exc:
        raise Fail(f"Content problem: {exc}") from None
    if letter_type != "all" and letter_type not in book.plans:
        raise Fail(
            f"--type: no letter {letter_type!r}; choose one of: all, {', '.join(book.plans)}"
        )
    if lang != BOTH and lang not in content.languages:
        raise Fail(f"--lang: expected {', '.join(content.languages)} or both, got {lang!r}")
    overrides = _answers(answers, content.spec.questions)
    langs = languages_of(lang, "es" if lang == BOTH else lang, list(content.languages))
    day = dt.datetime.now(settings.tz).date()
    details = {} if blank else dict(book.sample_details)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Fail(f"--out: cannot make the folder {out}: {exc.strerror}") from None
    for lid in book.plans if letter_type == "all" else (letter_type,):
        sample = {**book.plans[lid].sample, **overrides}
        letters = fill_all(book, lid, langs, answers=sample, details=details, day=day)
        made = render(letters, day)
        text_name = made.pdf.filename.removesuffix(".pdf") + ".txt"
        files = {
            text_name: "\n\n\n".join(plain_text(one) for one in letters).encode() + b"\n",
            made.docx.filename: made.docx.data,
            made.pdf.filename: made.pdf.data,
        }
        for name, data in files.items():
            try:
                (out / name).write_bytes(data)
            except OSError as exc:
                raise Fail(f"--out: cannot write {out / name}: {exc.strerror}") from None
            click.echo(out / name)


def _answers(given: tuple[str, ...], questions: Mapping[str, Question]) -> dict[str, str]:
    """--answer QUESTION=OPTION pairs, each checked against the screening."""
    found: dict[str, str] = {}
    for pair in given:
        qid, _, option = pair.partition("=")
        question = questions.get(qid)
        if question is None or option not in question.options:
            raise Fail(f"--answer: {pair!r} is not QUESTION=OPTION of the screening")
        found[qid] = option
    return found
