"""`iep-bot broadcast`: queue a broadcast from a file, or follow and steer the queue.

The command line only writes the queue; the running bot's engine does the sending, so these
commands work while the bot runs (SQLite in WAL mode lets both use the file).

`iep-bot broadcast --text-file F` (no command, an option first) means `iep-bot broadcast send`.
The commands import the broadcast modules (and the database library) when they run, so
`iep-bot --help` does not load them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from bot.cli_errors import Fail
from bot.html import plain
from bot.wiring import open_content, open_settings, open_storage
from flows.schedule import local_time, next_allowed_time

if TYPE_CHECKING:
    from bot.broadcast.message import Problem
    from bot.broadcast.queue import Broadcasts
    from bot.config import Settings
    from bot.content import Content
    from bot.storage import Storage

DEFAULT_COMMAND = "send"
# A message is at most 4096 characters (about 16 KB of UTF-8) plus its tags; a file this big
# is the wrong file, and reading stops here (an endless file would never end).
TEXT_FILE_LIMIT = 64 * 1024
# SQLite's largest integer: a bigger id cannot be a broadcast (and SQLite would refuse it).
LARGEST_ID = 2**63 - 1


class _SendByDefault(click.Group):
    """A group that runs `send` when it is given no command, or an option first."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # send, status, then the steering commands

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ctx.help_option_names):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


class _Opened(NamedTuple):
    settings: Settings
    content: Content
    storage: Storage
    broadcasts: Broadcasts


@contextmanager
def _opened() -> Iterator[_Opened]:
    """Settings, content, then the database (not created when the content is broken)."""
    from bot.broadcast.queue import Broadcasts

    settings = open_settings()
    content = open_content(settings)
    storage = open_storage(settings)
    try:
        yield _Opened(settings, content, storage, Broadcasts(storage, content))
    finally:
        storage.close()


def _said(problem: Problem, content: Content, texts: dict[str, str]) -> str:
    """A problem in the reference language, in the words the compose flow tells staff."""
    from bot.broadcast.compose import problem_words
    from bot.broadcast.message import escape_would_fix

    words = plain(problem_words(content.pack(None), problem))
    if escape_would_fix(texts, None, content):
        words += " Or add --escape-html to have such characters shown as typed."
    return words


@click.group(
    cls=_SendByDefault,
    context_settings={"help_option_names": ["-h", "--help"]},
    short_help="Queue a broadcast to parents; show and steer broadcasts.",
)
def broadcast() -> None:
    """Queue a broadcast to subscribed parents, or show and steer broadcasts.

    Without a command, `send` runs: `iep-bot broadcast --text-file F` queues F.

    Example:

    \b
        iep-bot broadcast --text-file tip.html --audience es --dry-run
        iep-bot broadcast status
        iep-bot broadcast pause 12
    """


# A --text-file-CODE option for each language beside the reference one (--text-file): add a
# line here when the content gains a language.
OTHER_LANGUAGE_FILES = {"es": "Spanish"}


def _language_file_options(command: Callable[..., None]) -> Callable[..., None]:
    for code, name in reversed(OTHER_LANGUAGE_FILES.items()):
        command = click.option(
            f"--text-file-{code}",
            f"text_file_{code}",
            metavar="FILE",
            help=f"the message in {name}, for the parents who read {name}",
        )(command)
    return command


