"""The one Sender over Telegram: every outgoing message, paced bot-wide, parents first.

- One budget for the whole bot (`SenderSettings.budget`, under Telegram's ~30 a second for
  bulk messages): replies go at once and count; notices and broadcasts take what replies
  leave, and broadcasts keep their own slower pace (BROADCAST_RATE) on top.
- At most once: a message is sent again only when it provably never reached Telegram (the
  connection was refused or never made, or Telegram said "too many requests"). After the
  request was written, a dropped connection or a lost answer makes it `unknown`, never
  resent; edits are the exception, because editing twice shows the same thing once.
- A reply is retried after 429, 5xx and connection failures for at most `reply_patience`
  seconds: a parent who tapped must get an answer, even while Telegram is struggling.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import warnings
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx
from telegram import Bot, InputFile
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.callbacks import CallbackCodec
from bot.delivery import BotRefused, Delivery, Outgoing, Priority, Status
from bot.storage import Clock
from bot.tg.activity import ParentActivity, note_reply
from bot.tg.render import keyboard, keyboard_json
from bot.views import Screen

log = logging.getLogger(__name__)
Sleep = Any  # Callable[[float], Awaitable[None]]
# Telegram refuses the bot itself (a revoked token: 401, which do_api_request reports as
# EndPointNotFound): every send would fail alike.
_BOT_REFUSED = (InvalidToken, EndPointNotFound)
_NO_PREVIEW = '{"is_disabled":true}'  # LinkPreviewOptions(is_disabled=True), as sent
# httpx errors raised before a single byte of the request was written: resending is safe.
_NEVER_WRITTEN = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
ANSWER_PATIENCE = 5.0  # seconds a button press's answer (the spinner) is retried


@dataclass
class SenderSettings:
    rate: float = 25.0  # BROADCAST_RATE: broadcast messages a second
    budget: float = 28.0  # TELEGRAM_RATE: notices and broadcasts a second, bot-wide, after replies
    retries: int = 3  # notices and broadcasts: resends of a message that never left
    backoff: float = 2.0  # seconds before the first retry, doubled each time
    reply_patience: float = 20.0  # the longest a reply keeps trying, in seconds
    yield_to_parents: float = 0.05  # longest a notice or broadcast waits for parents' updates


class Pacer:
    """Hands out broadcast slots at `rate` per second; a 429 holds every slot back.

    Slots missed because the process was busy may be caught up, but never more than
    CATCH_UP seconds' worth, and none after an idle pause.
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


class Budget:
    """The bot-wide limit on messages nobody is waiting for: notices and broadcasts.

    Telegram's limit of about 30 messages a second is for bulk notifications; a reply to a
    parent who just tapped is not one, so replies never wait for a slot (a burst of 500
    parents would otherwise queue at 28 a second). They still count: notices and broadcasts
    take only what the last second's replies left, always leave room for as many replies
    as the last second brought (at least RESERVE), and take nothing while a reply waits out
    a "too many requests" (429), which holds everyone.

    Telegram counts a message when it arrives, which is somewhere between our sending it and
    its answer coming back; a busy moment can bunch arrivals closer than we sent them. So a
    message in flight counts from the moment it is sent, and a finished one until a second
    after its answer: whatever Telegram's window, it never sees more than `per_second`
    from us unless parents alone bring more.
    """

    RESERVE = 2

    def __init__(self, per_second: float, clock: Clock, sleep: Sleep) -> None:
        self.limit = max(1, int(per_second))
        self.clock, self.sleep = clock, sleep
        self.answered: deque[float] = deque()  # when each recent message's answer came
        self.replies: deque[float] = deque()  # when each recent reply took its slot
        self.in_flight = 0
        self.hold_until = 0.0
        self.replies_waiting = 0

    async def take(self, priority: Priority) -> None:
        """Wait for a slot, then hold it until `done()`."""
        reply = priority is Priority.REPLY
        if reply:
            self.replies_waiting += 1
        try:
            while True:
                now = self.clock()
                while self.answered and self.answered[0] <= now - 1.0:
                    self.answered.popleft()
                while self.replies and self.replies[0] <= now - 1.0:
                    self.replies.popleft()
                used = len(self.answered) + self.in_flight
                room = self.limit - self._reserve()  # for notices and broadcasts only
                if now < self.hold_until:
                    await self.sleep(self.hold_until - now)
                elif reply or (used < room and not self.replies_waiting):
                    self.in_flight += 1
                    if reply:
                        self.replies.append(now)
                    return
                elif used >= room and self.answered:
                    await self.sleep(self.answered[0] + 1.0 - now)
                else:  # all in flight, or a reply is waiting for the slot: let it have it
                    await self.sleep(0.01)
        finally:
            if reply:
                self.replies_waiting -= 1

    def _reserve(self) -> int:
        # Never the whole budget: a broadcast always gets at least one slot a second.
        return min(max(self.RESERVE, len(self.replies)), self.limit - 1)

    def done(self) -> None:
        """The message's answer came back (or its call failed)."""
        self.in_flight -= 1
        self.answered.append(self.clock())

    def hold(self, seconds: float) -> None:
        """Telegram said "too many requests": nobody sends for `seconds`."""
        self.hold_until = max(self.hold_until, self.clock() + seconds)


