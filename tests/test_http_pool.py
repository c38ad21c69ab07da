"""The HTTP client's pool (bot/tg/http.py): the same decisions as httpcore's, counted once."""

from __future__ import annotations

import random
import socket
from typing import Any

import httpcore
import pytest

from bot.tg.http import KNOWN_DIGEST, TelegramHTTP, _CountOncePool, source_digest

ORIGINS = ("https://api.telegram.org", "https://other.example")


class Conn:
    """A pooled connection in a given state; counts how often it is asked whether idle."""

    def __init__(self, rng: random.Random, name: str) -> None:
        self.name = name
        self.closed = rng.random() < 0.1
        self.expired = rng.random() < 0.1
        self.idle = rng.random() < 0.5
        self.available = self.idle or rng.random() < 0.2
        self.origin = rng.choice(ORIGINS)
        self.idle_asked = 0

    def is_closed(self) -> bool:
        return self.closed

    def has_expired(self) -> bool:
        return self.expired

    def is_idle(self) -> bool:
        self.idle_asked += 1
        return self.idle

    def is_available(self) -> bool:
        return self.available

    def can_handle_request(self, origin: Any) -> bool:
        return bool(origin == self.origin)

    def __repr__(self) -> str:
        return self.name


class Waiting:
    """A request in the pool: queued until given a connection."""

    def __init__(self, origin: str) -> None:
        self.request = httpcore.Request("POST", f"{origin}/bot1:x/getMe")
        self.connection: Any = None

    def is_queued(self) -> bool:
        return self.connection is None

    def assign_to_connection(self, connection: Any) -> None:
        self.connection = connection


def pool_state(
    pool_class: type[httpcore.AsyncConnectionPool], seed: int
) -> httpcore.AsyncConnectionPool:
    """A pool of either class in the same random state (same seed, same everything)."""
    rng = random.Random(seed)
    size = rng.randint(1, 12)
    pool = pool_class(
        max_connections=size + rng.randint(-2, 3) if size > 2 else size,
        max_keepalive_connections=rng.randint(0, size + 2),
    )
    pool._connections = [Conn(rng, f"c{i}") for i in range(rng.randint(0, size))]
    pool._requests = [Waiting(rng.choice(ORIGINS)) for _ in range(rng.randint(0, 6))]
    for request in pool._requests:
        if rng.random() < 0.3:
            request.connection = "busy"  # already has one
    made = iter(range(1000))
    pool.create_connection = lambda origin: New(f"new{next(made)}", origin)  # type: ignore[method-assign]
    return pool


class New(Conn):
    """A connection the pool just made: not yet open, so neither idle nor available."""

    def __init__(self, name: str, origin: Any) -> None:
        self.name, self.origin, self.idle_asked = name, origin, 0
        self.closed = self.expired = self.idle = self.available = False


def decisions(pool: httpcore.AsyncConnectionPool) -> tuple[Any, ...]:
    closing = pool._assign_requests_to_connections()
    return (
        [repr(c) for c in closing],
        [repr(c) for c in pool._connections],
        [repr(r.connection) for r in pool._requests],
    )


@pytest.mark.parametrize("seed", range(400))
def test_the_pool_decides_exactly_as_httpcore_does(seed: int) -> None:
    stock = decisions(pool_state(httpcore.AsyncConnectionPool, seed))
    ours = decisions(pool_state(_CountOncePool, seed))
    assert ours == stock


def test_asking_which_connections_are_idle_grows_linearly() -> None:
    def asked(pool_class: type[httpcore.AsyncConnectionPool]) -> int:
        pool = pool_class(max_connections=60)
        rng = random.Random(1)
        pool._connections = [Conn(rng, f"c{i}") for i in range(60)]
        for conn in pool._connections:
            conn.closed = conn.expired = False
            conn.idle = True
        pool._requests = []
        pool._assign_requests_to_connections()
        return sum(c.idle_asked for c in pool._connections)

    assert asked(_CountOncePool) == 60  # once each
    assert asked(httpcore.AsyncConnectionPool) == 60 + 60 * 60  # what it replaces


async def test_the_bot_s_client_uses_the_pool_only_for_the_httpcore_it_was_made_for() -> None:
    # A new httpcore fails here: read its _assign_requests_to_connections, carry the change
    # over (or drop bot/tg/http.py if upstream fixed it), then update KNOWN_DIGEST.
    assert source_digest() == KNOWN_DIGEST, "httpcore changed: re-check bot/tg/http.py"
    request = TelegramHTTP(connection_pool_size=8)
    try:
        assert type(request._client._transport._pool) is _CountOncePool  # type: ignore[attr-defined]
    finally:
        await request.shutdown()


def test_a_socket_is_readable_exactly_when_httpcore_says_so() -> None:
    from httpcore._utils import is_socket_readable

    from bot.tg.http import _readable

    ours, theirs = socket.socketpair()
    try:
        assert _readable(ours) is is_socket_readable(ours) is False  # idle: reusable
        theirs.sendall(b"x")
        assert _readable(ours) is is_socket_readable(ours) is True  # data waiting
        ours.recv(1)
        theirs.close()
        assert _readable(ours) is is_socket_readable(ours) is True  # the server closed it
    finally:
        ours.close()
    assert _readable(ours) is True  # no longer a socket at all


async def test_the_bot_s_client_talks_to_a_server_through_the_quicker_streams() -> None:
    from tests.conftest import TOKEN
    from tests.fakebot.server import FakeBotServer

    with FakeBotServer() as server:
        request = TelegramHTTP(connection_pool_size=4)
        await request.initialize()
        try:
            for _ in range(3):  # the same kept-alive connection, checked before each reuse
                code, body = await request.do_request(f"{server.url}/bot{TOKEN}/getMe", "POST")
                assert code == 200 and b'"ok":true' in body.replace(b" ", b"")
            pool = request._client._transport._pool  # type: ignore[attr-defined]
            assert len(pool.connections) == 1
        finally:
            await request.shutdown()