@broadcast.command(short_help="Queue a message for subscribed parents (the default).")
@click.option(
    "--text-file",
    metavar="FILE",
    help="the message in English, Telegram HTML (<b>, <i>, <a>); required",
)
@_language_file_options
@click.option(
    "--audience",
    default="all",
    show_default=True,
    help="all, a language (en, es) or interest:NAME",
)
@click.option(
    "--others-get",
    metavar="LANG",
    help="parents whose language has no file get this language's text (e.g. en)",
)
@click.option("--skip-missing", is_flag=True, help="parents whose language has no file get nothing")
@click.option("--dry-run", is_flag=True, help="print the preview and the counts; queue nothing")
@click.option("--now", is_flag=True, help="send even during quiet hours")
@click.option(
    "--escape-html",
    is_flag=True,
    help="show a <, > or & that is not part of a tag as typed (1 < 2), instead of refusing",
)
def send(
    text_file: str | None,
    audience: str,
    others_get: str | None,
    skip_missing: bool,
    dry_run: bool,
    now: bool,
    escape_html: bool,
    **language_files: str | None,
) -> None:
    """Queue a message for subscribed parents (the default command).

    Give the message in each language the audience reads: --text-file in English,
    --text-file-es in Spanish. If some parents read a language with no file, nothing is
    queued unless you say what they get: --others-get en (the English text) or
    --skip-missing (nothing). The running bot sends it, after quiet hours unless --now.
    With --dry-run: each language's message as parents get it and the counts; nothing is
    queued. Telegram refuses a stray <, > or & (one that is not part of a tag);
    --escape-html escapes them.

    Example:

    \b
        iep-bot broadcast --text-file tip.html --text-file-es consejo.html --dry-run
        iep-bot broadcast send --text-file tip.html --audience interest:has_504 --skip-missing
        iep-bot broadcast send --text-file tip.html --audience en --escape-html
    """
    from bot.broadcast.message import (
        OTHERS,
        BroadcastError,
        audience_languages,
        escaped,
        message_problem,
        parse_audience,
        receiving,
        render_text,
    )
    from bot.content import REFERENCE_LANGUAGE

    if not text_file:
        raise Fail("Give the message with --text-file FILE (Telegram HTML: <b>, <i>, <a>).")
    if others_get and skip_missing:
        raise Fail("Nothing queued: choose one of --others-get and --skip-missing, not both.")
    files = {REFERENCE_LANGUAGE: text_file}
    for option, path in language_files.items():
        if path:
            files[option.removeprefix("text_file_")] = path
    given = {code: read_text_file(Path(path)).strip() for code, path in files.items()}
    with _opened() as (settings, content, storage, broadcasts):
        try:
            chosen = parse_audience(audience, content.languages)
        except BroadcastError as exc:
            choices = exc.problem.values.get("choices", "")
            raise Fail(
                f"Nothing queued: unknown audience {audience!r}; choose one of: {choices}"
            ) from None
        for code in given:
            if code not in content.languages:
                raise Fail(f"Nothing queued: there is no {code!r} in the content's languages.")
        if others_get is not None and others_get not in given:
            raise Fail(
                f"Nothing queued: --others-get {others_get} needs that language's text"
                f" (--text-file{'' if others_get == REFERENCE_LANGUAGE else '-' + others_get})."
            )
        name = _language_names(content)
        scope = audience_languages(chosen, content.languages)
        counts = {lang: broadcasts.count_recipients(chosen, [lang]) for lang in scope}
        own = [lang for lang in scope if lang in given]
        needed = [lang for lang in scope if counts[lang]] or scope[:1]
        missing = [lang for lang in needed if lang not in given]
        if missing and not (others_get or skip_missing):
            raise Fail(
                "; ".join(_missing_line(lang, counts[lang], own, name) for lang in missing) + "."
            )
        texts = {lang: given[lang] for lang in own}
        if others_get is not None:
            texts[OTHERS] = given[others_get]
        if not texts:
            raise Fail(
                f"Nothing queued: the parents in audience {chosen} read"
                f" {', '.join(name(lang) for lang in scope)}, and no file is in their language."
            )
        if escape_html:
            texts = escaped(texts)
        readers = receiving(texts)
        shown = [lang for lang in scope if (readers is None and counts[lang]) or lang in texts]
        total = broadcasts.count_recipients(chosen, readers)
        moment = local_time(storage.clock(), settings.tz)
        release = moment if now else next_allowed_time(moment, settings.quiet_hours)
        got = _who_gets_what(scope, counts, texts, others_get, name)
        if dry_run:
            problem = message_problem(texts, None, content)
            if problem is not None:  # one line and exit 2, before any preview
                raise Fail(f"This would not be queued: {_said(problem, content, texts)}")
            for lang in shown:
                whose = "" if lang in texts else f": the {name(others_get or '')} text"
                click.echo(f"--- preview ({content.languages[lang].name}{whose}) ---")
                click.echo(plain(render_text(texts, lang, content)))
            click.echo("---")
            click.echo(f"Audience {chosen}: {total} parents would get it right now.")
            for line in got:
                click.echo(line)
            click.echo("Nothing was queued (dry run).")
            return
        try:
            broadcast_id = broadcasts.queue(
                audience=chosen,
                texts=texts,
                created_by=None,
                origin="cli",
                not_before=release.timestamp() if release > moment else None,
            )
        except BroadcastError as exc:
            raise Fail(f"Nothing queued: {_said(exc.problem, content, texts)}") from None
    when = "as soon as the bot's engine picks it up"
    if release > moment:
        when = f"at {release:%Y-%m-%d %H:%M} {settings.timezone} (after quiet hours; --now skips)"
    click.echo(f"Broadcast #{broadcast_id} queued for {total} parents ({chosen}), sending {when}.")
    for line in got:
        click.echo(line)
    click.echo("Follow it with: iep-bot broadcast status")


def _language_names(content: Content) -> Callable[[str], str]:
    """A language's name in English words ("Spanish"), as staff.audience.names has it."""
    names = content.pack(None).ui.get("staff", {}).get("audience", {}).get("names", {})

    def name(code: str) -> str:
        if code in names:
            return str(names[code])
        return content.languages[code].name if code in content.languages else code

    return name


def _missing_line(lang: str, count: int, own: list[str], name: Callable[[str], str]) -> str:
    """Who would not get the message, and the three ways on, in one line."""
    ways = []
    if lang in OTHER_LANGUAGE_FILES:
        ways.append(f"give --text-file-{lang}")
    if own:
        ways.append(f"--others-get {own[0]} to send them the {name(own[0])} text")
    ways.append("--skip-missing to leave them out")
    return f"{count} {name(lang)}-reading parents would not get this: {', or '.join(ways)}"


