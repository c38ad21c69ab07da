"""A running bot over the fake Bot API, and a way to restart it over the same database."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.content import Content
from bot.storage import Storage
from bot.tg.app import build_application
from tests.clock import FakeClock
from tests.fakes import ChatClient, FakeBotAPI


class BotEnv:
    """Starts the real Application on a FakeBotAPI; `restart()` is a process restart."""

    def __init__(self, settings: Settings, content: Content, clock: FakeClock) -> None:
        self.settings, self.content, self.clock = settings, content, clock
        self.api = FakeBotAPI()
        self.storage: Storage | None = None
        self.app: Any = None

    async def start(self) -> BotEnv:
        self.storage = Storage(self.settings.database_path, clock=self.clock)
        self.storage.migrate()
        self.app = build_application(
            self.settings, self.storage, self.content, request=self.api, sweep_expired=False
        )
        await self.app.initialize()
        return self

    async def stop(self) -> None:
        await self.app.shutdown()
        assert self.storage is not None
        self.storage.close()

    async def restart(self) -> None:
        """A new Application and Storage over the same database file, as after a crash."""
        await self.stop()
        await self.start()

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
