"""The fake Bot API over real HTTP on 127.0.0.1, for a bot that runs as its own process.

`FakeBotServer` serves a `FakeBotAPI` (tests/fakebot/api.py: the same checks, message store,
long polling and faults) on an ephemeral loopback port, from a background thread that runs
its own asyncio loop. Point the bot at it with `TELEGRAM_API_URL=server.url`::

    with FakeBotServer() as server:
        env["TELEGRAM_API_URL"] = server.url          # PTB calls {url}/bot{token}/{method}
        ...start `iep-bot run`...
        server.call(server.api.push_update, update)   # a parent writes
        chats = server.call(lambda: len(server.api.chats))

Thread rule: `FakeBotAPI` is not thread-safe. Touch `server.api` only on the server's loop:
through `call(fn, ...)` / `run(coroutine)` from another thread, or from coroutines and hooks
that already run there. A long poll waits on that loop without holding up other requests.

What arrives is turned back into the params dict `FakeBotAPI` expects (what PTB's
`RequestData.parameters` holds in process): PTB posts form fields, non-string values
JSON-encoded (`chat_id=42`, `reply_markup={"inline_keyboard": ...}`), or multipart/form-data
when it uploads a file (the file parts become `multipart_data`). A JSON body (other clients)
and query-string parameters work too.

Hooks, for fault injection at the wire (both run on the loop, between reading a request and
answering it; either may raise `DropConnection` to close the connection unanswered):

- `before(exchange)`: before the fake sees the call (dropped here: Telegram never got it);
- `after(exchange)`: after the fake handled it, before the answer is written (dropped here:
  Telegram did it, the bot never hears back).

The path may carry a prefix before `/bot<token>/` (`TELEGRAM_API_URL=http://host:port/g3`);
hooks see it in `exchange.path`, so a test can tell which of several processes called.
A transport fault injected with `api.fail_network` becomes a dropped connection.

For load (a benchmark), serve `FakeBotAPI(keep_history=False)`: only counters are kept.
`FakeBotServer(latency=0.05)` adds a round trip to Telegram to every call but the getUpdates
long poll: each request waits on its own (concurrent calls overlap), after `before` saw it
arrive and before the fake handles it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from telegram.error import TelegramError

from tests.fakebot.api import FakeBotAPI
from tests.fakebot.common import JSON

T = TypeVar("T")
Hook = Callable[["Exchange"], None]

# Bot API fields that are strings even when they look like JSON ("42", "true"): kept as sent.
# Every other form field is JSON-decoded when it parses (numbers, booleans, objects, lists).
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "language_code",
        "action",
        "photo",
        "document",
        "sticker",
        "emoji",
        "title",
        "description",
        "short_description",
        "name",
        "question",
        "query_id",
        "secret_token",
        "business_connection_id",
        "message_effect_id",
    }
)
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


class DropConnection(Exception):
    """Raised by a hook: close the connection without an answer (the client sees a reset)."""


@dataclass(slots=True)
class FormData:
    """Stands in for PTB's `RequestData`: what `FakeBotAPI.do_request` reads from it."""

    parameters: JSON
    multipart_data: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)

    @property
    def contains_files(self) -> bool:
        return bool(self.multipart_data)


@dataclass(slots=True)
class Exchange:
    """One HTTP request as the hooks see it; `status` and `body` are set once answered."""

    path: str  # the URL path, prefix and token included
    method: str  # the Bot API method (the last path segment)
    params: JSON
    status: int = 0
    body: bytes = b""

    def result(self) -> Any:
        """The answer's `result` (None before the fake answered, or on an error)."""
        if self.status != 200:
            return None
        return json.loads(self.body).get("result")


