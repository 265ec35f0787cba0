"""The Fetcher: one polite, resilient HTTP client per run, on httpx's requests, responses and transports.

`Fetcher.fetch()` never raises for network or HTTP faults: every outcome is a `FetchResult`, with `error`
(a human message) and `error_class` (an ErrorClass) set when the page could not be had.

Politeness, per host (scraper.fetch.gate): at most `concurrency` requests in flight, request starts at least
max(`delay`, robots.txt Crawl-delay) seconds apart, and a `Retry-After` holds back the whole host. robots.txt
is obeyed (scraper.fetch.robots); retries back off (scraper.fetch.retry); bodies are read under a size cap
(scraper.fetch.decoders); redirects are followed to a bounded depth, to allowed hosts only.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Callable
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from scraper.errors import Blocked, ErrorClass, FetchError, FetchStopped, RedirectError
from scraper.fetch._httpx import httpx
from scraper.fetch.cookies import load_cookies
from scraper.fetch.decoders import ACCEPT_ENCODING, drain, read_capped, read_small_body
from scraper.fetch.gate import GateClosed, HostGate, Waits
from scraper.fetch.lanes import Lanes
from scraper.fetch.policy import FetchPolicy, url_shape_problem, with_contact
from scraper.fetch.response import Response, check_outcome, describe, host_key, record, sent_headers, utc_stamp
from scraper.fetch.retry import RETRYABLE_ERRORS, backoff_wait, retry_after_seconds, retryable_status
from scraper.fetch.robots import MAX_CRAWL_DELAY, ROBOTS_MAX_BYTES, RobotsRules, product_token
from scraper.fetch.stops import HostStops, Stop
from scraper.models import Attempt, FetchResult
from scraper.refusal import MARKER_WINDOW, REFUSAL_STATUSES, Refusal, refusal_of

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TLS_HINT = "to trust a private or corporate certificate authority, set SSL_CERT_FILE to its PEM file"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml;q=0.9,*/*;q=0.5"


class Fetcher:
    """Fetch pages over keep-alive connections (scraper.fetch.lanes), politely, with retries. Use as an async
    context."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.user_agent = with_contact(self.policy.user_agent, self.policy.contact)
        jar = load_cookies(self.policy.cookies_file) if self.policy.cookies_file else CookieJar()
        self._cookies = httpx.Cookies(jar)  # the subscriber's, and those the site sets during the run
        self._headers = {"User-Agent": self.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING,
                         "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
        self._lanes: Lanes | None = None
        self._gates: dict[str, HostGate] = {}
        self._waits = Waits()
        self.stops = HostStops(on_stop=lambda host: self._gate_for_host(host).close())
        self.robots = RobotsRules(obey=self.policy.obey_robots, agent=product_token(self.user_agent),
                                  get=self._get_robots, slow_down=self._slow_down,
                                  refused=lambda url, refusal: self.stops.refused(host_key(url), refusal, robots=True),
                                  max_crawl_delay=max(MAX_CRAWL_DELAY, self.policy.delay))

    async def __aenter__(self) -> Fetcher:
        self._lanes = Lanes()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._lanes is not None:
            await self._lanes.aclose()
            self._lanes = None

    def stop_waiting(self) -> None:
        """End every wait at once (a host's turn, a delay, a Retry-After, a backoff) and start no new request: a
        fetch still waiting for its first request raises FetchStopped; one waiting to retry ends with the answer
        or the fault it had (Ctrl-C)."""
        self._waits.stop()

    def take_robots_fetches(self) -> list[FetchResult]:
        """The robots.txt requests made since the last call, as fetch-log rows (every request is logged)."""
        return self.robots.take_fetches()

    def robots_log(self) -> list[str]:
        """One line per host: what its robots.txt said (or why it was not used)."""
        return self.robots.log()

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None) -> FetchResult:
        """Fetch `url` (conditionally when `etag` / `last_modified` are given). Never raises for faults; raises
        FetchStopped when `stop_waiting()` came before any request was sent.

        A URL of a host this run has stopped asking (`stop_for`) is not requested: its result says so
        (`asked` False, error class `blocked`), and it is not a fetch to log."""
        result = FetchResult(url=url, fetched_at=utc_stamp())
        started = time.monotonic()
        try:
            await self._follow(url, _conditional_headers(etag, last_modified), result)
        except _NotAsked as stop:
            result.asked = bool(result.attempts)  # a retry cut short was asked: a failure, not a page to do
            result.error, result.error_class = stop.message, ErrorClass.BLOCKED
        except FetchError as exc:
            result.error = str(exc)
            result.error_class = exc.error_class
        result.elapsed = round(time.monotonic() - started, 3)
        return result

    def stop_for(self, url: str) -> Stop | None:
        """Why the host of `url` is asked for nothing more in this run, or None."""
        return self.stops.stop_for(host_key(url))

    def refused(self, url: str, refusal: Refusal) -> None:
        """A page of `url`'s host turned out, once read, to be a refusal (an interstitial served with 200, a
        login page): it counts toward stopping, as the refusals the fetcher sees itself do."""
        self.stops.refused(host_key(url), refusal, once_read=True)

    # -- redirects and the outcome --------------------------------------------------------------------

    async def _follow(self, url: str, headers: dict[str, str], result: FetchResult) -> None:
        current = self._checked_start(url)
        seen = {current}
        for _hop in range(self.policy.max_redirects + 1):
            await self.robots.check(current)
            result.final_url = current
            response = await self._send_with_retries(current, headers, result)
            record(result, response)
            refusal = refusal_of(response.status, response.headers, response.body)
            if refusal is not None:
                self.stops.refused(host_key(current), refusal)
                raise Blocked(refusal.message, url=current)
            target = self._redirect_target(response)
            if target is None:
                check_outcome(response, result)
                if response.status in (200, 304):
                    self.stops.came_through(host_key(current))
                return
            if target in seen:
                raise RedirectError(f"redirect loop: {current} -> {target}", url=url)
            seen.add(target)
            current = target
        raise RedirectError(f"more than {self.policy.max_redirects} redirects (next: {current})", url=url)

    def _checked_start(self, url: str) -> str:
        """`url` without its fragment, when it may be asked (an http(s) URL of an allowed host); what httpx cannot
        read in it is found when the request is built (FetchError `bad_url` both ways)."""
        problem = url_shape_problem(url)
        if problem:
            raise FetchError(problem, url=url, error_class=ErrorClass.BAD_URL)
        parts = urlsplit(url.strip())
        if not self.policy.allows(url.strip()):
            hint = self.policy.origin_hint(url.strip())
            raise FetchError(f"host not allowed: {hint} (add it with --allow-host {hint})",
                             url=url, error_class=ErrorClass.BAD_URL)
        return urlunsplit(parts._replace(fragment=""))

    def _redirect_target(self, response: Response) -> str | None:
        if response.status not in REDIRECT_STATUSES:
            return None
        location = response.headers.get("location", "").strip()
        if not location:
            raise RedirectError(f"HTTP {response.status} redirect without a Location header", url=response.url)
        target = urlunsplit(urlsplit(urljoin(response.url, location))._replace(fragment=""))
        if not self.policy.allows(target):
            raise RedirectError(f"redirect to a host or scheme that is not allowed: {target}",
                                url=response.url, error_class=ErrorClass.OFFSITE_REDIRECT)
        return target

    # -- retries ------------------------------------------------------------------------------------------

    async def _send_with_retries(self, url: str, headers: dict[str, str], result: FetchResult) -> Response:
        gate = self._gate_for(url)
        attempt = 0
        last: tuple[Response | None, FetchError | None] | None = None
        while True:
            response: Response | None = None
            failure: FetchError | None = None
            try:
                async with gate.slot() as sent:
                    try:
                        response = await self._send(url, headers, self.policy.max_bytes, result, on_sent=sent)
                    except FetchError as exc:
                        if exc.error_class not in RETRYABLE_ERRORS:
                            raise
                        failure = exc
            except GateClosed:
                if last is None:
                    raise _NotAsked(self.stops.stop_for(host_key(url))) from None
                return _outcome(*last)  # the host was closed before the retry: the last answer stands
            except FetchStopped:
                if last is None:
                    raise
                return _outcome(*last)  # stopped before the retry was sent: the last answer stands
            if response is not None and not self._worth_retrying(url, response):
                return response
            if attempt >= self.policy.retries:
                return _outcome(response, failure)
            wait, asked_by_server = self._retry_wait(attempt, response)
            if asked_by_server:
                gate.hold_off(wait)
            if not await self._waits.wait(wait):  # stopped: no retry, the answer or fault stands
                return _outcome(response, failure)
            attempt += 1
            result.retries += 1
            if result.attempts:
                result.attempts[-1].waited = round(wait, 3)
            last = (response, failure)

    def _worth_retrying(self, url: str, response: Response) -> bool:
        """Whether a 429 or 5xx is asked again: not a refusal, unless the server says when (Retry-After), and not
        when the server asks for a longer wait than --max-wait (the host is then asked nothing more)."""
        if not retryable_status(response.status):
            return False
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if retry_after is not None and retry_after > self.policy.max_wait:
            self.stops.wait_refused(host_key(url), retry_after, self.policy.max_wait)
            return False
        return retry_after is not None or refusal_of(response.status, response.headers, response.body) is None

    def _retry_wait(self, attempt: int, response: Response | None) -> tuple[float, bool]:
        """Seconds to wait before the next attempt, and whether the server asked for it (Retry-After)."""
        retry_after = response.headers.get("retry-after") if response else None
        return backoff_wait(attempt, retry_after, backoff=self.policy.backoff, max_wait=self.policy.max_wait)

    def _gate_for(self, url: str) -> HostGate:
        return self._gate_for_host(host_key(url))

    def _gate_for_host(self, key: str) -> HostGate:
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = HostGate(self.policy.concurrency, self.policy.delay, self._waits)
        return gate

    # -- one request ----------------------------------------------------------------------------------

    async def _send(self, url: str, headers: dict[str, str], max_bytes: int, result: FetchResult | None,
                    on_sent: Callable[[], None] | None = None) -> Response:
        """One GET: the answer with its body read when 2xx; network faults raised as FetchError. The request
        is noted in `result.attempts` (with whether it carried cookies, which `result.cookies_sent` then says:
        the last request is the one that got the answer).

        `on_sent` is called when the request head has been sent (httpcore's trace hook)."""
        async def trace(event: str, info: dict[str, object]) -> None:
            if on_sent is not None and event.endswith("send_request_headers.complete"):
                on_sent()

        async with self.lanes.lane(url) as transport:
            request = self._request(url, headers, trace)
            attempt = Attempt(url, cookies="cookie" in request.headers)
            if result is not None:
                result.attempts.append(attempt)
                result.cookies_sent = attempt.cookies
            try:
                response = await self._exchange(transport, request, url, max_bytes)
            except FetchError as exc:
                attempt.error_class = str(exc.error_class)
                raise
        attempt.status = response.status
        return response

    def _request(self, url: str, headers: dict[str, str], trace: Callable[..., Any]) -> httpx.Request:
        """A GET of `url` with the fetcher's headers, `headers`, and the cookie jar's cookies for it."""
        try:
            request = httpx.Request("GET", url, headers={**self._headers, **headers}, extensions={"trace": trace})
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise FetchError(f"not a valid URL: {describe(exc)}", url=url, error_class=ErrorClass.BAD_URL) from None
        if self._cookies.jar:  # asked only when it holds cookies: each asking builds a urllib request for the jar
            self._cookies.set_cookie_header(request)
        return request

    async def _exchange(self, transport: httpx.AsyncBaseTransport, request: httpx.Request, url: str,
                        max_bytes: int) -> Response:
        """Send `request` through `transport` and read its answer (the body of a 2xx under `max_bytes`); keep the
        cookies it sets; faults as FetchError."""
        phase = "waiting for the answer"
        try:
            async with asyncio.timeout(self.policy.timeout):  # the whole attempt: connect, head and body
                response = await transport.handle_async_request(request)
                response.request = request
                self.lanes.answered(url, transport, response.http_version)
                if "set-cookie" in response.headers:
                    self._cookies.extract_cookies(response)
                phase = "reading the body"
                try:
                    if 200 <= response.status_code < 300:
                        body = await read_capped(response, max_bytes)
                    elif response.status_code in REFUSAL_STATUSES:  # its body may say who refused, and why
                        body = await read_small_body(response, min(max_bytes, MARKER_WINDOW))
                    else:
                        body = None
                        await drain(response)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise FetchError(f"timed out {phase} ({describe(exc)})", url=url, error_class=ErrorClass.TIMEOUT) from None
        except httpx.ConnectError as exc:
            if _is_tls_failure(exc):  # a certificate does not get better with retries: not retried
                raise FetchError(f"TLS failed: {_describe_tls(exc)} ({TLS_HINT})", url=url,
                                 error_class=ErrorClass.TLS) from None
            raise FetchError(f"cannot connect: {describe(exc)}", url=url, error_class=ErrorClass.CONNECT) from None
        except httpx.HTTPError as exc:  # read/write errors, resets, protocol violations
            kind = ErrorClass.TRUNCATED if phase == "reading the body" else ErrorClass.RESET
            hint = _https_hint(url) if kind == ErrorClass.RESET else ""
            raise FetchError(f"connection failed {phase}: {describe(exc)}{hint}", url=url, error_class=kind) from None
        return Response(str(request.url), response.status_code, response.reason_phrase,
                        dict(response.headers.items()), body, sent_headers(request))

    @property
    def lanes(self) -> Lanes:
        """The fetcher's connections (scraper.fetch.lanes), inside `async with`."""
        if self._lanes is None:
            raise RuntimeError("use the Fetcher inside `async with Fetcher(policy) as fetcher:`")
        return self._lanes

    # -- robots.txt ---------------------------------------------------------------------------------------
    async def _get_robots(self, robots_url: str) -> Response:
        """GET a robots.txt, following redirects on allowed hosts, once (no retries)."""
        current = robots_url
        for _hop in range(self.policy.max_redirects + 1):
            try:
                async with self._gate_for(current).slot() as sent:
                    response = await self._send(current, {}, ROBOTS_MAX_BYTES, None, on_sent=sent)
            except GateClosed:
                raise _NotAsked(self.stops.stop_for(host_key(current))) from None
            target = self._redirect_target(response)
            if target is None:
                return response
            current = target
        raise RedirectError(f"more than {self.policy.max_redirects} redirects", url=robots_url)

    def _slow_down(self, url: str, seconds: float) -> float:
        gate = self._gate_for(url)
        gate.slow_down(seconds)
        return gate.interval


# -- small helpers -----------------------------------------------------------------------------------------


class _NotAsked(Exception):
    """The host of a URL has been stopped for this run: no request is made."""

    def __init__(self, stop: Stop | None) -> None:
        reason = stop.message if stop else "its host is asked nothing more in this run"
        super().__init__(reason)
        self.message = f"not asked: {reason}"


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag and etag.isascii():
        headers["If-None-Match"] = etag
    if last_modified and last_modified.isascii():
        headers["If-Modified-Since"] = last_modified
    return headers


def _outcome(response: Response | None, failure: FetchError | None) -> Response:
    """The answer of the last attempt, or its fault raised."""
    if failure is not None:
        raise failure
    assert response is not None
    return response


def _https_hint(url: str) -> str:
    """For a plain-HTTP URL whose server dropped the connection without an answer (what a TLS port does with a
    plain request), the https URL to try."""
    parts = urlsplit(url)
    return f" (is it https? try {urlunsplit(parts._replace(scheme='https'))})" if parts.scheme == "http" else ""


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
    return _SSL_NOISE.sub("", describe(exc)).strip()


_SSL_NOISE = re.compile(r"\[SSL: [A-Z0-9_]+\]\s*|\s*\(_ssl\.c:\d+\)")

