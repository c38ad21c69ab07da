"""Staff only: /broadcast, /tips, /cancel, their buttons and the drafts typed in.

For anyone who is not staff, every command and button here answers exactly like an
unknown command: no hint that staff features exist.
"""

from __future__ import annotations

import html
import logging

from telegram import Message, Update
from telegram.ext import filters

from bot.broadcast.drafts import ComposeDrafts
from bot.broadcast.staff import Incoming, Preview, Staff, StaffReply
from bot.broadcast.staff_html import staff_html
from bot.callbacks import ForgedCallback
from bot.delivery import Outgoing, Priority
from bot.tg.context import BotApplication, BotContext
from bot.tg.handlers.guards import staff_only
from bot.tg.render import deliver
from bot.views import Reply

log = logging.getLogger(__name__)


def _staff(context: BotContext) -> Staff:
    who = context.who
    assert who.user_id is not None
    return Staff(user_id=who.user_id, lang=who.lang)


@staff_only
async def broadcast(update: Update, context: BotContext) -> None:
    """Start composing a message to subscribed parents."""
    await show(update, context, context.services.staff_compose.start_message(_staff(context)))


@staff_only
async def tips(update: Update, context: BotContext) -> None:
    """List the ready-made tips, a line and a button each (the button opens its preview)."""
    await show(update, context, context.services.staff_compose.tips(_staff(context)))


@staff_only
async def cancel(update: Update, context: BotContext) -> None:
    """Leave the compose flow at any step; nothing is sent."""
    await show(update, context, context.services.staff_compose.cancel(_staff(context)))


@staff_only
async def button(update: Update, context: BotContext) -> None:
    """A compose or tips button: verify it, then let the compose desk act on it."""
    svc, staff = context.services, _staff(context)
    assert update.callback_query is not None
    try:
        action = svc.codec.decode(update.callback_query.data)
    except ForgedCallback as exc:
        log.warning("rejected staff callback data: %s", exc)
        toast = svc.content.pack(staff.lang).t("staff.compose.stale")
        await show(update, context, StaffReply(head=Reply(toast=toast, alert=True)))
        return
    await show(update, context, svc.staff_compose.press(staff, action))


async def draft_message(update: Update, context: BotContext) -> None:
    """What staff send while a draft waits: a language's text or photo, or a date."""
    message = update.effective_message
    assert message is not None
    desk, staff = context.services.staff_compose, _staff(context)
    if update.edited_message is not None:
        await show(update, context, desk.edited(staff))
        return
    await show(update, context, desk.message(staff, incoming(message)))


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

    def __init__(self, staff_ids: frozenset[int], drafts: ComposeDrafts) -> None:
        super().__init__(name="ComposingStaff")
        self.staff_ids = staff_ids
        self.drafts = drafts

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and user.id in self.staff_ids and self.drafts.has_draft(user.id)


def composing_staff(staff_ids: frozenset[int], drafts: ComposeDrafts) -> filters.BaseFilter:
    """Messages and edits (not commands) from staff with an open draft."""
    return filters.UpdateType.MESSAGES & ~filters.COMMAND & ComposingStaff(staff_ids, drafts)


async def show(update: Update, context: BotContext, reply: StaffReply) -> None:
    """Answer the press, then previews exactly as parents get them, then the staff screens."""
    chat_id, sender = context.who.chat_id, context.sender
    await deliver(reply.head, sender=sender, chat_id=chat_id, query=update.callback_query)
    for preview in reply.previews:
        await _send_preview(context, chat_id, preview)
    await deliver(Reply(screens=reply.tail), sender=sender, chat_id=chat_id)
    if reply.status_for is not None:
        await post_status(context.app, reply.status_for, chat_id, context.who.lang)


async def _send_preview(context: BotContext, chat_id: int, preview: Preview) -> None:
    """One preview, sent the way the engine sends it to a parent."""
    message = Outgoing(chat_id, preview.text, photo=preview.photo)
    delivery = await context.sender.send(message, Priority.REPLY)
    if not delivery.ok:
        log.warning("preview not delivered: %s", delivery.error)


async def post_status(app: BotApplication, broadcast_id: int, chat_id: int, lang: str) -> None:
    """The status message the engine keeps up to date, with Pause / Resume / Cancel."""
    broadcasts = app.services.broadcasts
    row = broadcasts.get(broadcast_id)
    if row is None:
        return
    screen = app.engine.status_screen(row, lang)
    sent = await app.sender.send(Outgoing.screen(chat_id, screen), Priority.REPLY)
    if sent.message_id is not None:
        broadcasts.attach_status_message(broadcast_id, chat_id, sent.message_id)
