"""Webhook mode, driven as Telegram drives it: a real `iep-bot run` with WEBHOOK_URL set,
listening on 127.0.0.1:$PORT; this test posts updates the way Telegram does, and the bot
answers the parent through the fake Bot API (tests/fakebot/server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Update

from bot.config import Settings
from bot.content import Content
from bot.storage import Storage
from tests.fakebot.api import FakeBotAPI, SentMessage
from tests.fakebot.server import Exchange, FakeBotServer
from tests.killharness import PSEUDONYM_KEY, TOKEN, bot_command, bot_env, iep_bot

WEBHOOK_URL = "https://iep-bot.test/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHAT = 515_151


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebhookBot:
    """One `iep-bot run` in webhook mode against `server`, and Telegram's side of it."""

    def __init__(self, server: FakeBotServer, workdir: Path, **settings: str) -> None:
        self.server, self.api = server, server.api
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "bot.log"
        self.db_path = workdir / "data" / "bot.sqlite3"
        env = bot_env(
            self.db_path,
            TELEGRAM_API_URL=server.url,
            WEBHOOK_URL=WEBHOOK_URL,
            PORT=str(self.port),
            **settings,
        )
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [*bot_command(), "run"],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.http = httpx.Client(base_url=self.base, timeout=20)
        self.update_ids = iter(range(1, 10**6))

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the webhook is set and /health answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the bot exited\n{self.log}"
            with contextlib.suppress(httpx.HTTPError):
                hooked = self.server.call(lambda: self.api.webhook is not None)
                if hooked and self.http.get("/health").status_code == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"the bot did not get ready\n{self.log}")

    @property
    def secret(self) -> str:
        hook = self.server.call(lambda: self.api.webhook)
        assert hook is not None
        return str(hook["secret_token"])

    def start_update(self, text: str = "/start", update_id: int | None = None) -> dict[str, Any]:
        """A parent's message as Telegram posts it."""
        message: dict[str, Any] = {
            "message_id": self.server.call(self.api.next_message_id, CHAT),
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private", "first_name": "Rosa"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Rosa", "language_code": "en"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return {"update_id": update_id or next(self.update_ids), "message": message}

    def post(
        self, body: Any, secret: str | None = "right", client: httpx.Client | None = None
    ) -> httpx.Response:
        """POST as Telegram does (on `client`'s connection: one per thread)."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = self.secret if secret == "right" else secret
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return (client or self.http).post("/telegram", content=content, headers=headers)

    def post_in_thread(self, body: Any) -> tuple[threading.Thread, list[int]]:
        """Post from another thread on its own connection; the list gets the status."""
        statuses: list[int] = []

        def post() -> None:
            with httpx.Client(base_url=self.base, timeout=20) as client:
                statuses.append(self.post(body, client=client).status_code)

        thread = threading.Thread(target=post, daemon=True)
        thread.start()
        return thread, statuses

    def messages(self) -> list[SentMessage]:
        return self.server.call(lambda: list(self.api.chats.get(CHAT, [])))

    def stop(self, timeout: float = 20) -> int:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def server() -> Iterator[FakeBotServer]:
    with FakeBotServer() as fake:
        yield fake


@pytest.fixture
def bot(server: FakeBotServer, tmp_path: Path) -> Iterator[WebhookBot]:
    running = WebhookBot(server, tmp_path)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def test_the_webhook_is_set_with_a_secret_and_every_update_type(bot: WebhookBot) -> None:
    hook = bot.server.call(lambda: bot.api.webhook)
    assert hook["url"] == WEBHOOK_URL
    assert hook["allowed_updates"] == list(Update.ALL_TYPES)
    assert len(hook["secret_token"]) >= 32
    assert hook["secret_token"] not in (TOKEN, PSEUDONYM_KEY)
    assert not bot.server.call(lambda: bot.api.calls_to("getUpdates"))


def test_a_post_without_the_right_secret_gets_403_and_nothing_happens(bot: WebhookBot) -> None:
    for secret in (None, "", "wrong-secret-0123456789abcdef", bot.secret[:-1]):
        response = bot.post(bot.start_update(), secret=secret)
        assert response.status_code == 403, secret
        assert response.content == b""
    assert bot.messages() == []
    assert bot.http.get("/health").json()["updates_handled"] == 0


def test_the_right_secret_gets_the_parent_answered_before_telegram_hears_ok(
    bot: WebhookBot,
) -> None:
    response = bot.post(bot.start_update())
    assert response.status_code == 200
    # The answer to Telegram came once the update was handled: the welcome is already there.
    [welcome] = bot.messages()
    assert "IEP" in welcome.text and "504" in welcome.text


def test_a_repeated_delivery_is_answered_once(bot: WebhookBot) -> None:
    update = bot.start_update()
    assert bot.post(update).status_code == 200
    assert bot.post(update).status_code == 200  # Telegram retried: it must hear OK again
    assert len(bot.messages()) == 1
    assert bot.http.get("/health").json()["updates_handled"] == 2
    assert "skipped a repeated delivery" in bot.log


def test_the_same_update_posted_twice_at_once_is_answered_once(bot: WebhookBot) -> None:
    update = bot.start_update()
    bot.server.call(lambda: bot.api.slow("sendMessage", 0.5))  # the first is still in hand
    posts = [bot.post_in_thread(update) for _ in range(2)]
    for thread, _ in posts:
        thread.join(20)
    assert [statuses for _, statuses in posts] == [[200], [200]]
    assert len(bot.messages()) == 1


def test_a_body_that_is_not_an_update_gets_400_without_a_traceback(bot: WebhookBot) -> None:
    bodies = [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"message": {"text": "no update_id"}}']
    for body in bodies:
        assert bot.post(body).status_code == 400, body
    assert bot.messages() == []
    assert bot.http.get("/health").status_code == 200
    log = bot.log
    assert "Traceback" not in log
    assert "no update_id" not in log  # nothing of the body reaches the log
    assert log.count("refused a post that is not an update (400)") == 1  # one line a minute


def test_an_update_the_library_cannot_read_is_skipped_and_confirmed(bot: WebhookBot) -> None:
    """As polling: skipped by id (Telegram must not post it forever), nothing of it logged."""
    strange = {"update_id": 4242, "message": {"chat": "not a chat", "text": "Rosa's words"}}
    assert bot.post(strange).status_code == 200
    assert bot.messages() == []
    assert "id=4242" in bot.log and "Rosa's words" not in bot.log


def test_a_body_over_the_limit_is_refused_before_it_is_read(bot: WebhookBot) -> None:
    with socket.create_connection(("127.0.0.1", bot.port), timeout=10) as sock:
        head = (
            "POST /telegram HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            f"{SECRET_HEADER}: {bot.secret}\r\nContent-Length: {8 * 1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode())
        answer = sock.recv(100)
    assert answer.startswith(b"HTTP/1.1 400")
    assert bot.http.get("/health").status_code == 200


def test_other_paths_and_methods_are_not_served(bot: WebhookBot) -> None:
    assert bot.http.get("/telegram").status_code == 405
    assert bot.http.post("/other", content=b"{}").status_code == 404
    assert bot.http.get("/").status_code == 404


def test_health_reports_the_figures_of_iep_bot_status(bot: WebhookBot) -> None:
    assert bot.post(bot.start_update()).status_code == 200
    response = bot.http.get("/health")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    figures = response.json()
    assert figures["state"] == "running" and figures["ok"] is True
    assert figures["mode"] == "webhook"
    assert figures["updates_handled"] == 1
    assert figures["last_update_handled_age_s"] <= 5
    assert figures["updates_waiting"] == 0 and figures["updates_in_progress"] == 0
    assert figures["broadcasts"] == {"sending": 0, "deliveries_left": 0, "waiting_to_start": 0}
    assert figures["last_error"] is None
    assert "holder" not in figures  # public: nothing about the machine
    text = response.text
    for secret in (TOKEN, TOKEN.split(":")[1], PSEUDONYM_KEY, bot.secret, str(CHAT), "Rosa"):
        assert secret not in text
    assert bot.http.head("/health").status_code == 200


def test_sigterm_finishes_the_update_in_hand_then_health_says_503(bot: WebhookBot) -> None:
    """The reply in flight reaches the parent, Telegram hears 200 for it, /health says the bot
    is going (on a connection already open), and the process exits 0 in time."""
    arrived = threading.Event()

    def before(exchange: Exchange) -> None:
        if exchange.method == "sendMessage":
            arrived.set()

    bot.server.before = before
    bot.server.call(lambda: bot.api.slow("sendMessage", 1.5))
    assert bot.http.get("/health").status_code == 200  # this connection stays open
    poster, answers = bot.post_in_thread(bot.start_update())
    assert arrived.wait(10)
    signalled = time.monotonic()
    bot.proc.terminate()
    time.sleep(0.3)
    assert bot.http.get("/health").status_code == 503
    poster.join(20)
    status = bot.proc.wait(20)
    assert time.monotonic() - signalled < 10
    assert status == 0
    assert answers == [200]
    assert len(bot.messages()) == 1
    assert "Traceback" not in bot.log


def test_a_post_while_stopping_gets_503(bot: WebhookBot) -> None:
    """Telegram posts it again later, to the next process."""
    bot.server.call(lambda: bot.api.slow("sendMessage", 1.5))
    assert bot.http.get("/health").status_code == 200  # this connection stays open
    bot.post_in_thread(bot.start_update())
    deadline = time.monotonic() + 10
    while not bot.server.call(lambda: bot.api.calls_to("sendMessage")):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    bot.proc.terminate()
    time.sleep(0.3)
    second = bot.start_update()
    assert bot.post(second).status_code == 503
    assert bot.proc.wait(20) == 0
    assert len(bot.messages()) == 1


# --- starting and switching ------------------------------------------------------------------


def test_webhook_flag_without_a_url_is_one_line(tmp_path: Path) -> None:
    env = bot_env(tmp_path / "bot.sqlite3", TELEGRAM_API_URL="http://127.0.0.1:9")
    done = iep_bot("run", "--webhook", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("--webhook needs WEBHOOK_URL")


def test_a_port_in_use_is_one_line(server: FakeBotServer, tmp_path: Path) -> None:
    with contextlib.closing(socket.create_server(("0.0.0.0", 0))) as taken:
        port = taken.getsockname()[1]
        env = bot_env(
            tmp_path / "bot.sqlite3",
            TELEGRAM_API_URL=server.url,
            WEBHOOK_URL=WEBHOOK_URL,
            PORT=str(port),
        )
        done = iep_bot("run", env=env, cwd=tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if " INFO " not in line]
    assert lines == [
        f"Could not listen on port {port} (Address already in use): another program uses it;"
        " stop it or set PORT to a free port"
    ]


def test_a_webhook_url_telegram_refuses_is_one_line(server: FakeBotServer, tmp_path: Path) -> None:
    server.call(
        lambda: server.api.fail(
            "setWebhook", 400, description="Bad Request: bad webhook: Failed to resolve host"
        )
    )
    bot = WebhookBot(server, tmp_path)
    status = bot.proc.wait(30)
    assert status == 2
    last = bot.log.splitlines()[-1]
    assert last == (
        f"Telegram refused WEBHOOK_URL {WEBHOOK_URL} (Bad webhook: failed to resolve host): it"
        " must be https on port 443, 80, 88 or 8443, with a public name and certificate"
    )
    assert "Traceback" not in bot.log


def test_polling_takes_the_webhook_down(server: FakeBotServer, tmp_path: Path) -> None:
    """Back to polling (WEBHOOK_URL removed): the bot deletes the webhook, as PTB does, and
    reads updates again."""
    webhook = WebhookBot(server, tmp_path)
    webhook.wait_ready()
    assert webhook.stop() == 0
    assert server.call(lambda: server.api.webhook) is not None  # a stop leaves it set
    env = bot_env(tmp_path / "data" / "bot.sqlite3", TELEGRAM_API_URL=server.url)
    proc = subprocess.Popen(
        [*bot_command(), "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not server.call(lambda: bool(server.api.calls_to("getUpdates"))):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        assert server.call(lambda: server.api.webhook) is None
        first = server.call(lambda: server.api.calls_to("getUpdates")[0])
        assert first.status == 200
    finally:
        proc.terminate()
        proc.wait(20)


# --- in process ------------------------------------------------------------------------------


async def test_health_turns_503_when_another_instance_took_over(
    settings: Settings, content: Content, storage: Storage
) -> None:
    """The lease lost (this process froze past its end): /health must stop saying "running"
    at once, before the process is gone."""
    from bot.tg.app import build_application
    from bot.tg.webhook import WebhookServer

    settings = dataclasses.replace(settings, webhook_url=WEBHOOK_URL)
    api = FakeBotAPI()
    app = build_application(
        settings, storage, content, request=api, sweep_expired=False, mode="webhook"
    )
    assert app.updater is None  # Telegram posts; nothing polls
    server = WebhookServer(app, settings)
    app.stopping = asyncio.Event()
    await app.initialize()
    await app.start()
    try:
        assert not server.healthy()  # not yet taking posts
        server.accepting = True
        assert server.healthy()
        app.stop_because("Stopped: another iep-bot took over this database.")
        assert app.stopping.is_set()
        assert not server.healthy()
    finally:
        await app.stop()
        await app.shutdown()
