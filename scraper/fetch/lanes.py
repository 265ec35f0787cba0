"""The fetcher's connections: a lane, one keep-alive HTTP transport of one connection, per request in flight to
an origin, rather than one connection pool that every request shares.

httpcore's pool goes through all its connections and all its waiting requests each time a request starts or
ends (and, for each connection, through all the others to count the idle ones): with 16 requests in flight to
one host, a crawl spent more CPU time choosing connections than parsing pages, and a request cost twice what it
costs alone. A lane holds one connection, so each of those searches is over one. A request takes a free lane of
its origin (the one used last: its connection is the likeliest to be still open) or opens a new one, and gives
it back once its answer is read. The host's gate already bounds the requests in flight, so an origin never has
more lanes than the fetcher's concurrency.

HTTP/2 carries many requests at once on one connection: once an origin has answered a lane over HTTP/2, that
lane is the origin's only one, shared by every request (the site sees one connection, as it would from a browser).
An origin that answers over HTTP/1.x (plain http always does) gets *lean* lanes from then on: each a transport for
one HTTP/1.1 connection without httpcore's pool (scraper.fetch.wire); a lane opened before the origin answered
(which offered HTTP/2) is closed when it is given back, and a lean one takes its place.

The lanes of a kind share one TLS context; the fetcher builds every request itself (the same headers, and its one
cookie jar's cookies), whichever lane carries it.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

from scraper.fetch._httpx import httpx
from scraper.fetch.sockets import install as install_socket_info
from scraper.fetch.wire import WireTransport

ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)


class Lanes:
    """The lanes of a fetcher, per origin."""

    def __init__(self) -> None:
        self._idle: dict[str, list[httpx.AsyncBaseTransport]] = {}
        self._all: list[httpx.AsyncBaseTransport] = []
        self._lean: set[httpx.AsyncBaseTransport] = set()
        self._shared: dict[str, httpx.AsyncBaseTransport] = {}  # per origin: its lane over HTTP/2
        self._over_http1: set[str] = set()  # origins that answered over HTTP/1.1

    @property
    def opened(self) -> int:
        """Lanes opened so far, over every origin."""
        return len(self._all)

    @asynccontextmanager
    async def lane(self, url: str) -> AsyncIterator[httpx.AsyncBaseTransport]:
        """A transport to `url`'s origin for one request and its answer: one that no other request is using, or the
        origin's shared lane over HTTP/2."""
        key = origin(url)
        shared = self._shared.get(key)
        if shared is not None:
            yield shared
            return
        idle = self._idle.setdefault(key, [])
        transport = idle.pop() if idle else self._open(key)
        try:
            yield transport
        finally:
            if transport in self._lean or key not in self._over_http1:
                idle.append(transport)
            else:  # it offered HTTP/2 to an origin that answers over HTTP/1.1: a lean lane will take its place
                await transport.aclose()

    def answered(self, url: str, transport: httpx.AsyncBaseTransport, http_version: str) -> None:
        """`transport` has answered `url` over `http_version`: over HTTP/2, every later request to its origin goes
        through it; over HTTP/1.x, the origin's new lanes are lean."""
        if http_version == "HTTP/2":
            self._shared.setdefault(origin(url), transport)
        elif transport not in self._lean:  # a lean lane's origin is known already (no parse of the URL each answer)
            self._over_http1.add(origin(url))

    async def aclose(self) -> None:
        transports, self._all, self._idle, self._lean = self._all, [], {}, set()
        for transport in transports:
            await transport.aclose()

    def _open(self, key: str) -> httpx.AsyncBaseTransport:
        lean = key.startswith("http:") or key in self._over_http1
        transport = self._transport(key, lean)
        self._all.append(transport)
        if lean:
            self._lean.add(transport)
        return transport

    def _transport(self, key: str, lean: bool) -> httpx.AsyncBaseTransport:
        """A new lane to the origin `key`: a lean HTTP/1.1 transport (scraper.fetch.wire), or httpx's own, which
        offers HTTP/2, with one connection; httpx's own, through the proxy, for an origin that the environment
        sends through one (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY)."""
        proxy = proxy_for(key)
        if lean and proxy is None:
            return WireTransport(lambda: self._wire_tls)
        transport = httpx.AsyncHTTPTransport(http2=True, verify=self._tls, limits=ONE_CONNECTION, proxy=proxy)
        install_socket_info(transport)
        return transport

    @cached_property
    def _tls(self) -> ssl.SSLContext:
        """The TLS context of every lane that offers HTTP/2 (SSL_CERT_FILE's authorities, else certifi's), made on
        first use: it reads the certificate authorities."""
        return httpx.create_ssl_context()

    @cached_property
    def _wire_tls(self) -> ssl.SSLContext:
        """The lean lanes' TLS context: one of their own, as the wire transport offers http/1.1 alone in its ALPN."""
        return httpx.create_ssl_context()


def proxy_for(origin: str) -> str | None:
    """The proxy the environment names for `origin` (scheme://host[:port]): HTTP_PROXY or HTTPS_PROXY for its
    scheme, else ALL_PROXY, unless NO_PROXY names its host; None when there is none."""
    proxies = getproxies()
    parts = urlsplit(origin)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or proxy_bypass(parts.hostname or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def origin(url: str) -> str:
    """scheme://host[:port] of `url`, as written (a connection serves one origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
