"""The lean lanes' HTTP/1.1 transport (scraper.fetch.wire) against real servers on 127.0.0.1: the fault server
(tests/faultserver.py) and the samples over TLS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import pytest
from conftest import SampleSite
from faultserver import Exchange, FaultServer, Respond, Stream

from scraper.fetch import Fetcher, FetchPolicy
from scraper.fetch._httpx import httpx
from scraper.fetch.wire import WireTransport
from scraper.models import FetchResult

PAGE = "<!doctype html><html><head><title>Page</title></head><body><p>Bonjour</p></body></html>"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def policy_for(*origins: str, **overrides: object) -> FetchPolicy:
    settings: dict[str, object] = dict(delay=0, concurrency=1, timeout=5.0, retries=0, backoff=0.01)
    settings.update(overrides)
    return FetchPolicy(**settings).allowing(*origins)  # type: ignore[arg-type]


def fetch_in_turn(policy: FetchPolicy, urls: list[str], between: object = None) -> tuple[list[FetchResult], int]:
    """Fetch `urls` one after the other (calling `between()` after each); the results and the lanes opened."""
    async def run() -> tuple[list[FetchResult], int]:
        async with Fetcher(policy) as fetcher:
            results = []
            for url in urls:
                results.append(await fetcher.fetch(url))
                if callable(between):
                    between()
            return results, fetcher.lanes.opened

    return asyncio.run(asyncio.wait_for(run(), 30))


def body_of(site: SampleSite, url: str) -> bytes:
    """What `site` serves at `url`."""
    return site.routes[url.removeprefix(site.base)][2]


class _AnswerThenMore(Respond):
    """A complete answer, then bytes nobody asked for (the head of a second answer) on the kept connection."""

    def serve(self, exchange: Exchange) -> bool:
        super().serve(exchange)
        exchange.send_body(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbogus")
        return True


class _Raw:
    """Answer with `answer`, bytes as given; keep the connection open unless `close`."""

    def __init__(self, answer: bytes, close: bool = False) -> None:
        self.answer, self.close = answer, close

    def serve(self, exchange: Exchange) -> bool:
        exchange.send_body(self.answer)
        return not self.close


def test_answers_framed_by_length_by_chunks_and_by_the_end_of_the_connection(server: FaultServer) -> None:
    server.route("/length", Respond(200, PAGE))
    server.route("/chunks", Stream(lambda: (PAGE[i:i + 10].encode() for i in range(0, len(PAGE), 10))))
    server.route("/close", _Raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + PAGE.encode(), close=True))
    urls = [server.url("/length"), server.url("/chunks"), server.url("/close"), server.url("/length?again")]
    results, _ = fetch_in_turn(policy_for(server.base_url), urls)

    assert [(result.status, result.body) for result in results] == [(200, PAGE.encode())] * 4
    connection = {request.target: request.connection for request in server.requests}
    assert connection["/length"] == connection["/chunks"] == connection["/close"]  # kept until the server closed it
    assert connection["/length?again"] != connection["/close"]


def test_an_early_hint_before_the_answer_is_skipped(server: FaultServer) -> None:
    hint = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Page: yes\r\n\r\n%s" % (len(PAGE), PAGE.encode())
    server.route("/hinted", _Raw(hint + answer))
    results, _ = fetch_in_turn(policy_for(server.base_url), [server.url("/hinted"), server.url("/hinted?2")])

    assert [(result.status, result.body) for result in results] == [(200, PAGE.encode())] * 2
    assert results[0].headers.get("x-page") == "yes" and "link" not in results[0].headers
    assert len({request.connection for request in server.hits("/hinted")}) == 1


def test_a_malformed_answer_is_a_protocol_error_and_its_connection_is_dropped(server: FaultServer) -> None:
    server.route("/junk", _Raw(b"HTPP/9 two hundred\r\n\r\n"))
    server.route("/page", Respond(200, PAGE))
    results, _ = fetch_in_turn(policy_for(server.base_url), [server.url("/junk"), server.url("/page")])

    assert (results[0].error_class, results[1].status) == ("reset", 200)
    assert "malformed answer" in (results[0].error or "")
    assert server.hits("/junk")[0].connection != server.hits("/page")[0].connection


def test_an_answers_head_past_100_kb_is_a_protocol_error(server: FaultServer) -> None:
    server.route("/huge-head", _Raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 150_000 + b"\r\n\r\n"))
    results, _ = fetch_in_turn(policy_for(server.base_url), [server.url("/huge-head")])

    assert (results[0].error_class, results[0].status) == ("reset", None)
    assert "head is over 102400 bytes" in (results[0].error or "")


def test_a_header_with_a_line_break_is_never_sent(server: FaultServer) -> None:
    server.route("/page", Respond(200, PAGE))

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=WireTransport(ssl.create_default_context)) as client:
            return await client.get(server.url("/page"), headers={"X-Note": "a\r\nX-Injected: yes"})

    with pytest.raises(httpx.LocalProtocolError):
        asyncio.run(asyncio.wait_for(get(), 20))
    assert server.requests == []


def test_a_kept_connection_serves_the_next_requests(server: FaultServer) -> None:
    server.route("/page", Respond(200, PAGE))
    results, lanes = fetch_in_turn(policy_for(server.base_url), [server.url(f"/page?{n}") for n in range(4)])

    assert [(result.status, result.body) for result in results] == [(200, PAGE.encode())] * 4
    assert lanes == 1
    assert len({request.connection for request in server.requests}) == 1  # robots.txt's and the four pages'


def test_a_body_left_unread_closes_its_connection_and_the_next_answer_is_whole(server: FaultServer) -> None:
    """An answer read only up to the size cap leaves the rest of its body on the connection: the connection is
    closed, and the next request opens another instead of reading that rest as its answer."""
    server.route("/big", Respond(200, "x" * 300_000))
    server.route("/page", Respond(200, PAGE))
    results, _ = fetch_in_turn(policy_for(server.base_url, max_bytes=100_000),
                               [server.url("/big"), server.url("/page")], between=server.wait_idle)

    assert (results[0].error_class, results[0].body) == ("too_large", None)
    assert (results[1].status, results[1].body) == (200, PAGE.encode())
    assert server.hits("/big")[0].connection != server.hits("/page")[0].connection


def test_bytes_sent_unasked_after_an_answer_make_its_connection_unusable(server: FaultServer) -> None:
    server.route("/chatty", _AnswerThenMore(200, PAGE))
    server.route("/page", Respond(200, "<html><body><p>La suite</p></body></html>"))
    results, _ = fetch_in_turn(policy_for(server.base_url), [server.url("/chatty"), server.url("/page")],
                               between=server.wait_idle)

    assert [result.status for result in results] == [200, 200]
    assert results[1].body == b"<html><body><p>La suite</p></body></html>"  # not the unasked "bogus"
    assert server.hits("/chatty")[0].connection != server.hits("/page")[0].connection


def test_an_answer_that_says_connection_close_is_not_kept(server: FaultServer) -> None:
    server.route("/closing", Respond(200, PAGE, headers={"Connection": "close"}))
    results, _ = fetch_in_turn(policy_for(server.base_url), [server.url("/closing?1"), server.url("/closing?2")])

    assert [result.status for result in results] == [200, 200]
    assert len({request.connection for request in server.hits("/closing")}) == 2


def test_an_https_origin_answering_over_http1_gets_lean_lanes_after_its_first_answer(
        https_sample_site: SampleSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first lane of an https origin offers HTTP/2; the origin answers over HTTP/1.1, so that lane is closed
    when given back and a lean one, which checks the certificate the same way, fetches the rest."""
    monkeypatch.setenv("SSL_CERT_FILE", str(https_sample_site.ca_file))
    names = ("article-free-2018.html", "article-smart-city-2018.html", "article-2016-cp1252.html")
    urls = [https_sample_site.url(name) for name in names]
    results, lanes = fetch_in_turn(policy_for(https_sample_site.base), urls)

    assert [result.status for result in results] == [200, 200, 200]
    assert [result.body for result in results] == [body_of(https_sample_site, url) for url in urls]
    assert https_sample_site.requests[0] == "/robots.txt"
    assert lanes == 2  # the one that offered HTTP/2 (robots.txt), then the lean one


