"""Broadcasts: the durable queue in SQLite (Broadcasts) and the delivery engine.

Guarantees, in the order they matter:
- at most once: a delivery is marked `attempted` (committed) before its send and replaced by
  the result after; after a crash, `attempted` rows become `unknown` and are never resent;
- never to someone who left: the chat id is read from `subscribers` right before each send,
  so a /stop mid-broadcast is honoured; a 403 deletes the subscriber;
- paced: a shared pacer keeps to BROADCAST_RATE; a 429 pauses every worker for retry_after;
- flat memory: recipients are copied into `deliveries` in SQL and read back in small batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import httpx
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bot.callbacks import Action, CallbackCodec
from bot.content import REFERENCE_LANGUAGE, Content, html_problem, visible_text
from bot.parent.subscriptions import INTERESTS
from bot.storage import Clock, Storage
from bot.tg.activity import ParentActivity

log = logging.getLogger(__name__)
# We call sendMessage through do_api_request on purpose (see DeliveryEngine._send).
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

EVERYONE = "all"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ACTIVE = ("queued", "scheduled", "sending", "paused")
CONTROL = "X"  # callback kind of the Pause / Resume / Cancel buttons
# Telegram refuses the bot itself (a revoked token: 401, which do_api_request reports as
# EndPointNotFound): every send would fail alike, so stop and mark nobody failed.
BOT_REFUSED = (InvalidToken, EndPointNotFound)


class BroadcastError(ValueError):
    """Input that must not be queued; the message says why, for staff."""


def parse_audience(
    text: str, languages: Iterable[str], interests: Iterable[str] = INTERESTS
) -> str:
    """'all', a language ('es' or 'lang:es') or 'interest:NAME' -> the stored audience."""
    value = text.strip()
    languages, interests = list(languages), list(interests)
    if value == EVERYONE:
        return EVERYONE
    code = value.removeprefix("lang:")
    if code in languages:
        return f"lang:{code}"
    if value.startswith("interest:") and value.removeprefix("interest:") in interests:
        return value
    choices = [EVERYONE, *languages, *(f"interest:{i}" for i in interests)]
    raise BroadcastError(f"unknown audience {text!r}; choose one of: {', '.join(choices)}")


def render_text(texts: dict[str, str], lang: str, content: Content) -> str:
    """What one recipient reads: their language's text and the line on how to stop."""
    body = texts.get(lang) or texts.get("*") or texts.get(REFERENCE_LANGUAGE) or ""
    return f"{body.strip()}\n\n<i>{content.pack(lang).t('subscribe.footer')}</i>"


@dataclass(frozen=True)
class BroadcastRow:
    id: int
    created_at: float
    created_by: int | None
    origin: str
    audience: str
    texts: dict[str, str]
    photo: str | None
    tip_id: str | None
    not_before: float | None
    status: str
    total: int
    sent: int
    blocked: int
    failed: int
    unknown: int
    skipped: int
    started_at: float | None
    finished_at: float | None
    status_chat_id: int | None
    status_message_id: int | None

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.unknown + self.skipped

    @property
    def remaining(self) -> int:
        return max(self.total - self.done, 0)


_COLUMNS = ", ".join(BroadcastRow.__dataclass_fields__)


