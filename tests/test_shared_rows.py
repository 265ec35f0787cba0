"""Schema 7 — what pages repeat, stored once: related links (`links`), the paywall's phrases (`paywall_phrases`),
the fetches' headers (`header_sets`), each named by the rows that show them; the views `related_links`,
`paywall_markers` and `fetch_details` give them in the shapes of before, and an archive of schema 6 is converted
when opened. Real SQLite files, the real CLI."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import rows
from older_archives import rewind_to_schema_6
from typer.testing import CliRunner

from scraper.archive import SCHEMA_VERSION, Archive
from scraper.archive.bodies import TRAIN_AFTER
from scraper.archive.group import CommitGroup
from scraper.cli import app
from scraper.models import Article, Dossier, DossierRef, FetchResult, Paywall, RelatedLink

SITE = "https://www.lagazettedescommunes.com"
NEWS = [RelatedLink("L'actu Technique", f"Brève {n}", f"{SITE}/60000{n}/breve-{n}/", f"Le chapô de la brève {n} ...")
        for n in range(3)]
MARKERS = ["Article réservé aux abonnés", "Pour lire la totalité de cet article, abonnez-vous"]
SERVER = {"server": "Apache", "content-type": "text/html; charset=UTF-8", "vary": "Accept-Encoding,Cookie",
          "cache-control": "max-age=300, must-revalidate"}
CLIENT = [("Host", "www.lagazettedescommunes.com"), ("Accept", "text/html"), ("User-Agent", "scrape/0.1 (+contact)")]


def article(site_id: int, **overrides: Any) -> Article:
    fields: dict[str, Any] = {
        "url": f"{SITE}/{site_id}/article-{site_id}/", "title": f"Article {site_id}", "site_id": site_id,
        "body": f"Le texte de l'article {site_id}.", "paywall": Paywall(True, MARKERS),
        "related": [RelatedLink("Sur le même sujet", f"Voisin de {site_id}", f"{SITE}/{site_id + 1}/voisin/"),
                    *NEWS],
    }
    fields.update(overrides)
    return Article(**fields)


def fetch(site_id: int, *, headers: dict[str, str] | None = None, sent: list[tuple[str, str]] | None = None,
          **overrides: Any) -> FetchResult:
    url = f"{SITE}/{site_id}/article-{site_id}/"
    fields: dict[str, Any] = {
        "url": url, "final_url": url, "status": 200, "fetched_at": f"2024-01-01T00:{site_id % 60:02}:00+00:00",
        "headers": headers if headers is not None else
        {**SERVER, "date": f"Mon, 01 Jan 2024 00:{site_id % 60:02}:00 GMT", "etag": f'"{site_id:x}"',
         "link": f"<{SITE}/?p={site_id}>; rel=shortlink"},
        "request_headers": sent if sent is not None else list(CLIENT),
        "body": f"<html>{site_id}</html>".encode(), "content_type": "text/html",
    }
    fields.update(overrides)
    return FetchResult(**fields)


def headers_of(db: Path) -> list[tuple[Any, Any]]:
    """Each fetch's response and request headers, from the view fetch_details, parsed (dict key order kept)."""
    return [(json.loads(headers) if headers else headers, json.loads(sent) if sent else sent)
            for headers, sent in rows(db, "select headers, request_headers from fetch_details order by id")]


# --- related links and paywall phrases -------------------------------------------------------------------

def test_links_and_phrases_that_pages_repeat_are_stored_once(db_path: Path) -> None:
    with Archive(db_path) as archive:
        for site_id in range(1, 6):
            archive.records.store(article(site_id))
        records = {record["site_id"]: record for record in archive.articles.records()}
    assert rows(db_path, "select count(*) from links") == [(5 + len(NEWS),)]  # each neighbour, and the news once
    assert rows(db_path, "select count(*) from paywall_phrases") == [(len(MARKERS),)]
    assert rows(db_path, "select count(*) from article_links") == [(5 * (1 + len(NEWS)),)]
    for site_id in range(1, 6):  # the record, and the views in the shapes of the old tables, give every link
        expected = article(site_id).to_dict()
        assert records[site_id]["related"] == expected["related"]
        assert records[site_id]["paywall"] == expected["paywall"]
        shown = rows(db_path, "select links.section, links.title, links.url, links.teaser from related_links as links"
                              " join articles on articles.id = links.article_id where site_id = ?"
                              " order by position", (site_id,))
        assert shown == [(link.section, link.title, link.url, link.teaser) for link in article(site_id).related]
        assert rows(db_path, "select marker from paywall_markers join articles on articles.id = article_id"
                             " where site_id = ? order by position", (site_id,)) == [(marker,) for marker in MARKERS]