def test_the_wire_transport_checks_the_servers_certificate(https_sample_site: SampleSite) -> None:
    url = https_sample_site.url("article-free-2018.html")

    async def get(tls: ssl.SSLContext) -> httpx.Response:
        async with httpx.AsyncClient(transport=WireTransport(lambda: tls)) as client:
            return await client.get(url)

    trusted = ssl.create_default_context(cafile=str(https_sample_site.ca_file))
    response = asyncio.run(asyncio.wait_for(get(trusted), 20))
    assert (response.status_code, response.http_version) == (200, "HTTP/1.0")  # http.server answers as 1.0
    assert response.content == body_of(https_sample_site, url)

    with pytest.raises(httpx.ConnectError) as caught:
        asyncio.run(asyncio.wait_for(get(ssl.create_default_context()), 20))  # the test's authority not trusted
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)


def test_a_proxy_set_in_the_environment_is_used(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """With HTTP_PROXY set, lanes are httpx's own transport, which sends every request through the proxy (here
    the fault server, which sees the absolute URL as the request's target)."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.base_url)
    server.route("http://site.invalid/page", Respond(200, PAGE))
    results, _ = fetch_in_turn(policy_for("http://site.invalid"), ["http://site.invalid/page"])

    assert (results[0].status, results[0].body) == (200, PAGE.encode())
    assert [request.target for request in server.requests] == ["http://site.invalid/robots.txt",
                                                                 "http://site.invalid/page"]
