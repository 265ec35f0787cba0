"""A dossier of 60 articles on a misbehaving server: what can be served is archived exactly once, every
fault is in the fetch log with its class, and a re-run asks only for what failed."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import rows
from crawlsite import DOWNLOADED_TWICE, GenArticle, Site, cached, make_articles
from faultserver import FaultServer, Redirect, Reset, Respond, Stream, Truncated

from scraper.archive import Archive
from scraper.crawl import CrawlSummary, run_crawl
from scraper.errors import ErrorClass
from scraper.fetch import FetchPolicy

MB = 2**20
ROBOTS = "User-agent: *\nDisallow: /{blocked}/\nCrawl-delay: 0.01\n"


@dataclass
class Faults:
    """The generated dossier and which of its articles misbehave, and how."""

    site: Site
    healing: dict[str, GenArticle]  # fail in the first run, fine afterwards
    failing: dict[str, tuple[GenArticle, str]]  # fail every time: article, expected error class
    recovering: dict[str, GenArticle]  # fail at first, then succeed within the same request's retries
    charset: GenArticle

    def heal(self) -> None:
        for article in self.healing.values():
            self.site.serve_article(article)


def _gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * MB
    return b"".join(compressor.compress(zeros) for _ in range(size // MB)) + compressor.flush()


@pytest.fixture
def faults() -> Iterator[Faults]:
    with FaultServer() as server:
        site = Site(server, articles=make_articles(60), per_page=20)
        site.serve_all()
        a = {name: article for name, article in zip(
            ["500", "503", "429", "slow", "reset", "truncated", "charset", "loop", "offsite", "robots",
             "bomb", "huge", "404"], site.articles[5::4], strict=False)}
        page = site.article_body(a["500"]).encode()
        server.route(a["500"].path, Respond(500, "oops"), cached(page))
        server.route(a["503"].path, Respond(503), Respond(503), cached(site.article_body(a["503"])))
        server.route(a["429"].path, Respond(429, headers={"Retry-After": "1"}), cached(site.article_body(a["429"])))
        server.route(a["slow"].path, Respond(200, site.article_body(a["slow"]), delay=10.0))  # 5x the timeout
        server.route(a["reset"].path, Reset())
        truncated = site.article_body(a["truncated"]).encode()
        server.route(a["truncated"].path, Truncated(truncated[:300], len(truncated)))
        a["charset"].title = "Réseaux d'éclairage : la télégestion"
        server.route(a["charset"].path, Respond(200, site.article_body(a["charset"]).encode("cp1252"),
                                                content_type="text/html; charset=utf-8"))
        server.route(a["loop"].path, Redirect(server.url("/boucle/")))
        server.route("/boucle/", Redirect(server.url(a["loop"].path)))
        server.route(a["offsite"].path, Redirect(f"http://localhost:{server.port}{a['offsite'].path}"))
        server.route(a["robots"].path, cached(site.article_body(a["robots"])))
        server.route("/robots.txt", Respond(200, ROBOTS.format(blocked=a["robots"].site_id), content_type="text/plain"))
        bomb = _gzip_bomb(64 * MB)
        server.route(a["bomb"].path, Stream(lambda: iter([bomb]), headers={"Content-Encoding": "gzip"},
                                            content_length=len(bomb)))
        server.route(a["huge"].path, Stream(lambda: (b"<p>" + b"x" * (MB - 3) for _ in range(50)),
                                            content_length=50 * MB))
        server.route(a["404"].path, Respond(404, "gone"))
        yield Faults(
            site=site,
            healing={name: a[name] for name in ("slow", "reset")},
            failing={name: (a[name], error_class) for name, error_class in [
                ("truncated", "truncated"), ("loop", "redirect"), ("offsite", "offsite_redirect"),
                ("robots", "robots"), ("bomb", "too_large"), ("huge", "too_large"), ("404", "http_status")]},
            recovering={name: a[name] for name in ("500", "503", "429")},
            charset=a["charset"],
        )


def crawl(faults: Faults, db: Path) -> CrawlSummary:
    # The timeout bounds a whole request: far above a good page (or 20 MB read to the cap) on the loopback, far below
    # the slow page's 10 s.
    policy = FetchPolicy(delay=0, concurrency=4, timeout=2.0, retries=2, max_wait=2, backoff=0.01)
    with Archive(db) as archive:
        return run_crawl(archive, policy.allowing(faults.site.base), "dossier", faults.site.dossier_url)


def url_of(faults: Faults, article: GenArticle) -> str:
    """The URL the crawl fetches: the dossier links paywalled articles with `?abo=1`, which the normal form of
    a site URL leaves out (it names the same page)."""
    return faults.site.base + article.path


@pytest.mark.slow
def test_faulty_dossier_is_archived_once_faults_logged_and_a_rerun_asks_only_for_failures(
        faults: Faults, db_path: Path) -> None:
    server = faults.site.server
    first = crawl(faults, db_path)

    never = {article.site_id for article, _ in faults.failing.values()}
    not_yet = {article.site_id for article in faults.healing.values()}
    archived = {site_id for (site_id,) in rows(db_path, "select site_id from articles")}
    assert archived == {article.site_id for article in faults.site.articles} - never - not_yet
    assert first.exit_code == 1
    assert rows(db_path, DOWNLOADED_TWICE) == []
    assert rows(db_path, "select count(*) from article_versions") == [(0,)]
    assert rows(db_path, "select count(*) from dossier_articles") == [(60,)]

    # each fault is in the fetch log with its class
    expected = {name: error_class for name, (_, error_class) in faults.failing.items()}
    expected.update(slow="timeout", reset="reset")
    articles = {**{name: article for name, (article, _) in faults.failing.items()}, **faults.healing}
    for name, error_class in expected.items():
        url = url_of(faults, articles[name])
        logged = rows(db_path, "select error_class, error from fetches where url = ?", (url,))
        assert [row[0] for row in logged] == [error_class], (name, logged)
        assert logged[0][1], name
    logged_classes = {error_class for (error_class,) in rows(db_path, "select distinct error_class from fetches"
                                                                        " where error_class is not null")}
    assert logged_classes
    assert logged_classes <= set(ErrorClass)  # a closed list: a contract of the archive
    assert {(f.url, f.error_class) for f in first.failures} == {
        (url_of(faults, articles[name]), error_class) for name, error_class in expected.items()}
    for name, article in faults.recovering.items():
        logged = rows(db_path, "select status, retries, error from fetches where url = ?", (url_of(faults, article),))
        assert len(logged) == 1, name
        assert logged[0][0] == 200, name
        assert logged[0][1] >= 1, name
        assert logged[0][2] is None, name
    assert rows(db_path, "select title from articles where site_id = ?", (faults.charset.site_id,)) == [
        ("Réseaux d'éclairage : la télégestion",)]
    assert server.hits(faults.failing["robots"][0].path) == []
    assert any("Crawl-delay 0.01" in note for note in first.notes)
    run = rows(db_path, "select fetched, failed, retried, bytes from runs where id = ?", (first.run_id,))[0]
    assert run[0] == 60 + 3 - len(never) - len(not_yet)
    assert run[1] == len(never) + len(not_yet)
    assert run[2] >= 3
    assert run[3] > 0

    faults.heal()
    before = len(server.requests)
    second = crawl(faults, db_path)

    asked = {request.path for request in server.requests[before:]} - {"/robots.txt", "/boucle/"}
    assert asked == {articles[name].path for name in expected if name != "robots"}
    assert second.resumed
    assert second.exit_code == 1
    assert {f.url for f in second.failures} == {url_of(faults, article) for article, _ in faults.failing.values()}
    archived = {site_id for (site_id,) in rows(db_path, "select site_id from articles")}
    assert archived == {article.site_id for article in faults.site.articles} - never
    assert rows(db_path, DOWNLOADED_TWICE) == []
    assert rows(db_path, "pragma integrity_check") == [("ok",)]


def test_faults_a_retry_fixed_are_in_the_fetch_log_and_stats_say_how_the_site_behaved(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from scraper.cli import app

    with FaultServer() as server:
        site = Site(server, articles=make_articles(5, paywalled_every=0))
        body = {article.path: site.article_body(article) for article in site.articles}
        paths = [article.path for article in site.articles]
        server.route(paths[0], Respond(503), Respond(200, body[paths[0]]))
        server.route(paths[1], Respond(429, headers={"Retry-After": "0"}), Respond(200, body[paths[1]]))
        server.route(paths[2], Reset(), Respond(200, body[paths[2]]))
        server.route(paths[3], Respond(200, body[paths[3]], delay=10.0), Respond(200, body[paths[3]]))
        truncated = body[paths[4]].encode()
        server.route(paths[4], Truncated(truncated[:200], len(truncated)), Respond(200, truncated))
        db = tmp_path / "a.db"
        result = CliRunner().invoke(app, ["url", *(server.url(path) for path in paths), "--db", str(db),
                                          "--delay", "0", "--timeout", "2", "--retries", "2", "--ignore-robots"])
        assert result.exit_code == 0, result.output
        base = server.base_url
    stats = CliRunner().invoke(app, ["stats", "--db", str(db), "--json"])
    logged = rows(db, "select url, retries, attempts from fetches order by url")
    attempts = {url: json.loads(text) for url, _retries, text in logged}
    assert all(retries == 1 for _url, retries, _text in logged)
    first = {url[len(base):]: entries[0] for url, entries in attempts.items()}
    assert [first[path].get("status") or first[path]["error_class"] for path in paths] == [
        503, 429, "reset", "timeout", "truncated"]
    assert all(entries[-1]["status"] == 200 and "waited" in entries[0] for entries in attempts.values())
    behaved = {row["fault"]: row for row in json.loads(stats.stdout)["retries"]}
    assert set(behaved) == {"http_503", "http_429", "reset", "timeout", "truncated"}
    assert all(row["retried"] == row["fetches"] == row["recovered"] == 1 for row in behaved.values())
