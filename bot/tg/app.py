"""build_application: the Telegram side of the wiring (bot/wiring.py builds the rest).

Here and only here: the PTB Application, the one Sender, the broadcast engine, the handlers
in order, the jobs and the command menus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, Literal

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Message, Update
from telegram.error import EndPointNotFound, InvalidToken, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    Updater,
    filters,
)
from telegram.request import BaseRequest

from bot.broadcast.drip import CHECK_EVERY_SECONDS as DRIP_CHECK_SECONDS
from bot.broadcast.engine import DeliveryEngine
from bot.busy import is_busy
from bot.callbacks import STAFF_KINDS, Kind, kind_of
from bot.config import Settings
from bot.content import Content
from bot.delivery import Delivery, Outgoing, Priority
from bot.followup.engine import FollowUpEngine
from bot.health import Health, write_heartbeat
from bot.lease import RENEW_EVERY, Lease
from bot.stats.worker import Runner, StatsWorker
from bot.storage import Storage
from bot.tg import jobs
from bot.tg.activity import ParentActivity
from bot.tg.alerts import StaffAlerts
from bot.tg.commands import PARENT_COMMANDS, STAFF_COMMANDS
from bot.tg.context import BotApplication, BotContext
from bot.tg.handlers import (
    broadcast_compose,
    broadcast_control,
    broadcasts_list,
    errors,
    export,
    followup,
    guards,
    letters,
    screening,
    start,
    stats,
    subscribe,
    whoami,
)
from bot.tg.http import TelegramHTTP
from bot.tg.order import ChatOrderedProcessor
from bot.tg.patience import patient
from bot.tg.sender import SenderSettings, Sleep, TelegramSender, quiet_raw_call_warning
from bot.tg.updates import RecentUpdates, TolerantBot
from bot.wiring import Services
from flows.crisis import CrisisMatcher

log = logging.getLogger(__name__)
EXPIRY_SWEEP_SECONDS = 3600
# On stop, broadcast messages already on their way get this long to finish and be recorded
# (one Telegram round trip, a retry at most); see docs/deploy.md for the whole stop's budget.
BROADCAST_DRAIN_SECONDS = 8.0


class CrisisWords(filters.MessageFilter):
    """A message whose text holds crisis words (commands included)."""

    def __init__(self, matcher: CrisisMatcher) -> None:
        super().__init__(name="CrisisWords")
        self.matcher = matcher

    def filter(self, message: Message) -> bool:
        return bool(message.text) and self.matcher.matches(message.text or "")


def _kinds(*kinds: str) -> Any:
    """A CallbackQueryHandler pattern: buttons that claim one of these kinds (verified later)."""
    return lambda data: kind_of(data) in kinds


def build_application(
    settings: Settings,
    storage: Storage,
    content: Content,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    sweep_expired: bool = True,
    pace_clock: Any = None,
    pace_sleep: Sleep | None = None,
    lease: Lease | None = None,
    mode: Literal["polling", "webhook"] = "polling",
    stats_runner: Runner | None = None,
) -> BotApplication:
    """Wire the bot. Tests pass a fake `request` (and a fake clock for the sending pace);
    production uses PTB's HTTPX client and real time. In webhook mode there is no Updater:
    bot/tg/webhook.py hands Telegram's posts to the same update queue."""
    quiet_raw_call_warning()
    bot = TolerantBot(
        settings.token or "0:offline",
        base_url=settings.bot_api_base,
        base_file_url=settings.bot_file_base,
        # Connections for sending: each update in flight may answer its button and edit
        # the screen at once, plus a few for broadcasts and notices. No wider: httpcore
        # checks every pooled connection on every call (bot/tg/http.py), so idle extras cost
        # CPU on each reply. One connection for the long poll.
        request=request or TelegramHTTP(connection_pool_size=2 * settings.concurrent_updates + 8),
        get_updates_request=get_updates_request or request or TelegramHTTP(),
    )
    # Enough updates waiting to keep every slot busy: polling waits rather than fetch them again.
    bot.inbox.enough = 2 * settings.concurrent_updates
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .application_class(BotApplication)
        .context_types(ContextTypes(context=BotContext))
        # Several updates at once, each chat's in order (bot/tg/order.py).
        .concurrent_updates(ChatOrderedProcessor(settings.concurrent_updates))
        # No PTB Defaults: the one Sender (bot/tg/sender.py) sets the parse mode and the
        # link previews, and only where needed (measured: defaults on every call cost about
        # a tenth of a reply, bench/screening_bench.py).
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if mode == "webhook":
        builder = builder.updater(None)
    app = builder.build()
    assert isinstance(app, BotApplication)
    if app.updater is not None:
        bot.inbox.accepting = _until_stopped(app.updater)
    services = Services.build(settings, storage, content)
    app.services = services
    app.lease = lease
    app.lease_task = None
    app.stop_reason = None
    app.recent_updates = RecentUpdates()
    app.staff_greeted = set()
    app.activity = ParentActivity()
    holder = lease.name.rpartition(":")[0] if lease is not None else ""
    app.health = Health(mode, holder, clock=storage.clock)
    app.stopping = None
    app.update_done = None
    app.newest_handled = None
    pace: dict[str, Any] = {}
    if pace_clock is not None:
        pace["clock"] = pace_clock
    if pace_sleep is not None:
        pace["sleep"] = pace_sleep
    app.sender = TelegramSender(
        app.bot,
        services.codec,
        activity=app.activity,
        settings=SenderSettings(rate=settings.broadcast_rate, budget=settings.telegram_rate),
        **pace,
    )
    app.alerts = StaffAlerts(services, app.sender)
    # Its process starts on the first /stats or /export (tests run the jobs in process).
    app.stats_worker = StatsWorker(stats_runner)
    app.engine = DeliveryEngine(
        services.broadcasts,
        BroadcastGate(app.sender),
        content,
        language_of=services.staff_language,
        on_failure=lambda error: _broadcasts_failed(app, error),
        tz=settings.tz,
    )
    # Reminders and check-ins: through the Sender itself (not the BroadcastGate), at notice
    # priority, so they go before broadcasts and share the one bot-wide budget.
    app.followup_engine = FollowUpEngine(
        services.conversation.followups,
        app.sender,
        compose=services.conversation.notices.compose,
        settings=settings,
        sleep=pace_sleep or asyncio.sleep,
        on_failure=lambda error: _notices_failed(app, error),
    )
    _add_handlers(app, services, pace)
    if sweep_expired and app.job_queue is not None:
        app.job_queue.run_repeating(jobs.sweep_expired, interval=EXPIRY_SWEEP_SECONDS, first=10)
        # What a parent typed for a letter is gone within a minute of its 30 minutes.
        app.job_queue.run_repeating(letters.forget_expired_letters, interval=60, first=60)
    if settings.drip_weekday is not None and app.job_queue is not None:
        # Looks often; the weekly tip itself goes once per ISO week (bot/broadcast/drip.py).
        app.job_queue.run_repeating(jobs.weekly_tip_job, interval=DRIP_CHECK_SECONDS, first=30)
    return app


