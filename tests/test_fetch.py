"""The fetcher against a real, misbehaving HTTP server on 127.0.0.1 (tests/faultserver.py)."""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path

import httpcore
import pytest
from faultserver import Exchange, FaultServer, Redirect, Request, Reset, Respond, Stream, Truncated

from scraper.errors import InvalidOption, SourceError
from scraper.fetch import Fetcher, FetchPolicy, default_user_agent
from scraper.fetch.gate import HostGate, margin
from scraper.fetch.sockets import SocketInfoBackend, install
from scraper.fetch.wire import WireTransport
from scraper.models import FetchResult
from scraper.sources import read_local

PAGE = "<!doctype html><html><head><title>Page</title></head><body><p>Bonjour</p></body></html>"
MB = 2**20


_RUNNING: list[str] = []  # the origins of the servers of the running test, which make_policy allows


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        _RUNNING.append(running.base_url)
        try:
            yield running
        finally:
            _RUNNING.remove(running.base_url)


def make_policy(**overrides: object) -> FetchPolicy:
    """Tiny delays so the whole file runs in a few seconds; the test's server is allowed (its origin: 127.0.0.1
    and its port) unless `allowed_hosts` is given. The timeout bounds a whole request: a hang guard far above a
    request on the loopback (20 MB read to the cap included), which a test of timeouts sets lower."""
    settings: dict[str, object] = dict(delay=0.02, concurrency=2, timeout=5.0, retries=2, max_wait=2.0,
                                       backoff=0.01, allowed_hosts=frozenset({"127.0.0.1"}))
    settings.update(overrides)
    policy = FetchPolicy(**settings)  # type: ignore[arg-type]
    return policy if "allowed_hosts" in overrides else policy.allowing(*_RUNNING)


async def _fetch_all(policy: FetchPolicy, urls: list[str], **kwargs: str) -> tuple[list[FetchResult], list[str]]:
    async with Fetcher(policy) as fetcher:
        results = await asyncio.wait_for(asyncio.gather(*(fetcher.fetch(url, **kwargs) for url in urls)), 20)
        return list(results), fetcher.robots_log()


def fetch_many(policy: FetchPolicy, urls: list[str], **kwargs: str) -> list[FetchResult]:
    return asyncio.run(_fetch_all(policy, urls, **kwargs))[0]


def fetch_one(policy: FetchPolicy, url: str, **kwargs: str) -> FetchResult:
    return fetch_many(policy, [url], **kwargs)[0]


def gaps(requests: list[Request]) -> list[float]:
    starts = sorted(request.started for request in requests)
    return [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]


# Server-side stamps carry the jitter of loopback transit and thread scheduling (a new connection costs
# a little more than a reused one; a busy machine may wake the server thread late): well below this, and
# the delays tested are several times larger.
JITTER = 0.05


# -- a good answer ----------------------------------------------------------------------------------------


def test_ok_page_fills_every_field(server: FaultServer) -> None:
    headers = {"ETag": '"v1"', "Last-Modified": "Wed, 01 Jun 2016 10:00:00 GMT", "X-Powered-By": "WordPress"}
    server.route("/page/", Respond(200, PAGE, headers))
    result = fetch_one(make_policy(), server.url("/page/"))
    assert result.ok
    assert result.error is None
    assert result.error_class is None
    assert result.status == 200
    assert result.body == PAGE.encode()
    assert result.url == result.final_url == server.url("/page/")
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 01 Jun 2016 10:00:00 GMT"
    assert result.content_type == "text/html; charset=utf-8"
    assert result.headers["x-powered-by"] == "WordPress"
    assert all(name == name.lower() for name in result.headers)
    assert result.retries == 0
    assert result.cookies_sent is False
    assert result.source == "http"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result.fetched_at)  # to the millisecond
    assert result.elapsed >= 0


def test_user_agent_names_the_tool_and_the_contact(server: FaultServer) -> None:
    server.route("/page/", Respond(200, PAGE))
    fetch_one(make_policy(contact="docs@mairie.example"), server.url("/page/"))
    user_agent = server.hits("/page/")[0].headers["user-agent"]
    assert user_agent.startswith("scrape/")
    assert "archiver for Club Techni.Cites" in user_agent
    assert user_agent.endswith("; contact: docs@mairie.example)")