def _who_gets_what(
    scope: list[str],
    counts: dict[str, int],
    texts: dict[str, str],
    others_get: str | None,
    name: Callable[[str], str],
) -> list[str]:
    """A line per language of the audience: how many parents, and which text they get."""
    from bot.broadcast.message import OTHERS

    lines = []
    for lang in scope:
        count = counts[lang]
        if lang in texts:
            lines.append(f"  {name(lang)}: {count} parents get the {name(lang)} text.")
        elif OTHERS in texts and count:
            lines.append(f"  {name(lang)}: {count} parents get the {name(others_get or '')} text.")
        elif count:
            lines.append(f"  {name(lang)}: {count} parents left out (no {name(lang)} text).")
    return lines


@broadcast.command()
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="how many broadcasts to show, newest first",
)
def status(limit: int) -> None:
    """Show recent broadcasts with a progress bar.

    Example:

    \b
        iep-bot broadcast status --limit 10
    """
    from bot.broadcast.status import status_text

    with _opened() as opened:
        rows = opened.broadcasts.recent(limit)
        if not rows:
            click.echo("No broadcasts yet.")
            return
        now = opened.storage.clock()
        for row in rows:
            shown = opened.broadcasts.as_shown(row)
            words = status_text(shown, opened.content, None, tz=opened.settings.tz, now=now)
            click.echo(plain(words))
            click.echo(
                f"   audience {row.audience}, origin {row.origin}, texts {', '.join(row.texts)}"
            )
            click.echo()


def read_text_file(path: Path) -> str:
    """The message file's text, or Fail in one line: only a regular file is opened (a pipe
    would wait forever, a device never ends), at most TEXT_FILE_LIMIT bytes, UTF-8."""
    try:
        # O_NONBLOCK: if a pipe took the file's place, opening it still returns at once.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise Fail(f"Cannot read {path}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Fail(
                f"Cannot read {path}: it is not a regular file (a folder, a pipe or a device);"
                " give a text file with the message."
            )
        data = _read_at_most(fd, TEXT_FILE_LIMIT + 1)
    except OSError as exc:
        raise Fail(f"Cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > TEXT_FILE_LIMIT:
        raise Fail(
            f"Cannot read {path}: it is larger than {TEXT_FILE_LIMIT // 1024} KB; a message is at"
            " most 4096 characters. Is it the right file?"
        )
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not text
    except UnicodeDecodeError as exc:
        raise Fail(
            f"Cannot read {path}: it is not UTF-8 text (at byte {exc.start + 1}); save it as UTF-8"
            " and try again."
        ) from None


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := os.read(fd, limit - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class _BroadcastId(click.types.IntParamType):
    """A broadcast's number as `broadcast status` shows it: 1, 2, 3, ..."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = int(super().convert(value, param, ctx))  # not a number: click says so
        if not 1 <= number <= LARGEST_ID:
            self.fail(f"{value} is not a broadcast number (iep-bot broadcast status lists them)")
        return number


def _steer(action: str, broadcast_id: int) -> None:
    with _opened() as opened:
        from bot.broadcast.quiet import quiet_until

        broadcasts = opened.broadcasts
        quiet = quiet_until(opened.settings, opened.storage.clock())
        done = {
            "pause": broadcasts.pause,
            "resume": lambda b: broadcasts.resume(b, quiet_until=quiet),
            "cancel": broadcasts.cancel,
        }[action](broadcast_id)
        if not done:
            row = broadcasts.get(broadcast_id)
            state = row.status if row else "not found"
            raise Fail(f"Broadcast #{broadcast_id} cannot {action} now (it is {state}).")
    click.echo(
        f"Broadcast #{broadcast_id}: {action} done; the bot's engine follows within seconds."
    )


BROADCAST_ID = click.argument("broadcast_id", metavar="ID", type=_BroadcastId())
# "-1" is an id to refuse with a reason, not an unknown option.
STEERING = {"context_settings": {"ignore_unknown_options": True}}


@broadcast.command(short_help="Pause a queued or sending broadcast.", **STEERING)
@BROADCAST_ID
def pause(broadcast_id: int) -> None:
    """Pause a queued or sending broadcast (resume continues where it stopped).

    Example:

    \b
        iep-bot broadcast pause 12
    """
    _steer("pause", broadcast_id)


@broadcast.command(**STEERING)
@BROADCAST_ID
def resume(broadcast_id: int) -> None:
    """Resume a paused broadcast.

    Example:

    \b
        iep-bot broadcast resume 12
    """
    _steer("resume", broadcast_id)


@broadcast.command(**STEERING)
@BROADCAST_ID
def cancel(broadcast_id: int) -> None:
    """Cancel a broadcast; parents not yet reached get nothing.

    Example:

    \b
        iep-bot broadcast cancel 12
    """
    _steer("cancel", broadcast_id)