class BroadcastGate:
    """The engine's way to the Sender, closed when the bot stops: no broadcast message starts
    after that, and those on their way finish and are recorded before the engine is stopped
    (cancelled mid-send, one would stay `attempted` and become `unknown` at the next start)."""

    def __init__(self, sender: TelegramSender) -> None:
        self.sender = sender
        self.closed = False
        self.sending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._never = asyncio.Event()

    @property
    def rate(self) -> float:
        return self.sender.rate

    async def wait_turn(self, priority: Priority) -> None:
        await self._open(priority)
        await self.sender.wait_turn(priority)
        await self._open(priority)  # it may have closed while this one waited

    async def send(
        self, message: Outgoing, priority: Priority, *, turn_taken: bool = False
    ) -> Delivery:
        if priority is not Priority.BROADCAST:
            return await self.sender.send(message, priority, turn_taken=turn_taken)
        self.sending += 1
        self._idle.clear()
        try:
            return await self.sender.send(message, priority, turn_taken=turn_taken)
        finally:
            # The engine records the result in this same step, before anyone else runs.
            self.sending -= 1
            if not self.sending:
                self._idle.set()

    async def answer(self, query_id: str, text: str | None = None, *, alert: bool = False) -> None:
        await self.sender.answer(query_id, text, alert=alert)

    async def drain(self, at_most: float) -> bool:
        """Close, and wait (at most `at_most` s) for broadcast messages on their way; True
        if none is left."""
        self.closed = True
        try:
            await asyncio.wait_for(self._idle.wait(), at_most)
        except TimeoutError:
            return False
        return True

    async def _open(self, priority: Priority) -> None:
        if self.closed and priority is Priority.BROADCAST:
            await self._never.wait()  # until the engine is stopped (cancelled)