def test_default_user_agent_and_bad_contact() -> None:
    assert re.fullmatch(r"scrape/\S+ \((\+\S+; )?archiver for Club Techni\.Cites; contact: a@b\.fr\)",
                        default_user_agent("a@b.fr"))
    with pytest.raises(InvalidOption):
        make_policy(contact="a@b.fr\r\nX-Injected: 1")


def test_policy_rejects_nonsense_and_adds_hosts() -> None:
    with pytest.raises(InvalidOption):
        make_policy(concurrency=0)
    policy = FetchPolicy().allowing("https://Example.org/feed/", "mirror.example.net")
    assert policy.allows("http://example.org/x")
    assert policy.allows("https://mirror.example.net/")
    assert policy.allows("https://www.lagazettedescommunes.com/rubriques/club-technicites/")
    assert not policy.allows("https://elsewhere.example/")
    assert not policy.allows("ftp://example.org/")


# -- retries ----------------------------------------------------------------------------------------------


def test_server_errors_are_retried_then_succeed(server: FaultServer) -> None:
    server.route("/flaky/", Respond(500), Respond(503), Respond(200, PAGE))
    result = fetch_one(make_policy(retries=3), server.url("/flaky/"))
    assert result.ok
    assert result.status == 200
    assert result.retries == 2
    assert len(server.hits("/flaky/")) == 3


def test_server_errors_give_up_after_the_retries(server: FaultServer) -> None:
    server.route("/down/", Respond(503, "<p>maintenance</p>"))
    result = fetch_one(make_policy(retries=2), server.url("/down/"))
    assert result.error_class == "http_status"
    assert result.status == 503
    assert result.retries == 2
    assert not result.ok
    assert len(server.hits("/down/")) == 3


def test_client_errors_are_not_retried(server: FaultServer) -> None:
    server.route("/gone/", Respond(404, "<p>introuvable</p>"))
    result = fetch_one(make_policy(retries=3), server.url("/gone/"))
    assert result.error_class == "http_status"
    assert result.status == 404
    assert result.retries == 0
    assert "404" in (result.error or "")
    assert len(server.hits("/gone/")) == 1


def test_retry_after_seconds_is_honoured(server: FaultServer) -> None:
    server.route("/busy/", Respond(429, headers={"Retry-After": "1"}), Respond(200, PAGE))
    result = fetch_one(make_policy(max_wait=5.0), server.url("/busy/"))
    assert result.ok
    assert result.retries == 1
    assert gaps(server.hits("/busy/"))[0] >= 1.0


def test_retry_after_http_date_is_honoured(server: FaultServer) -> None:
    # The date has one-second resolution: aim at least 0.3 s ahead, and record what was asked.
    asked: list[float] = []

    def busy_until_next_second(request: Request) -> Respond:
        when = int(time.time() + 0.3) + 1
        asked.append(when)
        return Respond(429, headers={"Retry-After": format_datetime(datetime.fromtimestamp(when, UTC),
                                                                    usegmt=True)})

    server.route("/busy/", busy_until_next_second, Respond(200, PAGE))
    result = fetch_one(make_policy(max_wait=5.0), server.url("/busy/"))
    assert result.ok
    assert result.retries == 1
    assert server.hits("/busy/")[1].wall >= asked[0]


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_a_retry_after_over_max_wait_stops_asking_the_host(server: FaultServer, form: str) -> None:
    """The server asks for an hour; the user allows 0.3 s: the page fails at once (not retried after 0.3 s), and
    nothing more is asked of that host in this run (what is left is for the next run)."""
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    value = "3600" if form == "seconds" else format_datetime(in_an_hour, usegmt=True)
    server.route("/busy/", Respond(429, headers={"Retry-After": value}), Respond(200, PAGE))
    server.route("/other/", Respond(200, PAGE))
    busy, other = fetch_many(make_policy(max_wait=0.3, delay=0.02), [server.url("/busy/"), server.url("/other/")])
    assert (busy.status, busy.error_class, busy.retries, busy.asked) == (429, "http_status", 0, True)
    assert (other.asked, other.error_class) == (False, "blocked")
    assert "more than --max-wait 0.3 s" in (other.error or "")
    assert len(server.hits("/busy/")) == 1
    assert server.hits("/other/") == []


