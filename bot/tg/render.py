"""Screens -> Telegram messages: send new ones, edit the pressed one in place."""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.callbacks import CallbackCodec
from bot.views import Reply, Screen

log = logging.getLogger(__name__)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _preview(text: str) -> LinkPreviewOptions | None:
    """No link previews: they push the buttons off a phone's screen."""
    return _NO_PREVIEW if "<a " in text else None


def keyboard(screen: Screen, codec: CallbackCodec) -> InlineKeyboardMarkup | None:
    if not screen.rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=codec.encode(b.action))  # type: ignore[arg-type]
                for b in row
            ]
            for row in screen.rows
        ]
    )


async def deliver(
    reply: Reply,
    *,
    bot,
    chat_id: int,
    codec: CallbackCodec,
    query: CallbackQuery | None = None,
) -> None:
    """Answer the button press (always, first, so it never spins), then show the screens."""
    if query is not None:
        await query.answer(reply.toast, show_alert=reply.alert)
    pressed = query.message if query is not None else None
    for screen in reply.screens:
        markup = keyboard(screen, codec)
        if screen.replace and pressed is not None:
            target, pressed = pressed, None  # only the first replacing screen edits
            try:
                await bot.edit_message_text(
                    chat_id=chat_id,
                    message_id=target.message_id,
                    text=screen.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=_preview(screen.text),
                )
                continue
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    continue
                # Too old to edit, deleted, or a photo: a new message serves as well.
                log.info("edit failed (%s); sending a new message instead", exc.message)
        await bot.send_message(
            chat_id=chat_id,
            text=screen.text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=_preview(screen.text),
        )