class Polling:
    """Updates by long polling, as PTB's run_polling takes them (its Updater; errors of
    getUpdates go to the error handler)."""

    def __init__(self, app: BotApplication) -> None:
        assert app.updater is not None
        self.app = app
        self.updater = app.updater

    async def start(self) -> None:
        await self.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, error_callback=self._polling_error
        )

    async def stop(self) -> None:
        if self.updater.running:
            await self.updater.stop()

    async def close(self) -> None:
        return None

    def _polling_error(self, exc: TelegramError) -> None:
        self.app.create_task(self.app.process_error(update=None, error=exc))


def _broadcasts_failed(app: BotApplication, error: BaseException) -> None:
    """The engine met an unexpected error (it goes on): counted, and staff are told."""
    app.health.note_error(type(error).__name__)
    app.alerts.report(error, "broadcasts")


def _notices_failed(app: BotApplication, error: BaseException) -> None:
    """The follow-through engine met an unexpected error (it goes on): counted, staff told."""
    app.health.note_error(type(error).__name__)
    app.alerts.report(error, "notices")


def _until_stopped(updater: Updater) -> Callable[[], bool]:
    """True until polling, once started, has stopped (tests that never start it: True)."""
    started = False

    def accepting() -> bool:
        nonlocal started
        started = started or updater.running
        return updater.running or not started

    return accepting


