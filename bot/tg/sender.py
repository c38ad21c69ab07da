"""The one Sender over Telegram: every outgoing message, paced bot-wide, parents first.

Replies to a parent go at once. Notices and broadcasts wait while parents' updates are being
handled (at most `yield_to_parents` each), then for a slot of the shared pace; a 429 holds
every slot back. What each Telegram error means for a message is decided here, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from telegram import Bot, LinkPreviewOptions
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

from bot.callbacks import CallbackCodec
from bot.delivery import BotRefused, Delivery, Outgoing, Priority, Status
from bot.storage import Clock
from bot.tg.activity import ParentActivity
from bot.tg.render import keyboard
from bot.views import Screen

log = logging.getLogger(__name__)
Sleep = Any  # Callable[[float], Awaitable[None]]
# Telegram refuses the bot itself (a revoked token: 401, which do_api_request reports as
# EndPointNotFound): every send would fail alike.
_BOT_REFUSED = (InvalidToken, EndPointNotFound)
# No link previews: they push the buttons off a phone's screen.
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class SenderSettings:
    rate: float = 25.0  # BROADCAST_RATE: messages a second for everything but replies
    retries: int = 3  # for timeouts, network errors and 5xx (notices and broadcasts)
    backoff: float = 2.0  # seconds before the first retry, doubled each time
    yield_to_parents: float = 0.05  # longest a notice or broadcast waits for parents' updates


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


class TelegramSender:
    """bot/delivery.py's Sender over a PTB Bot."""

    def __init__(
        self,
        bot: Bot,
        codec: CallbackCodec,
        *,
        activity: ParentActivity,
        clock: Clock,
        settings: SenderSettings | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.codec = codec
        self.activity = activity
        self.settings = settings or SenderSettings()
        self.sleep = sleep
        self.pacer = Pacer(self.settings.rate, clock, sleep)

    @property
    def rate(self) -> float:
        return self.settings.rate

    async def wait_turn(self, priority: Priority) -> None:
        if priority is Priority.REPLY:
            return  # a parent is waiting: never held back
        await self.activity.wait_idle(self.settings.yield_to_parents)
        await self.pacer.wait()

    async def send(
        self, message: Outgoing, priority: Priority, *, turn_taken: bool = False
    ) -> Delivery:
        if not turn_taken:
            await self.wait_turn(priority)
        if priority is Priority.REPLY:
            # Replies keep today's behaviour: one try, errors to the caller's handler.
            # (Retrying a reply under load is the delivery issue's job, here and only here.)
            return await self._once(message)
        return await self._with_retries(message)

    async def answer(self, query_id: str, text: str | None = None, *, alert: bool = False) -> None:
        """Answer a button press (the spinner stops); a parent is waiting, so at once."""
        await self.bot.answer_callback_query(query_id, text=text, show_alert=alert)

    async def _once(self, message: Outgoing) -> Delivery:
        try:
            return Delivery(Status.SENT, message_id=await self._call(message))
        except BadRequest as exc:
            if message.edit is not None and "not modified" in exc.message.lower():
                return Delivery(Status.SENT, message_id=message.edit)
            return Delivery(Status.FAILED, exc.message)
        except Forbidden:
            return Delivery(Status.BLOCKED)

    async def _with_retries(self, message: Outgoing) -> Delivery:
        delay = self.settings.backoff
        for attempt in range(self.settings.retries + 1):
            try:
                return await self._once(message)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                log.warning("Telegram asked to wait %.0f s", wait)
                self.pacer.hold(wait)
                await self.pacer.wait()
            except TimedOut as exc:
                if isinstance(exc.__cause__, httpx.ReadTimeout):
                    # The request reached Telegram and no answer came back: it may have been
                    # delivered. Sending again could make it twice, so, as after a crash
                    # mid-send, the result is unknown and never retried.
                    return Delivery(Status.UNKNOWN, "no answer from Telegram (it may have arrived)")
                if attempt == self.settings.retries:  # connect or pool: it never left us
                    return Delivery(Status.FAILED, f"network: {exc.message}")
                await self.sleep(delay)
                delay *= 2
            except _BOT_REFUSED as exc:
                raise BotRefused(type(exc).__name__) from None
            except NetworkError as exc:  # 5xx and connection errors
                if attempt == self.settings.retries:
                    return Delivery(Status.FAILED, f"network: {exc.message}")
                await self.sleep(delay)
                delay *= 2
            except TelegramError as exc:
                return Delivery(Status.FAILED, exc.message)
        return Delivery(Status.LATER)

    async def _call(self, message: Outgoing) -> int | None:
        """One Bot API call; the message id Telegram gave, when the caller needs it."""
        markup = keyboard(Screen(message.text, message.rows), self.codec)
        if message.edit is not None:
            await self.bot.edit_message_text(
                chat_id=message.chat_id,
                message_id=message.edit,
                text=message.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=_preview(message.text),
                reply_markup=markup,
            )
            return message.edit
        if message.photo is not None:
            sent = await self.bot.send_photo(
                chat_id=message.chat_id,
                photo=message.photo,
                caption=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
            return sent.message_id
        if not message.needs_id and markup is None:
            # The raw call skips building a Message object from the answer, which is half
            # the CPU of a send, and nothing reads it.
            await self.bot.do_api_request(
                "sendMessage",
                api_kwargs={
                    "chat_id": message.chat_id,
                    "text": message.text,
                    "parse_mode": "HTML",
                },
            )
            return None
        sent = await self.bot.send_message(
            chat_id=message.chat_id,
            text=message.text,
            parse_mode=ParseMode.HTML,
            link_preview_options=_preview(message.text),
            reply_markup=markup,
        )
        return sent.message_id


def _preview(text: str) -> LinkPreviewOptions | None:
    """No link previews (they push the buttons off a phone's screen); set only when the text
    has a link, because serialising the option on every message costs about a tenth of a reply."""
    return _NO_PREVIEW if "<a " in text else None


def quiet_raw_call_warning() -> None:
    """PTB warns on do_api_request('sendMessage'); we call it on purpose (see _call)."""
    from telegram.warnings import PTBUserWarning

    warnings.filterwarnings(
        "ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning
    )


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
