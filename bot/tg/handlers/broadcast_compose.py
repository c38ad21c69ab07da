"""Staff only: /broadcast, /tips, /cancel, their buttons, drafts typed in, and the weekly tip.

For anyone who is not staff, every command and button here answers exactly like an
unknown command: no hint that staff features exist.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes, filters

from bot.broadcast.compose import (
    Incoming,
    K,
    Preview,
    Staff,
    StaffCompose,
    StaffReply,
    tip_texts,
    tip_title,
)
from bot.broadcast.drafts import ComposeDrafts
from bot.broadcast.drip import DripRun, run_weekly_tip
from bot.broadcast.queue import status_text
from bot.broadcast.staff_html import staff_html
from bot.callbacks import ForgedCallback
from bot.storage import Storage
from bot.tg.handlers import start
from bot.tg.handlers.common import chat_of
from bot.tg.render import deliver
from bot.views import Reply
from bot.wiring import Services, services

log = logging.getLogger(__name__)
KEY = "staff_compose"
# Any callback data shaped like a staff button, forged or not: "<version>|C|..." or "|Y|".
STAFF_BUTTON_PATTERN = rf"^[^|]*\|[{K.COMPOSE}{K.TIPS}]\|"
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def desk(application: Any) -> StaffCompose:
    """The application's StaffCompose, built on first use."""
    found = application.bot_data.get(KEY)
    if found is None:
        svc: Services = application.bot_data["services"]
        found = StaffCompose(svc.settings, svc.storage, svc.content, svc.broadcasts)
        application.bot_data[KEY] = found
    return found  # type: ignore[no-any-return]


def _is_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).settings.staff_ids


def staff_only(handler: Handler) -> Handler:
    """Run the handler for staff; for anyone else behave exactly like an unknown command."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not _is_staff(update, context):
            await start.unknown_command(update, context)
            return
        await handler(update, context)

    return guarded


def _staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Staff:
    svc = services(context)
    assert update.effective_user is not None
    lang = svc.conversation.language_of(chat_of(update, svc))
    desk(context.application).staff_languages[update.effective_user.id] = lang
    return Staff(user_id=update.effective_user.id, lang=lang)


@staff_only
async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start composing a message to subscribed parents."""
    await show(update, context, desk(context.application).start_message(_staff(update, context)))


@staff_only
async def tips(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the ready-made tips, each with Send and Schedule."""
    await show(update, context, desk(context.application).tips(_staff(update, context)))


@staff_only
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leave the compose flow at any step; nothing is sent."""
    await show(update, context, desk(context.application).cancel(_staff(update, context)))


@staff_only
async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A compose or tips button: verify it, then let the compose desk act on it."""
    svc = services(context)
    query = update.callback_query
    assert query is not None
    staff = _staff(update, context)
    try:
        action = svc.codec.decode(query.data)
    except ForgedCallback as exc:
        log.warning("rejected staff callback data: %s", exc)
        pack = svc.content.pack(staff.lang)
        reply = StaffReply(head=Reply(toast=pack.t("staff.compose.stale"), alert=True))
        await show(update, context, reply)
        return
    await show(update, context, desk(context.application).press(staff, action))


async def draft_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What staff send while a draft waits: the broadcast text or photo, or a date."""
    message = update.effective_message
    assert message is not None
    staff_desk, staff = desk(context.application), _staff(update, context)
    if update.edited_message is not None:
        await show(update, context, staff_desk.edited(staff))
        return
    await show(update, context, staff_desk.message(staff, incoming(message)))


def incoming(message: Message) -> Incoming:
    """A staff message as broadcast HTML, keeping the formatting made with Telegram's menu."""
    if message.photo:
        raw, formatted = message.caption or "", message.caption_html or ""
        photo: str | None = message.photo[-1].file_id  # the largest size
    elif message.text is not None:
        raw, formatted, photo = message.text, message.text_html, None
    else:
        return Incoming(is_text_or_photo=False)
    # PTB escapes plain text with html.escape; anything else in its output is a tag.
    has_formatting = formatted != html.escape(raw)
    text, removed = staff_html(raw, formatted, has_formatting=has_formatting)
    return Incoming(html=text, photo=photo, formatting_removed=removed, raw=raw)


class ComposingStaff(filters.MessageFilter):
    """A message from a staff member who has a draft open (so it is not a parent's text)."""

    def __init__(self, staff_ids: frozenset[int], storage: Storage) -> None:
        super().__init__(name="ComposingStaff")
        self.staff_ids = staff_ids
        self.drafts = ComposeDrafts(storage)

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and user.id in self.staff_ids and self.drafts.has_draft(user.id)


def composing_staff(staff_ids: frozenset[int], storage: Storage) -> filters.BaseFilter:
    """Messages and edits (not commands) from staff with an open draft."""
    return filters.UpdateType.MESSAGES & ~filters.COMMAND & ComposingStaff(staff_ids, storage)


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: StaffReply) -> None:
    """Answer the press, then previews exactly as parents get them, then the staff screens."""
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    codec = services(context).codec
    await deliver(
        reply.head, bot=context.bot, chat_id=chat_id, codec=codec, query=update.callback_query
    )
    for preview in reply.previews:
        await _send_preview(context.bot, chat_id, preview)
    await deliver(Reply(screens=reply.tail), bot=context.bot, chat_id=chat_id, codec=codec)
    if reply.status_for is not None:
        lang = _staff(update, context).lang
        await _post_status(context.application, reply.status_for, chat_id, lang)


