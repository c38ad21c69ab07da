"""One way out: what the bot sends, how urgent it is, and what became of it. No Telegram here.

Every outgoing message (a parent's reply, a broadcast, a staff status message, and next the
letters, reminders and check-ins) goes through one `Sender`, which owns the bot-wide pacing,
the order of priorities and the retries. A feature says *what* and *how urgent*; it never
paces itself. The Telegram implementation is bot/tg/sender.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol

from bot.views import Button, Screen


class Priority(IntEnum):
    """Lower goes first. A parent waiting for an answer always comes before anything else."""

    REPLY = 0  # a parent (or staff member) is looking at the chat, waiting
    NOTICE = 1  # something a person asked us for: a reminder, a check-in, a status message
    BROADCAST = 2  # a tip to many; steps aside for everything above


class Status(StrEnum):
    """What became of one message (the same words the broadcast log stores)."""

    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot or deleted the chat: stop writing to them
    FAILED = "failed"  # Telegram refused this message; sending it again would fail again
    UNKNOWN = "unknown"  # it may have arrived: never sent again (at most once)
    LATER = "pending"  # it certainly did not go (rate limit outlasted the retries): try later


@dataclass(frozen=True)
class Outgoing:
    """One message to send, or to put in place of an earlier one (`edit`)."""

    chat_id: int
    text: str
    rows: tuple[tuple[Button, ...], ...] = ()
    photo: str | bytes | None = None  # a Telegram file_id, or the image itself
    # A file sent as a document, its name as the person will see it, and its bytes; `text`
    # is its caption (Telegram allows 1,024 characters).
    document: tuple[str, bytes] | None = None
    edit: int | None = None  # the message id to edit in place

    def __post_init__(self) -> None:
        if self.document is not None and (self.photo is not None or self.edit is not None):
            raise ValueError("a document is sent on its own: no photo, no edit")

    @classmethod
    def screen(cls, chat_id: int, screen: Screen, *, edit: int | None = None) -> Outgoing:
        return cls(chat_id, screen.text, screen.rows, edit=edit)


@dataclass(frozen=True)
class Delivery:
    """The result of one send: its status, why (for the log, never shown to parents), its id."""

    status: Status
    error: str | None = None
    message_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is Status.SENT


class BotRefused(Exception):
    """Telegram refuses the bot itself (a revoked token): every send would fail alike."""


class Sender(Protocol):
    """Sends one message at a priority; paces, retries and maps errors to a `Delivery`."""

    async def wait_turn(self, priority: Priority) -> None:
        """Wait until a message of this priority may go (others first, the bot-wide pace)."""
        ...

    async def send(
        self, message: Outgoing, priority: Priority, *, turn_taken: bool = False
    ) -> Delivery:
        """Send (after waiting for a turn, unless the caller just took one with wait_turn)."""
        ...

    async def answer(self, query_id: str, text: str | None = None, *, alert: bool = False) -> None:
        """Answer a button press (stop its spinner), with an optional toast; never raises."""
        ...

    @property
    def rate(self) -> float:
        """Messages a second the sender allows for broadcasts (for time estimates)."""
        ...