def test_retry_after_holds_back_the_whole_host(server: FaultServer) -> None:
    server.route("/busy/", Respond(429, headers={"Retry-After": "0.3"}), Respond(200, PAGE))
    server.route("/other/", Respond(200, PAGE))
    results = fetch_many(make_policy(max_wait=5, delay=0.02), [server.url("/busy/"), server.url("/other/")])
    assert all(result.ok for result in results)
    told_to_wait = server.hits("/busy/")[0].started
    assert server.hits("/other/")[0].started - told_to_wait >= 0.3 - JITTER
    assert 0.3 - JITTER <= gaps(server.hits("/busy/"))[0] < 30  # the header was read (backoff: 0.01 s)


def test_slow_answer_times_out_after_the_retries(server: FaultServer) -> None:
    server.route("/slow/", Respond(200, PAGE, delay=3.0))
    result = fetch_one(make_policy(timeout=0.2, retries=1), server.url("/slow/"))
    assert result.error_class == "timeout"
    assert result.retries == 1
    assert result.body is None
    assert len(server.hits("/slow/")) == 2


def test_connection_reset_is_retried_then_reported(server: FaultServer) -> None:
    server.route("/reset/", Reset())
    server.route("/reset-once/", Reset(), Respond(200, PAGE))
    failed, recovered = fetch_many(make_policy(retries=1), [server.url("/reset/"), server.url("/reset-once/")])
    assert failed.error_class == "reset"
    assert failed.retries == 1
    assert len(server.hits("/reset/")) == 2
    assert recovered.ok
    assert recovered.retries == 1


def test_truncated_body_is_retried_then_reported(server: FaultServer) -> None:
    server.route("/cut/", Truncated(PAGE[:40], declared_length=len(PAGE)))
    server.route("/cut-once/", Truncated(PAGE[:40], declared_length=len(PAGE)), Respond(200, PAGE))
    failed, recovered = fetch_many(make_policy(retries=2), [server.url("/cut/"), server.url("/cut-once/")])
    assert failed.error_class == "truncated"
    assert failed.retries == 2
    assert failed.body is None
    assert len(server.hits("/cut/")) == 3
    assert recovered.ok
    assert recovered.body == PAGE.encode()
    assert recovered.retries == 1


def test_unreachable_host_is_a_connect_error_and_robots_is_logged() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/page/"
    results, log = asyncio.run(_fetch_all(make_policy(retries=1).allowing(url), [url]))
    assert results[0].error_class == "connect"
    assert results[0].retries == 1
    assert any("unreachable" in line and "allowed" in line for line in log)


# -- redirects and URLs -----------------------------------------------------------------------------------


def test_redirects_are_followed_to_the_final_url(server: FaultServer) -> None:
    server.route("/old/", Redirect("/new/", 301))
    server.route("/new/", Respond(200, PAGE))
    result = fetch_one(make_policy(), server.url("/old/"))
    assert result.ok
    assert result.status == 200
    assert result.final_url == server.url("/new/")
    assert result.url == server.url("/old/")


def test_redirect_loop_is_an_error(server: FaultServer) -> None:
    server.route("/a/", Redirect("/b/"))
    server.route("/b/", Redirect("/a/"))
    result = fetch_one(make_policy(), server.url("/a/"))
    assert result.error_class == "redirect"
    assert "loop" in (result.error or "")
    assert len(server.hits("/a/")) == 1
    assert len(server.hits("/b/")) == 1