class FakeBotServer:
    """A `FakeBotAPI` on http://127.0.0.1:<ephemeral port>, served from a background thread.

    Args:
        api: the fake to serve (a fresh one by default).
        token: when set, calls for another token are answered 401 like Telegram.
        host, port: where to listen (port 0: any free port).
        latency: seconds added to every call but getUpdates (a round trip to Telegram).
    """

    def __init__(
        self,
        api: FakeBotAPI | None = None,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        self.api = api or FakeBotAPI()
        self.latency = latency
        self.token = token
        self.host, self.port = host, port
        self.before: Hook | None = None
        self.after: Hook | None = None
        self.loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        # Exceptions from the fake or a hook (the connection was dropped): assert it is empty.
        self.errors: list[BaseException] = []

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base for TELEGRAM_API_URL (append a prefix like "/g2" to tag a process)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeBotServer:
        """Bind and serve; returns once the port is open."""
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self._server = self.loop.run_until_complete(
                    asyncio.start_server(self._connection, self.host, self.port)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                started.set()
                return
            started.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-bot-api", daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every connection (long polls included) and the loop."""
        if self._thread is None:
            return
        with contextlib.suppress(Exception):
            self.run(self._close(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self._thread = None
        self.loop.close()

    def __enter__(self) -> FakeBotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- reaching the loop from another thread -------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30) -> T:
        """Run `fn(*args)` on the server's loop and return its result (thread-safe)."""

        async def on_loop() -> T:
            return fn(*args)

        return self.run(on_loop(), timeout=timeout)

    def run(self, coroutine: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run a coroutine on the server's loop, wait for it, and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    # --- HTTP ----------------------------------------------------------------------------------

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        # Long polls (and any test task left on this loop) end here, not at garbage collection.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One keep-alive connection: requests in turn until the client closes it."""
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                target, headers, body = request
                status, payload = await self._answer(target, headers, body)
                head = (
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n"
                )
                writer.write(head.encode("latin-1") + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (DropConnection, asyncio.CancelledError):  # cancelled: the server stops
            writer.transport.abort()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.transport.abort()  # the client went away (or a process was killed)
        except Exception as exc:  # a bug in the fake or a hook: kept for the test to see
            self.errors.append(exc)
            writer.transport.abort()
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(target)
        path = unquote(parts.path)
        prefix, _, method = path.rpartition("/")
        token = prefix.rpartition("/bot")[2] if "/bot" in prefix else None
        if token is None or (self.token is not None and token != self.token):
            error = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            if token is None:
                error = {"ok": False, "error_code": 404, "description": "Not Found"}
            return error["error_code"], json.dumps(error).encode()
        form = _parse_body(headers.get("content-type", ""), body)
        form.parameters.update(_decoded(parse_qsl(parts.query, keep_blank_values=True)))
        exchange = Exchange(path, method, form.parameters)
        if self.before is not None:
            self.before(exchange)
        if self.latency > 0 and method != "getUpdates":
            # Awaited in this connection's own task: calls on other connections overlap.
            await asyncio.sleep(self.latency)
        try:
            status, payload = await self.api.do_request(path, "POST", form)  # type: ignore[arg-type]
        except TelegramError:  # an injected transport fault: the connection drops
            raise DropConnection from None
        exchange.status, exchange.body = status, payload
        if self.after is not None:
            self.after(exchange)
        return status, payload


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, dict[str, str], bytes] | None:
    """(target, lower-cased headers, body) of the next request; None when the client closed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    request_line, *lines = head.decode("latin-1").split("\r\n")
    _verb, target, _version = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")  # the (empty) trailer
        return target, headers, b"".join(chunks)
    body = await reader.readexactly(int(headers.get("content-length") or 0))
    return target, headers, body


def _parse_body(content_type: str, body: bytes) -> FormData:
    """Form, multipart or JSON body -> the params (and files) FakeBotAPI expects."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return FormData({})
    if kind == "application/json":
        return FormData(dict(json.loads(body)))
    if kind == "multipart/form-data":
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        fields: list[tuple[str, str]] = []
        files: dict[str, tuple[str, bytes, str]] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            filename = part.get_filename()
            if filename is None:
                fields.append((name, data.decode(part.get_content_charset() or "utf-8")))
            else:
                files[name] = (filename, data, part.get_content_type())
        return FormData(_decoded(fields), files)
    return FormData(_decoded(parse_qsl(body.decode("utf-8"), keep_blank_values=True)))


def _decoded(fields: list[tuple[str, str]]) -> JSON:
    """Form values back to Python values: JSON-decoded unless the field is a string field."""
    params: JSON = {}
    for name, value in fields:
        if name in STRING_FIELDS:
            params[name] = value
            continue
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value  # "@channelname", a plain word
    return params
