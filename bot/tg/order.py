"""Several updates at once, never two of one chat: the bot's update processor for PTB.

One update at a time leaves the bot waiting on Telegram's round trips: at 50 ms a call it
tops out near 10 replies a second while the CPU idles, and a hundred parents tapping at
once wait seconds each. PTB's own concurrency (`concurrent_updates(True)`) runs a chat's
updates side by side, so a double tap may be handled in the wrong order and two handlers
read and write one parent's session at the same time. Here up to `limit` updates run at
once, and each chat's updates run one after another, in the order they arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB takes its own semaphore before `do_process_update`, and a chat's later updates wait
# for their turn only after it: if PTB's bound were the limit, a parent mashing a button
# would hold every slot waiting for their own first tap. So PTB's bound is far above what
# polling can hold at once (bot/tg/updates.py asks for at most 100 ahead of the oldest
# unhandled update), and the real limit is taken when it is the chat's turn.
_PTB_BOUND = 4096


class _Turns:
    """One chat's queue: the lock is FIFO, `users` counts the running and waiting updates."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ChatOrderedProcessor(BaseUpdateProcessor):
    """At most `limit` updates in flight; a chat's updates one at a time, in arrival order."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        super().__init__(max_concurrent_updates=_PTB_BOUND)
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._chats: dict[int, _Turns] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # PTB starts one task per update in the order they were fetched, and each reaches
        # the chat's lock before its first pause, so the lock's queue is the arrival order.
        chat = chat_of(update)
        if chat is None:
            async with self._slots:
                await coroutine
            return
        turns = self._chats.get(chat)
        if turns is None:
            turns = self._chats[chat] = _Turns()
        turns.users += 1
        try:
            async with turns.lock, self._slots:
                await coroutine
        finally:
            turns.users -= 1
            if not turns.users:
                del self._chats[chat]  # no chat keeps memory after its last update

    @property
    def chats_waiting(self) -> int:
        """Chats with an update running or waiting (for tests and the log)."""
        return len(self._chats)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def chat_of(update: object) -> int | None:
    """The chat an update belongs to; for a press on a message the bot cannot see, the
    user (in a private chat the user's id is the chat's)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