def test_too_many_redirects_is_an_error(server: FaultServer) -> None:
    for hop in range(10):
        server.route(f"/hop{hop}/", Redirect(f"/hop{hop + 1}/"))
    result = fetch_one(make_policy(max_redirects=3), server.url("/hop0/"))
    assert result.error_class == "redirect"
    assert result.final_url == server.url("/hop3/")
    assert len(server.hits("/hop4/")) == 0


@pytest.mark.parametrize("location", ["http://elsewhere.example/page/", "ftp://127.0.0.1/page/"])
def test_redirect_off_the_allowed_hosts_is_refused(server: FaultServer, location: str) -> None:
    server.route("/out/", Redirect(location))
    result = fetch_one(make_policy(), server.url("/out/"))
    assert result.error_class == "offsite_redirect"
    assert location in (result.error or "")
    assert result.body is None


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/file", "mailto:someone@example.org", "not a url",
                                 "http://", "file:///etc/passwd"])
def test_only_http_urls_are_fetched(url: str) -> None:
    result = fetch_one(make_policy(), url)
    assert result.error_class == "bad_url"
    assert result.status is None


@pytest.mark.parametrize("path", ["/page/a\x00b", "/page/" + "a" * 70_000], ids=["a NUL", "too long"])
def test_a_url_of_an_allowed_host_that_httpx_cannot_read_is_a_bad_url_never_asked(server: FaultServer,
                                                                                  path: str) -> None:
    server.route("/page/", Respond(200, PAGE))
    result = fetch_one(make_policy(), server.url(path))
    assert (result.error_class, result.status) == ("bad_url", None)
    assert "not a valid URL" in (result.error or "")
    assert [request.path for request in server.requests] in ([], ["/robots.txt"])


def test_hosts_outside_the_allowed_list_are_not_fetched(server: FaultServer) -> None:
    server.route("/page/", Respond(200, PAGE))
    result = fetch_one(make_policy(allowed_hosts=frozenset({"www.lagazettedescommunes.com"})),
                       server.url("/page/"))
    assert result.error_class == "bad_url"
    assert "--allow-host" in (result.error or "")
    assert server.requests == []


# -- robots.txt and politeness ----------------------------------------------------------------------------

ROBOTS = """\
User-agent: scrape
Disallow: /private/
Crawl-delay: 0.2

User-agent: *
Disallow: /
"""


def test_robots_disallow_and_crawl_delay_are_obeyed(server: FaultServer) -> None:
    server.route("/robots.txt", Respond(200, ROBOTS, content_type="text/plain"))
    for name in ("a", "b", "c", "private/x"):
        server.route(f"/{name}/", Respond(200, PAGE))
    urls = [server.url(f"/{name}/") for name in ("private/x", "a", "b", "c")]
    results, log = asyncio.run(_fetch_all(make_policy(delay=0.05, concurrency=2), urls))
    assert results[0].error_class == "robots"
    assert results[0].status is None
    assert server.hits("/private/x/") == []
    assert all(result.ok for result in results[1:])
    assert len(server.hits("/robots.txt")) == 1
    # Every start on the server, robots.txt included, at least Crawl-delay after the previous one.
    assert min(gaps(server.requests)) >= 0.2 - JITTER
    assert any("Crawl-delay 0.2" in line for line in log)


def test_robots_ignored_when_told(server: FaultServer) -> None:
    server.route("/robots.txt", Respond(200, ROBOTS, content_type="text/plain"))
    server.route("/private/x/", Respond(200, PAGE))
    results, log = asyncio.run(_fetch_all(make_policy(obey_robots=False), [server.url("/private/x/")]))
    assert results[0].ok
    assert server.hits("/robots.txt") == []
    assert any("not consulted" in line for line in log)


def test_missing_robots_allows_everything(server: FaultServer) -> None:
    server.route("/robots.txt", Respond(404, "no", content_type="text/plain"))
    server.route("/page/", Respond(200, PAGE))
    results, log = asyncio.run(_fetch_all(make_policy(), [server.url("/page/")]))
    assert results[0].ok
    assert len(server.hits("/robots.txt")) == 1
    assert any("HTTP 404" in line and "allow" in line for line in log)


