"""Storing pages in a commit group (scraper.archive.group), as a crawl does: each page whole or absent, and what the
pages of a group share asked of SQLite once per group. Real SQLite files; the statements are SQLite's own trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import rows

from scraper.archive import Archive
from scraper.archive.group import CommitGroup
from scraper.errors import ArchiveError
from scraper.ingest import PageOutcome, store
from scraper.models import Article, DossierRef, FetchResult, Paywall

SITE = "https://www.lagazettedescommunes.com"
DOSSIER = DossierRef("Smart city", f"{SITE}/dossiers/smart-city/")


def page(site_id: int, **overrides: Any) -> PageOutcome:
    """A fetched article page, read: its fetch (headers as a server and the fetcher give them) and its record."""
    url = f"{SITE}/{site_id}/article-{site_id}/"
    fields: dict[str, Any] = {
        "url": url, "title": f"Article {site_id}", "site_id": site_id, "body": f"Le texte {site_id}.",
        "authors": ["Jean Dupont"], "themes": ["Eau"], "dossier": DOSSIER,
        "paywall": Paywall(True, ["Article réservé aux abonnés"]),
    }
    fields.update(overrides)
    result = FetchResult(url=url, final_url=url, status=200, fetched_at="2024-01-01T00:00:00+00:00",
                         headers={"content-type": "text/html", "etag": f'"{site_id}"'},
                         request_headers=[("Host", "www.lagazettedescommunes.com"), ("User-Agent", "scrape")],
                         body=f"<html>{site_id}</html>".encode(), content_type="text/html")
    return PageOutcome(url=url, fetch=result, record=Article(**fields))


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive(tmp_path / "archive.db") as opened:
        yield opened


def traced(archive: Archive, pages: list[PageOutcome]) -> list[str]:
    """The statements storing `pages` in one commit group runs (the group's BEGIN and COMMIT aside)."""
    statements: list[str] = []
    with CommitGroup(archive, seconds=3600) as group:
        archive.db.conn.set_trace_callback(statements.append)
        try:
            for outcome in pages:
                with group.page():
                    store(archive, outcome)
        finally:
            archive.db.conn.set_trace_callback(None)
    return statements


def test_pages_of_a_group_share_its_transaction_without_a_savepoint_and_ask_shared_rows_once(archive: Archive) -> None:
    statements = traced(archive, [page(site_id) for site_id in range(1, 6)])
    assert [sql for sql in statements if "savepoint" in sql.lower() or sql.startswith(("RELEASE", "ROLLBACK"))] == []
    asked = [sql.split(" where ")[0] for sql in statements if sql.startswith("select")]
    for shared in ("select max(id) from dictionaries", "select id, headers from header_sets",
                   "select id from [authors]", "select id from [themes]", "select id from [paywall_phrases]",
                   "select * from dossiers"):
        assert sum(sql.startswith(shared) for sql in asked) <= 2, shared  # response and request header sets
    assert len(list(archive.articles.records())) == 5


def test_a_new_article_writes_its_child_rows_without_deleting_any_and_a_changed_one_replaces_them(
        archive: Archive) -> None:
    statements = traced(archive, [page(1), page(2)])
    assert [sql for sql in statements if sql.startswith("delete")] == []
    statements = traced(archive, [page(2, authors=["Marie Martin"], themes=[])])
    assert {sql for sql in statements if sql.startswith("delete")} == {
        f"delete from [{table}] where article_id = 2"
        for table in ("article_authors", "article_themes", "article_paywall_phrases", "article_links", "comments")}
    records = {record["site_id"]: record for record in archive.articles.records()}
    assert (records[1]["authors"], records[1]["themes"]) == (["Jean Dupont"], ["Eau"])
    assert (records[2]["authors"], records[2]["themes"]) == (["Marie Martin"], [])


def test_a_page_that_fails_half_way_leaves_none_of_its_rows(archive: Archive) -> None:
    # The article's row is refused after its fetch and body were written: the group is rolled back whole (what a
    # kill would leave), and the next group stores the same pages again.
    archive.execute("create temp trigger refuse after insert on articles when new.site_id = 3"
                    " begin select raise(abort, 'refused'); end")
    with CommitGroup(archive, seconds=3600) as group:
        with group.page():
            store(archive, page(1))
        with pytest.raises(ArchiveError, match="refused"), group.page():
            store(archive, page(3))
        assert archive.scalar("select count(*) from fetches") == 0
        assert archive.scalar("select count(*) from bodies") == 0
        archive.execute("drop trigger temp.refuse")
        for site_id in (1, 3):
            with group.page():
                store(archive, page(site_id))
    assert rows(Path(archive.path), "select site_id from articles order by id") == [(1,), (3,)]
    assert rows(Path(archive.path), "select count(*) from fetches") == [(2,)]


def test_a_page_stored_alone_fails_whole_too(archive: Archive) -> None:
    archive.execute("create temp trigger refuse after insert on articles when new.site_id = 3"
                    " begin select raise(abort, 'refused'); end")
    with pytest.raises(ArchiveError, match="refused"):
        store(archive, page(3))
    assert archive.scalar("select count(*) from fetches") == 0
    assert not archive.in_transaction
