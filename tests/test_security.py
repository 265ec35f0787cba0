"""What a hostile site or a shared archive could take from a subscriber: where requests and cookies go, and
what of a session the archive keeps. Real servers on 127.0.0.1: another port is another origin."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from crawlsite import Site, dossier_html, make_articles
from faultserver import FaultServer, Redirect, Respond
from typer.testing import CliRunner

from scraper.cli import app
from scraper.fetch import Fetcher, FetchPolicy
from scraper.models import FetchResult

PAGE = "<!doctype html><html><head><title>Page</title></head><body><p>Bonjour</p></body></html>"
FAST = ["--delay", "0", "--timeout", "5", "--retries", "0"]


@pytest.fixture
def site() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def elsewhere() -> Iterator[FaultServer]:
    """Another server on 127.0.0.1: the same host, another port, so another origin."""
    with FaultServer() as server:
        server.route("/", Respond(200, PAGE))
        server.route("/page/", Respond(200, PAGE))
        yield server


def cookies_file(folder: Path) -> Path:
    path = folder / "cookies.txt"
    path.write_text("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tsecret-of-the-subscriber\n")
    return path


def fetch(policy: FetchPolicy, url: str) -> FetchResult:
    async def run() -> FetchResult:
        async with Fetcher(policy) as fetcher:
            return await asyncio.wait_for(fetcher.fetch(url), 20)

    return asyncio.run(run())


def policy_for(*origins: str, **settings: object) -> FetchPolicy:
    base: dict[str, object] = dict(delay=0, timeout=2, retries=0, obey_robots=False, allowed_hosts=frozenset())
    base.update(settings)
    return FetchPolicy(**base).allowing(*origins)  # type: ignore[arg-type]


# --- 1. origins are scheme, host and port --------------------------------------------------------------

def test_a_redirect_to_another_port_of_an_allowed_host_is_refused_and_gets_no_cookie(
        site: FaultServer, elsewhere: FaultServer, tmp_path: Path) -> None:
    site.route("/out/", Redirect(elsewhere.url("/page/")))
    result = fetch(policy_for(site.base_url, cookies_file=cookies_file(tmp_path)), site.url("/out/"))
    assert result.error_class == "offsite_redirect" and elsewhere.url("/page/") in (result.error or "")
    assert elsewhere.requests == []


def test_another_port_is_followed_once_allowed_as_host_and_port(site: FaultServer, elsewhere: FaultServer) -> None:
    site.route("/out/", Redirect(elsewhere.url("/page/")))
    result = fetch(policy_for(site.base_url, f"127.0.0.1:{elsewhere.port}"), site.url("/out/"))
    assert result.ok and result.final_url == elsewhere.url("/page/")
    assert len(elsewhere.hits("/page/")) == 1


def test_a_bare_host_allows_its_default_ports_only() -> None:
    policy = policy_for("example.org", "127.0.0.1:8080", "https://mirror.example.net:8443/feed/")
    assert policy.allows("http://example.org/x") and policy.allows("https://example.org/x")
    assert not policy.allows("http://example.org:8080/x") and not policy.allows("https://example.org:80/x")
    assert policy.allows("http://127.0.0.1:8080/") and not policy.allows("http://127.0.0.1/")
    assert policy.allows("https://mirror.example.net:8443/") and not policy.allows("https://mirror.example.net/")
    assert not policy.allows("http://[::1/x") and not policy.allows("http://127.0.0.1:99999/")


def test_a_crawl_does_not_follow_links_to_another_port_nor_send_it_the_cookies(
        site: FaultServer, elsewhere: FaultServer, tmp_path: Path) -> None:
    dossier = Site(site, articles=make_articles(3, paywalled_every=0))
    dossier.serve_all()
    moved = dossier.articles[0]
    elsewhere.route(moved.path, Respond(200, dossier.article_body(moved)))
    page = dossier_html(dossier.base, dossier.dossier_path, dossier.title, dossier.articles, None)
    site.route(dossier.dossier_path, Respond(200, page.replace(dossier.base + moved.path,
                                                               elsewhere.base_url + moved.path)))
    result = CliRunner().invoke(app, ["dossier", dossier.dossier_url, "--db", str(tmp_path / "a.db"), *FAST,
                                      "--cookies", str(cookies_file(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    assert elsewhere.requests == []
    notes = json.loads(result.stdout)["notes"]
    assert any("not followed" in note and f"127.0.0.1:{elsewhere.port}" in note for note in notes)
    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("select count(*) from fetches where url like ?",
                          [f"{elsewhere.base_url}%"]).fetchone()[0] == 0


def test_a_url_on_another_port_than_the_ones_given_is_refused(site: FaultServer, elsewhere: FaultServer,
                                                              tmp_path: Path) -> None:
    site.route("/page/", Respond(200, PAGE))
    result = fetch(policy_for(site.base_url), elsewhere.url("/page/"))
    assert result.error_class == "bad_url" and f"--allow-host 127.0.0.1:{elsewhere.port}" in (result.error or "")
    assert elsewhere.requests == []
