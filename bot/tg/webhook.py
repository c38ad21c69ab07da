"""Webhook mode: Telegram posts each update to WEBHOOK_URL, served here on 0.0.0.0:$PORT.

Loaded only by `iep-bot run` in webhook mode: it brings tornado (PTB's `webhooks` extra),
which polling never loads. PTB's own webhook server has one route, logs whole updates when
one fails to parse and answers before the update is handled; this one:

- answers 403 to a post without the right X-Telegram-Bot-Api-Secret-Token, unread;
- puts the update on the application's update queue, the very path a polled update takes
  (one PTB cannot read is skipped by id, bot/tg/updates.py; the admission guard skips
  repeats; each chat's updates in order, bot/tg/order.py);
- answers Telegram only once the update was handled: an update in hand when the process dies
  is posted again, as polling confirms only handled updates;
- answers 503 while stopping (Telegram posts it again later, to the next process), 400 to a
  body that is not an update (one log line, never its content), and refuses bodies over
  MAX_BODY;
- serves GET /health: the figures of `iep-bot status` as JSON, 200 while running, else 503.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import tornado.web
from telegram import Update
from telegram.error import BadRequest
from tornado.httpserver import HTTPServer

from bot.config import Settings
from bot.health import BroadcastLoad, broadcast_load, live_report
from bot.tg.context import BotApplication
from bot.tg.updates import parse_update

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes (a 4096-character text and its entities); a larger
# body is not an update.
MAX_BODY = 1024 * 1024
HEALTH_PATH = "/health"
ANSWER_GRACE = 2.0  # on stop: seconds for answers already decided to reach Telegram
REFUSALS_EVERY = 60.0  # refused posts (a scanner, a stale secret) are logged this often at most


class WebhookProblem(Exception):
    """Webhook mode cannot start; the message is one line for the operator."""


class Refusals:
    """Refused posts of one kind, logged as one line now and then rather than one per post."""

    def __init__(self, what: str, clock: Callable[[], float] | None = None) -> None:
        self.what = what
        self.clock = clock or time.monotonic
        self.count = 0
        self.logged_at: float | None = None

    def note(self) -> None:
        self.count += 1
        now = self.clock()
        if self.logged_at is None or now - self.logged_at >= REFUSALS_EVERY:
            log.warning("webhook: refused %s (%d since the last such line)", self.what, self.count)
            self.count, self.logged_at = 0, now


class WebhookServer:
    """Telegram's posts in, the health figures out: the Receiver of webhook mode
    (BotApplication.run_until_stopped starts, stops and closes it)."""

    def __init__(self, app: BotApplication, settings: Settings, host: str = "0.0.0.0") -> None:
        assert settings.webhook_url is not None
        self.app = app
        self.settings = settings
        self.url = settings.webhook_url
        self.host = host
        self.path = urlsplit(self.url).path or "/"
        if self.path.rstrip("/") == HEALTH_PATH:
            raise WebhookProblem(
                f"WEBHOOK_URL must not end in {HEALTH_PATH} (that path is the health check):"
                " use /telegram, say"
            )
        self.secret = settings.webhook_secret_token.encode()
        self.accepting = False  # from start() to stop()
        self.answering = 0  # posts being answered now
        self._waiting: dict[int, list[asyncio.Future[bool]]] = {}
        self.wrong_secret = Refusals("a post without the right secret token (403)")
        self.not_updates = Refusals("a post that is not an update (400)")
        app.update_done = self._handled
        routes: list[Any] = [
            (HEALTH_PATH, HealthHandler, {"server": self}),
            (_exact(self.path), UpdateHandler, {"server": self}),
        ]
        web = tornado.web.Application(routes, log_function=_no_access_log)
        self.http = HTTPServer(
            web,
            max_body_size=MAX_BODY,
            max_buffer_size=MAX_BODY,
            idle_connection_timeout=120,
            body_timeout=10,
        )

    async def start(self) -> None:
        """Listen on 0.0.0.0:$PORT, then ask Telegram to post there."""
        settings = self.settings
        try:
            self.http.listen(settings.port, address=self.host)
        except OSError as exc:
            raise WebhookProblem(
                f"Could not listen on port {settings.port} ({exc.strerror or exc}): another"
                " program uses it; stop it or set PORT to a free port"
            ) from None
        self.accepting = True
        try:
            await self.app.bot.set_webhook(
                url=self.url,
                secret_token=settings.webhook_secret_token,
                allowed_updates=Update.ALL_TYPES,
                # Each post is held until its update is handled: room for every slot twice.
                max_connections=min(100, 2 * settings.concurrent_updates),
            )
        except BadRequest as exc:  # Telegram's words name the URL's problem, never a secret
            raise WebhookProblem(
                f"Telegram refused WEBHOOK_URL {self.url} ({exc.message}): it must be https on"
                " port 443, 80, 88 or 8443, with a public name and certificate"
            ) from None
        log.info("webhook set; listening on port %d", settings.port)

    async def stop(self) -> None:
        """Take no more posts (503 on open connections; new ones are refused)."""
        self.accepting = False
        self.http.stop()

    async def deliver(self, update: Update) -> bool:
        """Hand the update on; True once it has been handled, False if the bot stopped first."""
        handled: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(update.update_id, []).append(handled)
        await self.app.update_queue.put(update)
        return await handled

    def _handled(self, update_id: int) -> None:
        for waiter in self._waiting.pop(update_id, []):
            if not waiter.done():
                waiter.set_result(True)

    def state(self) -> str:
        """running, starting, or stopping (asked to, or another instance took over)."""
        app = self.app
        if app.stop_reason is not None or (app.stopping is not None and app.stopping.is_set()):
            return "stopping"
        return "running" if self.accepting and app.running else "starting"

    def healthy(self) -> bool:
        return self.state() == "running"

    async def close(self) -> None:
        """After the updates in hand: answer what is left, close every connection."""
        await self.stop()
        for waiters in self._waiting.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(False)  # never handled: 503, Telegram posts it again
        self._waiting.clear()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_GRACE
        while self.answering and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await self.http.close_all_connections()


class _Handler(tornado.web.RequestHandler):
    """Shared: no default headers to speak of, and failures logged as one line."""

    server: WebhookServer

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    def set_default_headers(self) -> None:
        self.clear_header("Server")

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Tornado's own logs the whole request (the secret header included).
        if value is not None and not isinstance(value, tornado.web.HTTPError):
            log.error("webhook: %s while answering a request", type(value).__name__)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish()  # an empty body: nothing about the failure leaves the process

    def _empty(self, status: int) -> None:
        self.set_status(status)
        self.finish()


class UpdateHandler(_Handler):
    """POST <path of WEBHOOK_URL>: one update from Telegram."""

    SUPPORTED_METHODS = ("POST",)

    async def post(self) -> None:
        server = self.server
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), server.secret):
            server.wrong_secret.note()
            self._empty(403)
            return
        if not server.accepting:
            self._empty(503)
            return
        try:
            raw = json.loads(self.request.body)
        except ValueError:  # not JSON (UnicodeDecodeError included)
            raw = None
        update = parse_update(raw, server.app.bot) if isinstance(raw, dict) else None
        if update is None:
            server.not_updates.note()
            self._empty(400)
            return
        server.answering += 1
        try:
            handled = await server.deliver(update)
            self._empty(200 if handled else 503)
        finally:
            server.answering -= 1


class HealthHandler(_Handler):
    """GET /health: the bot's figures for the platform's health check and monitors."""

    SUPPORTED_METHODS = ("GET", "HEAD")

    def get(self) -> None:
        server = self.server
        load: BroadcastLoad | None
        try:
            load = broadcast_load(server.app.services.storage.db.conn)
        except sqlite3.OperationalError:
            load = None  # the database is busy: the bot is alive all the same
        report = live_report(server.app.figures(), load, server.state())
        self.set_status(200 if report.ok else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(report.as_json(self.server.settings.tz, with_holder=False)))

    def head(self) -> None:
        self.set_status(200 if self.server.healthy() else 503)
        self.finish()


def _exact(path: str) -> str:
    """A route pattern for exactly this path (a trailing slash allowed)."""
    return re.escape(path.rstrip("/")) + "/?$"


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """No line per request: Telegram posts all day, and a line per post says nothing."""