def _add_handlers(app: BotApplication, services: Services, pace: dict[str, Any]) -> None:
    """Handlers in order; buttons are routed by the kind their data claims."""
    # Group -2 runs before everything and may stop the update.
    app.add_handler(TypeHandler(Update, guards.admit), group=-2)
    # Then (each group runs its first matching handler): a staff member's first update since
    # start-up gets one line saying the bot knows them as staff.
    app.add_handler(TypeHandler(Update, whoami.greet_staff), group=-1)
    composing = broadcast_compose.composing_staff(services.settings.staff_ids, services.drafts)
    # Group 0: commands first (they work at any point), then buttons, then the rest.
    # Staff commands and buttons are gated by guards.staff_only: to anyone else they answer
    # exactly like an unknown command, forged buttons included.
    app.add_handlers(
        [
            # Crisis words typed after a command ("/help I want to die"): 988 and 911 come
            # before anything else, so before the command itself.
            MessageHandler(
                filters.COMMAND & CrisisWords(services.conversation.crisis),
                screening.anything_else,
            ),
            # A press with no data at all: PTB would hand it to the first patterned handler
            # below (a staff one). The parents' handler calls it stale.
            CallbackQueryHandler(screening.button, pattern=lambda _data: False),
            CommandHandler("start", start.start),
            CommandHandler("help", start.help_command),
            CommandHandler("restart", start.restart),
            CommandHandler("privacy", start.privacy),
            CommandHandler("language", start.language),
            CommandHandler("forget", start.forget),
            CommandHandler("deadlines", followup.deadlines),
            CommandHandler("mydata", followup.mydata),
            CommandHandler("subscribe", subscribe.subscribe),
            CommandHandler(["stop", "unsubscribe"], subscribe.stop),
            CommandHandler("whoami", whoami.whoami),
            CommandHandler("stats", stats.stats_command),
            CommandHandler("export", export.export_command),
            CommandHandler("broadcast", broadcast_compose.broadcast),
            CommandHandler("broadcasts", broadcasts_list.command),
            CommandHandler("tips", broadcast_compose.tips),
            CommandHandler("cancel", broadcast_compose.cancel),
            CallbackQueryHandler(
                broadcast_control.control_button, pattern=_kinds(Kind.BROADCAST_CONTROL)
            ),
            CallbackQueryHandler(broadcasts_list.button, pattern=_kinds(Kind.BROADCASTS_LIST)),
            CallbackQueryHandler(stats.period_button, pattern=_kinds(Kind.STATS_PERIOD)),
            CallbackQueryHandler(export.period_button, pattern=_kinds(Kind.EXPORT_PERIOD)),
            CallbackQueryHandler(
                broadcast_compose.button, pattern=_kinds(Kind.COMPOSE, Kind.TIPS_LIST)
            ),
            # Every other button is the parents' (verified there; unknown kinds are stale).
            CallbackQueryHandler(screening.button, pattern=lambda d: kind_of(d) not in STAFF_KINDS),
            # A game button's press carries no data and matches no pattern: answered as stale
            # (its spinner must stop too).
            CallbackQueryHandler(screening.button),
            # A staff member with a draft open is typing the broadcast (or its date): before
            # the parents' catch-all below, which would answer "not understood". Not commands.
            MessageHandler(composing, broadcast_compose.draft_message),
            MessageHandler(filters.COMMAND, guards.unknown_command),
            # Text, stickers, photos, voice, edits: anything a parent can send.
            MessageHandler(filters.ALL, screening.anything_else),
        ]
    )
    # Every handler waits out a busy database (bot/tg/patience.py) instead of failing.
    for handlers in app.handlers.values():
        for handler in handlers:
            handler.callback = patient(handler.callback, **pace)
    app.add_error_handler(errors.on_error)


async def _post_init(app: Any) -> None:
    """Keep the lease, set the command menus, then start the broadcast and follow-through
    engines (they resume unfinished work)."""
    if app.lease is not None:
        app.lease_task = asyncio.create_task(_keep_lease(app), name="lease")
        _beat(app)  # `iep-bot status` says "running" from the start, not after RENEW_EVERY
    # Every menu at once: one round trip to Telegram before polling starts, not one for each
    # language and staff member. Both finish before a failure (a refused token) goes on.
    done = await asyncio.gather(
        _set_parent_commands(app), set_staff_commands(app), return_exceptions=True
    )
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
    app.engine.start()
    app.followup_engine.start()


async def _post_stop(app: Any) -> None:
    """After the updates in hand: confirm them, let broadcast messages on their way finish
    and be recorded, then stop the engine, while the HTTP client is still open (PTB closes it
    next)."""
    if app.updater is not None and app.newest_handled is not None:
        # PTB confirmed, on its way out, only what was handled by then (bot/tg/updates.py);
        # the updates finished since are confirmed here, or a restart would answer them again.
        try:
            await app.bot.get_updates(offset=app.newest_handled + 1, timeout=0)
        except TelegramError as exc:
            log.warning(
                "last updates not confirmed (%s): the next start may answer them again",
                type(exc).__name__,
            )
    # Beside the broadcast drain below: a chart or an export being made is sent (within
    # bot/stats/worker.py STOP_SECONDS), then the statistics worker process stops.
    statistics = asyncio.create_task(app.stats_worker.finish())
    notices = asyncio.create_task(app.followup_engine.stop(drain=BROADCAST_DRAIN_SECONDS))
    gate = app.engine.sender
    if isinstance(gate, BroadcastGate) and not await gate.drain(BROADCAST_DRAIN_SECONDS):
        log.warning(
            "a broadcast message was still on its way after %.0f s: it is counted unknown at"
            " the next start, never sent twice",
            BROADCAST_DRAIN_SECONDS,
        )
    await statistics
    if not await notices:
        log.warning(
            "a reminder or check-in was still on its way after %.0f s: it is counted unknown"
            " at the next start, never sent twice",
            BROADCAST_DRAIN_SECONDS,
        )
    await app.engine.stop()


