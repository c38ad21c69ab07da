"""`iep-bot run` as an operator starts it: a real process polling a Bot API server on 127.0.0.1.

This covers what the in-process tests cannot: settings from the environment, the
TELEGRAM_API_URL seam, command menus at start, long polling, and that the token stays out
of everything the process prints.
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
        "PSEUDONYM_KEY": "p" * 40,
        "BOOKING_URL": "https://book.example.org/x",
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
