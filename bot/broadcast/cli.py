"""`iep-bot broadcast`: queue a broadcast from a file, or follow and steer the queue.

The command line only writes the queue; the running bot's engine does the sending, so these
commands work while the bot runs (SQLite in WAL mode lets both use the file).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli import Fail, _content, _settings, _storage
from bot.terminal import plain
from flows.schedule import local_time, next_allowed_time

if TYPE_CHECKING:
    from bot.broadcast.queue import Broadcasts

# bot.broadcast.queue pulls in python-telegram-bot: imported inside the commands that need it, so
# every other command (stats above all) starts fast.


def cmd_broadcast(args: argparse.Namespace) -> int:
    """Queue a broadcast to subscribed parents, or show and steer broadcasts."""
    from bot.broadcast.queue import Broadcasts

    settings = _settings()
    content = _content(settings)
    storage = _storage(settings)
    broadcasts = Broadcasts(storage, content)
    try:
        if args.action == "status":
            return _status(broadcasts, content.pack(None).t, args.limit)
        if args.action in ("pause", "resume", "cancel"):
            return _steer(broadcasts, args.action, args.id)
        return _queue(args, settings, content, storage, broadcasts)
    finally:
        storage.close()


def _queue(
    args: argparse.Namespace, settings: Any, content: Any, storage: Any, broadcasts: Broadcasts
) -> int:
    from bot.broadcast.queue import BroadcastError, parse_audience, render_text

    if not args.text_file:
        raise Fail("Give the message with --text-file FILE (Telegram HTML: <b>, <i>, <a>).")
    path = Path(args.text_file)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise Fail(f"Cannot read {path}: {exc.strerror}") from None
    try:
        audience = parse_audience(args.audience, content.languages)
    except BroadcastError as exc:
        raise Fail(f"Nothing queued: {exc}") from None
    texts = {"*": text}
    count = broadcasts.count_recipients(audience)
    now = local_time(storage.clock(), settings.tz)
    release = now if args.now else next_allowed_time(now, settings.quiet_hours)
    if args.dry_run:
        _check(broadcasts, texts)  # bad input: one line and exit 2, before any preview
        for lang in content.languages:
            print(f"--- preview ({content.languages[lang].name}) ---")
            print(plain(render_text(texts, lang, content)))
        print("---")
        print(f"Audience {audience}: {count} parents right now. Nothing was queued (dry run).")
        return 0
    try:
        broadcast_id = broadcasts.queue(
            audience=audience,
            texts=texts,
            created_by=None,
            origin="cli",
            not_before=release.timestamp() if release > now else None,
        )
    except BroadcastError as exc:
        raise Fail(f"Nothing queued: {exc}") from None
    when = "as soon as the bot's engine picks it up"
    if release > now:
        when = f"at {release:%Y-%m-%d %H:%M} {settings.timezone} (after quiet hours; --now skips)"
    print(f"Broadcast #{broadcast_id} queued for {count} parents ({audience}), sending {when}.")
    print("Follow it with: iep-bot broadcast status")
    return 0


def _check(broadcasts: Broadcasts, texts: dict[str, str]) -> None:
    """Run the same validation as queueing, without queueing."""
    from bot.broadcast.queue import BroadcastError

    try:
        with broadcasts.db.atomic():
            broadcasts.queue(audience="all", texts=texts, created_by=None, origin="cli")
            raise _DryRun
    except _DryRun:
        pass
    except BroadcastError as exc:
        raise Fail(f"This would not be queued: {exc}") from None


class _DryRun(Exception):
    """Rolls back the validating insert of a dry run."""


def _status(broadcasts: Broadcasts, t: Callable[..., str], limit: int) -> int:
    from bot.broadcast.queue import status_text

    rows = broadcasts.recent(limit)
    if not rows:
        print("No broadcasts yet.")
        return 0
    for row in rows:
        print(plain(status_text(broadcasts.as_shown(row), t, None)))
        print(f"   audience {row.audience}, origin {row.origin}, texts {', '.join(row.texts)}")
        print()
    return 0


def _steer(broadcasts: Broadcasts, action: str, broadcast_id: int | None) -> int:
    if broadcast_id is None:
        raise Fail(f"Which broadcast? Example: iep-bot broadcast {action} 12")
    done = {"pause": broadcasts.pause, "resume": broadcasts.resume, "cancel": broadcasts.cancel}[
        action
    ](broadcast_id)
    if not done:
        row = broadcasts.get(broadcast_id)
        state = row.status if row else "not found"
        raise Fail(f"Broadcast #{broadcast_id} cannot {action} now (it is {state}).")
    print(f"Broadcast #{broadcast_id}: {action} done; the bot's engine follows within seconds.")
    return 0


def register(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:  # type: ignore[type-arg]
    """Add `iep-bot broadcast` to the command line."""
    parser = add(
        sub,
        "broadcast",
        cmd_broadcast,
        "iep-bot broadcast --text-file tip.html --audience es --dry-run\n"
        "  iep-bot broadcast status\n"
        "  iep-bot broadcast pause 12",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["status", "pause", "resume", "cancel"],
        help="without an action, queue --text-file",
    )
    parser.add_argument("id", nargs="?", type=int, help="broadcast number, for pause/resume/cancel")
    parser.add_argument("--text-file", help="the message, Telegram HTML (<b>, <i>, <a>)")
    parser.add_argument(
        "--audience", default="all", help="all, a language (en, es) or interest:NAME"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the preview and the count")
    parser.add_argument("--now", action="store_true", help="send even during quiet hours")
    parser.add_argument("--limit", type=int, default=5, help="how many broadcasts status shows")
