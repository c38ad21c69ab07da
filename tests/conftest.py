"""Shared fixtures: real content, a fake clock, settings for a throwaway database; and a check
that no test's output ever holds one of the secrets the tests use."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from bot.config import Settings
from bot.content import DEFAULT_CONTENT_DIR, Content, load_content
from bot.storage import Storage
from flows.outcomes import Decision
from tests.clock import FakeClock

if TYPE_CHECKING:
    from tests.staff import Scene

# PTB 22 returns durations as timedelta with this set, as PTB 23 will by default.
os.environ.setdefault("PTB_TIMEDELTA", "1")

TOKEN = "123456:TEST-token-that-must-never-appear-in-logs"
PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdef"
BOOKING_URL = "https://book.example.org/consult"
STAFF_ID = 777
# Every secret the tests hand the bot (tokens, keys). None may appear in any test's output:
# SecretScan below fails the test that shows one. tests/test_one_line.py checks that every
# token written in tests/ is listed here.
SECRETS = (
    TOKEN,
    PSEUDONYM_KEY,
    "123456:KILL-test-token-0123456789-abcdefghij",  # tests/killharness.py
    "kill-test-pseudonym-key-0123456789abcdef",  # tests/killharness.py
    "424242:RUN-test-token-never-printed-0123456789",  # tests/test_run_command.py
    "run-test-pseudonym-key-0123456789abcdef",  # tests/test_run_command.py
    "second-test-pseudonym-key-9876543210fedcba",  # tests/test_keys.py
    "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # tests/test_config_and_logs.py
    "999:a-token-that-is-not-the-bots-0123456789",  # tests/test_run_failures.py (its server's)
)


class SecretScan:
    """A pytest plugin: fails the test whose output holds one of `secrets`, and blanks them.

    It reads what pytest captured (stdout, stderr and log records of each phase) and what a
    test read back before pytest could see it: capsys/capfd's readouterr() and CliRunner's
    results. A subprocess's output counts once the test prints it (tests/test_one_line.py).
    """

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = tuple(secrets)
        self.read_back: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return text

    def leaked(self, texts: Iterable[str]) -> bool:
        return any(secret in text for text in texts for secret in self.secrets)

    def pytest_configure(self, config: pytest.Config) -> None:
        self._record(pytest.CaptureFixture, "readouterr", lambda r: [str(r.out), str(r.err)])
        self._record(CliRunner, "invoke", _runner_output)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        while self._undo:
            self._undo.pop()()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        # Each report repeats the earlier phases' sections: look at this phase's only.
        texts = [text for name, text in report.sections if name.endswith(f" {report.when}")]
        texts += self.read_back
        self.read_back.clear()
        if self.leaked(texts):
            report.sections = [(name, self.redact(text)) for name, text in report.sections]
            said = f"{report.longrepr}\n\n" if report.failed else ""
            report.outcome = "failed"
            report.longrepr = self.redact(
                f"{said}A secret the tests use (a bot token or a key, tests/conftest.py SECRETS)"
                f" reached this test's output during {report.when} (shown here as [secret])."
            )
        return report

    def _record(self, owner: Any, name: str, texts: Callable[[Any], list[str]]) -> None:
        """Wrap owner.name so that what it returns is scanned too."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            self.read_back.extend(texts(result))
            return result

        setattr(owner, name, recorded)
        self._undo.append(lambda: setattr(owner, name, original))


def _runner_output(result: Any) -> list[str]:
    texts = [str(result.output)]
    with contextlib.suppress(ValueError):  # click before 8.2: stderr mixed into output
        texts.append(str(result.stderr))
    return texts


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SecretScan(SECRETS), "secret-scan")


@pytest.fixture(scope="session")
def content() -> Content:
    # CONTENT_DIR lets a content editor run the suite against a draft tree.
    return load_content(Path(os.environ.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR))


@pytest.fixture(scope="session")
def every_path(content: Content) -> list[tuple[list[tuple[str, str]], Decision]]:
    """Every answer combination the branching allows, with its decision: walked once per
    run (about 8 s), shared by every test that needs all of them."""
    from flows.paths import spec_paths

    return [(list(taken), decision) for taken, decision in spec_paths(content.spec)]


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
        pseudonym_key=PSEUDONYM_KEY.encode(),
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


@pytest.fixture
async def drip_scene(
    settings: Settings, content: Content, clock: FakeClock
) -> AsyncIterator[Scene]:
    """The scene with the weekly tip on: Tuesdays from 10:00."""
    from tests.staff import make_scene

    found = await make_scene(settings, content, clock, drip_weekday=1, drip_hour=10)
    yield found
    await found.env.stop()


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A copy of the shipped content to break on purpose."""
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


def replace_once(path: Path, old: str, new: str) -> None:
    """Edit a content file as a staff member would: one change, at a place that exists."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