def test_a_link_differing_in_any_part_is_another_link_and_a_changed_article_keeps_its_own(db_path: Path) -> None:
    variants = [NEWS[0], replace(NEWS[0], teaser=None), replace(NEWS[0], title="Autre titre"),
                replace(NEWS[0], section=None), replace(NEWS[0], teaser="")]
    with Archive(db_path) as archive:
        archive.records.store(article(1, related=variants))
        archive.records.store(article(2, related=variants[:1]))
        outcome = archive.records.store(article(2, related=variants[1:]))
        assert outcome.action == "updated"
        assert outcome.changed_fields == ["related"]
        assert archive.records.store(article(2, related=variants[1:]), dry_run=True).action == "unchanged"
        records = {record["site_id"]: record for record in archive.articles.records()}
    assert rows(db_path, "select count(*) from links") == [(len(variants),)]
    assert records[1]["related"] == article(1, related=variants).to_dict()["related"]
    assert records[2]["related"] == article(2, related=variants[1:]).to_dict()["related"]


def test_compact_drops_the_links_no_article_shows_any_more(db_path: Path) -> None:
    with Archive(db_path) as archive:
        archive.records.store(article(1))
        archive.records.store(article(2))
        archive.records.store(article(2, related=NEWS[:1]))  # its neighbour is shown by no page now
    assert rows(db_path, "select count(*) from links") == [(2 + len(NEWS),)]
    report = json.loads(CliRunner().invoke(app, ["compact", "--db", str(db_path), "--json"]).stdout)
    assert report["links_dropped"] == 1
    assert rows(db_path, "select url from links where url like '%voisin%'") == [(f"{SITE}/2/voisin/",)]
    with Archive(db_path) as archive:
        assert [record["related"] for record in archive.articles.records()] == [
            article(1).to_dict()["related"], article(2, related=NEWS[:1]).to_dict()["related"]]


# --- headers -----------------------------------------------------------------------------------------------

def test_the_headers_fetches_share_are_stored_once_and_each_fetch_gets_its_own_back(db_path: Path) -> None:
    results = [fetch(site_id) for site_id in range(1, 30)]
    results.append(fetch(30, sent=[*CLIENT, ("If-None-Match", '"1e"'), ("If-Modified-Since", "Sun, 31 Dec 2023")]))
    results.append(fetch(31, headers={}, sent=[]))
    with Archive(db_path) as archive:
        for result in results:
            archive.fetches.record(result)
    assert headers_of(db_path) == [(result.headers, [list(pair) for pair in result.request_headers] or None)
                                   for result in results]
    # The server's and the client's headers once each (the shortlink learnt as each page's own after the first
    # page), the conditional request's, and the empty response headers.
    assert rows(db_path, "select count(*) from header_sets") == [(5,)]
    assert rows(db_path, "select count(distinct header_set_id), count(distinct request_header_set_id) from fetches"
                         " where id between 2 and 29") == [(1, 1)]
    [(values,)] = rows(db_path, "select header_values from fetches where id = 29")
    assert json.loads(values) == {"date": "Mon, 01 Jan 2024 00:29:00 GMT", "etag": '"1d"',
                                  "link": f"<{SITE}/?p=29>; rel=shortlink"}


def test_failed_fetches_are_found_by_their_error_class_through_an_index_only_failures_fill(db_path: Path) -> None:
    from scraper.errors import ErrorClass

    with Archive(db_path) as archive:
        for site_id in range(1, 6):
            archive.fetches.record(fetch(site_id))
        archive.fetches.record(fetch(6, status=None, headers={}, body=None, error="timed out",
                                   error_class=ErrorClass.TIMEOUT))
    query = "select url from fetches where error_class = 'timeout'"
    plan = " ".join(str(row[-1]) for row in rows(db_path, f"explain query plan {query}"))
    assert "idx_fetches_failed" in plan
    assert rows(db_path, query) == [(f"{SITE}/6/article-6/",)]
    assert rows(db_path, "select count(*) from fetches indexed by idx_fetches_failed where error_class is not null"
                ) == [(1,)]


@pytest.mark.parametrize("headers, sent", [
    ({"x.odd \"name\"": "va\"lue\\", "émoji": "☃", "date": "", "content-length": "12"},
     [("Accept", "a"), ("Accept", "b"), ("If-None-Match", "x"), ("If-None-Match", "y")]),
    ({"set": "a"}, [("referer", "https://example.org/?a=\"b\"")]),
])
def test_headers_of_any_shape_come_back_as_they_were(db_path: Path, headers: dict[str, str],
                                                     sent: list[tuple[str, str]]) -> None:
    results = [fetch(1, headers=headers, sent=sent), fetch(2, headers={**headers, "set": "b"}, sent=sent[::-1]),
               fetch(3, headers=headers, sent=sent)]
    with Archive(db_path) as archive:
        for result in results:
            archive.fetches.record(result)
    assert headers_of(db_path) == [(result.headers, [list(pair) for pair in result.request_headers])
                                   for result in results]


