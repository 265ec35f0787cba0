"""The archive, through real SQLite files: upserts, versions, links, search, errors, concurrency."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from older_archives import rewind_to_schema_6

from scraper.archive import SCHEMA_VERSION, TABLE_NAMES, Archive
from scraper.errors import ArchiveError, InvalidDate, InvalidOption
from scraper.ledger import RUN_COUNTS, RunLedger
from scraper.models import (
    Article,
    Comment,
    Dossier,
    DossierRef,
    FetchResult,
    Image,
    Listing,
    ListItem,
    Paywall,
    RelatedLink,
)
from scraper.site import dossier_base_url

SITE = "https://www.lagazettedescommunes.com"
DOSSIER_URL = f"{SITE}/dossiers/smart-city-territoires-connectes/"
SQLITE_UTILS = Path(sys.executable).parent / "sqlite-utils"


def make_article(site_id: int | None = 550001, **overrides: Any) -> Article:
    """A fully populated article: every child table gets rows."""
    slug = f"article-{site_id}" if site_id else "article-sans-id"
    fields: dict[str, Any] = {
        "url": f"{SITE}/{site_id}/{slug}/" if site_id else f"{SITE}/rubriques/{slug}/",
        "title": "La télégestion des réseaux d’eau gagne les petites communes",
        "site_id": site_id,
        "kicker": "Eau potable",
        "published_at": "2018-03-12T10:45:00",
        "updated_at": "2018-03-13",
        "authors": ["Jean Dupont", "Marie Martin"],
        "teaser": "Capteurs, compteurs communicants : les régies s’équipent.",
        "body": "Premier paragraphe.\n\nUn intertitre\n\nSecond paragraphe « cité ».",
        "image": Image(f"{SITE}/files/2018/03/eau.jpg", "Un château d’eau", "Ville de Lyon"),
        "dossier": DossierRef("Smart city : les territoires connectés", DOSSIER_URL),
        "paywall": Paywall(False, []),
        "related": [
            RelatedLink("Sur le même sujet", "Compteurs d’eau", f"{SITE}/540001/compteurs/"),
            RelatedLink("L'actu Technique", "Voirie", f"{SITE}/540002/voirie/", "Les routes ..."),
        ],
        "comments_count": 2,
        "comments": [
            Comment("pseudo", "2018-03-13T09:12:00", "Très intéressant."),
            Comment("autre", "2018-03-13T10:00:00", "Je confirme.", 0),
        ],
        "themes": ["Eau", "Innovation"],
        "warnings": [],
    }
    fields.update(overrides)
    return Article(**fields)


def make_dossier(page: int, items: list[ListItem], *, intro: str | None = "Le dossier.") -> Dossier:
    url = DOSSIER_URL if page == 1 else f"{DOSSIER_URL}page/{page}/"
    next_page = f"{DOSSIER_URL}page/{page + 1}/" if page == 1 else None
    return Dossier(url, "Smart city : les territoires connectés", intro, items, next_page)


def item(position: int, site_id: int, *, paywalled: bool = False) -> ListItem:
    return ListItem(position, f"Article {site_id}", f"{SITE}/{site_id}/article-{site_id}/", site_id,
                    "Kicker", "Un chapo ...", paywalled)


def fetch_result(url: str, body: bytes | None, status: int = 200, **overrides: Any) -> FetchResult:
    fields: dict[str, Any] = {
        "url": url, "final_url": url, "status": status, "fetched_at": "2018-03-14T08:00:00+00:00",
        "elapsed": 0.2, "headers": {"content-type": "text/html; charset=UTF-8"}, "body": body,
        "content_type": "text/html",
    }
    fields.update(overrides)
    return FetchResult(**fields)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


@pytest.fixture
def archive(db_path: Path) -> Iterator[Archive]:
    with Archive(db_path) as opened:
        yield opened


def rows(archive: Archive, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    return list(archive.db.query(sql, params or []))


# --- round trip and upserts ---------------------------------------------------------------------

def test_round_trip_gives_back_the_contract_dict(archive: Archive) -> None:
    article = make_article()
    outcome = archive.records.store(article)
    assert (outcome.kind, outcome.action, outcome.changed_fields) == ("article", "inserted", [])
    assert list(archive.articles.records()) == [article.to_dict()]


def test_child_rows_hold_the_record_parts(archive: Archive) -> None:
    article_id = archive.records.store(make_article()).key
    assert rows(archive, "select name from authors join article_authors on author_id = authors.id"
                         " where article_id = ? order by position", [article_id]) == [
        {"name": "Jean Dupont"}, {"name": "Marie Martin"}]
    assert [r["name"] for r in rows(archive, "select name from themes order by id")] == ["Eau", "Innovation"]
    comments = rows(archive, "select position, author, in_reply_to from comments order by position")
    assert comments == [{"position": 0, "author": "pseudo", "in_reply_to": None},
                        {"position": 1, "author": "autre", "in_reply_to": 0}]
    assert [r["section"] for r in rows(archive, "select section from related_links order by position")] == [
        "Sur le même sujet", "L'actu Technique"]
    details = rows(archive, "select authors, dossier_title, dossier_url from article_details")
    assert details == [{"authors": "Jean Dupont; Marie Martin",
                        "dossier_title": "Smart city : les territoires connectés", "dossier_url": DOSSIER_URL}]


def store_everything(archive: Archive) -> None:
    page = f"{SITE}/550001/article-550001/"
    fetch_id = archive.fetches.record(fetch_result(page, b"<html>page</html>", etag='"v1"'))
    archive.records.store(make_article(paywall=Paywall(True, ["Article réservé aux abonnés"])),
                         fetch_id=fetch_id)
    archive.records.store(make_article(550002, dossier=None))
    archive.records.store(make_dossier(1, [item(1, 550001), item(2, 550003, paywalled=True)]))
    archive.records.store(make_dossier(2, [item(1, 550002)], intro=None))
    archive.records.store(Listing(f"{SITE}/rubriques/club-technicites/", "Club Techni.Cités",
                                 [item(1, 550002), item(2, 550004)], f"{SITE}/rubriques/club-technicites/page/2/"))


def test_storing_everything_twice_changes_no_count(archive: Archive) -> None:
    store_everything(archive)
    before = archive.counts()
    assert set(before) == set(TABLE_NAMES)
    empty = {name for name, count in before.items() if count == 0}
    assert empty == {"runs", "crawl_queue", "article_versions", "canary_flags", "dictionaries"}  # every record table
    archive.records.store(make_article(paywall=Paywall(True, ["Article réservé aux abonnés"])))
    archive.records.store(make_article(550002, dossier=None))
    archive.records.store(make_dossier(1, [item(1, 550001), item(2, 550003, paywalled=True)]))
    archive.records.store(make_dossier(2, [item(1, 550002)], intro=None))
    outcome = archive.records.store(Listing(
        f"{SITE}/rubriques/club-technicites/", "Club Techni.Cités", [item(1, 550002), item(2, 550004)],
        f"{SITE}/rubriques/club-technicites/page/2/"))
    assert outcome.action == "unchanged"
    assert archive.counts() == before
    assert before["article_versions"] == 0


def test_unchanged_restore_reports_unchanged_and_keeps_history_empty(archive: Archive) -> None:
    archive.records.store(make_article(), seen_at="2018-03-14T08:00:00+00:00")
    outcome = archive.records.store(make_article(), seen_at="2018-03-20T08:00:00+00:00")
    assert (outcome.action, outcome.changed_fields) == ("unchanged", [])
    row = archive.db["articles"].get(outcome.key)
    assert row["first_seen_at"] == "2018-03-14T08:00:00.000Z"  # the archive's one format of time
    assert row["changed_at"] == "2018-03-14T08:00:00.000Z"
    assert row["last_seen_at"] == "2018-03-20T08:00:00.000Z"


def test_a_change_adds_one_version_with_the_previous_values(archive: Archive) -> None:
    archive.records.store(make_article(), seen_at="2018-03-14T08:00:00+00:00")
    changed = make_article(title="Nouveau titre", authors=["Jean Dupont"], comments_count=3)
    outcome = archive.records.store(changed, seen_at="2018-03-15T08:00:00+00:00")
    assert outcome.action == "updated"
    assert outcome.changed_fields == ["title", "authors", "comments_count"]
    versions = rows(archive, "select * from article_versions")
    assert len(versions) == 1
    assert versions[0]["article_id"] == outcome.key
    assert versions[0]["recorded_at"] == "2018-03-15T08:00:00.000Z"
    assert json.loads(versions[0]["changed_fields"]) == ["title", "authors", "comments_count"]
    assert versions[0]["previous"] is None  # schema 4 keeps a reverse diff instead of whole values
    history = archive.versions.history("550001")
    assert [version.record for version in history.versions] == [make_article().to_dict(), changed.to_dict()]
    assert history.versions[1].changed_fields == ["title", "authors", "comments_count"]
    row = archive.db["articles"].get(outcome.key)
    assert (row["first_seen_at"], row["changed_at"]) == ("2018-03-14T08:00:00.000Z", "2018-03-15T08:00:00.000Z")
    assert row["title"] == "Nouveau titre"
    assert rows(archive, "select count(*) as n from article_authors") == [{"n": 1}]
    assert list(archive.articles.records()) == [changed.to_dict()]


def test_a_change_that_leaves_the_child_rows_as_they_were_keeps_them(archive: Archive) -> None:
    # A new title rewrote every child row (authors, themes, links, comments: their full-text index with them).
    first = archive.records.store(make_article(), seen_at="2018-03-14T08:00:00+00:00")
    archive.records.store(make_article(550002), seen_at="2018-03-14T08:00:00+00:00")
    comments = "select rowid, position, text from comments where article_id = ? order by position"
    before = rows(archive, comments, [first.key])
    outcome = archive.records.store(make_article(title="Nouveau titre"), seen_at="2018-03-15T08:00:00+00:00")
    assert (outcome.action, outcome.changed_fields) == ("updated", ["title"])
    assert rows(archive, comments, [first.key]) == before
    assert list(archive.articles.records())[0] == make_article(title="Nouveau titre").to_dict()
    changed = make_article(title="Nouveau titre", comments=[Comment("pseudo", None, "Autre avis.")])
    assert archive.records.store(changed).changed_fields == ["comments"]
    assert [row["text"] for row in rows(archive, comments, [first.key])] == ["Autre avis."]
    assert list(archive.articles.records())[0] == changed.to_dict()


def test_warnings_alone_update_the_record_without_a_version(archive: Archive) -> None:
    archive.records.store(make_article(warnings=["no date found"]))
    outcome = archive.records.store(make_article())
    assert (outcome.action, outcome.changed_fields) == ("updated", ["warnings"])
    assert archive.counts()["article_versions"] == 0
    assert next(archive.articles.records())["warnings"] == []


def test_paywalled_then_free_capture_is_a_change_not_a_loss(archive: Archive) -> None:
    markers = ["Article réservé aux abonnés", "Pour lire la totalité de cet article, abonnez-vous au Club Techni.Cités"]
    archive.records.store(make_article(body="Début seulement.", paywall=Paywall(True, markers)))
    full = make_article(body="Début seulement.\n\nEt toute la suite.")
    outcome = archive.records.store(full)
    assert outcome.changed_fields == ["body", "paywall"]
    [before, after] = archive.versions.history(full.url).versions
    assert (before.record["body"], before.record["paywall"]) == ("Début seulement.",
                                                                 {"is_paywalled": True, "markers": markers})
    assert after.changes["body"] == {"words": [["=", "Début seulement."], ["+", "\n\nEt toute la suite."]]}
    diff = json.loads(rows(archive, "select diff from article_versions")[0]["diff"])
    assert diff["body"] == {"text": [[16, 36, ""]]}  # the words added, not a copy of the body
    row = archive.db["articles"].get(outcome.key)
    assert (row["is_paywalled"], row["body"]) == (0, "Début seulement.\n\nEt toute la suite.")
    assert archive.counts()["article_paywall_phrases"] == 0


def test_https_recapture_of_the_same_site_id_updates_one_row(archive: Archive) -> None:
    first = archive.records.store(make_article(url="http://www.lagazettedescommunes.com/550001/x/"))
    second = archive.records.store(make_article(url=f"{SITE}/550001/x/"))
    assert first.key == second.key
    assert second.changed_fields == ["url"]
    assert archive.counts()["articles"] == 1
    assert archive.db["articles"].get(first.key)["url"] == f"{SITE}/550001/x/"


def test_article_without_site_id_is_keyed_by_url(archive: Archive) -> None:
    first = archive.records.store(make_article(None))
    again = archive.records.store(make_article(None, title="Autre titre"))
    other = archive.records.store(make_article(None, url=f"{SITE}/rubriques/autre/"))
    assert again.key == first.key
    assert again.action == "updated"
    assert other.key != first.key
    found_later = make_article(None)
    found_later.site_id = 550009  # same url, its id found by a later parse
    with_id = archive.records.store(found_later)
    assert with_id.key == first.key
    assert "site_id" in with_id.changed_fields
    assert archive.counts()["articles"] == 2


# --- dossiers and listings ----------------------------------------------------------------------

def test_dossier_base_url_strips_the_page_suffix() -> None:
    assert dossier_base_url(f"{DOSSIER_URL}page/2/") == (DOSSIER_URL, 2)
    assert dossier_base_url(f"{DOSSIER_URL}page/3") == (DOSSIER_URL, 3)
    assert dossier_base_url(DOSSIER_URL) == (DOSSIER_URL, 1)
    assert dossier_base_url(f"{SITE}/dossiers/homepage/2/") == (f"{SITE}/dossiers/homepage/2/", 1)


def test_dossier_pages_share_one_dossier_and_link_articles_before_and_after(archive: Archive) -> None:
    before = archive.records.store(make_article(550001, dossier=None))
    page1 = archive.records.store(make_dossier(1, [item(1, 550001), item(2, 550002)]))
    page2 = archive.records.store(make_dossier(2, [item(1, 550003)], intro=None))
    assert page1.key == page2.key == DOSSIER_URL
    assert (page1.action, page2.action) == ("inserted", "updated")
    after = archive.records.store(make_article(550003, dossier=None))
    dossiers = rows(archive, "select id, url, title, intro from dossiers")
    assert dossiers == [{"id": dossiers[0]["id"], "url": DOSSIER_URL,
                         "title": "Smart city : les territoires connectés", "intro": "Le dossier."}]
    items = rows(archive, "select page, position, site_id, article_id from dossier_articles"
                          " order by page, position")
    assert items == [
        {"page": 1, "position": 1, "site_id": 550001, "article_id": before.key},
        {"page": 1, "position": 2, "site_id": 550002, "article_id": None},
        {"page": 2, "position": 1, "site_id": 550003, "article_id": after.key},
    ]


def test_restoring_a_dossier_page_replaces_its_items(archive: Archive) -> None:
    archive.records.store(make_dossier(1, [item(1, 550001), item(2, 550002)]))
    outcome = archive.records.store(make_dossier(1, [item(1, 550002)]))
    assert (outcome.action, outcome.changed_fields) == ("updated", ["articles"])
    assert rows(archive, "select site_id from dossier_articles") == [{"site_id": 550002}]


def test_article_naming_a_dossier_creates_it_and_the_dossier_page_completes_it(archive: Archive) -> None:
    article = archive.records.store(make_article())
    dossier = rows(archive, "select id, url, title, intro from dossiers")[0]
    assert (dossier["url"], dossier["intro"]) == (DOSSIER_URL, None)
    assert archive.db["articles"].get(article.key)["dossier_id"] == dossier["id"]
    outcome = archive.records.store(make_dossier(1, [item(1, 550001)]))
    # the dossier was only known from the article's box: its own page is stored for the first time
    assert (outcome.action, outcome.changed_fields) == ("inserted", [])
    assert rows(archive, "select intro from dossiers")[0]["intro"] is not None
    assert archive.counts()["dossiers"] == 1
    assert rows(archive, "select article_id from dossier_articles") == [{"article_id": article.key}]
    again = archive.records.store(make_dossier(1, [item(1, 550001), item(2, 550002)]))
    assert (again.action, again.changed_fields) == ("updated", ["articles"])


def test_listing_is_upserted_with_its_items(archive: Archive) -> None:
    url = f"{SITE}/rubriques/club-technicites/"
    first = archive.records.store(Listing(url, "Club", [item(1, 550001), item(2, 550002)], None))
    archive.records.store(make_article(550002))
    second = archive.records.store(Listing(url, "Club", [item(1, 550001), item(2, 550002)], f"{url}page/2/"))
    assert (first.key, first.action) == (url, "inserted")
    assert (second.action, second.changed_fields) == ("updated", ["next_page"])
    assert rows(archive, "select position, article_id is not null as linked from listing_items"
                         " order by position") == [{"position": 1, "linked": 0}, {"position": 2, "linked": 1}]


def test_dossiers_and_listings_are_keyed_by_the_normal_form_of_their_url(archive: Archive) -> None:
    url = f"{SITE}/rubriques/club-technicites/"
    first = archive.records.store(Listing(url + "?utm_source=rss&xtor=RSS-12#top", "Club", [item(1, 550001)], None))
    second = archive.records.store(Listing(url, "Club", [item(1, 550001)], None))
    assert (first.key, second.key, second.action) == (url, url, "unchanged")
    dossier = archive.records.store(replace(make_dossier(1, [item(1, 550001)]), url=DOSSIER_URL.rstrip("/")))
    assert dossier.key == DOSSIER_URL
    assert archive.counts()["listings"] == 1
    assert archive.counts()["dossiers"] == 1


def test_a_dry_run_says_what_storing_does_and_writes_nothing(archive: Archive) -> None:
    """`store_record(dry_run=True)` is what reparse --dry-run reports: the same plan as the real store."""
    untitled = Dossier(f"{DOSSIER_URL}page/2/", "", None, [item(1, 550003)], None)
    steps = [
        make_article(550001),  # inserted, and its dossier known from its box only
        make_article(550001),  # unchanged
        make_article(550001, title="Un autre titre", warnings=["x"]),  # updated
        untitled,  # page 2 before page 1: no title, no intro
        make_dossier(1, [item(1, 550001), item(2, 550002)]),  # the dossier's own first page: inserted
        untitled,  # page 2 again, its empty title does not replace page 1's
        Dossier(f"{DOSSIER_URL}page/2/", "Autre titre", "Autre intro", [item(1, 550003)], None),
        Listing(f"{SITE}/rubriques/club-technicites/", "Club", [item(1, 550001)], None),
        Listing(f"{SITE}/rubriques/club-technicites/", "Club", [item(1, 550002)], None),
    ]
    for record in steps:
        before = archive.counts()
        planned = archive.records.store(record, dry_run=True)
        assert archive.counts() == before
        done = archive.records.store(record)
        assert (planned.kind, planned.action, planned.changed_fields) == (done.kind, done.action,
                                                                           done.changed_fields), record.url


# --- reading back -------------------------------------------------------------------------------

def test_article_records_filters_and_order(archive: Archive) -> None:
    archive.records.store(make_article(550003, published_at=None, updated_at="2019-05-01"))
    archive.records.store(make_article(550001, published_at="2017-01-02"))
    archive.records.store(make_article(550002, dossier=None, paywall=Paywall(True, ["Article réservé aux abonnés"]),
                                      published_at="2018-06-01"))
    archive.records.store(make_dossier(1, [item(1, 550002)]))  # listed in the dossier's table of contents

    def ids(**filters: Any) -> list[int]:
        return [record["site_id"] for record in archive.articles.records(**filters)]

    assert ids() == [550001, 550002, 550003]
    assert ids(since="2018-01-01") == [550002, 550003]
    assert ids(since="2019-05-01") == [550003]
    assert ids(paywalled=True) == [550002]
    assert ids(paywalled=False) == [550001, 550003]
    assert ids(dossier="territoires CONNECTÉS") == [550001, 550002, 550003]
    assert ids(dossier=f"{DOSSIER_URL}page/2/", paywalled=False) == [550001, 550003]
    with pytest.raises(InvalidOption, match="no dossier in the archive matches 'no such dossier'"):
        ids(dossier="no such dossier")  # not an empty dossier: a name that matches none


def test_a_bad_since_date_is_a_usage_error(archive: Archive) -> None:
    with pytest.raises(InvalidDate, match="invalid date"):
        archive.articles.records(since="last week")


def test_full_text_search_ignores_accents(archive: Archive, db_path: Path) -> None:
    article_id = archive.records.store(make_article()).key
    archive.records.store(make_article(550002, title="Voirie", teaser=None, body="Des routes."))
    found = list(archive.db["articles"].search("telegestion", columns=["id", "title"]))
    assert [row["id"] for row in found] == [article_id]
    output = subprocess.run(
        [str(SQLITE_UTILS), "search", str(db_path), "articles", "telegestion", "-c", "id"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert json.loads(output) == [{"id": article_id}]


def test_full_text_index_follows_updates(archive: Archive) -> None:
    archive.records.store(make_article())
    archive.records.store(make_article(title="Assainissement", teaser=None, body=None))
    assert list(archive.db["articles"].search("telegestion")) == []
    assert len(list(archive.db["articles"].search("assainissement"))) == 1


def test_foreign_keys_check_clean(archive: Archive) -> None:
    store_everything(archive)
    archive.records.store(make_article(550003))  # links a dossier item after the fact
    assert archive.db.execute("pragma foreign_keys").fetchone() == (1,)
    assert archive.db.execute("pragma foreign_key_check").fetchall() == []
    assert archive.db.execute("pragma journal_mode").fetchone() == ("wal",)


# --- fetches and bodies -------------------------------------------------------------------------

def test_bodies_are_deduplicated_and_read_back(archive: Archive) -> None:
    body = "<html><p>télégestion</p></html>".encode()
    first = archive.fetches.record(fetch_result(f"{SITE}/a/", body))
    second = archive.fetches.record(fetch_result(f"{SITE}/b/", body))
    failed = archive.fetches.record(fetch_result(f"{SITE}/c/", None, status=None, error="timed out",
                                               error_class="timeout"))
    counts = archive.counts()
    assert (counts["fetches"], counts["bodies"]) == (3, 1)
    sha_first, sha_second, sha_failed = (archive.db["fetches"].get(i)["sha256"] for i in (first, second, failed))
    assert sha_first == sha_second
    assert sha_failed is None
    assert archive.bodies.read(sha_first) == body
    assert archive.bodies.read("0" * 64) is None
    stored = archive.db["bodies"].get(sha_first)
    assert (stored["size"], stored["compression"], stored["dictionary_id"]) == (len(body), "zstd", None)
    assert rows(archive, "select url, error_class from fetch_errors") == [{"url": f"{SITE}/c/",
                                                                            "error_class": "timeout"}]


def test_latest_fetch_gives_what_a_conditional_get_needs(archive: Archive) -> None:
    url = f"{SITE}/550001/x/"
    assert archive.fetches.latest(url) is None
    archive.fetches.record(fetch_result(url, b"old", etag='"v1"', fetched_at="2018-03-01T00:00:00+00:00"))
    archive.fetches.record(fetch_result(url, b"new", etag='"v2"', last_modified="Wed, 14 Mar 2018 08:00:00 GMT",
                                      fetched_at="2018-03-02T00:00:00+00:00"))
    not_modified = archive.fetches.record(fetch_result(url, None, status=304, fetched_at="2018-03-03T00:00:00+00:00"))
    archive.fetches.record(fetch_result(url, None, status=503, error="HTTP 503", error_class="http_status",
                                      fetched_at="2018-03-04T00:00:00+00:00"))
    latest = archive.fetches.latest(url)
    assert latest is not None
    assert latest["id"] == not_modified
    assert latest["status"] == 304
    assert latest["etag"] == '"v2"'
    assert latest["last_modified"] == "Wed, 14 Mar 2018 08:00:00 GMT"
    assert archive.bodies.read(latest["sha256"]) == b"new"
    assert latest["headers"] == {"content-type": "text/html; charset=UTF-8"}


def test_latest_fetch_matches_the_final_url(archive: Archive) -> None:
    archive.fetches.record(fetch_result("http://www.lagazettedescommunes.com/550001/x/", b"page",
                                      final_url=f"{SITE}/550001/x/"))
    latest = archive.fetches.latest(f"{SITE}/550001/x/")
    assert latest is not None
    assert archive.bodies.read(latest["sha256"]) == b"page"


def test_runs_are_opened_and_closed_with_their_counts(archive: Archive) -> None:
    run_id = archive.runs.start("scrape dossier https://example.invalid/")
    fetch_id = archive.fetches.record(fetch_result(f"{SITE}/a/", b"x"), run_id=run_id)
    archive.runs.finish(run_id, RunLedger(fetched=3, not_modified=1, retried=2, bytes=900, inserted=2, unchanged=1))
    run = archive.db["runs"].get(run_id)
    assert run["command"] == "scrape dossier https://example.invalid/"
    assert run["started_at"]
    assert run["ended_at"]
    assert (run["fetched"], run["retried"], run["bytes"]) == (3, 2, 900)
    assert (run["stored"], run["inserted"], run["updated"], run["unchanged"]) == (3, 2, 0, 1)
    assert archive.db["fetches"].get(fetch_id)["run_id"] == run_id
    with pytest.raises(ArchiveError):
        archive.runs.finish(run_id + 100, RunLedger())
    with pytest.raises(ArchiveError):  # a fetch naming a run that does not exist breaks a foreign key
        archive.fetches.record(fetch_result(f"{SITE}/b/", b"y"), run_id=run_id + 100)


# --- opening ------------------------------------------------------------------------------------

def test_reopening_keeps_everything_and_the_schema_version(db_path: Path) -> None:
    with Archive(db_path) as archive:
        store_everything(archive)
        counts = archive.counts()
    with Archive(db_path) as archive:
        assert archive.counts() == counts
        archive.db.execute(f"pragma user_version = {SCHEMA_VERSION - 1}")  # as an older tool left it
    with Archive(db_path) as archive:  # the migration runs again over an existing schema
        assert archive.counts() == counts
        assert archive.db.execute("pragma user_version").fetchone() == (SCHEMA_VERSION,)
        assert set(archive.db.view_names()) >= {"article_details", "dossier_contents", "fetch_errors"}


def test_an_archive_of_schema_1_gains_the_request_headers(db_path: Path) -> None:
    with Archive(db_path) as archive:
        store_everything(archive)
        counts = archive.counts()
        headers = archive.db.execute("select id, headers from fetch_details order by id").fetchall()
    rewind_to_schema_6(db_path)
    with sqlite3.connect(db_path) as conn:  # as the tool of schema 1 left it
        conn.execute("alter table fetches drop column request_headers")
        conn.execute("pragma user_version = 1")
    with Archive(db_path) as archive:
        assert archive.counts() == counts
        assert archive.db.execute("select id, headers from fetch_details order by id").fetchall() == headers
        fetch_id = archive.fetches.record(replace(fetch_result(f"{SITE}/new/", b"z"), request_headers=[("Host", "x")]))
        assert archive.db.execute("select request_headers from fetch_details where id = ?", [fetch_id]).fetchone() \
            == ('[["Host","x"]]',)
        assert archive.schema_version() == SCHEMA_VERSION == 10


def test_an_archive_of_schema_2_gains_canary_flags_and_keeps_its_flags(db_path: Path) -> None:
    """Schema 2 created `canary_flags` on the canary's first alert only: an archive may have it or not."""
    flag = ("https://www.lagazettedescommunes.com/1/x/", "article", '["date"]')
    for had_flags in (False, True):
        db_path.unlink(missing_ok=True)
        with Archive(db_path) as archive:
            store_everything(archive)
        with sqlite3.connect(db_path) as conn:  # as the tool of schema 2 left it
            conn.execute("drop table canary_flags")
            if had_flags:
                conn.execute("create table canary_flags (url text primary key, kind text not null, article_id"
                             " integer references articles(id), fetch_id integer references fetches(id),"
                             " missing text not null, detail text, flagged_at text)")
                conn.execute("insert into canary_flags (url, kind, missing) values (?, ?, ?)", flag)
            conn.execute("pragma user_version = 2")
        with Archive(db_path) as archive:
            assert archive.schema_version() == SCHEMA_VERSION
            rows = archive.db.execute("select url, kind, missing from canary_flags").fetchall()
            assert rows == ([flag] if had_flags else [])
            assert "article_id" in archive.db["canary_flags"].columns_dict


