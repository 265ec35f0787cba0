"""The HTTP side: one polite, resilient httpx client per run, and the reading of local files.

`Fetcher.fetch()` never raises for network or HTTP faults: every outcome is a `FetchResult`, with
`error` (a human message) and `error_class` (a stable short name) set when the page could not be had:
`connect`, `timeout`, `reset`, `truncated`, `http_status`, `too_large`, `redirect`, `offsite_redirect`,
`robots`, `not_html`, `bad_url`, `decode`.

Politeness, per host: at most `concurrency` requests in flight, request starts at least
max(`delay`, robots.txt Crawl-delay) seconds apart, and a `Retry-After` holds back the whole host.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import mimetypes
import random
import re
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from protego import Protego

from scraper import __version__
from scraper._httpx import httpx
from scraper.cookies import load_cookies
from scraper.errors import (
    FetchError,
    HTTPStatusError,
    NotHTMLError,
    RedirectError,
    RobotsDisallowed,
    SourceError,
    TooLargeError,
    UsageError,
)
from scraper.models import PRIVATE_REQUEST_HEADERS, FetchResult

SITE_HOSTS = frozenset({
    "www.lagazettedescommunes.com",
    "lagazettedescommunes.com",
    "services.lagazettedescommunes.com",
    "emploi.lagazettedescommunes.com",
    "forums.lagazettedescommunes.com",
})
RETRYABLE_ERRORS = frozenset({"connect", "timeout", "reset", "truncated"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
WEB_PAGE_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "application/xml", "text/xml",
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
})
TLS_HINT = "to trust a private or corporate certificate authority, set SSL_CERT_FILE to its PEM file"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml;q=0.9,*/*;q=0.5"
ACCEPT_ENCODING = "gzip, deflate"  # the codings _Inflate undoes under the size cap
ROBOTS_MAX_BYTES = 500 * 1024  # what Google reads of a robots.txt
CHUNK = 64 * 1024  # the most a decompression step produces at once
DRAIN_MAX_BYTES = 64 * 1024  # small unwanted bodies (redirects, errors) are read so the connection is reused
ATTEMPT_DEADLINE_FACTOR = 4  # one attempt (head and body) gets at most this many times `timeout` in all


def default_user_agent(contact: str | None = None) -> str:
    """`scrape/<version> (+<project url>; archiver for Club Techni.Cites[; contact: <contact>])`.

    The project URL comes from the package metadata (`[project.urls]`) and is left out when there is
    none. Header values must be ASCII, hence "Cites" without its accent.
    """
    url = _project_url()
    parts = ([f"+{url}"] if url else []) + ["archiver for Club Techni.Cites"]
    return with_contact(f"scrape/{__version__} ({'; '.join(parts)})", contact)


def with_contact(user_agent: str, contact: str | None) -> str:
    """The user agent with `contact: <contact>` added (inside its trailing comment when it has one)."""
    if not contact or f"contact: {contact}" in user_agent:
        return user_agent
    _check_header_text(contact, "contact")
    if user_agent.endswith(")"):
        return f"{user_agent[:-1]}; contact: {contact})"
    return f"{user_agent} (contact: {contact})"


def _project_url() -> str | None:
    try:
        meta = metadata.metadata("scrape")
    except metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or []:
        _label, _, url = entry.partition(",")
        if url.strip():
            return url.strip()
    return meta.get("Home-page") or None


def _check_header_text(value: str, what: str) -> None:
    if not value.isascii() or not value.isprintable():
        raise UsageError(f"{what} must be printable ASCII (it goes into an HTTP header): {value!r}")


@dataclass
class FetchPolicy:
    """How politely and how stubbornly to fetch. Every field maps to a command-line option."""

    delay: float = 1.0  # seconds between the starts of two requests to one host
    concurrency: int = 2  # requests in flight per host
    timeout: float = 30.0  # connect / read / write / pool timeout of one request
    retries: int = 3  # further attempts after a retryable failure
    max_wait: float = 120.0  # cap on any Retry-After or backoff wait
    max_bytes: int = 20 * 2**20  # cap on a body, compressed and decompressed
    max_redirects: int = 5
    allowed_hosts: frozenset[str] = SITE_HOSTS  # hosts that may be fetched and redirected to
    obey_robots: bool = True
    user_agent: str = field(default_factory=default_user_agent)
    contact: str | None = None  # appended to the user agent: "; contact: <email or url>"
    cookies_file: Path | None = None  # a Netscape cookies.txt
    backoff: float = 1.0  # base of the exponential backoff: attempt n waits up to backoff * 2**n

    def __post_init__(self) -> None:
        checks = [
            (self.delay >= 0, "delay must be >= 0"),
            (self.concurrency >= 1, "concurrency must be >= 1"),
            (self.timeout > 0, "timeout must be > 0"),
            (self.retries >= 0, "retries must be >= 0"),
            (self.max_wait >= 0, "max_wait must be >= 0"),
            (self.max_bytes > 0, "max_bytes must be > 0"),
            (self.max_redirects >= 0, "max_redirects must be >= 0"),
            (self.backoff >= 0, "backoff must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)
        _check_header_text(self.user_agent, "user agent")
        if self.contact:
            _check_header_text(self.contact, "contact")
        self.allowed_hosts = frozenset(host.lower().strip() for host in self.allowed_hosts)
        if self.cookies_file is not None:
            self.cookies_file = Path(self.cookies_file)

    def allowing(self, *sources: str) -> FetchPolicy:
        """A copy that also allows the hosts of `sources` (URLs, or bare host names)."""
        hosts = {_host_of(source) for source in sources}
        return replace(self, allowed_hosts=self.allowed_hosts | {host for host in hosts if host})

    def allows(self, url: str) -> bool:
        """Whether `url` is an http(s) URL on an allowed host."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        return parts.scheme.lower() in ("http", "https") and (parts.hostname or "") in self.allowed_hosts


