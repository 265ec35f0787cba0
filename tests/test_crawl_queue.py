"""A crawl's queue belongs to the command and the root that made it: `scrape feed` of a rubrique page that fails
leaves nothing for `scrape listing` of that page to "resume"; an archive whose queue was keyed by URL alone
(schema 7) is converted when opened. And `scrape listing` of a feed says to use `scrape feed`."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import rows, scrape
from crawlsite import article_html, cached, feed_xml, listing_html, make_articles
from faultserver import FaultServer, Respond
from older_archives import rewind_queue_to_schema_7

from scraper.archive import SCHEMA_VERSION, Archive

FAST = ["--delay", "0", "--timeout", "10", "--retries", "0"]
LISTING = "/rubriques/club-technicites/"
FEED = "/rubriques/club-technicites/feed/"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # the archive's one format of time


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A rubrique of three articles: its listing page and its feed."""
    with FaultServer() as running:
        base = running.base_url
        articles = make_articles(3, paywalled_every=0)
        running.route("/robots.txt", Respond(404))
        running.route(LISTING, Respond(200, listing_html(base, LISTING, "Club Techni.Cités", articles, None)))
        running.route(FEED, cached(feed_xml(base, FEED, articles), "application/rss+xml"))
        for article in articles:
            running.route(article.path, cached(article_html(base, article)))
        yield running


