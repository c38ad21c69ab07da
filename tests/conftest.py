"""Shared fixtures: real content, a fake clock, settings for a throwaway database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, Content, load_content
from bot.storage import Storage
from tests.clock import FakeClock

if TYPE_CHECKING:
    from tests.staff import Scene

# PTB 22 returns durations as timedelta with this set, as PTB 23 will by default.
os.environ.setdefault("PTB_TIMEDELTA", "1")

TOKEN = "123456:TEST-token-that-must-never-appear-in-logs"
BOOKING_URL = "https://book.example.org/consult"
STAFF_ID = 777


@pytest.fixture(scope="session")
def content() -> Content:
    # CONTENT_DIR lets a content editor run the suite against a draft tree.
    return load_content(Path(os.environ.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(
        token=TOKEN,
        database_path=db_path,
        booking_url=BOOKING_URL,
        pseudonym_key=b"test-pseudonym-key-0123456789abcdef",
        practice_name="Bright Path Advocacy",
        staff_ids=frozenset({STAFF_ID}),
    )


@pytest.fixture
def storage(db_path: Path, clock: FakeClock) -> Storage:
    store = Storage(db_path, clock=clock)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
async def env(settings: Settings, content: Content, clock: FakeClock):  # type: ignore[no-untyped-def]
    from tests.botenv import BotEnv

    bot = await BotEnv(settings, content, clock).start()
    yield bot
    await bot.stop()


@pytest.fixture
async def scene(settings: Settings, content: Content, clock: FakeClock) -> AsyncIterator[Scene]:
    """A staff member and seeded parents on a started bot (tests/staff.py)."""
    from tests.staff import make_scene

    found = await make_scene(settings, content, clock)
    yield found
    await found.env.stop()
