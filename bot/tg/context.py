"""The typed context every handler gets: the services, the sender, and who is talking.

PTB builds one context per update (ContextTypes(context=BotContext)), so `who` is worked
out once per update, on first use, and every handler of that update shares it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.broadcast.engine import DeliveryEngine
from bot.lease import Lease
from bot.parent.conversation import Chat
from bot.tg.activity import ParentActivity
from bot.tg.sender import TelegramSender
from bot.tg.updates import RecentUpdates, TolerantBot
from bot.wiring import Services

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


class BotApplication(Application[Any, "BotContext", Any, Any, Any, Any]):
    """PTB's Application, holding the bot's parts and counting updates in progress."""

    services: Services
    sender: TelegramSender
    engine: DeliveryEngine
    activity: ParentActivity
    lease: Lease | None  # held while `iep-bot run` runs (bot/lease.py); None in tests
    lease_task: asyncio.Task[None] | None  # renews it
    stop_reason: str | None  # set when the bot stops itself: `iep-bot run` prints it
    recent_updates: RecentUpdates  # updates this process has had: repeats are skipped

    def stop_because(self, reason: str) -> None:
        """Stop polling and shut down cleanly; `iep-bot run` then exits with `reason`."""
        if self.stop_reason is None:
            self.stop_reason = reason
            log.error("%s", reason)
        if self.running:
            self.stop_running()

    async def process_update(self, update: object) -> None:
        # Counted here (not in an update processor) so tests that call process_update
        # directly count too; the sender lets notices and broadcasts wait while busy.
        self.activity.begin()
        try:
            await super().process_update(update)
        finally:
            self.activity.end()
            if isinstance(update, Update) and isinstance(self.bot, TolerantBot):
                self.bot.handled(update.update_id)  # now it may be confirmed to Telegram


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
