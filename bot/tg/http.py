"""The HTTP client to Telegram: PTB's HTTPX client, minus two costs of httpcore's pool.

httpcore 1.0.x (under httpx, under PTB) does work per call that grows with its pooled
connections, and with several updates in flight the pool holds dozens. Profiled under a
burst of 500 parents (bench/burst_bench.py), the two largest costs of a reply were:

- re-counting the connections for every idle connection: O(n²) per call. Upstream knows
  (encode/httpcore#1035, open); `_CountOncePool` runs the same step counting once;
- asking each idle connection whether the server closed it, through anyio, which builds a
  table of the socket's attributes for every question. `_QuickReadable` asks the socket.

Together they took the bot from about 90 to 150 replies a second at 500 parents, at the
bare PTB bot's CPU per reply. Both are applied only to the exact httpcore code they were
written against (its method's source is checked when the client is built); any other
version keeps its own pool, and tests/test_http_pool.py fails to say so.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import select
import socket
import ssl
from typing import Any

import httpcore
import httpx
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

# sha256 of httpcore 1.0.9's AsyncConnectionPool._assign_requests_to_connections source.
KNOWN_DIGEST = "ea1547e78a655633653bde5257e611ee458cfd46b8ab4543de13c5bae095b0ae"


class _CountOncePool(httpcore.AsyncConnectionPool):
    """httpcore's pool with `_assign_requests_to_connections` linear in the connections.

    Adapted from httpcore 1.0.9 (BSD-3-Clause, Copyright © 2020, Encode OSS Ltd.). The one
    change: the keep-alive check counted `len([c.is_idle() for c in connections])` inside
    the loop over connections, which is `len(connections)`, computed n times; it is
    computed once here. Every decision is the same.
    """

    def _assign_requests_to_connections(self) -> list[Any]:
        closing_connections = []
        total = len(self._connections)
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
                total -= 1
            elif connection.has_expired() or (
                connection.is_idle() and total > self._max_keepalive_connections
            ):
                # expired, or idle beyond the keep-alive limit: closed
                self._connections.remove(connection)
                closing_connections.append(connection)
                total -= 1

        queued_requests = [request for request in self._requests if request.is_queued()]
        for pool_request in queued_requests:
            origin = pool_request.request.url.origin
            available_connections = [
                connection
                for connection in self._connections
                if connection.can_handle_request(origin) and connection.is_available()
            ]
            idle_connections = [
                connection for connection in self._connections if connection.is_idle()
            ]
            if available_connections:
                connection = available_connections[0]
                pool_request.assign_to_connection(connection)
            elif len(self._connections) < self._max_connections:
                connection = self.create_connection(origin)
                self._connections.append(connection)
                pool_request.assign_to_connection(connection)
            elif idle_connections:
                connection = idle_connections[0]
                self._connections.remove(connection)
                closing_connections.append(connection)
                connection = self.create_connection(origin)
                self._connections.append(connection)
                pool_request.assign_to_connection(connection)

        return closing_connections


class _QuickReadable(httpcore.AsyncNetworkStream):
    """A connection's stream whose "is the socket readable?" asks the socket itself.

    Before reusing an idle connection, the pool asks whether the server closed it; through
    anyio each answer first builds a table of the socket's attributes (a system call among
    them), and the pool asks for every idle connection on every call: the next largest cost
    of a reply under load. The answer is the same: a poll of the socket, with no wait.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _QuickReadable(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket) -> bool:
    """As httpcore decides it: readable now (data or the end), or no longer a socket."""
    fd = sock.fileno()
    if fd < 0:
        return True
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class _QuickReadableBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own network backend, its streams wrapped in _QuickReadable."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _QuickReadable(await self._inner.connect_tcp(*args, **kwargs))

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _QuickReadable(await self._inner.connect_unix_socket(*args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def source_digest() -> str:
    """The digest of the installed httpcore's version of the replaced method."""
    method = httpcore.AsyncConnectionPool._assign_requests_to_connections
    return hashlib.sha256(inspect.getsource(method).encode()).hexdigest()


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for both clients (sending, polling): each costs about 30 ms at start
    (reading the certificate authorities), and they would be identical."""
    return httpx.create_ssl_context()


class TelegramHTTP(HTTPXRequest):
    """PTB's HTTPXRequest whose connection pool counts once (see the module docstring)."""

    __slots__ = ()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("httpx_kwargs", {"verify": _tls()})
        super().__init__(**kwargs)

    def _build_client(self) -> httpx.AsyncClient:
        client = super()._build_client()
        transport = getattr(client, "_transport", None)
        pool = getattr(transport, "_pool", None)
        if type(pool) is httpcore.AsyncConnectionPool and source_digest() == KNOWN_DIGEST:
            pool.__class__ = _CountOncePool  # same state, one method replaced
            pool._network_backend = _QuickReadableBackend(pool._network_backend)
        else:
            log.debug("httpcore is not the version the pool fix was made for: left as it is")
        return client