def test_archive_from_a_newer_tool_is_refused(db_path: Path) -> None:
    Archive(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"pragma user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ArchiveError, match="newer"):
        Archive(db_path)


def assert_one_line_error(path: Path, expected: str) -> None:
    with pytest.raises(ArchiveError) as raised:
        Archive(path)
    message = str(raised.value)
    assert "\n" not in message
    assert str(path) in message
    assert expected in message


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert_one_line_error(tmp_path, "is a directory")


def test_an_unwritable_path_is_refused(tmp_path: Path) -> None:
    assert_one_line_error(tmp_path / "missing" / "archive.db", "does not exist")
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    assert_one_line_error(blocker / "archive.db", "not a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert_one_line_error(locked / "archive.db", "not writable")
    finally:
        locked.chmod(0o700)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    assert_one_line_error(path, "not an SQLite database")
    assert path.read_text().startswith("these are my notes")


# --- two processes at once ----------------------------------------------------------------------

RECORDS_PER_PROCESS = 25


def _store_many(path: str, first_site_id: int, barrier: Any) -> None:
    barrier.wait()
    with Archive(path) as archive:
        for site_id in range(first_site_id, first_site_id + RECORDS_PER_PROCESS):
            fetch_id = archive.fetches.record(fetch_result(f"{SITE}/{site_id}/x/", f"page {site_id}".encode()))
            archive.records.store(make_article(site_id, authors=[f"Auteur {site_id}", "Jean Dupont"]),
                                 fetch_id=fetch_id)


def test_two_processes_store_into_one_file_at_once(db_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_store_many, args=(str(db_path), first, barrier))
               for first in (100000, 200000)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]  # a "database is locked" error exits 1
    with Archive(db_path) as archive:
        counts = archive.counts()
        assert counts["articles"] == counts["fetches"] == counts["bodies"] == 2 * RECORDS_PER_PROCESS
        assert counts["authors"] == 2 * RECORDS_PER_PROCESS + 1
        assert counts["dossiers"] == 1
        assert archive.db.execute("pragma foreign_key_check").fetchall() == []


def test_http_and_https_links_to_one_dossier_are_one_dossier(archive: Archive) -> None:
    http = Article(url="http://www.lagazettedescommunes.com/1001/a/", title="A", site_id=1001,
                   dossier=DossierRef(title="Smart city", url="http://www.lagazettedescommunes.com/dossiers/smart/"))
    https = Article(url="https://www.lagazettedescommunes.com/1002/b/", title="B", site_id=1002,
                    dossier=DossierRef(title="Smart city", url="https://www.lagazettedescommunes.com/dossiers/smart/"))
    archive.records.store(http)
    archive.records.store(https)
    assert [row["url"] for row in archive.db["dossiers"].rows] == ["http://www.lagazettedescommunes.com/dossiers/smart/"]
    assert {row["dossier_id"] for row in archive.db["articles"].rows} == {1}


def test_a_run_count_of_no_known_name_is_an_error_not_a_new_column(archive: Archive) -> None:
    run_id = archive.runs.start("scrape url x")
    with pytest.raises(TypeError):
        archive.runs.finish(run_id, {"fetched": 3, "skipped_robots": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RunLedger(skipped_robots=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not a store action"):
        RunLedger().count_stored("not modified")
    columns = [row[1] for row in archive.execute("PRAGMA table_info(runs)")]
    assert columns == ["id", "command", "started_at", "ended_at", *RUN_COUNTS]
    assert archive.db["runs"].get(run_id)["ended_at"] is None


def test_an_archive_whose_runs_lack_a_count_gets_its_column_when_a_run_ends(tmp_path: Path) -> None:
    """An archive of the current schema made before `blocked` and `skipped` were in it."""
    with Archive(tmp_path / "archive.db") as archive:
        archive.db.execute("alter table runs drop column skipped")
        run_id = archive.runs.start("scrape import x.har")
        archive.runs.finish(run_id, RunLedger(skipped=4, inserted=1))
        assert (archive.db["runs"].get(run_id)["skipped"], archive.db["runs"].get(run_id)["stored"]) == (4, 1)