def _host_of(source: str) -> str:
    source = source.strip()
    if "://" not in source:
        return source.lower().split("/")[0].split(":")[0]
    try:
        return (urlsplit(source).hostname or "").lower()
    except ValueError:
        return ""


@dataclass
class _Response:
    """One HTTP answer, its body read (2xx) or not."""

    url: str
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes | None = None
    request_headers: list[tuple[str, str]] = field(default_factory=list)


class _HostGate:
    """Per-host politeness: at most `concurrency` requests in flight, starts at least `interval` apart."""

    def __init__(self, concurrency: int, interval: float) -> None:
        self.interval = interval
        self._slots = asyncio.Semaphore(concurrency)
        self._turn = asyncio.Lock()
        self._last_start = float("-inf")
        self._next_start = 0.0

    def slow_down(self, interval: float) -> None:
        """Keep starts at least `interval` apart from now on (e.g. robots.txt Crawl-delay)."""
        self.interval = max(self.interval, interval)
        self._next_start = max(self._next_start, self._last_start + self.interval)

    def hold_off(self, seconds: float) -> None:
        """Start nothing on this host for `seconds` (e.g. Retry-After)."""
        self._next_start = max(self._next_start, time.monotonic() + seconds)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Callable[[], None]]:
        """Wait for a slot and for this host's turn; yield `sent`, to call when the request really leaves.

        A start is stamped when the request headers are sent, not when the slot is given: opening a connection
        can take a while, and the server must see starts `interval` apart. With an interval, the turn is held
        until then, so the next request cannot slip in while this one connects.
        """
        async with self._slots:
            await self._turn.acquire()
            stamped = False

            def sent() -> None:
                nonlocal stamped
                if not stamped:
                    stamped = True
                    self._last_start = time.monotonic()
                    self._next_start = max(self._next_start, self._last_start + self.interval)
                    self._turn.release()

            try:
                while (wait := self._next_start - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                if self.interval <= 0:
                    sent()  # nothing to space out: do not serialise connection set-ups
                yield sent
            finally:
                sent()  # never sent (a fault before the headers left): the attempt counts from now


class Fetcher:
    """Fetch pages over one keep-alive HTTP client, politely, with retries. Use as an async context."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.user_agent = with_contact(self.policy.user_agent, self.policy.contact)
        self._robots_agent = _product_token(self.user_agent)
        self._cookies = load_cookies(self.policy.cookies_file) if self.policy.cookies_file else None
        self._client: httpx.AsyncClient | None = None
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, Protego | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._robots_log: list[str] = []
        self._robots_fetches: list[FetchResult] = []

    async def __aenter__(self) -> Fetcher:
        self._client = httpx.AsyncClient(
            http2=True,
            follow_redirects=False,
            timeout=httpx.Timeout(self.policy.timeout),
            cookies=self._cookies,
            headers={"User-Agent": self.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING,
                     "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"},
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def take_robots_fetches(self) -> list[FetchResult]:
        """The robots.txt requests made since the last call, as fetch-log rows (every request is logged)."""
        taken, self._robots_fetches = self._robots_fetches, []
        return taken

    def robots_log(self) -> list[str]:
        """One line per host: what its robots.txt said (or why it was not used)."""
        return list(self._robots_log)

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None) -> FetchResult:
        """Fetch `url` (conditionally when `etag` / `last_modified` are given). Never raises for faults."""
        result = FetchResult(url=url, fetched_at=_utc_now())
        started = time.monotonic()
        try:
            await self._follow(url, _conditional_headers(etag, last_modified), result)
        except FetchError as exc:
            result.error = str(exc)
            result.error_class = exc.error_class
        result.elapsed = round(time.monotonic() - started, 3)
        return result

    # -- redirects and the outcome --------------------------------------------------------------------

    async def _follow(self, url: str, headers: dict[str, str], result: FetchResult) -> None:
        current = self._checked_start(url)
        seen = {current}
        for _hop in range(self.policy.max_redirects + 1):
            await self._check_robots(current)
            result.final_url = current
            response = await self._send_with_retries(current, headers, result)
            _record(result, response)
            target = self._redirect_target(response)
            if target is None:
                _check_outcome(response, result)
                return
            if target in seen:
                raise RedirectError(f"redirect loop: {current} -> {target}", url=url)
            seen.add(target)
            current = target
        raise RedirectError(f"more than {self.policy.max_redirects} redirects (next: {current})", url=url)

    def _checked_start(self, url: str) -> str:
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise FetchError(f"not a valid URL: {url!r}", url=url, error_class="bad_url") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError(f"only http(s) URLs are fetched: {url!r}", url=url, error_class="bad_url")
        if parts.hostname.lower() not in self.policy.allowed_hosts:
            raise FetchError(f"host not allowed: {parts.hostname} (add it with --allow-host)",
                             url=url, error_class="bad_url")
        return urlunsplit(parts._replace(fragment=""))

    def _redirect_target(self, response: _Response) -> str | None:
        if response.status not in REDIRECT_STATUSES:
            return None
        location = response.headers.get("location", "").strip()
        if not location:
            raise RedirectError(f"HTTP {response.status} redirect without a Location header", url=response.url)
        target = urlunsplit(urlsplit(urljoin(response.url, location))._replace(fragment=""))
        if not self.policy.allows(target):
            raise RedirectError(f"redirect to a host or scheme that is not allowed: {target}",
                                url=response.url, error_class="offsite_redirect")
        return target

    # -- retries ------------------------------------------------------------------------------------------

    async def _send_with_retries(self, url: str, headers: dict[str, str], result: FetchResult) -> _Response:
        gate = self._gate_for(url)
        attempt = 0
        while True:
            response: _Response | None = None
            failure: FetchError | None = None
            async with gate.slot() as sent:
                try:
                    response = await self._send(url, headers, self.policy.max_bytes, result, on_sent=sent)
                except FetchError as exc:
                    if exc.error_class not in RETRYABLE_ERRORS:
                        raise
                    failure = exc
            if response is not None and not _retryable_status(response.status):
                return response
            if attempt >= self.policy.retries:
                if failure is not None:
                    raise failure
                assert response is not None
                return response
            wait, asked_by_server = self._retry_wait(attempt, response)
            if asked_by_server:
                gate.hold_off(wait)
            attempt += 1
            result.retries += 1
            await asyncio.sleep(wait)

    def _retry_wait(self, attempt: int, response: _Response | None) -> tuple[float, bool]:
        """Seconds to wait before the next attempt, and whether the server asked for it (Retry-After)."""
        asked = _retry_after_seconds(response.headers.get("retry-after")) if response else None
        if asked is not None:
            return min(asked, self.policy.max_wait), True
        return random.uniform(0, min(self.policy.max_wait, self.policy.backoff * 2**attempt)), False

    def _gate_for(self, url: str) -> _HostGate:
        key = _host_key(url)
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _HostGate(self.policy.concurrency, self.policy.delay)
        return gate

    # -- one request ----------------------------------------------------------------------------------

    async def _send(self, url: str, headers: dict[str, str], max_bytes: int, result: FetchResult | None,
                    on_sent: Callable[[], None] | None = None) -> _Response:
        """One GET: the answer with its body read when 2xx; network faults raised as FetchError.

        `on_sent` is called when the request headers start to leave (httpcore's trace hook)."""
        client = self._require_client()

        async def trace(event: str, info: dict[str, object]) -> None:
            if on_sent is not None and event.endswith("send_request_headers.started"):
                on_sent()

        try:
            request = client.build_request("GET", url, headers=headers, extensions={"trace": trace})
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise FetchError(f"not a valid URL: {_describe(exc)}", url=url, error_class="bad_url") from None
        phase = "waiting for the answer"
        try:
            async with asyncio.timeout(self.policy.timeout * ATTEMPT_DEADLINE_FACTOR):
                response = await client.send(request, stream=True)
                phase = "reading the body"
                try:
                    if result is not None and "cookie" in response.request.headers:
                        result.cookies_sent = True
                    body = await _read_body(response, max_bytes) if 200 <= response.status_code < 300 else None
                    if body is None:
                        await _drain(response)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise FetchError(f"timed out {phase} ({_describe(exc)})", url=url, error_class="timeout") from None
        except httpx.ConnectError as exc:
            if _is_tls_failure(exc):  # a certificate does not get better with retries: not retried
                raise FetchError(f"TLS failed: {_describe_tls(exc)} ({TLS_HINT})", url=url, error_class="tls") from None
            raise FetchError(f"cannot connect: {_describe(exc)}", url=url, error_class="connect") from None
        except httpx.HTTPError as exc:  # read/write errors, resets, protocol violations
            kind = "truncated" if phase == "reading the body" else "reset"
            raise FetchError(f"connection failed {phase}: {_describe(exc)}", url=url, error_class=kind) from None
        return _Response(str(response.url), response.status_code, response.reason_phrase,
                         dict(response.headers.items()), body, _sent_headers(response.request))

    def _require_client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("use the Fetcher inside `async with Fetcher(policy) as fetcher:`")
        return self._client

    # -- robots.txt ---------------------------------------------------------------------------------------

    async def _check_robots(self, url: str) -> None:
        origin = _origin(url)
        if not self.policy.obey_robots:
            if origin not in self._robots:
                self._robots[origin] = None
                self._robots_log.append(f"{origin}/robots.txt: not consulted (robots.txt is ignored)")
            return
        parser = await self._robots_for(origin)
        if parser is not None and not parser.can_fetch(url, self._robots_agent):
            raise RobotsDisallowed(f"robots.txt of {urlsplit(url).hostname} disallows {url}", url=url)

    async def _robots_for(self, origin: str) -> Protego | None:
        if origin in self._robots:
            return self._robots[origin]
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(origin)
        return self._robots[origin]

    async def _load_robots(self, origin: str) -> Protego | None:
        robots_url = f"{origin}/robots.txt"
        logged = FetchResult(url=robots_url, fetched_at=_utc_now())
        self._robots_fetches.append(logged)
        started = time.monotonic()
        try:
            response = await self._get_robots(robots_url)
        except FetchError as exc:
            logged.error, logged.error_class = str(exc), exc.error_class
            logged.elapsed = round(time.monotonic() - started, 3)
            self._robots_log.append(f"{robots_url}: unreachable ({exc.error_class}: {exc}); all URLs allowed")
            return None
        _record(logged, response)  # no body kept: the rules are in the run log, and it is not a page
        logged.elapsed = round(time.monotonic() - started, 3)
        if 400 <= response.status < 500:
            self._robots_log.append(f"{robots_url}: HTTP {response.status}, no rules; all URLs allowed")
            return None
        if response.status >= 300 or response.body is None:
            self._robots_log.append(f"{robots_url}: HTTP {response.status}; treated as allowing all URLs")
            return None
        try:
            parser = Protego.parse(response.body.decode("utf-8", errors="replace"))
        except Exception as exc:  # noqa: BLE001 - a robots.txt that breaks the parser must not stop the run
            self._robots_log.append(f"{robots_url}: unreadable ({_describe(exc)}); all URLs allowed")
            return None
        self._robots_log.append(self._apply_crawl_delay(robots_url, parser))
        return parser

    def _apply_crawl_delay(self, robots_url: str, parser: Protego) -> str:
        crawl_delay = parser.crawl_delay(self._robots_agent)
        if not crawl_delay:
            return f"{robots_url}: rules loaded (no Crawl-delay for {self._robots_agent})"
        gate = self._gate_for(robots_url)
        gate.slow_down(crawl_delay)
        return f"{robots_url}: rules loaded, Crawl-delay {crawl_delay:g}s (requests {gate.interval:g}s apart)"

    async def _get_robots(self, robots_url: str) -> _Response:
        """GET a robots.txt, following redirects on allowed hosts, once (no retries)."""
        current = robots_url
        for _hop in range(self.policy.max_redirects + 1):
            async with self._gate_for(current).slot() as sent:
                response = await self._send(current, {}, ROBOTS_MAX_BYTES, None, on_sent=sent)
            target = self._redirect_target(response)
            if target is None:
                return response
            current = target
        raise RedirectError(f"more than {self.policy.max_redirects} redirects", url=robots_url)


# -- response helpers ------------------------------------------------------------------------------------


def _sent_headers(request: httpx.Request) -> list[tuple[str, str]]:
    """The request's headers as they left, in order and case, without the ones that carry credentials."""
    sent = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]
    return [(name, value) for name, value in sent if name.lower() not in PRIVATE_REQUEST_HEADERS]


def _record(result: FetchResult, response: _Response) -> None:
    result.final_url = response.url
    result.request_headers = response.request_headers
    result.status = response.status
    result.headers = response.headers
    result.etag = response.headers.get("etag")
    result.last_modified = response.headers.get("last-modified")
    result.content_type = response.headers.get("content-type")


def _check_outcome(response: _Response, result: FetchResult) -> None:
    """Keep the body of a good answer; raise FetchError for the others."""
    if response.status == 304:
        return
    if not 200 <= response.status < 300:
        raise HTTPStatusError(f"HTTP {response.status} {response.reason}".strip(), url=response.url,
                              status=response.status)
    result.body = response.body
    if not _is_web_page(result.content_type, response.body or b""):
        raise NotHTMLError(f"not a web page (content type {result.content_type or 'missing'})",
                           url=response.url)


def _retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def _retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (delta-seconds or HTTP-date form), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    with suppress(ValueError):
        seconds = float(value)  # the standard says an integer; some servers send "1.5"
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_web_page(content_type: str | None, body: bytes) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime:
        return mime in WEB_PAGE_TYPES or mime.endswith("+xml")
    return body.lstrip(b"\xef\xbb\xbf \t\r\n\f")[:1] == b"<"


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """Stream the body, undoing its Content-Encoding, and stop as soon as either size passes `max_bytes`."""
    declared = _content_length(response.headers)
    if declared is not None and declared > max_bytes:
        raise TooLargeError(f"body of {declared} bytes is over the {max_bytes}-byte cap", url=str(response.url))
    decoder = _decoder_for(response.headers.get("content-encoding"))
    body = bytearray()
    async for raw in response.aiter_raw():
        if response.num_bytes_downloaded > max_bytes:
            raise TooLargeError(f"body is over the {max_bytes}-byte cap", url=str(response.url))
        for piece in decoder.feed(raw):
            body += piece
            if len(body) > max_bytes:
                raise TooLargeError(f"decompressed body is over the {max_bytes}-byte cap", url=str(response.url))
    decoder.finish()
    if declared is not None and response.num_bytes_downloaded < declared:
        raise FetchError(f"body cut short: {response.num_bytes_downloaded} of {declared} bytes",
                         url=str(response.url), error_class="truncated")
    return bytes(body)


async def _drain(response: httpx.Response) -> None:
    """Read a small unwanted body so the connection can be reused; leave big or broken ones."""
    declared = _content_length(response.headers)
    if declared is None or declared > DRAIN_MAX_BYTES:
        return
    with suppress(httpx.HTTPError):
        async for _raw in response.aiter_raw():
            pass


def _content_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length", "").split(",")[0].strip()
    return int(value) if value.isdigit() else None


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data

    def finish(self) -> None:
        pass


class _Inflate:
    """gzip or deflate, undone at most CHUNK bytes at a time, so a bomb is never inflated whole."""

    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits  # None: zlib or raw deflate, told apart by the first bytes
        self._zlib: zlib._Decompress | None = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            self._zlib = zlib.decompressobj(self._wbits or (15 if _has_zlib_header(data) else -15))
        while not self._zlib.eof:
            try:
                out = self._zlib.decompress(data, CHUNK)
            except zlib.error as exc:
                raise FetchError(f"cannot decompress the body: {exc}", error_class="decode") from None
            data = self._zlib.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < CHUNK:
                return

    def finish(self) -> None:
        if self._zlib is not None and not self._zlib.eof:
            raise FetchError("compressed body ends early", error_class="truncated")


def _has_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _decoder_for(content_encoding: str | None) -> _Identity | _Inflate:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Identity()
    if codings == ["gzip"] or codings == ["x-gzip"]:
        return _Inflate(31)
    if codings == ["deflate"]:
        return _Inflate(None)
    raise FetchError(f"unsupported content-encoding: {content_encoding}", error_class="decode")


# -- small helpers -----------------------------------------------------------------------------------------


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag and etag.isascii():
        headers["If-None-Match"] = etag
    if last_modified and last_modified.isascii():
        headers["If-Modified-Since"] = last_modified
    return headers


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{_host_key(url)}"


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def _product_token(user_agent: str) -> str:
    """The name robots.txt rules are matched against: `scrape` for `scrape/0.1.0 (...)`."""
    return (user_agent.split("/", 1)[0].split() or ["scrape"])[0]


def _is_tls_failure(exc: BaseException) -> bool:
    """Whether a connection failed in the TLS handshake (a certificate not trusted, expired, for another host;
    no common protocol), found in the chain of causes httpx and httpcore keep."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe_tls(exc: BaseException) -> str:
    """'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: … (_ssl.c:1006)' without its codes."""
    return _SSL_NOISE.sub("", _describe(exc)).strip()


_SSL_NOISE = re.compile(r"\[SSL: [A-Z0-9_]+\]\s*|\s*\(_ssl\.c:\d+\)")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- local files -------------------------------------------------------------------------------------------


def read_local(path: str | Path) -> FetchResult:
    """Read a page the user saved and named on the command line.

    Raises `SourceError` (one line) when the path is missing, a directory, empty, or not text.
    """
    given = Path(path).expanduser()
    try:
        resolved = given.resolve(strict=True)
    except FileNotFoundError:
        raise SourceError(f"no such file: {path}") from None
    except (OSError, RuntimeError) as exc:
        raise SourceError(f"cannot open {path}: {_describe(exc)}") from None
    if resolved.is_dir():
        raise SourceError(f"{path} is a directory, not a saved page")
    try:
        data = resolved.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or _describe(exc)}") from None
    if not data.strip():
        raise SourceError(f"{path} is empty")
    if _looks_binary(data):
        raise SourceError(f"{path} is not a text file (binary content)")
    url = resolved.as_uri()
    return FetchResult(url=url, final_url=url, status=None, fetched_at=_utc_now(), body=data,
                       content_type=mimetypes.guess_type(resolved.name)[0], source="file")


def _looks_binary(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NUL bytes but is text
        try:
            data.decode("utf-16")
        except UnicodeDecodeError:
            return True
        return False
    if b"\x00" in data:
        return True
    head = data[:65536]
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f\x1b")
    return controls > len(head) // 100