def test_a_warc_export_gives_each_fetch_its_own_headers(db_path: Path, tmp_path: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    with Archive(db_path) as archive:
        for site_id in (1, 2):
            archive.fetches.record(fetch(site_id))
    out = tmp_path / "pages.warc"
    assert CliRunner().invoke(app, ["export", "--format", "warc", "--db", str(db_path), "--output", str(out)]
                              ).exit_code == 0
    with out.open("rb") as stream:
        written = [(record.rec_type, record.http_headers.headers) for record in ArchiveIterator(stream)
                   if record.rec_type in ("request", "response")]
    etags = [dict(headers)["etag"] for kind, headers in written if kind == "response"]
    assert etags == ['"1"', '"2"']
    assert [headers for kind, headers in written if kind == "request"] == [CLIENT, CLIENT]


# --- an archive of schema 6 --------------------------------------------------------------------------------

def build(db_path: Path) -> None:
    with Archive(db_path) as archive:
        for site_id in range(1, 8):
            fetch_id = archive.fetches.record(fetch(site_id))
            archive.records.store(article(site_id, paywall=Paywall(site_id % 2 == 0, MARKERS[: site_id % 3])),
                                 fetch_id=fetch_id)


def contents(db_path: Path) -> dict[str, Any]:
    return {
        "headers": headers_of(db_path),
        "related": rows(db_path, "select * from related_links order by article_id, position"),
        "markers": rows(db_path, "select * from paywall_markers order by article_id, position"),
        "records": rows(db_path, "select id, record from article_records order by id"),
    }


def test_an_archive_of_schema_6_is_converted_when_opened(db_path: Path) -> None:
    build(db_path)
    expected = contents(db_path)
    rewind_to_schema_6(db_path)
    assert rows(db_path, "select count(*) from related_links") == [(7 * 4,)]  # a table again
    with Archive(db_path) as archive:
        assert archive.schema_version() == SCHEMA_VERSION
    assert contents(db_path) == expected
    columns = [name for (_, name, *_rest) in rows(db_path, "pragma table_info(fetches)")]
    assert "headers" not in columns
    assert "request_headers" not in columns
    assert rows(db_path, "select count(*) from links") == [(7 + len(NEWS),)]
    assert rows(db_path, "select type from sqlite_master where name = 'related_links'") == [("view",)]
    assert all("WITHOUT ROWID" in sql for (sql,) in rows(
        db_path, "select sql from sqlite_master where name in ('article_authors', 'article_themes')"))
    retired = ("idx_fetches_run_id", "idx_articles_updated_at", "idx_fetches_error_class")  # no query used them
    assert rows(db_path, f"select name from sqlite_master where name in {retired}") == []
    with Archive(db_path) as archive:  # opened again: nothing left to convert, nothing changes
        archive.db.execute(f"pragma user_version = {SCHEMA_VERSION - 1}")
    with Archive(db_path) as archive:
        assert archive.schema_version() == SCHEMA_VERSION
    assert contents(db_path) == expected


def test_a_view_of_the_users_that_reads_the_old_headers_keeps_the_archive_opening(db_path: Path) -> None:
    build(db_path)
    expected = contents(db_path)
    rewind_to_schema_6(db_path)
    with sqlite3.connect(db_path) as connection:
        connection.execute("create view my_servers as select json_extract(headers, '$.server') from fetches")
        connection.execute("create view my_bylines as select article_id, author_id from article_authors")
    with Archive(db_path) as archive:
        assert archive.schema_version() == SCHEMA_VERSION
    assert contents(db_path) == expected
    assert rows(db_path, "select count(*) from fetches where headers is not null") == [(0,)]  # emptied, not dropped
    assert rows(db_path, "select count(*) from my_bylines") == rows(db_path, "select count(*) from article_authors")
    with Archive(db_path) as archive:
        archive.fetches.record(fetch(9))
        archive.db.execute(f"pragma user_version = {SCHEMA_VERSION - 1}")
    with Archive(db_path) as archive:  # the emptied columns are not read again as headers of none
        assert archive.schema_version() == SCHEMA_VERSION
    assert headers_of(db_path) == [*expected["headers"], (fetch(9).headers, [list(pair) for pair in CLIENT])]


# --- what a transaction remembers of shared rows ---------------------------------------------------------

def first_sight(site_id: int, author: str, theme: str, dossier: str, markers: list[str]) -> Article:
    """An article whose shared rows (author, theme, dossier, paywall phrases) are named by the arguments."""
    return article(site_id, authors=[author], themes=[theme], paywall=Paywall(True, markers),
                   dossier=DossierRef(f"Dossier {dossier}", f"{SITE}/dossiers/{dossier}/"))


def store_page(archive: Archive, record: Article, result: FetchResult) -> None:
    fetch_id = archive.fetches.record(result)
    archive.records.store(record, fetch_id=fetch_id, seen_at=result.fetched_at)


def store_and_stop(archive: Archive, record: Article, result: FetchResult) -> None:
    store_page(archive, record, result)
    raise RuntimeError("stopped half-way")


OTHER_SERVER = {"server": "nginx", "content-type": "text/html", "x-cache": "HIT"}
OTHER_CLIENT = [("Host", "www.lagazettedescommunes.com"), ("User-Agent", "autre/1.0")]


@pytest.mark.parametrize("undo", ["the commit group", "a savepoint"])
def test_rows_a_rolled_back_transaction_added_are_never_named_again(db_path: Path, undo: str) -> None:
    # A transaction remembers the ids of the shared rows it reads and adds (Connection.memo). Rolled back, those
    # rows are gone and the next ones take their ids: a page stored after must name the rows that hold its values.
    first = first_sight(1, "Alice", "Eau", "eau", MARKERS)
    other = first_sight(2, "Bob", "Voirie", "voirie", ["Réservé aux abonnés"])
    again = first_sight(3, "Alice", "Eau", "eau", MARKERS)
    with Archive(db_path) as archive, CommitGroup(archive, seconds=3600) as group:
        if undo == "the commit group":
            with pytest.raises(RuntimeError), group.page():
                store_and_stop(archive, first, fetch(1))
        else:
            with group.page(), pytest.raises(RuntimeError), archive.transaction():  # in the open group: a savepoint
                store_and_stop(archive, first, fetch(1))
        with group.page():  # the same transaction, in the case of the savepoint
            store_page(archive, other, fetch(2, headers=OTHER_SERVER, sent=OTHER_CLIENT))
            store_page(archive, again, fetch(3))
        records = {record["site_id"]: record for record in archive.articles.records()}
    assert sorted(records) == [2, 3]
    for site_id, expected in ((2, other), (3, again)):
        stored = {key: records[site_id][key] for key in ("authors", "themes", "paywall", "dossier")}
        assert stored == {key: expected.to_dict()[key] for key in stored}
    assert headers_of(db_path) == [(OTHER_SERVER, [list(pair) for pair in OTHER_CLIENT]),
                                   (fetch(3).headers, [list(pair) for pair in CLIENT])]
    assert rows(db_path, "select count(*) from authors") == [(2,)]


def test_a_dossier_page_stored_between_two_articles_of_one_transaction_is_seen_by_the_second(db_path: Path) -> None:
    # The first article names the dossier with its title; its page, stored next, has none (page 1 rules); the
    # second article gives the title back, as it would in a transaction of its own.
    named = first_sight(1, "Alice", "Eau", "eau", MARKERS)
    assert named.dossier is not None and named.dossier.url is not None
    with Archive(db_path) as archive, archive.transaction():
        archive.records.store(named)
        archive.records.store(Dossier(url=named.dossier.url, title="", articles=[]))
        assert archive.scalar("select title from dossiers") == ""
        archive.records.store(first_sight(2, "Alice", "Eau", "eau", MARKERS))
    assert rows(db_path, "select title from dossiers") == [(named.dossier.title,)]


def test_a_dictionary_trained_in_a_rolled_back_group_is_not_used_after_it(db_path: Path) -> None:
    # The page that crosses TRAIN_AFTER bodies trains the archive's first dictionary; rolled back with its group,
    # the next body is compressed without one, and reads back.
    pages = [f"<html><nav>{' '.join(f'menu{k}' for k in range(200))}</nav><p>page {n}</p></html>".encode()
             for n in range(TRAIN_AFTER + 1)]
    with Archive(db_path) as archive, CommitGroup(archive) as group:
        with pytest.raises(RuntimeError), group.page():
            for page in pages:
                archive.bodies.store(page)
            assert archive.scalar("select count(*) from dictionaries") == 1
            raise RuntimeError("stopped half-way")
        with group.page():
            sha256 = archive.bodies.store(pages[0])
        group.commit()
        assert archive.bodies.read(sha256) == pages[0]
    assert rows(db_path, "select count(*), max(dictionary_id) from bodies") == [(1, None)]
    assert rows(db_path, "select count(*) from dictionaries") == [(0,)]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"
