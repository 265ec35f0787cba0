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
from older_archives import rewind_to_schema_6
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
    base: dict[str, object] = dict(delay=0, timeout=10, retries=0, obey_robots=False, allowed_hosts=frozenset())
    base.update(settings)
    return FetchPolicy(**base).allowing(*origins)  # type: ignore[arg-type]


# --- 1. origins are scheme, host and port --------------------------------------------------------------

def test_a_redirect_to_another_port_of_an_allowed_host_is_refused_and_gets_no_cookie(
        site: FaultServer, elsewhere: FaultServer, tmp_path: Path) -> None:
    site.route("/out/", Redirect(elsewhere.url("/page/")))
    result = fetch(policy_for(site.base_url, cookies_file=cookies_file(tmp_path)), site.url("/out/"))
    assert result.error_class == "offsite_redirect"
    assert elsewhere.url("/page/") in (result.error or "")
    assert elsewhere.requests == []


def test_another_port_is_followed_once_allowed_as_host_and_port(site: FaultServer, elsewhere: FaultServer) -> None:
    site.route("/out/", Redirect(elsewhere.url("/page/")))
    result = fetch(policy_for(site.base_url, f"127.0.0.1:{elsewhere.port}"), site.url("/out/"))
    assert result.ok
    assert result.final_url == elsewhere.url("/page/")
    assert len(elsewhere.hits("/page/")) == 1


def test_a_bare_host_allows_its_default_ports_only() -> None:
    policy = policy_for("example.org", "127.0.0.1:8080", "https://mirror.example.net:8443/feed/")
    assert policy.allows("http://example.org/x")
    assert policy.allows("https://example.org/x")
    assert not policy.allows("http://example.org:8080/x")
    assert not policy.allows("https://example.org:80/x")
    assert policy.allows("http://127.0.0.1:8080/")
    assert not policy.allows("http://127.0.0.1/")
    assert policy.allows("https://mirror.example.net:8443/")
    assert not policy.allows("https://mirror.example.net/")
    assert not policy.allows("http://[::1/x")
    assert not policy.allows("http://127.0.0.1:99999/")


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
    assert result.error_class == "bad_url"
    assert f"--allow-host 127.0.0.1:{elsewhere.port}" in (result.error or "")
    assert elsewhere.requests == []


# --- 2. no session in any table ---------------------------------------------------------------------

SECRETS = ("secret-of-the-subscriber", "refreshed-session", "Basic dXNlcjpwYXNz")


def test_the_servers_set_cookie_and_the_subscribers_cookie_are_in_no_table(site: FaultServer,
                                                                          tmp_path: Path) -> None:
    site.route("/page/", Respond(200, PAGE, {"Set-Cookie": "session=refreshed-session; HttpOnly",
                                             "WWW-Authenticate": "Basic", "X-Kept": "yes"}))
    db = tmp_path / "a.db"
    result = CliRunner().invoke(app, ["url", site.url("/page/"), "--db", str(db), *FAST, "--ignore-robots",
                                      "--cookies", str(cookies_file(tmp_path))])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
        headers = json.loads(conn.execute("select headers from fetch_details").fetchone()[0])
        cookies_sent = conn.execute("select cookies_sent from fetches").fetchone()[0]
    assert cookies_sent == 1
    assert headers["x-kept"] == "yes"
    assert not [secret for secret in SECRETS if secret in dump]
    assert "set-cookie" not in dump.lower()


def test_an_older_archive_is_scrubbed_of_sessions_when_opened(tmp_path: Path) -> None:
    from scraper.archive import SCHEMA_VERSION, Archive

    db = tmp_path / "old.db"
    with Archive(db) as archive:
        archive.fetches.record(FetchResult(url="https://www.lagazettedescommunes.com/1/a/", status=200,
                                         fetched_at="2024-01-01T00:00:00Z", body=b"<html></html>"))
    rewind_to_schema_6(db)
    with sqlite3.connect(db) as conn:  # what a version 3 archive holds: the server's Set-Cookie, kept
        conn.execute("update fetches set headers = ?, request_headers = ?", [
            json.dumps({"content-type": "text/html", "Set-Cookie": "session=refreshed-session",
                        "authorization": "Basic dXNlcjpwYXNz"}),
            json.dumps([["Host", "www.lagazettedescommunes.com"], ["Cookie", "sid=secret-of-the-subscriber"]])])
        conn.execute("drop index idx_fetches_retried")  # a later index on that column
        conn.execute("alter table fetches drop column attempts")
        conn.execute("pragma user_version = 3")
    with Archive(db) as archive:
        assert archive.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(db) as conn:
        headers, request_headers = conn.execute("select headers, request_headers from fetch_details").fetchone()
        dump = "\n".join(conn.iterdump())
    assert json.loads(headers) == {"content-type": "text/html"}
    assert json.loads(request_headers) == [["Host", "www.lagazettedescommunes.com"]]
    assert not [secret for secret in SECRETS if secret in dump]


# --- 3. cookies_sent is what the final request carried; each hop is in the log ---------------------

def test_a_redirect_whose_final_request_went_without_cookies_records_so(site: FaultServer, tmp_path: Path) -> None:
    cookies = tmp_path / "cookies.txt"  # a cookie for /members/ only
    cookies.write_text("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/members/\tFALSE\t0\tsession\tsecret\n")
    site.route("/members/start/", Redirect("/public/page/"))
    site.route("/public/page/", Respond(200, PAGE))
    db = tmp_path / "a.db"
    result = CliRunner().invoke(app, ["url", site.url("/members/start/"), "--db", str(db), *FAST,
                                      "--ignore-robots", "--cookies", str(cookies)])
    assert result.exit_code == 0, result.output
    assert site.hits("/members/start/")[0].headers.get("cookie") == "session=secret"
    assert "cookie" not in site.hits("/public/page/")[0].headers
    with sqlite3.connect(db) as conn:
        cookies_sent, attempts = conn.execute("select cookies_sent, attempts from fetches").fetchone()
    assert cookies_sent == 0
    assert json.loads(attempts) == [{"url": site.url("/members/start/"), "status": 302, "cookies": True},
                                    {"url": site.url("/public/page/"), "status": 200, "cookies": False}]
