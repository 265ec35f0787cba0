"""HTTP/2 where the server offers it: the samples served by an HTTP/2-only server over TLS on 127.0.0.1
(tests/h2server.py), fetched by the real CLI with the test certificate authority trusted through SSL_CERT_FILE."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import MANIFEST, sample_routes, scrape, server_tls
from h2server import H2Server, H2Site

ARTICLES = ("article-free-2018.html", "article-smart-city-2018.html", "article-2016-cp1252.html")


@pytest.fixture
def h2_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[H2Site]:
    tls, ca_file = server_tls(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with H2Server(H2Site(routes=sample_routes()), tls) as site:
        yield site


def url_of(site: H2Site, sample: str) -> str:
    return site.base + MANIFEST[sample]["url"].split(".com", 1)[1]


def test_pages_are_fetched_over_http2_on_one_connection(h2_site: H2Site, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    result = scrape("url", "--db", str(db), "--delay", "0", *(url_of(h2_site, name) for name in ARTICLES))

    assert result.exit_code == 0, result.output
    assert h2_site.protocols == ["h2"]  # one keep-alive connection for the whole run, HTTP/2 negotiated
    assert [request.path for request in h2_site.requests][0] == "/robots.txt"
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from articles").fetchone()[0] == 3
        assert conn.execute("select count(*) from fetches where status = 200").fetchone()[0] == 4


def test_the_delay_between_request_starts_holds_over_http2(h2_site: H2Site, tmp_path: Path) -> None:
    """HTTP/2 multiplexes requests on one connection: the per-host delay must still space their starts."""
    result = scrape("url", "--db", str(tmp_path / "archive.db"), "--delay", "0.25", "--concurrency", "2",
                    *(url_of(h2_site, name) for name in ARTICLES))

    assert result.exit_code == 0, result.output
    starts = [request.at for request in h2_site.requests]
    assert len(starts) == 4
    assert min(later - earlier for earlier, later in zip(starts, starts[1:], strict=False)) >= 0.24
