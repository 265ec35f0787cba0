"""httpcore's network streams with a cheap readability check, for a client that keeps many connections.

Before each request, and again when each answer is closed, httpcore's pool asks every idle connection whether
its server has closed it: `get_extra_info("is_readable")` on its stream. On anyio's streams each question
builds the socket's whole table of attributes (with a `getpeername` call) to find the raw socket, then a new
`poll` object: at 16 connections, a crawl spent a sixth of its CPU time there. The streams made by
`SocketInfoBackend` answer the same question with the socket found once and one `poll` object kept per
stream; everything else is the wrapped stream's own.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore


class _Stream(httpcore.AsyncNetworkStream):
    """A network stream whose raw socket is looked up once and polled through a poll object of its own."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")
        self._poll = poll_for_reading(self._socket)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._readable()
        if info == "socket":
            return self._socket
        return self._inner.get_extra_info(info)

    def _readable(self) -> bool:
        """Whether a read would return at once (data, or the end of a connection the server closed); a socket
        already closed, or not known, counts as readable (what httpcore's own check says)."""
        if self._poll is None or self._socket is None or self._socket.fileno() < 0:
            return True
        return bool(self._poll.poll(0))


def poll_for_reading(sock: Any) -> Any:
    """A poll object watching `sock` (a socket, or asyncio's view of one) for reading; None without a socket, or
    where poll does not exist."""
    if sock is None or not hasattr(select, "poll") or sock.fileno() < 0:
        return None
    poll = select.poll()
    poll.register(sock.fileno(), select.POLLIN)
    return poll


class SocketInfoBackend(httpcore.AsyncNetworkBackend):
    """The pool's own network backend, its streams wrapped in `_Stream`."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install(transport: object) -> bool:
    """Give the connection pool of an httpx transport streams with the cheap check; False, and nothing changed,
    when the transport is not built as this version of httpx builds it.

    httpx has no public way to choose its transport's network backend (it builds its httpcore pool itself, with its
    proxy, TLS and HTTP/2 settings), so this reaches into two libraries' internals, by name and checked at each
    step: the transport's `_pool`, an httpcore connection pool, and the pool's `_network_backend`, which every
    connection it opens then uses."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.AsyncNetworkBackend) or isinstance(backend, SocketInfoBackend):
        return False
    setattr(pool, "_network_backend", SocketInfoBackend(backend))  # noqa: B010 - see above
    return True