async def _post_shutdown(app: Any) -> None:
    """Stop the broadcast engine if it still runs (start-up failed: nothing is on its way),
    write the last heartbeat, then hand the lease back so a successor starts at once."""
    await app.engine.stop()
    await app.followup_engine.stop()
    app.stats_worker.close()  # start-up failed, or post_stop already did it
    if app.lease_task is not None:
        app.lease_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app.lease_task
    if app.lease is not None:
        # Only after a start (post_init ran), and not when another instance took over (the
        # row is its own now); busy: never mind, the heartbeat then just goes stale.
        with contextlib.suppress(sqlite3.OperationalError):
            if app.lease_task is not None and app.lease.held():
                _beat(app, stopped=True)
        app.lease.release()


def _beat(app: BotApplication, *, stopped: bool = False) -> None:
    """Write the heartbeat (bot/health.py); a busy database skips this one."""
    try:
        write_heartbeat(app.services.storage.db.conn, app.figures(stopped=stopped))
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise
        log.warning("database busy: the heartbeat is written on the next round")


async def _keep_lease(app: BotApplication) -> None:
    """Renew the lease; if another instance took it (this one froze past its end), stop."""
    assert app.lease is not None
    while True:
        await asyncio.sleep(RENEW_EVERY)
        try:
            held = app.lease.renew()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            log.warning("database busy: the lease is renewed on the next round")
            continue
        if held:
            _beat(app)
        else:
            app.stop_because(
                "Stopped: another iep-bot took over this database while this one was frozen."
            )
            return


async def _set_parent_commands(app: BotApplication) -> None:
    """Set the command menu in every language we have (Telegram picks by the user's app),
    every language at once."""
    calls = [
        app.bot.set_my_commands(
            [BotCommand(c, pack.t(f"commands.{c}")) for c in PARENT_COMMANDS],
            scope=BotCommandScopeDefault(),
            language_code=None if code == "en" else code,
        )
        for code, pack in app.services.content.languages.items()
    ]
    # Each call runs to its end (none is left running when another fails), then:
    results = await asyncio.gather(*calls, return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    for exc in failures:
        if isinstance(exc, InvalidToken | EndPointNotFound) or not isinstance(exc, TelegramError):
            raise exc  # the token itself is refused (nothing will work: say so at start), or a bug
    if failures:
        # The menu is a convenience: a Telegram hiccup at start must not stop the bot.
        log.warning("command menu not set (%s); it is set again at the next start", failures[0])


async def set_staff_commands(app: BotApplication) -> None:
    """In each staff member's own chat only: the parent commands, then the staff ones; every
    staff member and language at once."""
    svc = app.services
    chats = [
        (staff_id, code, pack)
        for staff_id in sorted(svc.settings.staff_ids)
        for code, pack in svc.content.languages.items()
    ]
    calls = [
        app.bot.set_my_commands(
            [BotCommand(c, pack.t(f"commands.{c}")) for c in PARENT_COMMANDS]
            + [BotCommand(c, pack.t(f"staff.commands.{c}")) for c in STAFF_COMMANDS],
            scope=BotCommandScopeChat(staff_id),
            language_code=None if code == "en" else code,
        )
        for staff_id, code, pack in chats
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    refused: dict[int, TelegramError] = {}  # each staff member's first refusal
    for (staff_id, _, _), result in zip(chats, results, strict=True):
        if isinstance(result, TelegramError):
            refused.setdefault(staff_id, result)
        elif isinstance(result, BaseException):
            raise result  # a bug, not Telegram
    for exc in refused.values():
        # Telegram knows a chat only once the person has opened the bot: the bot still
        # starts, and the menu appears after the next restart.
        log.warning("staff command menu not set for one staff member: %s", exc.message)
