"""`iep-bot run` that cannot start: one line naming the problem and the fix, never the token.

The real process, as an operator starts it, against Bot API servers on 127.0.0.1 that refuse
the token (401), do not know the address (404), are not there (a closed port) or never answer
(a server that accepts and stays silent). PTB would log a refused token itself, token and all,
and a missing network gave two tracebacks; all of the process's output is checked.

Not covered here: a host name that does not resolve. Looking it up would ask the machine's
resolver, off this machine; the bot meets it as the same NetworkError as a closed port.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.fakebot.server import FakeBotServer
from tests.killharness import PSEUDONYM_KEY, TOKEN, bot_env, iep_bot

REFUSED = "Telegram refused TELEGRAM_BOT_TOKEN (revoked or mistyped): copy it again from @BotFather"
START_LIMIT = 15.0  # seconds: the read timeout of getMe is 5


def run_bot(tmp_path: Path, api_url: str, **settings: str) -> tuple[int, str, float]:
    """`iep-bot run` to its end: (exit status, everything it printed, seconds taken)."""
    env = bot_env(tmp_path / "data" / "bot.sqlite3", TELEGRAM_API_URL=api_url, **settings)
    started = time.monotonic()
    done = iep_bot("run", env=env, cwd=tmp_path)  # no developer .env there
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def assert_one_line_without_secrets(output: str, expected: str) -> None:
    assert output.splitlines() == [expected], output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert PSEUDONYM_KEY not in output


def test_a_token_telegram_refuses_is_one_line(tmp_path: Path) -> None:
    with FakeBotServer(token="999:a-token-that-is-not-the-bots-0123456789") as server:
        status, output, _ = run_bot(tmp_path, server.url)
        calls = server.call(lambda: [c.method for c in server.api.calls])
    assert status == 2
    assert_one_line_without_secrets(
        output, f"{REFUSED} (or TELEGRAM_API_URL {server.url} is not a Bot API server)"
    )
    assert calls == []  # the fake refused getMe before recording anything


def test_a_token_refused_at_telegram_itself_names_no_api_url() -> None:
    """With the default TELEGRAM_API_URL the line is about the token alone (no server here to
    answer, so the wording is checked where it is made)."""
    from telegram.error import InvalidToken

    from bot.config import Settings
    from bot.run_cli import telegram_problem

    assert telegram_problem(InvalidToken("Unauthorized"), Settings()) == REFUSED


def test_an_address_that_is_not_found_is_the_token_line_too(tmp_path: Path) -> None:
    """Telegram answers 404 to a malformed token; a wrong TELEGRAM_API_URL does the same."""
    with FakeBotServer() as server:
        server.call(lambda: server.api.fail("getMe", 404, description="Not Found"))
        status, output, _ = run_bot(tmp_path, f"{server.url}/somewhere-else")
    assert status == 2
    expected = (
        f"{REFUSED} (or TELEGRAM_API_URL {server.url}/somewhere-else is not a Bot API server)"
    )
    assert_one_line_without_secrets(output, expected)


def _closed_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_no_server_at_the_address_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    status, output, seconds = run_bot(tmp_path, url)
    assert status == 2
    expected = f"Could not reach Telegram at {url}: check the network; the bot did not start"
    assert_one_line_without_secrets(output, expected)
    assert seconds < START_LIMIT


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers (a network that swallows requests)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for sock in held:
            sock.close()
        listener.close()


def test_a_server_that_never_answers_is_one_line_within_seconds(tmp_path: Path) -> None:
    with silent_server() as url:
        status, output, seconds = run_bot(tmp_path, url)
    assert status == 2
    expected = f"Could not reach Telegram at {url}: check the network; the bot did not start"
    assert_one_line_without_secrets(output, expected)
    assert seconds < START_LIMIT


def test_a_failed_start_leaves_the_database_free_for_the_next(tmp_path: Path) -> None:
    """The lease is handed back: the next start does not wait out a dead one's lease."""
    url = f"http://127.0.0.1:{_closed_port()}"
    run_bot(tmp_path, url)
    status, output, seconds = run_bot(tmp_path, url)
    assert status == 2
    assert "another iep-bot" not in output.lower()
    assert seconds < START_LIMIT


def test_the_line_shows_no_password_from_the_api_url(tmp_path: Path) -> None:
    port = _closed_port()
    status, output, _ = run_bot(tmp_path, f"http://user:secret-pass@127.0.0.1:{port}")
    assert status == 2
    assert "secret-pass" not in output and "user" not in output
    assert f"at http://127.0.0.1:{port}:" in output
