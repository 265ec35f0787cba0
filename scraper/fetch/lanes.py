"""The fetcher's connections: a lane, one keep-alive HTTP client of one connection, per request in flight to an
origin, rather than one connection pool that every request shares.

httpcore's pool goes through all its connections and all its waiting requests each time a request starts or
ends (and, for each connection, through all the others to count the idle ones): with 16 requests in flight to
one host, a crawl spent more CPU time choosing connections than parsing pages, and a request cost twice what it
costs alone. A lane's pool holds one connection, so each of those searches is over one. A request takes a free
lane of its origin (the one used last: its connection is the likeliest to be still open) or opens a new one, and
gives it back once its answer is read. The host's gate already bounds the requests in flight, so an origin never
has more lanes than the fetcher's concurrency.

HTTP/2 carries many requests at once on one connection: once an origin has answered a lane over HTTP/2, that
lane is the origin's only one, shared by every request (the site sees one connection, as it would from a browser).

Every lane is made by the same factory: the same headers, timeouts and TLS context, and one cookie jar, so a
cookie that a server sets through one lane is sent through all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from scraper.fetch._httpx import httpx

ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)


class Lanes:
    """The lanes of a fetcher, per origin; `make()` builds a new lane's client (with `ONE_CONNECTION` limits)."""

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self._make = make
        self._idle: dict[str, list[httpx.AsyncClient]] = {}
        self._all: list[httpx.AsyncClient] = []
        self._shared: dict[str, httpx.AsyncClient] = {}  # per origin: its lane over HTTP/2

    @property
    def opened(self) -> int:
        """Lanes opened so far, over every origin."""
        return len(self._all)

    @asynccontextmanager
    async def lane(self, url: str) -> AsyncIterator[httpx.AsyncClient]:
        """A client of `url`'s origin for one request and its answer: one that no other request is using, or the
        origin's shared lane over HTTP/2."""
        key = origin(url)
        shared = self._shared.get(key)
        if shared is not None:
            yield shared
            return
        idle = self._idle.setdefault(key, [])
        client = idle.pop() if idle else self._open()
        try:
            yield client
        finally:
            idle.append(client)

    def share(self, url: str, client: httpx.AsyncClient) -> None:
        """`client` has answered `url` over HTTP/2: from now on, every request to its origin goes through it."""
        self._shared.setdefault(origin(url), client)

    async def aclose(self) -> None:
        clients, self._all, self._idle = self._all, [], {}
        for client in clients:
            await client.aclose()

    def _open(self) -> httpx.AsyncClient:
        client = self._make()
        self._all.append(client)
        return client


def origin(url: str) -> str:
    """scheme://host[:port] of `url`, as written (a connection serves one origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