class _Fate(Enum):
    """What a failed call means for the message."""

    NEVER_SENT = "never_sent"  # resending cannot make it twice
    MAYBE_SENT = "maybe_sent"  # the request was written; it may be in the chat
    SERVER_ERROR = "server_error"  # Telegram answered 5xx (or another unexpected status)


class TelegramSender:
    """bot/delivery.py's Sender over a PTB Bot."""

    def __init__(
        self,
        bot: Bot,
        codec: CallbackCodec,
        *,
        activity: ParentActivity,
        clock: Clock = time.monotonic,
        settings: SenderSettings | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.codec = codec
        self.activity = activity
        self.settings = settings or SenderSettings()
        self.clock = clock
        self.sleep = sleep
        self.pacer = Pacer(self.settings.rate, clock, sleep)
        self.budget = Budget(self.settings.budget, clock, sleep)
        self._server_trouble = 0.0  # seconds broadcasts step back after a 5xx, doubling

    @property
    def rate(self) -> float:
        return min(self.settings.rate, self.settings.budget)

    async def wait_turn(self, priority: Priority) -> None:
        """Parents first and the broadcast pace; the bot-wide budget is taken by each call."""
        if priority is not Priority.REPLY:
            await self.activity.wait_idle(self.settings.yield_to_parents)
            if priority is Priority.BROADCAST:
                await self.pacer.wait()

    async def send(
        self, message: Outgoing, priority: Priority, *, turn_taken: bool = False
    ) -> Delivery:
        if not turn_taken:
            await self.wait_turn(priority)
        if priority is Priority.REPLY:
            note_reply()  # from here on, the handler must not start over (bot/tg/patience.py)
            return await self._reply(message)
        return await self._with_retries(message, priority)

    async def answer(self, query_id: str, text: str | None = None, *, alert: bool = False) -> None:
        """Answer a button press (the spinner stops); a parent is waiting, so at once.

        Never raises for Telegram's or the network's sake: the screen that follows matters
        more than the spinner, and an answer lost on the way cannot be given twice anyway.
        Tried for a few seconds only: Telegram drops an unanswered press after about 15, and
        the screen waits behind it.
        """
        deadline = self.clock() + min(self.settings.reply_patience, ANSWER_PATIENCE)
        delay = 0.25
        while True:
            try:
                await self.bot.answer_callback_query(query_id, text=text, show_alert=alert)
                return
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
            except BadRequest as exc:  # too old, or answered already
                log.info("button press not answered: %s", exc.message)
                return
            except _BOT_REFUSED as exc:
                raise BotRefused(type(exc).__name__) from None
            except NetworkError as exc:
                if _fate(exc) is _Fate.MAYBE_SENT:
                    return  # it may have been answered: a second answer would be refused
                wait, delay = delay, delay * 2
            except TelegramError as exc:
                log.info("button press not answered: %s", exc.message)
                return
            if self.clock() + wait > deadline:
                log.warning("button press not answered in time")
                return
            await self.sleep(wait)

    async def show_activity(self, chat_id: int, action: str) -> None:
        """ "Sending a photo…" at the top of the chat while a slow answer is prepared.
        Cosmetic: one try, never raises."""
        try:
            await self.bot.send_chat_action(chat_id, action)
        except TelegramError as exc:
            log.info("chat action not shown: %s", type(exc).__name__)

    async def _reply(self, message: Outgoing) -> Delivery:
        """A parent is waiting: retry 429, 5xx and connections that never opened, in time."""
        deadline = self.clock() + self.settings.reply_patience
        delay = 0.25
        while True:
            try:
                return await self._once(message, Priority.REPLY)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                self.budget.hold(wait)
            except _BOT_REFUSED as exc:
                raise BotRefused(type(exc).__name__) from None
            except NetworkError as exc:  # TimedOut included
                fate = _fate(exc)
                if fate is _Fate.MAYBE_SENT and message.edit is None:
                    return _maybe_sent(exc)
                wait, delay = delay, delay * 2
            except TelegramError as exc:
                return Delivery(Status.FAILED, exc.message)
            if self.clock() + wait > deadline:
                return Delivery(Status.LATER, "gave up: Telegram kept refusing")
            await self.sleep(wait)

    async def _with_retries(self, message: Outgoing, priority: Priority) -> Delivery:
        """Notices and broadcasts: never twice; resent only when it never left."""
        delay = self.settings.backoff
        for attempt in range(self.settings.retries + 1):
            try:
                delivery = await self._once(message, priority)
                self._server_trouble = 0.0
                return delivery
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                log.warning("Telegram asked to wait %.0f s", wait)
                self.budget.hold(wait)
                self.pacer.hold(wait)
                continue
            except _BOT_REFUSED as exc:
                raise BotRefused(type(exc).__name__) from None
            except NetworkError as exc:  # TimedOut included
                fate = _fate(exc)
                if fate is not _Fate.NEVER_SENT and message.edit is None:
                    if fate is _Fate.SERVER_ERROR:
                        self._step_back()
                    return _maybe_sent(exc)
                if attempt == self.settings.retries:
                    if fate is _Fate.NEVER_SENT:
                        return Delivery(Status.LATER, f"network: {exc.message}")
                    return Delivery(Status.FAILED, f"network: {exc.message}")
            except TelegramError as exc:
                return Delivery(Status.FAILED, exc.message)
            await self.sleep(delay)
            delay *= 2
        return Delivery(Status.LATER)

    def _step_back(self) -> None:
        """Telegram answered 5xx: give it a moment (doubling, up to a minute) before the next
        broadcast message, so an outage marks a handful `unknown`, not the whole list."""
        self._server_trouble = min(max(self._server_trouble * 2, self.settings.backoff), 60.0)
        log.warning("Telegram had a server error; broadcasts wait %.0f s", self._server_trouble)
        self.pacer.hold(self._server_trouble)

    async def _once(self, message: Outgoing, priority: Priority) -> Delivery:
        """One call, inside the bot-wide budget."""
        await self.budget.take(priority)
        try:
            return Delivery(Status.SENT, message_id=await self._call(message))
        except BadRequest as exc:
            if message.edit is not None and "not modified" in exc.message.lower():
                return Delivery(Status.SENT, message_id=message.edit)
            return Delivery(Status.FAILED, exc.message)
        except Forbidden:
            return Delivery(Status.BLOCKED)
        finally:
            self.budget.done()

    async def _call(self, message: Outgoing) -> int | None:
        """One Bot API call; the message id Telegram gave (or the edited one).

        Texts go out as raw calls with the keyboard already JSON: PTB would build button
        objects, serialise them again, and parse the Message that Telegram returns into
        objects nothing reads (together about a third of a reply's CPU,
        bench/screening_bench.py). Photos and documents, rare, keep the library's call.
        """
        if message.document is not None:
            name, data = message.document
            sent = await self.bot.send_document(
                chat_id=message.chat_id,
                # The bytes stay in memory: a retry uploads the same file again.
                document=InputFile(data, filename=name),
                caption=message.text or None,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(Screen(message.text, message.rows), self.codec),
            )
            return sent.message_id
        if message.photo is not None:
            sent = await self.bot.send_photo(
                chat_id=message.chat_id,
                photo=message.photo,
                caption=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(Screen(message.text, message.rows), self.codec),
            )
            return sent.message_id
        params: dict[str, Any] = {
            "chat_id": message.chat_id,
            "text": message.text,
            "parse_mode": "HTML",
        }
        markup = keyboard_json(Screen(message.text, message.rows), self.codec)
        if markup is not None:
            params["reply_markup"] = markup
        if "<a " in message.text:
            # No link previews: they push the buttons off a phone's screen. Set only where
            # the text has a link (Telegram previews nothing else).
            params["link_preview_options"] = _NO_PREVIEW
        if message.edit is not None:
            params["message_id"] = message.edit
            await self.bot.do_api_request("editMessageText", api_kwargs=params)
            return message.edit
        sent = await self.bot.do_api_request("sendMessage", api_kwargs=params)
        return _message_id(sent)


def _message_id(result: Any) -> int | None:
    """The id in a raw sendMessage answer (a Message as JSON)."""
    message_id = result.get("message_id") if isinstance(result, dict) else None
    return message_id if isinstance(message_id, int) else None


def quiet_raw_call_warning() -> None:
    """PTB warns on do_api_request for a method it has; we call it on purpose (see _call)."""
    from telegram.warnings import PTBUserWarning

    warnings.filterwarnings(
        "ignore",
        message=r"Please use 'Bot\.(sendMessage|editMessageText)'",
        category=PTBUserWarning,
    )


def _fate(exc: NetworkError) -> _Fate:
    """Whether a failed call could have reached Telegram (PTB keeps httpx's error as cause)."""
    cause = exc.__cause__
    if isinstance(cause, _NEVER_WRITTEN):
        return _Fate.NEVER_SENT
    if isinstance(cause, httpx.HTTPError):
        return _Fate.MAYBE_SENT  # written, then reset, closed or unanswered
    return _Fate.SERVER_ERROR  # Telegram answered with an error status


def _maybe_sent(exc: NetworkError) -> Delivery:
    return Delivery(Status.UNKNOWN, f"may have arrived: {exc.message}")


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
