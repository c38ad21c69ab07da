"""`iep-bot run` as an operator starts it: a real process polling a Bot API server on 127.0.0.1.

This covers what the in-process tests cannot: settings from the environment, the
TELEGRAM_API_URL seam, command menus at start, long polling, that the token stays out
of everything the process prints, and a clean stop: SIGTERM lets the reply in hand and the
broadcast message on its way finish (and be recorded) before the process exits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from bot.content import DEFAULT_CONTENT_DIR
from tests.fakebot import FakeBotAPI
from tests.fakebot.server import Exchange, FakeBotServer
from tests.killharness import bot_command, bot_env, rows

TOKEN = "424242:RUN-test-token-never-printed-0123456789"


class BotApiServer(ThreadingHTTPServer):
    """Just enough of the Bot API for one parent's /start over long polling."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.pending = [
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": 5555, "type": "private", "first_name": "Rosa"},
                    "from": {
                        "id": 5555,
                        "is_bot": False,
                        "first_name": "Rosa",
                        "language_code": "es",
                    },
                    "text": "/start feria_2026",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
        ]
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: BotApiServer

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length).decode() if length else ""
        # PTB posts form fields (complex values JSON-encoded inside them).
        params = {k: v[-1] for k, v in parse_qs(raw).items()}
        method = self.path.rsplit("/", 1)[-1]
        token_ok = self.path.startswith(f"/bot{TOKEN}/")
        with self.server.lock:
            self.server.calls.append((method, params))
            result: Any = True
            if not token_ok:
                self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            if method == "getMe":
                result = {"id": 424242, "is_bot": True, "first_name": "IEP", "username": "iep_bot"}
            elif method == "getUpdates":
                offset = int(params.get("offset") or 0)
                result = [u for u in self.server.pending if u["update_id"] >= offset]
                if not result:
                    time.sleep(0.05)
            elif method == "sendMessage":
                result = {
                    "message_id": 2,
                    "date": int(time.time()),
                    "chat": {"id": params.get("chat_id"), "type": "private"},
                    "text": params.get("text", ""),
                }
        self._answer(200, {"ok": True, "result": result})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_run_polls_our_own_api_server_and_answers_start(tmp_path: Path) -> None:
    server = BotApiServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "CONTENT_DIR")},
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "PSEUDONYM_KEY": "run-test-pseudonym-key-0123456789abcdef",
        "PRACTICE_NAME": "Bright Path Advocacy",
        "BOOKING_URL": "https://booking.bright-path-advocacy.org/x",
        "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
        "LOG_LEVEL": "DEBUG",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with server.lock:
                if any(m == "sendMessage" for m, _ in server.calls):
                    break
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.shutdown()
    methods = [m for m, _ in server.calls]
    assert "getUpdates" in methods
    menus = {p.get("language_code") for m, p in server.calls if m == "setMyCommands"}
    assert {None, "es"} <= menus
    [welcome] = [p for m, p in server.calls if m == "sendMessage"]
    assert welcome["chat_id"] == "5555"
    assert "IEP" in welcome["text"] and "504" in welcome["text"]
    assert TOKEN not in out + err
    assert TOKEN.split(":")[1] not in out + err
    assert "Rosa" not in out + err
    assert (tmp_path / "data" / "bot.sqlite3").exists()


# --- a clean stop (SIGTERM) -----------------------------------------------------------------

GRACE = 10.0  # seconds most platforms wait after SIGTERM (docs/deploy.md; fly.toml asks 30)
PARENT = 5151
SUBSCRIBER = 6161


def _start_update(api: FakeBotAPI, chat_id: int) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "private", "first_name": "Rosa"}
    return {
        "update_id": api.next_update_id(),
        "message": {
            "message_id": api.next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Rosa", "language_code": "en"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


class StopWhenSent:
    """Server hook: SIGTERM the bot the moment its message to `chat_id` reaches the fake
    (which then holds it `hold` seconds: the send is in flight while the bot stops)."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id
        self.proc: subprocess.Popen[bytes] | None = None
        self.signalled_at: float | None = None

    def __call__(self, exchange: Exchange) -> None:
        if exchange.method != "sendMessage" or exchange.params.get("chat_id") != self.chat_id:
            return
        if self.proc is not None and self.signalled_at is None:
            self.signalled_at = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)


def _run_until_stopped(
    server: FakeBotServer, tmp_path: Path, stopper: StopWhenSent
) -> tuple[int, float, str]:
    """`iep-bot run` until the hook stops it: (exit status, seconds from SIGTERM, its log)."""
    env = bot_env(tmp_path / "bot.sqlite3", TELEGRAM_API_URL=server.url)
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*bot_command(), "run"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    stopper.proc = proc
    try:
        status = proc.wait(40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert stopper.signalled_at is not None, log_path.read_text()
    return status, time.monotonic() - stopper.signalled_at, log_path.read_text()


def test_sigterm_lets_the_reply_in_hand_reach_the_parent(tmp_path: Path) -> None:
    with FakeBotServer() as server:
        api = server.api
        stopper = StopWhenSent(PARENT)
        server.before = stopper
        server.call(lambda: api.slow("sendMessage", 1.5, chat_id=PARENT))
        server.call(lambda: api.push_update(_start_update(api, PARENT)))
        status, seconds, log = _run_until_stopped(server, tmp_path, stopper)
        welcome = server.call(lambda: [m.text for m in api.chats.get(PARENT, [])])
        left = server.call(lambda: list(api.pending_updates))
    assert status == 0, log
    assert seconds < GRACE
    assert len(welcome) == 1 and "504" in welcome[0]
    assert left == []  # confirmed once handled: a restart does not answer it again
    assert "Traceback" not in log and "CRITICAL" not in log


def test_sigterm_lets_a_broadcast_send_finish_and_be_recorded(tmp_path: Path) -> None:
    from bot.broadcast.queue import Broadcasts
    from bot.content import load_content
    from bot.storage import Storage

    storage = Storage(tmp_path / "bot.sqlite3")
    storage.migrate()
    storage.add_subscriber("key-6161", SUBSCRIBER, "en")
    Broadcasts(storage, load_content(DEFAULT_CONTENT_DIR)).queue(
        audience="all", texts={"*": "A tip for you."}, created_by=None, origin="cli"
    )
    storage.close()
    with FakeBotServer() as server:
        api = server.api
        stopper = StopWhenSent(SUBSCRIBER)
        server.before = stopper
        server.call(lambda: api.slow("sendMessage", 1.5, chat_id=SUBSCRIBER))
        status, seconds, log = _run_until_stopped(server, tmp_path, stopper)
        received = server.call(lambda: [m.text for m in api.chats.get(SUBSCRIBER, [])])
    assert status == 0, log
    assert seconds < GRACE
    assert len(received) == 1 and "A tip for you." in received[0]
    deliveries = rows(tmp_path / "bot.sqlite3", "SELECT status FROM deliveries")
    assert deliveries == [{"status": "sent"}]  # not left `attempted` (unknown at next start)
