"""Screens -> Telegram: keyboards from buttons, and a Reply shown through the one Sender."""

from __future__ import annotations

import asyncio
import json
import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
)

from bot.callbacks import CallbackCodec
from bot.delivery import Outgoing, Priority, Sender, Status
from bot.views import Reply, Screen

log = logging.getLogger(__name__)


def _button_rows(screen: Screen, codec: CallbackCodec) -> list[list[dict[str, str]]]:
    """The screen's buttons as the Bot API's JSON: a link, or callback data signed by the codec."""
    return [
        [
            {"text": b.label, "url": b.url}
            if b.url
            else {"text": b.label, "callback_data": codec.encode(b.action)}  # type: ignore[arg-type]
            for b in row
        ]
        for row in screen.rows
    ]


def keyboard(screen: Screen, codec: CallbackCodec) -> InlineKeyboardMarkup | None:
    """The screen's buttons as PTB's inline keyboard (for calls that need the object)."""
    if not screen.rows:
        return None
    return InlineKeyboardMarkup.de_json({"inline_keyboard": _button_rows(screen, codec)}, None)


def keyboard_json(screen: Screen, codec: CallbackCodec) -> str | None:
    """The same keyboard as the Bot API's JSON, built directly: PTB's button objects and
    their serialisation cost about a fifth of a reply (bench/screening_bench.py)."""
    if not screen.rows:
        return None
    rows = _button_rows(screen, codec)
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False, separators=(",", ":"))


async def deliver(
    reply: Reply,
    *,
    sender: Sender,
    chat_id: int,
    query: CallbackQuery | None = None,
    priority: Priority = Priority.REPLY,
) -> bool:
    """Answer the button press (always, so it never spins) while showing the screens.

    The answer and the first screen go out together: a parent sees the new screen one
    round trip to Telegram sooner than if the answer went first.
    True when every screen was shown (a result is then known to have reached the parent).
    """
    if query is None:
        return await _show(reply, sender, chat_id, None, priority)
    answering = asyncio.ensure_future(sender.answer(query.id, reply.toast, alert=reply.alert))
    try:
        return await _show(reply, sender, chat_id, query.message, priority)
    finally:
        await answering  # the handler ends only once the spinner has stopped


async def _show(
    reply: Reply,
    sender: Sender,
    chat_id: int,
    pressed: MaybeInaccessibleMessage | None,
    priority: Priority,
) -> bool:
    """Each screen: the first replacing one edits the pressed message, the rest are new."""
    shown = True
    for screen in reply.screens:
        if screen.replace and pressed is not None:
            target, pressed = pressed, None  # only the first replacing screen edits
            edited = await sender.send(
                Outgoing.screen(chat_id, screen, edit=target.message_id), priority
            )
            if edited.ok:
                continue
            if edited.status in (Status.FAILED, Status.BLOCKED):
                # Too old to edit, deleted, or a photo: a new message serves as well.
                log.info("edit failed (%s); sending a new message instead", edited.error)
            else:
                shown = False
                log.warning("a reply was not delivered: %s", edited.error)
                continue
        sent = await sender.send(Outgoing.screen(chat_id, screen), priority)
        if sent.status is Status.BLOCKED:
            return False  # the person blocked the bot: nothing more can reach them
        if not sent.ok:
            shown = False
            log.warning("a reply was not delivered: %s", sent.error)
    return shown