async def _send_preview(bot: Any, chat_id: int, preview: Preview) -> None:
    """One preview, sent the way the engine sends it to a parent."""
    if preview.photo is not None:
        await bot.send_photo(
            chat_id=chat_id, photo=preview.photo, caption=preview.text, parse_mode=ParseMode.HTML
        )
    else:
        await bot.send_message(chat_id=chat_id, text=preview.text, parse_mode=ParseMode.HTML)


async def _post_status(application: Any, broadcast_id: int, chat_id: int, lang: str) -> None:
    """The status message the engine keeps up to date, with Pause / Resume / Cancel."""
    broadcasts = desk(application).broadcasts
    row = broadcasts.get(broadcast_id)
    assert row is not None
    engine = application.bot_data.get("engine")
    if engine is not None:
        text, markup = engine.status_view(row, lang)
    else:  # the engine starts in post_init; without it, the same words and no buttons yet
        text, markup = (
            status_text(row, application.bot_data["services"].content.pack(lang).t, None),
            None,
        )
    sent = await application.bot.send_message(
        chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup
    )
    broadcasts.attach_status_message(broadcast_id, chat_id, sent.message_id)


# --- the weekly tip ---------------------------------------------------------------------


async def weekly_tip_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback: queue this week's tip when due, and tell staff."""
    await post_weekly_tip(context.application)


async def post_weekly_tip(application: Any) -> DripRun | None:
    """Run the drip check once; on a new week, tell every staff member what happened."""
    svc: Services = application.bot_data["services"]
    staff_desk = desk(application)
    run = run_weekly_tip(svc.settings, svc.storage, svc.content, staff_desk.broadcasts)
    if run is None:
        return None
    status_posted = False
    for staff_id in sorted(svc.settings.staff_ids):
        lang = staff_desk.staff_languages.get(staff_id) or svc.conversation.language_of(
            svc.chat(staff_id, None)
        )
        pack = svc.content.pack(lang)
        if run.broadcast_id is None:
            text = pack.t("staff.drip.exhausted")
        else:
            texts = tip_texts(svc.content, run.tip_id or "") or {}
            text = pack.t(
                "staff.drip.queued",
                count=staff_desk.broadcasts.count_recipients("all"),
                title=tip_title(texts.get(pack.code, "")) or run.tip_id,
                id=run.broadcast_id,
            )
        try:
            await application.bot.send_message(
                chat_id=staff_id, text=text, parse_mode=ParseMode.HTML
            )
            if run.broadcast_id is not None and not status_posted:
                await _post_status(application, run.broadcast_id, staff_id, lang)
                status_posted = True
        except TelegramError as exc:
            # A staff member who never opened the bot cannot be messaged; the tip still goes.
            log.warning("could not tell a staff member about the weekly tip: %s", exc.message)
    return run