def test_a_failing_robots_disallows_everything_for_the_run(server: FaultServer) -> None:
    """RFC 9309: a robots.txt answering 5xx means the whole site is disallowed, until a later run."""
    server.route("/robots.txt", Respond(503, "no", content_type="text/plain"))
    server.route("/page/", Respond(200, PAGE))
    results, log = asyncio.run(_fetch_all(make_policy(), [server.url("/page/")]))
    assert results[0].error_class == "robots"
    assert server.hits("/page/") == []
    assert len(server.hits("/robots.txt")) == 1
    assert any("HTTP 503" in line and "every URL disallowed for this run" in line for line in log)


def test_delay_between_request_starts_to_one_host(server: FaultServer) -> None:
    server.route("/page/", Respond(200, PAGE))
    urls = [server.url(f"/page/?n={n}") for n in range(4)]
    results = fetch_many(make_policy(delay=0.15, concurrency=4), urls)
    assert all(result.ok for result in results)
    assert min(gaps(server.requests)) >= 0.15 - JITTER


def test_starts_are_spaced_from_when_requests_leave_not_from_when_they_queue(server: FaultServer) -> None:
    """Opening the first connection (robots.txt) takes time: the next start is counted from when the request
    really left, so the server never sees two starts closer than the delay. The server stamps a request when its
    thread gets to it, late by up to ~12 ms on a loaded 2-core machine (seen at load 7), on time the next: the
    allowance is for that; the test below checks the mechanism itself on one clock, to the millisecond."""
    server.route("/page/", Respond(200, PAGE))
    urls = [server.url(f"/page/?n={n}") for n in range(4)]
    results = fetch_many(make_policy(delay=0.1, concurrency=1), urls)
    assert all(result.ok for result in results)
    assert len(server.requests) == 5  # robots.txt and the four pages
    assert min(gaps(server.requests)) >= 0.1 - 0.025


def test_the_host_gate_counts_a_start_from_when_the_request_is_sent() -> None:
    """The mechanism behind the test above, with a connection that takes 50 ms to open."""
    async def next_start_after_send() -> float:
        gate = HostGate(concurrency=2, interval=0.1)
        async with gate.slot() as sent:
            await asyncio.sleep(0.05)  # connecting
            sent()
            sent_at = time.monotonic()
        async with gate.slot():
            return time.monotonic() - sent_at

    assert asyncio.run(next_start_after_send()) >= 0.1 - 0.002


def test_the_host_gate_keeps_a_margin_for_a_server_that_stamps_a_request_late() -> None:
    """A server notes an arrival a little late when it is busy, and the next one on time: starts are kept the
    delay plus 2 % apart (at most 10 ms), on the one monotonic clock, so the server never sees less than the
    delay (the politeness benchmark saw 0.1995 s at --delay 0.2 without it, and 0.1996 s with 1 % on a machine
    at load 2)."""
    async def gap(interval: float) -> float:
        gate = HostGate(concurrency=1, interval=interval)
        async with gate.slot() as sent:
            sent()
            sent_at = time.monotonic()
        async with gate.slot():
            return time.monotonic() - sent_at

    assert margin(0.2) == pytest.approx(0.004)
    assert asyncio.run(gap(0.2)) >= 0.2 + margin(0.2)
    assert margin(5.0) == 0.01
    assert margin(0) == 0


@pytest.mark.parametrize("concurrency", [1, 3])
def test_requests_in_flight_per_host_never_exceed_concurrency(server: FaultServer, concurrency: int) -> None:
    server.route("/slow/", Respond(200, PAGE, delay=0.1))
    urls = [server.url(f"/slow/?n={n}") for n in range(5)]
    results = fetch_many(make_policy(delay=0, concurrency=concurrency), urls)
    assert all(result.ok for result in results)
    assert server.max_in_flight == concurrency  # reached, never passed
    assert server.max_connections <= concurrency


# -- size caps --------------------------------------------------------------------------------------------


@cache
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 200 MB of zeros."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join([compressor.compress(zeros) for _ in range(200)] + [compressor.flush()])


def slices(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start:start + size])