class Broadcasts:
    """The queue and audit log of broadcasts, over the bot's database. Synchronous."""

    def __init__(self, storage: Storage, content: Content) -> None:
        self.storage = storage
        self.content = content
        self.db = storage.db

    # --- staff-facing ---------------------------------------------------------------------

    def count_recipients(self, audience: str) -> int:
        where, params = _audience_sql(audience)
        row = self.db.execute(f"SELECT count(*) FROM subscribers WHERE {where}", params).fetchone()
        return int(row[0])

    def queue(
        self,
        *,
        audience: str,
        texts: dict[str, str],
        photo: str | None = None,
        tip_id: str | None = None,
        created_by: int | None,
        origin: str,
        not_before: float | None = None,
    ) -> int:
        """Validate and queue a broadcast; return its id. Raises BroadcastError, queues nothing."""
        _audience_sql(audience)
        if not texts:
            raise BroadcastError("the text is empty")
        limit = CAPTION_LIMIT if photo else TEXT_LIMIT
        for text in texts.values():
            if not visible_text(text).strip():
                raise BroadcastError("the text is empty")
            problem = html_problem(text)
            if problem:
                raise BroadcastError(f"Telegram would reject the formatting: {problem}")
        # Measured exactly as each recipient will get it, stop line included.
        for lang in self.content.languages:
            size = len(visible_text(render_text(texts, lang, self.content)))
            if size > limit:
                kind = "caption" if photo else "text"
                raise BroadcastError(
                    f"the {kind} ({lang}) is {size} characters with the stop line; "
                    f"Telegram allows {limit}"
                )
        now = self.storage.clock()
        if not_before is not None and not_before < now - 60:
            raise BroadcastError("that time has already passed")
        cursor = self.db.execute(
            "INSERT INTO broadcasts (created_at, created_by, origin, audience, texts, photo,"
            " tip_id, not_before, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                now,
                created_by,
                origin,
                audience,
                json.dumps(texts, ensure_ascii=False, sort_keys=True),
                photo,
                tip_id,
                not_before,
                "scheduled" if not_before and not_before > now else "queued",
            ],
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get(self, broadcast_id: int) -> BroadcastRow | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE id = ?", [broadcast_id]
        ).fetchone()
        return _row(row) if row else None

    def recent(self, limit: int = 10) -> list[BroadcastRow]:
        """The newest broadcasts, their tallies brought up to date."""
        for (broadcast_id,) in self.db.execute(
            "SELECT id FROM broadcasts WHERE status IN ('sending', 'paused') ORDER BY id DESC"
            " LIMIT ?",
            [limit],
        ).fetchall():
            self.refresh_counts(broadcast_id)
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM broadcasts ORDER BY id DESC LIMIT ?", [limit]
        ).fetchall()
        return [_row(r) for r in rows]

    def as_shown(self, row: BroadcastRow) -> BroadcastRow:
        """The row as staff should read it: before the start, the audience's size now
        (the recipients are only copied into the queue when sending starts)."""
        if row.started_at is None and row.status in ACTIVE:
            return replace(row, total=self.count_recipients(row.audience))
        return row

    def pause(self, broadcast_id: int) -> bool:
        return self._set_status(broadcast_id, "paused", ("queued", "scheduled", "sending"))

    def resume(self, broadcast_id: int) -> bool:
        row = self.get(broadcast_id)
        if row is None or row.status != "paused":
            return False
        back = "sending" if row.started_at is not None else "queued"
        return self._set_status(broadcast_id, back, ("paused",))

    def cancel(self, broadcast_id: int) -> bool:
        done = self._set_status(broadcast_id, "cancelled", ACTIVE)
        if done:
            self.db.execute(
                "UPDATE broadcasts SET finished_at = ? WHERE id = ?",
                [self.storage.clock(), broadcast_id],
            )
        return done

    def attach_status_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        self.db.execute(
            "UPDATE broadcasts SET status_chat_id = ?, status_message_id = ? WHERE id = ?",
            [chat_id, message_id, broadcast_id],
        )

    def sent_tip_ids(self) -> set[str]:
        """Tips that went out (or are on their way): the weekly tip skips them."""
        rows = self.db.execute(
            "SELECT DISTINCT tip_id FROM broadcasts WHERE tip_id IS NOT NULL"
            " AND status != 'cancelled'"
        )
        return {r[0] for r in rows}

    # --- the engine's side ------------------------------------------------------------------

    def due(self) -> list[BroadcastRow]:
        """Broadcasts to work on now, oldest first (ones already sending first)."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE status = 'sending'"
            " OR (status IN ('queued', 'scheduled') AND coalesce(not_before, 0) <= ?)"
            " ORDER BY status != 'sending', id",
            [self.storage.clock()],
        ).fetchall()
        return [_row(r) for r in rows]

    def start(self, broadcast_id: int) -> None:
        """Copy the audience into the queue (in SQL, never through memory) and mark it sending."""
        row = self.get(broadcast_id)
        assert row is not None
        if row.started_at is not None:
            return
        where, params = _audience_sql(row.audience)
        now = self.storage.clock()
        with self.db.atomic():
            self.db.execute(
                "INSERT OR IGNORE INTO deliveries (broadcast_id, chat_key, status, attempts,"
                f" updated_at) SELECT ?, chat_key, 'pending', 0, ? FROM subscribers WHERE {where}",
                [broadcast_id, now, *params],
            )
            total = self.db.execute(
                "SELECT count(*) FROM deliveries WHERE broadcast_id = ?", [broadcast_id]
            ).fetchone()[0]
            self.db.execute(
                "UPDATE broadcasts SET status = 'sending', started_at = ?, total = ?"
                " WHERE id = ? AND status IN ('queued', 'scheduled')",
                [now, total, broadcast_id],
            )

    def recover(self) -> int:
        """After a crash: attempts whose result was never written become `unknown`."""
        cursor = self.db.execute(
            "UPDATE deliveries SET status = 'unknown' WHERE status = 'attempted'"
        )
        count = cursor.rowcount
        if count:
            affected = self.db.execute(
                "SELECT DISTINCT broadcast_id FROM deliveries WHERE status = 'unknown'"
            ).fetchall()
            for (broadcast_id,) in affected:
                self.refresh_counts(broadcast_id)
        return count

    def pending_keys(self, broadcast_id: int, limit: int) -> list[str]:
        rows = self.db.execute(
            "SELECT chat_key FROM deliveries WHERE broadcast_id = ? AND status = 'pending'"
            " ORDER BY rowid LIMIT ?",
            [broadcast_id, limit],
        ).fetchall()
        return [r[0] for r in rows]

    def claim(self, broadcast_id: int, chat_key: str) -> tuple[int, str] | None:
        """Mark one delivery attempted and return (chat id, language), or None if they left."""
        # Each statement commits by itself: `attempted` is on disk before the send.
        now = self.storage.clock()
        row = self.db.execute(
            "SELECT chat_id, lang FROM subscribers WHERE chat_key = ?", [chat_key]
        ).fetchone()
        if row is None:
            self._finish(broadcast_id, chat_key, "skipped", None, now)
            return None
        self.db.execute(
            "UPDATE deliveries SET status = 'attempted', attempts = attempts + 1,"
            " updated_at = ? WHERE broadcast_id = ? AND chat_key = ?",
            [now, broadcast_id, chat_key],
        )
        return int(row[0]), str(row[1])

    def record(self, broadcast_id: int, chat_key: str, status: str, error: str | None) -> None:
        """Write the result of one send (sent, blocked or failed)."""
        with self.db.atomic():
            self._finish(broadcast_id, chat_key, status, error, self.storage.clock())
            if status == "blocked":
                self.storage.remove_subscriber(chat_key, event="blocked")

    def refresh_counts(self, broadcast_id: int) -> None:
        """Copy the delivery tallies onto the broadcast row (its audit record)."""
        counts = dict(
            self.db.execute(
                "SELECT status, count(*) FROM deliveries WHERE broadcast_id = ?"
                " AND status IN ('sent', 'blocked', 'failed', 'unknown', 'skipped')"
                " GROUP BY status",
                [broadcast_id],
            ).fetchall()
        )
        tallies = [counts.get(k, 0) for k in ("sent", "blocked", "failed", "unknown", "skipped")]
        self.db.execute(
            "UPDATE broadcasts SET sent = ?, blocked = ?, failed = ?, unknown = ?, skipped = ?"
            " WHERE id = ?",
            [*tallies, broadcast_id],
        )

    def release(self, broadcast_id: int, chat_key: str) -> None:
        """Put a claimed delivery back: Telegram said it was not sent (429) or we paused."""
        self.db.execute(
            "UPDATE deliveries SET status = 'pending' WHERE broadcast_id = ? AND chat_key = ?",
            [broadcast_id, chat_key],
        )

    def finish_if_complete(self, broadcast_id: int) -> bool:
        left = self.db.execute(
            "SELECT count(*) FROM deliveries WHERE broadcast_id = ?"
            " AND status IN ('pending', 'attempted')",
            [broadcast_id],
        ).fetchone()[0]
        self.refresh_counts(broadcast_id)
        if left:
            return False
        self.db.execute(
            "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?"
            " AND status = 'sending'",
            [self.storage.clock(), broadcast_id],
        )
        return True

    def _finish(
        self, broadcast_id: int, chat_key: str, status: str, error: str | None, now: float
    ) -> None:
        # The broadcast's tallies are recounted by refresh_counts() when shown and at the
        # end, not bumped here: one write per send instead of two.
        self.db.execute(
            "UPDATE deliveries SET status = ?, error = ?, updated_at = ?"
            " WHERE broadcast_id = ? AND chat_key = ?",
            [status, error, now, broadcast_id, chat_key],
        )

    def _set_status(self, broadcast_id: int, status: str, allowed: tuple[str, ...]) -> bool:
        marks = ", ".join("?" for _ in allowed)
        cursor = self.db.execute(
            f"UPDATE broadcasts SET status = ? WHERE id = ? AND status IN ({marks})",
            [status, broadcast_id, *allowed],
        )
        if cursor.rowcount != 1:
            return False
        self.refresh_counts(broadcast_id)
        return True


def _audience_sql(audience: str) -> tuple[str, list[str]]:
    kind, _, value = audience.partition(":")
    if audience == EVERYONE:
        return "1 = 1", []
    if kind == "lang" and value:
        return "lang = ?", [value]
    if kind == "interest" and value in INTERESTS:
        return "interest = ?", [value]
    raise BroadcastError(f"unknown audience {audience!r}")


def _row(row: tuple[Any, ...]) -> BroadcastRow:
    values = dict(zip(BroadcastRow.__dataclass_fields__, row, strict=True))
    values["texts"] = json.loads(values["texts"])
    return BroadcastRow(**values)


# --- the engine -----------------------------------------------------------------------------


Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """Hands out send slots at `rate` per second; a 429 holds every slot back.

    Slots missed because the process was busy may be caught up, but never more than
    CATCH_UP seconds' worth (at 25/s, at most 27.5 in any second: under Telegram's ~30),
    and none after an idle pause.
    """

    CATCH_UP = 0.1

    def __init__(self, rate: float, clock: Clock, sleep: Sleep) -> None:
        self.interval = 1.0 / rate
        self.clock, self.sleep = clock, sleep
        self.next_slot = 0.0
        self.hold_until = 0.0

    async def wait(self) -> None:
        now = self.clock()
        if now - self.next_slot > 1.0:
            self.next_slot = now  # idle for a while: no credit to spend
        slot = max(self.next_slot, now - self.CATCH_UP, self.hold_until)
        self.next_slot = slot + self.interval
        if slot > now:
            await self.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        self.hold_until = max(self.hold_until, self.clock() + seconds)


@dataclass
class EngineSettings:
    rate: float = 25.0
    workers: int = 8  # sends in flight at once: Telegram answers take tens of milliseconds
    retries: int = 3  # for timeouts, network errors and 5xx
    backoff: float = 2.0  # seconds before the first retry, doubled each time
    idle_poll: float = 2.0  # how often to look for new work when idle (the CLI queues too)
    status_every: float = 3.0  # edit the staff status message at most this often
    batch: int = 200  # deliveries read from the database at a time
    yield_to_parents: float = 0.05  # longest a send waits for parent replies in progress


class DeliveryEngine:
    """Sends due broadcasts; runs as one task beside the bot, resumes by itself on start."""

    def __init__(
        self,
        broadcasts: Broadcasts,
        bot: Any,
        content: Content,
        codec: CallbackCodec,
        *,
        settings: EngineSettings | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        activity: ParentActivity | None = None,
        language_of: Callable[[int], str] | None = None,
    ) -> None:
        self.broadcasts = broadcasts
        self.bot = bot
        self.content = content
        self.codec = codec
        self.settings = settings or EngineSettings()
        self.clock = clock or broadcasts.storage.clock
        self.sleep = sleep
        self.pacer = Pacer(self.settings.rate, self.clock, sleep)
        self.activity = activity or ParentActivity()
        self._task: asyncio.Task[None] | None = None
        self._status_shown: dict[int, float] = {}
        # The language a staff chat chose (for its status message); English if unknown.
        self.language_of = language_of or (lambda _chat_id: REFERENCE_LANGUAGE)

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background task (from the application's post_init)."""
        recovered = self.broadcasts.recover()
        if recovered:
            log.warning("%d deliveries had no recorded result after a restart: unknown", recovered)
        self._task = asyncio.create_task(self.run(), name="broadcast-engine")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        """Forever: send what is due, then look again after a short pause."""
        while True:
            try:
                worked = await self.work()
            except asyncio.CancelledError:
                raise
            except BOT_REFUSED:
                # Nothing was sent and nothing marked failed; the bot itself is down too.
                # Look again now and then rather than log a traceback every 2 s.
                log.error("Telegram refuses the bot token; broadcasts wait until it works")
                await self.sleep(self.settings.idle_poll * 30)
                continue
            except Exception:
                # The engine must outlive any one bad broadcast; the error is logged once.
                log.exception("broadcast engine error; retrying shortly")
                worked = False
            if not worked:
                await self.sleep(self.settings.idle_poll)

    async def work(self) -> bool:
        """Process every due broadcast until it is done, paused or cancelled."""
        due = self.broadcasts.due()
        for row in due:
            await self.deliver(row.id)
        return bool(due)

    async def deliver(self, broadcast_id: int) -> None:
        """Send one broadcast as far as it goes now."""
        self.broadcasts.start(broadcast_id)
        row = self.broadcasts.get(broadcast_id)
        assert row is not None
        log.info("broadcast %d: sending to %d", broadcast_id, row.total)
        await self._show_status(broadcast_id, force=True)
        while True:
            row = self.broadcasts.get(broadcast_id)
            if row is None or row.status != "sending":
                break
            keys = self.broadcasts.pending_keys(broadcast_id, self.settings.batch)
            if not keys:
                break
            queue: asyncio.Queue[str] = asyncio.Queue()
            for key in keys:
                queue.put_nowait(key)
            workers = [
                asyncio.create_task(self._worker(row, queue))
                for _ in range(min(self.settings.workers, len(keys)))
            ]
            try:
                # One worker's error lets the others finish the send they are in: one
                # cancelled mid-send would stay `attempted` and hold the broadcast open
                # until a restart.
                results = await asyncio.gather(*workers, return_exceptions=True)
            finally:
                for task in workers:
                    task.cancel()
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            await self._show_status(broadcast_id)
        if self.broadcasts.finish_if_complete(broadcast_id):
            log.info("broadcast %d: done", broadcast_id)
        await self._show_status(broadcast_id, force=True)

    async def _worker(self, row: BroadcastRow, queue: asyncio.Queue[str]) -> None:
        while not queue.empty():
            key = queue.get_nowait()
            # Parents first: a reply being worked on goes before the next tip.
            await self.activity.wait_idle(self.settings.yield_to_parents)
            await self.pacer.wait()
            # Checked after the waits, right before the claim: a Pause pressed meanwhile
            # stops this very send.
            if self._stopped(row.id):
                return  # paused or cancelled: what is left stays pending
            claimed = self.broadcasts.claim(row.id, key)
            if claimed is None:
                continue  # unsubscribed since the broadcast started
            chat_id, lang = claimed
            try:
                status, error = await self._send(row, chat_id, lang)
            except BOT_REFUSED:
                self.broadcasts.release(row.id, key)  # refused, so certainly not sent
                raise
            if status == "pending":
                self.broadcasts.release(row.id, key)
            else:
                self.broadcasts.record(row.id, key, status, error)
            # Every status_every seconds, not only between batches (200 take 8 s at 25/s).
            await self._show_status(row.id)

    def _stopped(self, broadcast_id: int) -> bool:
        row = self.broadcasts.db.execute(
            "SELECT status FROM broadcasts WHERE id = ?", [broadcast_id]
        ).fetchone()
        return row is None or row[0] != "sending"

    async def _send(self, row: BroadcastRow, chat_id: int, lang: str) -> tuple[str, str | None]:
        """Send to one parent; return (status, error). 'pending' means try again later."""
        text = render_text(row.texts, lang, self.content)
        delay = self.settings.backoff
        for attempt in range(self.settings.retries + 1):
            try:
                if row.photo:
                    await self.bot.send_photo(
                        chat_id=chat_id, photo=row.photo, caption=text, parse_mode=ParseMode.HTML
                    )
                else:
                    # The raw call skips building a Message object from the answer, which
                    # is half the CPU of a send and nothing here reads it.
                    await self.bot.do_api_request(
                        "sendMessage",
                        api_kwargs={"chat_id": chat_id, "text": text, "parse_mode": "HTML"},
                    )
                return "sent", None
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                log.warning("broadcast %d: Telegram asked to wait %.0f s", row.id, wait)
                self.pacer.hold(wait)
                await self.pacer.wait()
            except Forbidden:
                return "blocked", None
            except BadRequest as exc:
                return "failed", exc.message
            except TimedOut as exc:
                if isinstance(exc.__cause__, httpx.ReadTimeout):
                    # The request reached Telegram and no answer came back: it may have been
                    # delivered. Sending again could make it twice, so, as after a crash
                    # mid-send, the result is unknown and never retried.
                    return "unknown", "no answer from Telegram (it may have arrived)"
                if attempt == self.settings.retries:  # connect or pool: it never left us
                    return "failed", f"network: {exc.message}"
                await self.sleep(delay)
                delay *= 2
            except NetworkError as exc:  # 5xx and connection errors
                if attempt == self.settings.retries:
                    return "failed", f"network: {exc.message}"
                await self.sleep(delay)
                delay *= 2
            except BOT_REFUSED:
                raise
            except TelegramError as exc:
                return "failed", exc.message
        return "pending", None

    # --- the staff status message --------------------------------------------------------------

    async def _show_status(self, broadcast_id: int, *, force: bool = False) -> None:
        now = self.clock()
        if (
            not force
            and now - self._status_shown.get(broadcast_id, -1e9) < self.settings.status_every
        ):
            return
        self._status_shown[broadcast_id] = now
        self.broadcasts.refresh_counts(broadcast_id)
        row = self.broadcasts.get(broadcast_id)
        if row is None or row.status_chat_id is None or row.status_message_id is None:
            return
        text, markup = self.status_view(row, self.language_of(row.status_chat_id))
        try:
            await self.bot.edit_message_text(
                chat_id=row.status_chat_id,
                message_id=row.status_message_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("status message not updated: %s", exc.message)
        except TelegramError as exc:
            log.info("status message not updated: %s", exc.message)

    def status_view(
        self, row: BroadcastRow, lang: str | None = None
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The progress text and its Pause / Resume / Cancel buttons."""
        row = self.broadcasts.as_shown(row)
        pack = self.content.pack(lang)
        text = status_text(row, pack.t, self.eta_seconds(row))
        buttons = []
        if row.status in ("sending", "queued", "scheduled"):
            buttons.append(("pause", pack.t("staff.progress.pause")))
        if row.status == "paused":
            buttons.append(("resume", pack.t("staff.progress.resume")))
        if row.status in ACTIVE:
            buttons.append(("cancel", pack.t("staff.progress.cancel")))
        if not buttons:
            return text, None
        keyboard = [
            InlineKeyboardButton(
                label, callback_data=self.codec.encode(Action(CONTROL, (op, str(row.id))))
            )
            for op, label in buttons
        ]
        return text, InlineKeyboardMarkup([keyboard])

    def eta_seconds(self, row: BroadcastRow) -> float | None:
        if row.status not in ("sending", "queued", "scheduled") or not row.total:
            return None
        return row.remaining / self.settings.rate


def status_text(row: BroadcastRow, t: Callable[..., str], eta: float | None) -> str:
    """Progress in words and a bar, for the status message and `iep-bot broadcast status`."""
    lines = [t(f"staff.progress.state.{row.status}", id=row.id)]
    if row.total:
        lines.append(progress_bar(row.done, row.total))
    lines.append(
        t(
            "staff.progress.counts",
            sent=row.sent,
            remaining=row.remaining,
            blocked=row.blocked,
            failed=row.failed,
        )
    )
    if row.unknown or row.skipped:
        lines.append(t("staff.progress.extra", unknown=row.unknown, skipped=row.skipped))
    if eta is not None and row.remaining:
        lines.append(t("staff.progress.eta", time=_duration(eta)))
    return "\n".join(lines)


def progress_bar(done: int, total: int, width: int = 20) -> str:
    filled = math.floor(width * done / total) if total else width
    return f"{'█' * filled}{'░' * (width - filled)} {done}/{total}"


def _duration(seconds: float) -> str:
    seconds = max(round(seconds), 1)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