def crawl(*args: str) -> tuple[int, dict, str]:
    """A crawl command with --json, in-process: (exit code, its JSON summary, stderr)."""
    result = scrape(*args, "--json")
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_a_listing_does_not_resume_the_failed_feed_crawl_of_the_same_url(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    code, summary, _ = crawl("feed", server.url(LISTING), "--db", str(db), *FAST)  # forgot the feed/ at the end
    assert code == 1
    assert summary["failures"][0]["error_class"] == "not_feed"

    code, summary, stderr = crawl("listing", server.url(LISTING), "--db", str(db), *FAST)

    assert code == 0, (summary, stderr)
    assert summary["resumed"] is False
    assert summary["pages"]["inserted"] == 4  # the listing and its 3 articles
    assert rows(db, "select count(*) from articles") == [(3,)]
    assert rows(db, "select count(*) from listings") == [(1,)]
    # each crawl keeps its own rows: the feed's failure waits for the next `scrape feed` of that URL
    assert rows(db, "select crawl_kind, kind, state from crawl_queue where url = parent_url order by 1") == [
        ("feed", "feed", "failed"), ("listing", "listing", "done")]


def test_a_page_that_failed_as_a_feed_is_no_good_copy_for_a_listing(server: FaultServer, tmp_path: Path) -> None:
    """The rubrique page served with an ETag: `scrape feed` of it fails, and its fetch is a failure in the log, so
    `scrape listing` of it asks for the whole page (no conditional GET on a body no record was read from) and
    stores the listing."""
    base = server.base_url
    server.route(LISTING, cached(listing_html(base, LISTING, "Club Techni.Cités", make_articles(3, paywalled_every=0),
                                             None)))
    db = tmp_path / "archive.db"
    code, summary, _ = crawl("feed", server.url(LISTING), "--db", str(db), *FAST)
    assert code == 1
    assert summary["failures"][0]["error_class"] == "not_feed"
    assert rows(db, f"select error_class from fetches where url = '{server.url(LISTING)}'") == [("not_feed",)]

    code, summary, stderr = crawl("listing", server.url(LISTING), "--db", str(db), *FAST)
    assert code == 0, (summary, stderr)
    assert not server.hits(LISTING)[-1].headers.get("if-none-match")
    assert rows(db, "select count(*) from listings") == [(1,)]
    assert rows(db, "select count(*) from articles") == [(3,)]


def test_a_listing_of_a_feed_says_to_use_scrape_feed(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    code, summary, _ = crawl("listing", server.url(FEED), "--db", str(db), *FAST)

    assert code == 1
    (failure,) = summary["failures"]
    assert failure["url"] == server.url(FEED)
    assert failure["error"] == f"this is a feed: use scrape feed ({server.url(FEED)})"
    assert rows(db, "select count(*) from articles") == [(0,)]
    assert rows(db, "select count(*) from listings") == [(0,)]


def test_a_queue_keyed_by_url_alone_is_converted_when_opened(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    crawl("listing", server.url(LISTING), "--db", str(db), *FAST)
    server.route(FEED, Respond(503, "down"))
    crawl("feed", server.url(FEED), "--db", str(db), *FAST)
    queue = "select url, kind, parent_url, state, attempts, last_error, added_at, updated_at from crawl_queue"
    before = rows(db, f"{queue} order by rowid")
    rewind_queue_to_schema_7(db)
    assert rows(db, "pragma user_version") == [(7,)]

    with Archive(db):  # converted on opening
        pass

    assert rows(db, "pragma user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, f"{queue} order by rowid") == before
    assert rows(db, "select distinct crawl_kind, parent_url from crawl_queue order by 1") == [
        ("feed", server.url(FEED)), ("listing", server.url(LISTING))]
    assert ("idx_crawl_queue_state_kind",) in rows(db, "select name from sqlite_master where type = 'index'")
    server.route(FEED, cached(feed_xml(server.base_url, FEED, []), "application/rss+xml"))
    code, summary, _ = crawl("feed", server.url(FEED), "--db", str(db), *FAST)  # the converted crawl resumes
    assert code == 0
    assert summary["resumed"] is True


def test_an_archive_of_schema_9_gets_failures_as_values_and_one_format_of_time(server: FaultServer,
                                                                                tmp_path: Path) -> None:
    """Schema 9 kept a failure as one text, "<class>: <message>", and the archive's times in two formats (`Z` in
    the fetch log, `+00:00` to the second elsewhere): opening it splits the one and writes the other in one."""
    db = tmp_path / "archive.db"
    crawl("listing", server.url(LISTING), "--db", str(db), *FAST)
    server.route(FEED, Respond(503, "down"))
    code, summary, _ = crawl("feed", server.url(FEED), "--db", str(db), *FAST)
    assert code == 1
    assert summary["failures"][0]["error_class"] == "http_status"
    failure = "select last_error_class, last_error from crawl_queue where state = 'failed'"
    [(error_class, message)] = rows(db, failure)
    assert error_class == "http_status"
    assert not message.startswith("http_status")
    seen = rows(db, "select first_seen_at, last_seen_at from articles order by id")
    with sqlite3.connect(db) as conn:  # as schema 9 wrote them
        conn.execute("update crawl_queue set last_error = last_error_class || ': ' || last_error"
                     " where last_error_class is not null")
        conn.execute("alter table crawl_queue drop column last_error_class")
        conn.execute("update runs set started_at = substr(started_at, 1, 19) || '+00:00'")
        conn.execute("update articles set first_seen_at = substr(first_seen_at, 1, 19) || '+00:00'")
        conn.execute("pragma user_version = 9")

    with Archive(db):  # converted on opening
        pass

    assert rows(db, "pragma user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, failure) == [(error_class, message)]
    assert rows(db, "select first_seen_at, last_seen_at from articles order by id") == [
        (first[:19] + ".000Z", last) for first, last in seen]
    times = rows(db, "select started_at from runs union all select fetched_at from fetches"
                     " union all select added_at from crawl_queue union all select updated_at from crawl_queue")
    assert [time for (time,) in times if not TIME.fullmatch(time)] == []
    code, summary, _ = crawl("feed", server.url(FEED), "--db", str(db), *FAST)  # it resumes, and fails the same
    assert (code, summary["resumed"], summary["failures"][0]["error_class"]) == (1, True, "http_status")


def test_a_feed_takes_the_pipeline_of_every_page_and_never_empties_what_was_archived(server: FaultServer,
                                                                                      tmp_path: Path) -> None:
    """A feed gone empty (a broken export, a filter on the server) is not stored over the items the archive holds:
    it fails as a page read with less, like a listing or a dossier would."""
    db = tmp_path / "archive.db"
    code, summary, _ = crawl("feed", server.url(FEED), "--db", str(db), *FAST)
    assert code == 0
    items = rows(db, "select url from listing_items order by position")
    assert len(items) == 3
    server.route(FEED, cached(feed_xml(server.base_url, FEED, []), "application/rss+xml"))

    code, summary, _ = crawl("feed", server.url(FEED), "--db", str(db), *FAST, "--refresh")

    assert code == 1
    assert summary["failures"][0]["error_class"] == "parse"
    assert rows(db, "select url from listing_items order by position") == items
    assert rows(db, "select error_class from fetches where url = ? order by id desc limit 1",
                [server.url(FEED)]) == [("parse",)]
