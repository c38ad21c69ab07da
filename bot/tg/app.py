"""build_application: the one place where handlers, error handler and menus are wired."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.broadcast.drip import CHECK_EVERY_SECONDS as DRIP_CHECK_SECONDS
from bot.broadcast.queue import CONTROL, DeliveryEngine, EngineSettings
from bot.config import Settings
from bot.content import Content
from bot.storage import Storage
from bot.tg.activity import BotApplication, ParentActivity
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
from bot.wiring import KEY, Services

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
ENGINE = "engine"


def build_application(
    settings: Settings,
    storage: Storage,
    content: Content,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    sweep_expired: bool = True,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Wire the bot. Tests pass a fake `request`; production uses PTB's HTTPX client."""
    builder = (
        ApplicationBuilder()
        .token(settings.token or "0:offline")
        .base_url(settings.bot_api_base)
        .base_file_url(settings.bot_file_base)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .application_class(BotApplication)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    app = builder.build()
    app.activity = ParentActivity()
    app.bot_data[KEY] = Services.build(settings, storage, content)

    # Order matters. Group -1 runs before everything and may stop the update.
    app.add_handler(TypeHandler(Update, guards.admit), group=-1)
    # Group 0: commands first (they work at any point), then buttons, then the rest.
    handlers = [
        CommandHandler("start", start.start),
        CommandHandler("help", start.help_command),
        CommandHandler("restart", start.restart),
        CommandHandler("privacy", start.privacy),
        CommandHandler("language", start.language),
        CommandHandler("forget", start.forget),
        CommandHandler("subscribe", subscribe.subscribe),
        CommandHandler(["stop", "unsubscribe"], subscribe.stop),
        # Staff buttons before the parents' generic button handler, which would call them stale.
        CallbackQueryHandler(broadcast_control.control_button, pattern=rf"^1\|{CONTROL}\|"),
        # /stats (staff only; anyone else gets the unknown-command reply) and its period
        # buttons, kind "S" in any version (old or forged ones too, so non-staff always get
        # the unknown-command reply): before the generic button handler.
        CommandHandler("stats", stats.stats_command),
        CallbackQueryHandler(stats.period_button, pattern=stats.BUTTON_PATTERN),
        # /broadcast, /tips, /cancel and their buttons (kinds "C", "Y"): for anyone not in
        # STAFF_IDS each answers exactly like an unknown command (checked in the handler).
        CommandHandler("broadcast", broadcast_compose.broadcast),
        CommandHandler("tips", broadcast_compose.tips),
        CommandHandler("cancel", broadcast_compose.cancel),
        # Any data shaped like a compose button, forged too, lands here and not below.
        CallbackQueryHandler(
            broadcast_compose.button, pattern=broadcast_compose.STAFF_BUTTON_PATTERN
        ),
        CallbackQueryHandler(screening.button),
        # A staff member with a draft open is typing the broadcast (or its date): before the
        # parents' catch-all below, which would answer "not understood". Not commands.
        MessageHandler(
            broadcast_compose.composing_staff(settings.staff_ids, storage),
            broadcast_compose.draft_message,
        ),
        MessageHandler(filters.COMMAND, start.unknown_command),
        # Text, stickers, photos, voice, edits: anything a parent can send.
        MessageHandler(filters.ALL, screening.anything_else),
    ]
    app.add_handlers(handlers)
    app.add_error_handler(errors.on_error)
    if sweep_expired and app.job_queue is not None:
        app.job_queue.run_repeating(_sweep, interval=EXPIRY_SWEEP_SECONDS, first=10)
    if settings.drip_weekday is not None and app.job_queue is not None:
        # Looks often; the weekly tip itself goes once per ISO week (bot/drip.py).
        app.job_queue.run_repeating(
            broadcast_compose.weekly_tip_job, interval=DRIP_CHECK_SECONDS, first=30
        )
    return app


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Set the command menus, then start the broadcast engine (it resumes unfinished work)."""
    await _set_parent_commands(app)
    await _set_staff_commands(app)
    svc: Services = app.bot_data[KEY]
    engine = DeliveryEngine(
        svc.broadcasts,
        app.bot,
        svc.content,
        svc.codec,
        settings=EngineSettings(rate=svc.settings.broadcast_rate),
        activity=app.activity,
        language_of=lambda chat_id: svc.conversation.language_of(svc.chat(chat_id, None)),
    )
    app.bot_data[ENGINE] = engine
    engine.start()


async def _post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop the broadcast engine; a send in flight stays `attempted` and is never repeated."""
    engine: DeliveryEngine | None = app.bot_data.get(ENGINE)
    if engine is not None:
        await engine.stop()


async def _set_parent_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Set the command menu in every language we have (Telegram picks by the user's app)."""
    svc: Services = app.bot_data[KEY]
    for code, pack in svc.content.languages.items():
        commands = [BotCommand(c, pack.t(f"commands.{c}")) for c in PARENT_COMMANDS]
        is_default = code == "en"
        await app.bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=None if is_default else code
        )


async def _set_staff_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """In each staff member's own chat only: the parent commands, then the staff ones."""
    svc: Services = app.bot_data[KEY]
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


async def _sweep(context: Any) -> None:
    """Log screenings left unfinished past the time-to-live as abandoned."""
    svc: Services = context.application.bot_data[KEY]
    count = svc.conversation.expire_all()
    svc.storage.prune_updates()
    if count:
        log.info("expired %d unfinished screenings", count)