def test_gzip_bomb_is_cut_off_without_inflating_it(server: FaultServer) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < MB  # the compressed size is under the cap: only decompression can catch it
    server.route("/bomb/", Stream(lambda: slices(bomb), headers={"Content-Encoding": "gzip"},
                                  content_length=len(bomb)))
    tracemalloc.start()
    try:
        result = fetch_one(make_policy(max_bytes=MB), server.url("/bomb/"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error_class == "too_large"
    assert result.body is None
    assert peak < 8 * MB  # inflating one 64 KiB network chunk whole would already take ~64 MB


def test_page_announced_over_the_cap_is_not_downloaded(server: FaultServer) -> None:
    block = b"a" * (64 * 1024)
    server.route("/huge/", Stream(lambda: (block for _ in range(800)), content_length=800 * len(block)))
    result = fetch_one(make_policy(max_bytes=MB), server.url("/huge/"))
    assert result.error_class == "too_large"
    assert result.body is None
    assert result.retries == 0
    assert server.wait_idle()
    assert server.hits("/huge/")[0].bytes_sent < 800 * len(block)


def test_page_streamed_over_the_cap_is_cut_off(server: FaultServer) -> None:
    block = b"a" * (64 * 1024)
    server.route("/huge/", Stream(lambda: (block for _ in range(800))))  # 50 MB, chunked, no length
    result = fetch_one(make_policy(max_bytes=MB), server.url("/huge/"))
    assert result.error_class == "too_large"
    assert result.body is None
    assert server.wait_idle()
    assert server.hits("/huge/")[0].aborted


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_pages_are_decoded(server: FaultServer, encoding: str) -> None:
    if encoding == "gzip":
        body = gzip.compress(PAGE.encode())
    else:
        compressor = zlib.compressobj(wbits=15 if encoding == "deflate" else -15)
        body = compressor.compress(PAGE.encode()) + compressor.flush()
    server.route("/z/", Respond(200, body, {"Content-Encoding": encoding.removeprefix("raw-")}))
    result = fetch_one(make_policy(), server.url("/z/"))
    assert result.ok
    assert result.body == PAGE.encode()


def test_corrupt_compression_is_a_decode_error(server: FaultServer) -> None:
    server.route("/z/", Respond(200, b"\x1f\x8b\x08\x00 definitely not gzip", {"Content-Encoding": "gzip"}))
    result = fetch_one(make_policy(), server.url("/z/"))
    assert result.error_class == "decode"
    assert result.retries == 0


# -- content types ----------------------------------------------------------------------------------------


def test_non_html_is_reported_with_its_body(server: FaultServer) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    server.route("/logo.png", Respond(200, png, content_type="image/png"))
    server.route("/untyped-bytes", Respond(200, png, content_type=None))
    logo, untyped = fetch_many(make_policy(), [server.url("/logo.png"), server.url("/untyped-bytes")])
    assert logo.error_class == "not_html"
    assert logo.body == png
    assert logo.content_type == "image/png"
    assert untyped.error_class == "not_html"


@pytest.mark.parametrize("content_type", ["application/rss+xml; charset=UTF-8", "application/xhtml+xml", None])
def test_feeds_xhtml_and_untyped_html_are_accepted(server: FaultServer, content_type: str | None) -> None:
    server.route("/doc", Respond(200, "\n  " + PAGE, content_type=content_type))
    assert fetch_one(make_policy(), server.url("/doc")).ok


# -- conditional GET and cookies --------------------------------------------------------------------------

LAST_MODIFIED = "Wed, 01 Jun 2016 10:00:00 GMT"


def unchanged_page(request: Request) -> Respond:
    if request.headers.get("if-none-match") == '"v1"' or request.headers.get("if-modified-since") == LAST_MODIFIED:
        return Respond(304, headers={"ETag": '"v1"'}, content_type=None)
    return Respond(200, PAGE, {"ETag": '"v1"', "Last-Modified": LAST_MODIFIED})


def test_conditional_get_gives_304_without_body(server: FaultServer) -> None:
    server.route("/page/", unchanged_page)
    url = server.url("/page/")
    first = fetch_one(make_policy(), url)
    by_etag = fetch_one(make_policy(), url, etag=first.etag or "")
    by_date = fetch_one(make_policy(), url, last_modified=first.last_modified or "")
    assert first.status == 200
    assert first.etag == '"v1"'
    for result in (by_etag, by_date):
        assert result.status == 304
        assert result.body is None
        assert result.error is None
        assert result.ok
        assert result.not_modified
    sent = [(hit.headers.get("if-none-match"), hit.headers.get("if-modified-since"))
            for hit in server.hits("/page/")]
    assert sent == [(None, None), ('"v1"', None), (None, LAST_MODIFIED)]


def write_cookies(path: Path, *lines: str) -> Path:
    path.write_text("# Netscape HTTP Cookie File\n" + "".join(line + "\n" for line in lines))
    return path


def test_cookies_file_is_sent_and_recorded(server: FaultServer, tmp_path: Path) -> None:
    cookies = write_cookies(tmp_path / "cookies.txt",
                            "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc123",  # 0: a session cookie
                            "127.0.0.1\tFALSE\t/\tFALSE\t1000\told\texpired")
    server.route("/page/", Respond(200, PAGE))
    with_cookies = fetch_one(make_policy(cookies_file=cookies), server.url("/page/"))
    without = fetch_one(make_policy(), server.url("/page/"))
    first, second = server.hits("/page/")
    assert first.headers.get("cookie") == "session=abc123"
    assert with_cookies.ok
    assert with_cookies.cookies_sent is True
    assert "cookie" not in second.headers
    assert without.cookies_sent is False
    # what was sent is kept, as sent, but never the session
    sent = dict(with_cookies.request_headers)
    assert sent["User-Agent"] == first.headers.get("user-agent")
    assert sent["Host"] == first.headers.get("host")
    assert not {name.lower() for name in sent} & {"cookie", "authorization"}


@pytest.mark.parametrize("content", ["session=abc123\n", "# Netscape HTTP Cookie File\nonly\tthree\tfields\n"])
def test_malformed_cookies_file_is_one_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(content)
    with pytest.raises(SourceError) as caught:
        Fetcher(make_policy(cookies_file=path))
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_cookies_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        Fetcher(make_policy(cookies_file=tmp_path / "nope.txt"))


# -- local files ------------------------------------------------------------------------------------------


def test_read_local_reads_a_saved_page(tmp_path: Path) -> None:
    page = tmp_path / "saved page.html"
    page.write_bytes(PAGE.encode("cp1252"))
    result = read_local(page)
    assert result.source == "file"
    assert result.status is None
    assert result.ok
    assert result.url == page.resolve().as_uri()
    assert result.url.startswith("file://")
    assert result.body == PAGE.encode()
    assert result.content_type == "text/html"


@pytest.mark.parametrize(("name", "content", "said"), [
    ("missing.html", None, "no such file"),
    ("folder", "dir", "directory"),
    ("empty.html", b"", "empty"),
    ("blank.html", b" \n\t\n", "empty"),
    ("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text file"),
])
def test_read_local_refuses_what_is_not_a_page(tmp_path: Path, name: str, content: bytes | str | None,
                                              said: str) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(SourceError) as caught:
        read_local(path)
    message = str(caught.value)
    assert said in message
    assert name in message
    assert "\n" not in message


class _CloseAfter(Respond):
    """A complete answer, then the connection closed at once, though the answer did not say so."""

    def serve(self, exchange: Exchange) -> bool:
        super().serve(exchange)
        exchange.sock.shutdown(socket.SHUT_RDWR)  # the client has the end of the connection before the server is idle
        return False


def test_a_connection_the_server_closed_while_idle_is_not_reused(server: FaultServer) -> None:
    """A lane's check of its idle connection (scraper.fetch.wire: the socket polled, though the event loop has not
    run since) sees the server's close, so the next request opens a connection instead of failing on the dead one
    and retrying."""
    server.route("/closes", _CloseAfter(200, PAGE))

    async def twice() -> list[FetchResult]:
        async with Fetcher(make_policy(delay=0, retries=0)) as fetcher:
            async with fetcher.lanes.lane(server.url("/closes")) as transport:
                assert isinstance(transport, WireTransport)  # plain http: a lean lane, which polls its socket itself
            first = await fetcher.fetch(server.url("/closes"))
            assert server.wait_idle()
            return [first, await fetcher.fetch(server.url("/closes"))]

    results = asyncio.run(asyncio.wait_for(twice(), 20))
    assert [(result.status, result.error, result.retries) for result in results] == [(200, None, 0)] * 2
    assert len({request.connection for request in server.hits("/closes")}) == 2


def test_an_idle_connection_is_checked_by_polling_its_socket_found_once() -> None:
    """The stream looks its socket up once; readable means the peer sent data or closed, not before."""

    class Counting(httpcore.AsyncNetworkStream):
        def __init__(self, sock: socket.socket) -> None:
            self.sock, self.asked = sock, 0

        def get_extra_info(self, info: str) -> object:
            self.asked += 1
            return self.sock if info == "socket" else None

    class Backend(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, *args: object, **kwargs: object) -> httpcore.AsyncNetworkStream:
            return inner

    class Transport:
        def __init__(self) -> None:
            self._pool = httpcore.AsyncConnectionPool(network_backend=Backend())

    ours, theirs = socket.socketpair()
    inner = Counting(ours)
    transport = Transport()
    assert install(transport) and not install(transport)  # once only
    assert not install(object())  # not a transport built as httpx builds it: left alone
    backend = transport._pool._network_backend
    assert isinstance(backend, SocketInfoBackend)
    stream = asyncio.run(backend.connect_tcp("127.0.0.1", 80))
    assert [stream.get_extra_info("is_readable") for _ in range(5)] == [False] * 5
    theirs.close()
    assert stream.get_extra_info("is_readable") is True
    assert inner.asked == 1
    ours.close()
    assert stream.get_extra_info("is_readable") is True


def test_requests_in_flight_each_have_a_connection_and_later_ones_reuse_them(server: FaultServer) -> None:
    """A lane per request in flight (scraper.fetch.lanes): at concurrency 3, six slow pages asked at once come on at
    most three connections, and the pages asked after them open none."""
    server.route("/slow", Respond(200, PAGE, delay=0.2))
    server.route("/fast", Respond(200, PAGE))

    async def crawl() -> tuple[list[FetchResult], int]:
        async with Fetcher(make_policy(delay=0, retries=0, concurrency=3)) as fetcher:
            slow = await asyncio.gather(*(fetcher.fetch(server.url(f"/slow?{n}")) for n in range(6)))
            fast = [await fetcher.fetch(server.url(f"/fast?{n}")) for n in range(4)]
            return slow + fast, fetcher.lanes.opened

    results, lanes = asyncio.run(asyncio.wait_for(crawl(), 30))
    assert [result.status for result in results] == [200] * 10
    slow_connections = {request.connection for request in server.hits("/slow")}
    assert 2 <= len(slow_connections) <= 3 == lanes  # the requests overlapped, three at most
    assert {request.connection for request in server.hits("/fast")} <= slow_connections


def test_a_cookie_set_through_one_connection_is_sent_through_every_other(server: FaultServer) -> None:
    """The lanes share one cookie jar: a session cookie the site sets is sent on the connections opened after."""
    server.route("/login", Respond(200, PAGE, headers={"Set-Cookie": "session=abc; Path=/"}))
    server.route("/slow", Respond(200, PAGE, delay=0.2))

    async def crawl() -> None:
        async with Fetcher(make_policy(delay=0, retries=0, concurrency=3)) as fetcher:
            await fetcher.fetch(server.url("/login"))
            await asyncio.gather(*(fetcher.fetch(server.url(f"/slow?{n}")) for n in range(3)))

    asyncio.run(asyncio.wait_for(crawl(), 30))
    hits = server.hits("/slow")
    assert len({request.connection for request in hits}) >= 2
    assert [request.headers.get("cookie") for request in hits] == ["session=abc"] * 3
