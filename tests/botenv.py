"""A running bot over the fake Bot API, and a way to restart it over the same database."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from typing import Any

from bot.broadcast.engine import DeliveryEngine, EngineSettings
from bot.config import Settings
from bot.content import Content
from bot.storage import Storage
from bot.tg.activity import ParentActivity
from bot.tg.app import build_application
from bot.tg.context import BotApplication
from bot.tg.sender import SenderSettings, TelegramSender
from tests.clock import FakeClock
from tests.fakebot import ChatClient, FakeBotAPI
from tests.stats_helpers import InProcess


class BotEnv:
    """Starts the real Application on a FakeBotAPI; `restart()` is a process restart."""

    def __init__(
        self, settings: Settings, content: Content, clock: FakeClock, *, greet_staff: bool = False
    ) -> None:
        self.settings, self.content, self.clock = settings, content, clock
        # Staff get one "the bot knows you as staff" line on their first update after a
        # start (bot/tg/handlers/whoami.py); most tests are about something else, so by
        # default that first update is taken as already past.
        self.greet_staff = greet_staff
        self.api = FakeBotAPI()
        self.storage: Storage | None = None
        self.app: BotApplication = None  # type: ignore[assignment]

    async def start(self) -> BotEnv:
        self.storage = Storage(
            self.settings.database_path, clock=self.clock, timezone=self.settings.timezone
        )
        self.storage.migrate()
        await self.build(FakeSleep(self.clock))
        return self

    async def build(self, sleep: FakeSleep) -> None:
        """A new Application over the same storage; its waits go through `sleep`."""
        assert self.storage is not None
        # The sending pace runs on the test clock too: a wait moves it, never the wall clock.
        self.app = build_application(
            self.settings,
            self.storage,
            self.content,
            request=self.api,
            sweep_expired=False,
            pace_clock=self.clock,
            pace_sleep=sleep,
            # /stats and /export count and draw in this process: no test starts the worker
            # process unless it means to (tests/test_stats_off_queue.py).
            stats_runner=InProcess(),
        )
        if not self.greet_staff:
            self.app.staff_greeted.update(self.settings.staff_ids)
        await self.app.initialize()

    async def stop(self) -> None:
        await self.app.stats_worker.finish()  # a chart or export under way is sent first
        # A test that ran post_init started both engines: they stop before the database closes.
        await self.app.engine.stop()
        await self.app.followup_engine.stop()
        await self.app.shutdown()
        assert self.storage is not None
        self.storage.close()

    async def restart(self) -> None:
        """A new Application and Storage over the same database file, as after a crash."""
        await self.stop()
        await self.start()

    def engine(
        self,
        *,
        rate: float = 25,
        workers: int = 4,
        batch: int = 50,
        backoff: float = 1.0,
        sleep: Any = None,
    ) -> DeliveryEngine:
        """The real delivery engine and its own sender, on the test clock (time only moves
        when something sleeps); not the application's, so settings can differ per test."""
        svc = self.app.services
        sleep = sleep or FakeSleep(self.clock)
        sender = TelegramSender(
            self.app.bot,
            svc.codec,
            activity=ParentActivity(),
            clock=self.clock,
            settings=SenderSettings(rate=rate, backoff=backoff),
            sleep=sleep,
        )
        return DeliveryEngine(
            svc.broadcasts,
            sender,
            svc.content,
            settings=EngineSettings(workers=workers, batch=batch),
            clock=self.clock,
            sleep=sleep,
            language_of=svc.staff_language,
            tz=self.settings.tz,
        )

    def client(self, **kwargs: Any) -> ChatClient:
        defaults: dict[str, Any] = {
            "chat_id": 4242,
            "user_id": 4242,
            "first_name": "Maria",
            "username": "maria_p",
            "language_code": "en",
        }
        return ChatClient(self.app, self.api, **(defaults | kwargs))

    def rows(self, table: str) -> list[dict[str, Any]]:
        assert self.storage is not None
        return list(self.storage.db[table].rows)

    def dump(self) -> str:
        """Every row of the database file as SQL, read afresh after the WAL is checkpointed:
        what anyone who copies the file could read."""
        assert self.storage is not None
        self.storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with closing(sqlite3.connect(self.settings.database_path)) as conn:
            return "\n".join(conn.iterdump())


class FakeSleep:
    """An asyncio.sleep that moves the fake clock instead of waiting (and records each wait)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)
