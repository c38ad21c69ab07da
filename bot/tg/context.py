"""The typed context every handler gets: the services, the sender, and who is talking; and
the application that holds them, with the one way `iep-bot run` runs it until stopped.

PTB builds one context per update (ContextTypes(context=BotContext)), so `who` is worked
out once per update, on first use, and every handler of that update shares it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.broadcast.engine import DeliveryEngine
from bot.followup.engine import FollowUpEngine
from bot.health import Figures, Health
from bot.lease import Lease
from bot.parent.conversation import Chat
from bot.stats.worker import StatsWorker
from bot.tg.activity import ParentActivity
from bot.tg.sender import TelegramSender
from bot.tg.updates import RecentUpdates, TolerantBot
from bot.wiring import Services

if TYPE_CHECKING:
    from bot.tg.alerts import StaffAlerts

log = logging.getLogger(__name__)


class Who:
    """The person behind an update: their chat as the conversation sees it, and language."""

    def __init__(self, services: Services, chat_id: int, user_id: int | None, hint: str | None):
        self._services = services
        self.chat: Chat = services.chat(chat_id, hint)
        self.chat_id = chat_id
        self.user_id = user_id
        self.is_staff = services.is_staff(user_id)

    @functools.cached_property
    def lang(self) -> str:
        """Read only when a handler needs it (it costs a query; most parents' updates let
        the conversation pick the words itself)."""
        return self._services.language_of(self.chat)


class Receiver(Protocol):
    """How updates arrive: long polling (bot/tg/app.py) or Telegram's posts (bot/tg/webhook.py)."""

    async def start(self) -> None:
        """Begin taking updates."""

    async def stop(self) -> None:
        """Take no more (the updates in hand go on)."""

    async def close(self) -> None:
        """After the updates in hand: let go of everything."""


class BotApplication(Application[Any, "BotContext", Any, Any, Any, Any]):
    """PTB's Application, holding the bot's parts and counting updates in progress."""

    services: Services
    sender: TelegramSender
    engine: DeliveryEngine
    followup_engine: FollowUpEngine  # reminders and check-ins (bot/followup/engine.py)
    activity: ParentActivity
    lease: Lease | None  # held while `iep-bot run` runs (bot/lease.py); None in tests
    lease_task: asyncio.Task[None] | None  # renews it
    stop_reason: str | None  # set when the bot stops itself: `iep-bot run` prints it
    recent_updates: RecentUpdates  # updates this process has had: repeats are skipped
    staff_greeted: set[int]  # staff told "the bot knows you as staff" since start-up
    health: Health  # its figures for `iep-bot status` and /health (bot/health.py)
    alerts: StaffAlerts  # errors reach staff in Telegram (bot/tg/alerts.py)
    # /stats and /export: counted and drawn in a process of their own (bot/stats/worker.py).
    stats_worker: StatsWorker
    # Set while run_until_stopped runs: stop_running() sets it (PTB's own stops the loop).
    stopping: asyncio.Event | None
    # Told each update id once it has been handled (webhook mode answers Telegram then).
    update_done: Callable[[int], None] | None
    newest_handled: int | None  # the highest update id handled (confirmed on a clean stop)

    def stop_because(self, reason: str) -> None:
        """Stop polling and shut down cleanly; `iep-bot run` then exits with `reason`."""
        if self.stop_reason is None:
            self.stop_reason = reason
            log.error("%s", reason)
        if self.running or self.stopping is not None:
            self.stop_running()

    def figures(self, *, stopped: bool = False) -> Figures:
        """The health figures, with the queues as they are now."""
        busy = self.activity.busy
        # Taken from the queue but not begun: waiting for their chat's turn or a free slot.
        taken = self.update_processor.current_concurrent_updates
        return self.health.figures(
            in_progress=busy,
            waiting=self.update_queue.qsize() + max(0, taken - busy),
            stopped=stopped,
        )

    def stop_running(self) -> None:
        if self.stopping is not None:
            self.stopping.set()  # under run_until_stopped; PTB's own stops the event loop
        else:
            super().stop_running()

    async def run_until_stopped(self, receiver: Receiver, *, announce: Sequence[str] = ()) -> None:
        """Run until SIGTERM, SIGINT or stop_running(), in the order of PTB's run_polling:
        initialize, post_init, take updates, start; then stop taking updates, finish those in
        hand, post_stop, close, shut down, post_shutdown.

        Unlike run_polling, a stop signal only sets an event, so it may come at any moment:
        PTB's raises SystemExit wherever the loop is, and mid-start-up that leaves a request
        half done (and logs its traceback). A signal during start-up stops the bot once it
        has started. `announce`'s lines are logged once Telegram has accepted the bot, so a
        bot that cannot start says only why.
        """
        loop = asyncio.get_running_loop()
        stopping = self.stopping = asyncio.Event()
        stop_signals = (signal.SIGINT, signal.SIGTERM)
        for number in stop_signals:
            loop.add_signal_handler(number, stopping.set)
        receiving = False
        try:
            await self.initialize()
            for line in announce:
                log.info("%s", line)
            if self.post_init is not None:
                await self.post_init(self)
            if stopping.is_set():
                return
            await receiver.start()
            receiving = True
            await self.start()
            await stopping.wait()
        finally:
            try:
                if receiving:
                    await receiver.stop()
                if self.running:
                    await self.stop()  # every update in hand is finished first
                    if self.post_stop is not None:
                        await self.post_stop(self)
                await receiver.close()
                await self.shutdown()
                await self.bot.shutdown()  # its HTTP clients, if initialize failed half way
                if self.post_shutdown is not None:
                    await self.post_shutdown(self)
            finally:
                for number in stop_signals:
                    loop.remove_signal_handler(number)

    async def process_update(self, update: object) -> None:
        # Counted here (not in an update processor) so tests that call process_update
        # directly count too; the sender lets notices and broadcasts wait while busy.
        self.activity.begin()
        try:
            await super().process_update(update)
        finally:
            self.activity.end()
            self.health.note_handled()
            if isinstance(update, Update):
                self.newest_handled = max(self.newest_handled or 0, update.update_id)
                if isinstance(self.bot, TolerantBot):
                    self.bot.handled(update.update_id)  # now it may be confirmed to Telegram
                if self.update_done is not None:
                    self.update_done(update.update_id)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to the bot's parts."""

    def __init__(self, application: Any, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application, chat_id, user_id)
        self._update: Update | None = None
        self._who: Who | None = None

    @classmethod
    def from_update(cls, update: object, application: Any) -> BotContext:
        context = super().from_update(update, application)
        context._update = update if isinstance(update, Update) else None
        return context

    @property
    def app(self) -> BotApplication:
        application = self.application
        assert isinstance(application, BotApplication)
        return application

    @property
    def services(self) -> Services:
        return self.app.services

    @property
    def sender(self) -> TelegramSender:
        return self.app.sender

    @property
    def who(self) -> Who:
        """Who sent this update and in which language, worked out once per update."""
        if self._who is None:
            update = self._update
            assert update is not None and update.effective_chat is not None
            svc, user = self.services, update.effective_user
            hint = user.language_code if user else None
            who = Who(svc, update.effective_chat.id, user.id if user else None, hint)
            if who.is_staff and who.user_id is not None and hint:
                svc.staff_language_hints[who.user_id] = hint  # for the weekly-tip note
            self._who = who
        return self._who
