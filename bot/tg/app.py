"""build_application: the Telegram side of the wiring (bot/wiring.py builds the rest).

Here and only here: the PTB Application, the one Sender, the broadcast engine, the handlers
in order, the jobs and the command menus.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.broadcast.drip import CHECK_EVERY_SECONDS as DRIP_CHECK_SECONDS
from bot.broadcast.engine import DeliveryEngine
from bot.callbacks import STAFF_KINDS, Kind, kind_of
from bot.config import Settings
from bot.content import Content
from bot.storage import Storage
from bot.tg import jobs
from bot.tg.activity import ParentActivity
from bot.tg.context import BotApplication, BotContext
from bot.tg.handlers import (
    broadcast_compose,
    broadcast_control,
    errors,
    guards,
    screening,
    start,
    stats,
    subscribe,
)
from bot.tg.sender import SenderSettings, TelegramSender, quiet_raw_call_warning
from bot.wiring import Services

log = logging.getLogger(__name__)
EXPIRY_SWEEP_SECONDS = 3600
PARENT_COMMANDS = (
    "start",
    "restart",
    "help",
    "privacy",
    "language",
    "subscribe",
    "stop",
    "forget",
)
# Shown only in staff chats, after the parent commands (descriptions: staff.commands.*).
STAFF_COMMANDS = ("broadcast", "tips", "cancel", "stats")


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
) -> BotApplication:
    """Wire the bot. Tests pass a fake `request`; production uses PTB's HTTPX client."""
    quiet_raw_call_warning()
    builder = (
        ApplicationBuilder()
        .token(settings.token or "0:offline")
        .base_url(settings.bot_api_base)
        .base_file_url(settings.bot_file_base)
        .application_class(BotApplication)
        .context_types(ContextTypes(context=BotContext))
        # No PTB Defaults: the one Sender (bot/tg/sender.py) sets the parse mode and the
        # link previews, and only where needed (measured: defaults on every call cost about
        # a tenth of a reply, bench/screening_bench.py).
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    app = builder.build()
    assert isinstance(app, BotApplication)
    services = Services.build(settings, storage, content)
    app.services = services
    app.activity = ParentActivity()
    app.sender = TelegramSender(
        app.bot,
        services.codec,
        activity=app.activity,
        clock=storage.clock,
        settings=SenderSettings(rate=settings.broadcast_rate),
    )
    app.engine = DeliveryEngine(
        services.broadcasts,
        app.sender,
        content,
        language_of=services.staff_language,
    )
    _add_handlers(app, services)
    if sweep_expired and app.job_queue is not None:
        app.job_queue.run_repeating(jobs.sweep_expired, interval=EXPIRY_SWEEP_SECONDS, first=10)
    if settings.drip_weekday is not None and app.job_queue is not None:
        # Looks often; the weekly tip itself goes once per ISO week (bot/broadcast/drip.py).
        app.job_queue.run_repeating(jobs.weekly_tip_job, interval=DRIP_CHECK_SECONDS, first=30)
    return app


def _add_handlers(app: BotApplication, services: Services) -> None:
    """Handlers in order; buttons are routed by the kind their data claims."""
    # Group -1 runs before everything and may stop the update.
    app.add_handler(TypeHandler(Update, guards.admit), group=-1)
    composing = broadcast_compose.composing_staff(services.settings.staff_ids, services.drafts)
    # Group 0: commands first (they work at any point), then buttons, then the rest.
    # Staff commands and buttons are gated by guards.staff_only: to anyone else they answer
    # exactly like an unknown command, forged buttons included.
    app.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("help", start.help_command),
            CommandHandler("restart", start.restart),
            CommandHandler("privacy", start.privacy),
            CommandHandler("language", start.language),
            CommandHandler("forget", start.forget),
            CommandHandler("subscribe", subscribe.subscribe),
            CommandHandler(["stop", "unsubscribe"], subscribe.stop),
            CommandHandler("stats", stats.stats_command),
            CommandHandler("broadcast", broadcast_compose.broadcast),
            CommandHandler("tips", broadcast_compose.tips),
            CommandHandler("cancel", broadcast_compose.cancel),
            CallbackQueryHandler(
                broadcast_control.control_button, pattern=_kinds(Kind.BROADCAST_CONTROL)
            ),
            CallbackQueryHandler(stats.period_button, pattern=_kinds(Kind.STATS_PERIOD)),
            CallbackQueryHandler(
                broadcast_compose.button, pattern=_kinds(Kind.COMPOSE, Kind.TIPS_LIST)
            ),
            # Every other button is the parents' (verified there; unknown kinds are stale).
            CallbackQueryHandler(screening.button, pattern=lambda d: kind_of(d) not in STAFF_KINDS),
            # A staff member with a draft open is typing the broadcast (or its date): before
            # the parents' catch-all below, which would answer "not understood". Not commands.
            MessageHandler(composing, broadcast_compose.draft_message),
            MessageHandler(filters.COMMAND, guards.unknown_command),
            # Text, stickers, photos, voice, edits: anything a parent can send.
            MessageHandler(filters.ALL, screening.anything_else),
        ]
    )
    app.add_error_handler(errors.on_error)


async def _post_init(app: Any) -> None:
    """Set the command menus, then start the broadcast engine (it resumes unfinished work)."""
    await _set_parent_commands(app)
    await set_staff_commands(app)
    app.engine.start()


async def _post_shutdown(app: Any) -> None:
    """Stop the broadcast engine; a send in flight stays `attempted` and is never repeated."""
    await app.engine.stop()


async def _set_parent_commands(app: BotApplication) -> None:
    """Set the command menu in every language we have (Telegram picks by the user's app)."""
    for code, pack in app.services.content.languages.items():
        commands = [BotCommand(c, pack.t(f"commands.{c}")) for c in PARENT_COMMANDS]
        is_default = code == "en"
        await app.bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=None if is_default else code
        )


async def set_staff_commands(app: BotApplication) -> None:
    """In each staff member's own chat only: the parent commands, then the staff ones."""
    svc = app.services
    for staff_id in sorted(svc.settings.staff_ids):
        for code, pack in svc.content.languages.items():
            commands = [BotCommand(c, pack.t(f"commands.{c}")) for c in PARENT_COMMANDS]
            commands += [BotCommand(c, pack.t(f"staff.commands.{c}")) for c in STAFF_COMMANDS]
            try:
                await app.bot.set_my_commands(
                    commands,
                    scope=BotCommandScopeChat(staff_id),
                    language_code=None if code == "en" else code,
                )
            except TelegramError as exc:
                # Telegram knows a chat only once the person has opened the bot: the bot
                # still starts, and the menu appears after the next restart.
                log.warning("staff command menu not set for one staff member: %s", exc.message)
                break
