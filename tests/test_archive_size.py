"""Schema 4 — each fact once: bodies in zstd with dictionaries trained on the archive's pages, records rebuilt from
their columns, versions as reverse diffs; `scrape compact`; and an archive of schema 3 (zlib bodies, whole
records, whole previous values) that opens, reads, exports, reparses and compacts. Real SQLite files, the real
CLI."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import MANIFEST, SAMPLES, rows, scrape
from crawlsite import article_html, make_articles
from older_archives import rewind_to_schema_6
from warcio.archiveiterator import ArchiveIterator

from scraper.archive import SCHEMA_VERSION, Archive
from scraper.archive.bodies import TRAIN_AFTER
from scraper.archive.compact import compact
from scraper.errors import ArchiveError
from scraper.ingest import ingest
from scraper.models import Article, Comment, FetchResult
from scraper.parse import parse_page

BASE = "https://www.lagazettedescommunes.com"


def fetch_of(name: str, fetched_at: str) -> FetchResult:
    entry = MANIFEST[name]
    return FetchResult(url=entry["url"], final_url=entry["url"], status=200, fetched_at=fetched_at,
                       headers={"content-type": entry["content_type"]}, body=(SAMPLES / name).read_bytes(),
                       content_type=entry["content_type"])


def generated_pages(count: int, first_id: int = 700000) -> list[FetchResult]:
    """`count` distinct article pages in crawlsite's markup, each with its own text."""
    pages = []
    for article in make_articles(count, first_id=first_id):
        body = article_html(BASE, article).replace("Premier paragraphe", f"Texte {article.site_id * 7919 % 10007}")
        pages.append(FetchResult(url=BASE + article.path, final_url=BASE + article.path, status=200,
                                 fetched_at="2024-02-01T00:00:00+00:00", body=body.encode(),
                                 content_type="text/html; charset=utf-8"))
    return pages


def warc_payloads(db: Path, tmp_path: Path) -> list[tuple[str, str, bytes]]:
    out = tmp_path / "export.warc.gz"
    result = scrape("export", "--format", "warc", "--db", db, "--output", out, "--force")  # the same file each time
    assert result.exit_code == 0, result.stderr
    with out.open("rb") as stream:
        return [(record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read())
                for record in ArchiveIterator(stream) if record.rec_type in ("response", "resource", "revisit")]


# --- bodies ----------------------------------------------------------------------------------------------

def test_a_dictionary_is_trained_after_the_first_pages_and_every_body_comes_back(db_path: Path) -> None:
    pages = generated_pages(TRAIN_AFTER + 60)
    with Archive(db_path) as archive:
        for page in pages:
            ingest(archive, page)
        [(dictionary_id, samples)] = rows(db_path, "select id, samples from dictionaries")
        assert samples == TRAIN_AFTER
        for page in pages:
            assert archive.bodies.read(_sha256(page.body)) == page.body
    plain, with_dictionary = rows(db_path, "select count(*), sum(dictionary_id is not null) from bodies"
                                           " group by dictionary_id is null order by dictionary_id is null desc")
    assert plain[0] == TRAIN_AFTER
    assert with_dictionary[0] == 60
    # with the dictionary a page costs a fraction of what plain zstd makes of it
    (plain_bytes,), (dictionary_bytes,) = rows(db_path, "select avg(length(compressed)) from bodies"
                                                        " group by dictionary_id is null order by 1 desc")
    assert dictionary_bytes < plain_bytes / 3


def test_stats_suggest_compact_for_the_pages_stored_before_the_first_dictionary_until_it_has_run(db_path: Path
                                                                                                 ) -> None:
    with Archive(db_path) as archive:
        for page in generated_pages(TRAIN_AFTER + 60):
            ingest(archive, page)
    shown = scrape("stats", "--db", db_path)
    assert shown.exit_code == 0, shown.stderr
    assert f"{TRAIN_AFTER} raw pages would be smaller after `scrape compact`" in " ".join(shown.stdout.split())
    assert json.loads(scrape("stats", "--db", db_path, "--json").stdout)["archive"]["bodies_to_compact"] == TRAIN_AFTER
    assert scrape("compact", "--db", db_path).exit_code == 0
    assert json.loads(scrape("stats", "--db", db_path, "--json").stdout)["archive"]["bodies_to_compact"] == 0
    assert "to compact" not in scrape("stats", "--db", db_path).stdout


def test_a_damaged_body_is_an_error_not_wrong_bytes(db_path: Path) -> None:
    with Archive(db_path) as archive:
        ingest(archive, fetch_of("article-free-2018.html", "2024-01-01T00:00:00+00:00"))
    sha256 = _sha256((SAMPLES / "article-free-2018.html").read_bytes())
    with sqlite3.connect(db_path) as connection:  # a zlib body whose bytes are another page's
        connection.execute("update bodies set compressed = ?, compression = 'zlib' where sha256 = ?",
                           [zlib.compress(b"<html>autre page</html>"), sha256])
    with Archive(db_path) as archive, pytest.raises(ArchiveError, match="damaged"):
        archive.bodies.read(sha256)
    with sqlite3.connect(db_path) as connection:
        connection.execute("update bodies set compression = 'brotli' where sha256 = ?", [sha256])
    with Archive(db_path) as archive, pytest.raises(ArchiveError, match="unknown compression 'brotli'"):
        archive.bodies.read(sha256)


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- scrape compact ----------------------------------------------------------------------------------------

def test_compact_recompresses_with_a_dictionary_of_the_whole_archive_and_can_be_interrupted(db_path: Path) -> None:
    pages = generated_pages(TRAIN_AFTER + 100)
    with Archive(db_path) as archive:
        for page in pages:
            ingest(archive, page)
        before = list(archive.articles.records())

        def interrupt(done: int) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            compact(archive, batch=50, progress=interrupt)
        # The dictionary trained after the first pages saw all of them: compact keeps it. Its first batch of 50
        # plain zstd bodies was committed before the interruption.
        [(newest, samples)] = rows(db_path, "select id, samples from dictionaries")
        assert samples == TRAIN_AFTER
        assert rows(db_path, "select count(*) from bodies where dictionary_id = ?", (newest,)) == [(100 + 50,)]
    result = scrape("compact", "--db", db_path, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["trained"], report["bodies"], report["dictionary_id"]) == (False, TRAIN_AFTER - 50, newest)
    assert report["vacuumed"]
    assert report["bytes_after"] < report["bytes_before"]
    assert rows(db_path, "select count(*), count(distinct dictionary_id) from bodies") == [(len(pages), 1)]
    with Archive(db_path) as archive:
        assert [archive.bodies.read(_sha256(page.body)) for page in pages] == [page.body for page in pages]
        assert list(archive.articles.records()) == before
    again = json.loads(scrape("compact", "--db", db_path, "--json").stdout)
    assert (again["trained"], again["bodies"], again["records"], again["versions"]) == (False, 0, 0, 0)


def test_compact_trains_a_larger_dictionary_for_a_larger_archive(db_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from scraper.archive import compact as compacting

    pages = generated_pages(TRAIN_AFTER + 100)
    with Archive(db_path) as archive:
        for page in pages:
            ingest(archive, page)
        [(first, first_size)] = rows(db_path, "select id, length(bytes) from dictionaries")
        assert compact(archive, vacuum=False).trained is False  # an archive this small keeps its dictionary
        # As if it held thousands of pages: compact wants a dictionary twice the size of the first one or more.
        monkeypatch.setattr(compacting, "DICTIONARY_BYTES_PER_BODY", 1000)
        report = compact(archive, vacuum=False)
        # every body tried with it; those it made no smaller keep the first dictionary
        assert report.trained
        assert report.bodies > len(pages) / 2
        assert report.bodies + report.bodies_kept == len(pages)
        [(newest, size)] = rows(db_path, "select id, length(bytes) from dictionaries order by id desc limit 1")
        assert newest != first
        assert size > first_size
        assert [archive.bodies.read(_sha256(page.body)) for page in pages] == [page.body for page in pages]


def test_compact_says_what_it_did(db_path: Path) -> None:
    with Archive(db_path) as archive:
        for name in MANIFEST:
            ingest(archive, fetch_of(name, "2024-01-01T00:00:00+00:00"))
    result = scrape("compact", "--db", db_path, "--no-vacuum")
    assert result.exit_code == 0, result.stderr
    assert "9 raw pages recompressed with a dictionary trained on 9 pages" in result.stdout
    assert "not vacuumed" in result.stdout
    assert "Example" in scrape("compact", "--help").stdout
    assert scrape("compact", "--db", db_path.with_name("none.db")).exit_code == 2


def interleaved_templates(count: int, size: int = 3000) -> list[bytes]:
    """`count` pages of three site templates crawled in turn (A, B, C, A…): each its own frame of made-up words
    around a line of its own."""
    import random

    def words(seed: int) -> str:
        rng = random.Random(seed)
        vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
                      for _ in range(400)]
        return " ".join(rng.choice(vocabulary) for _ in range(size // 6))

    frames = [(words(template), words(template + 100)) for template in range(3)]
    return [f"<html>{frames[n % 3][0]}<p>page {n} {random.Random(n).random()}</p>{frames[n % 3][1]}</html>".encode()
            for n in range(count)]


def test_compact_of_interleaved_templates_samples_them_all_and_never_makes_a_body_larger(db_path: Path) -> None:
    # 3,000 pages of three templates in turn: a sample of every 3rd row saw one template, and its dictionary
    # made the other two 8 times larger (2.3 MB -> 9.2 MB file).
    pages = interleaved_templates(3000)
    with Archive(db_path) as archive:
        store = archive.bodies
        for page in pages:
            with archive.transaction():
                store.store(page)
    before = dict(rows(db_path, "select sha256, length(compressed) from bodies"))
    result = scrape("compact", "--db", db_path)
    assert result.exit_code == 0, result.stderr
    after = dict(rows(db_path, "select sha256, length(compressed) from bodies"))
    grown = [sha256 for sha256, size in after.items() if size > before[sha256]]
    assert grown == []
    # the new dictionary suits all three templates: nearly every body is recompressed with it
    [(with_newest,)] = rows(db_path, "select count(*) from bodies where dictionary_id = (select max(id) from"
                                     " dictionaries)")
    assert with_newest > 0.95 * len(pages)
    assert sum(after.values()) < sum(before.values()) / 2
    summary = " ".join(result.stdout.split())
    assert re.search(r"the archive went from ([\d.]+) MB to ([\d.]+) MB \(([\d.]+) MB gained\)", summary), summary
    with Archive(db_path, read_only=True) as archive:
        assert all(archive.bodies.read(_sha256(page)) == page for page in pages[::97])
    # the bodies it kept are not suggested for another compact
    kept = len(pages) - with_newest
    assert kept > 0
    assert "kept as they were" in summary
    assert json.loads(scrape("stats", "--db", db_path, "--json").stdout)["archive"]["bodies_to_compact"] == 0


# --- an archive of schema 3 --------------------------------------------------------------------------------

def build_with_history(db: Path) -> None:
    """The samples, stored first as an older parser read them (no teaser), then as they are, then the free
    article again with one more comment: versions with text and list changes."""
    with Archive(db) as archive:
        for name in MANIFEST:
            result = fetch_of(name, "2024-01-01T00:00:00+00:00")
            fetch_id = archive.fetches.record(result)
            record = parse_page(result.body, result.url, content_type=result.content_type)
            older = replace(record, teaser=None) if isinstance(record, Article) else record
            archive.records.store(older, fetch_id=fetch_id, seen_at=result.fetched_at)
        for name in MANIFEST:
            ingest(archive, fetch_of(name, "2024-02-01T00:00:00+00:00"))
        free = fetch_of("article-free-2018.html", "2024-03-01T00:00:00+00:00")
        record = parse_page(free.body, free.url, content_type=free.content_type)
        assert isinstance(record, Article)
        more = replace(record, comments=[*record.comments, Comment("lecteur", "2024-03-01T09:00:00", "Merci.")],
                       comments_count=(record.comments_count or 0) + 1)
        archive.records.store(more, fetch_id=archive.fetches.record(free), seen_at=free.fetched_at)


def rewind_to_schema_3(db: Path) -> None:
    """What the tool of schema 3 left: zlib bodies, whole records, whole previous values, no dictionaries."""
    with Archive(db) as archive:
        records = {row["id"]: row for row in archive.db.query("select id, record from article_records")}
        previous: dict[int, dict[str, Any]] = {}
        for (article_id,) in archive.db.execute("select distinct article_id from article_versions").fetchall():
            history = archive.versions.history(str(archive.db["articles"].get(article_id)["url"]))
            ids = [row_id for (row_id,) in archive.db.execute(
                "select id from article_versions where article_id = ? order by id", [article_id])]
            for row_id, older, newer in zip(ids, history.versions[:-1], history.versions[1:], strict=True):
                previous[row_id] = {name: older.record.get(name) for name in newer.changed_fields}
        bodies = [(sha256, archive.bodies.read(sha256))
                  for (sha256,) in archive.db.execute("select sha256 from bodies")]
    rewind_to_schema_6(db)  # the links, paywall markers and headers of each article and fetch in its own rows
    connection = sqlite3.connect(db)
    connection.execute("pragma foreign_keys = off")
    with connection:
        for statement in (
            "drop view if exists article_records", "drop index idx_articles_date", "drop index idx_articles_warned",
            "drop index idx_articles_dossier_id_is_paywalled", "create index idx_articles_dossier_id on articles"
            " (dossier_id)", "alter table article_versions drop column diff",
            "create table old_bodies (sha256 text primary key, size integer not null, compressed blob not null,"
            " compression text not null)",
        ):
            connection.execute(statement)
        connection.executemany("insert into old_bodies values (?, ?, ?, 'zlib')",
                               [(sha256, len(body), zlib.compress(body)) for sha256, body in bodies])
        connection.execute("drop table bodies")
        connection.execute("alter table old_bodies rename to bodies")
        connection.execute("drop table dictionaries")
        connection.executemany("update articles set record = ? where id = ?",
                               [(row["record"], article_id) for article_id, row in records.items()])
        connection.executemany("update article_versions set previous = ? where id = ?",
                               [(json.dumps(values, ensure_ascii=False), row_id)
                                for row_id, values in previous.items()])
    connection.execute("pragma user_version = 3")
    connection.execute("pragma journal_mode = delete")
    connection.execute("pragma page_size = 4096")  # the size of the pages of archives made before schema 4
    connection.execute("vacuum")
    connection.execute("pragma journal_mode = wal")
    connection.close()


def test_an_archive_of_schema_3_opens_reads_exports_reparses_and_compacts(db_path: Path, tmp_path: Path) -> None:
    build_with_history(db_path)
    with Archive(db_path) as archive:
        expected_records = list(archive.articles.records())
        expected_history = archive.versions.history("554402").to_dict()
    expected_warc = warc_payloads(db_path, tmp_path)
    assert len(expected_history["versions"]) == 3
    rewind_to_schema_3(db_path)
    assert rows(db_path, "select distinct compression from bodies") == [("zlib",)]
    assert rows(db_path, "pragma page_size") == [(4096,)]
    assert rows(db_path, "select count(*) from article_versions where previous is null") == [(0,)]

    with Archive(db_path) as archive:  # migrated on opening
        assert archive.schema_version() == SCHEMA_VERSION
        assert list(archive.articles.records()) == expected_records
        assert archive.versions.history("554402").to_dict() == expected_history
    assert warc_payloads(db_path, tmp_path) == expected_warc
    export = scrape("export", "--format", "jsonl", "--db", db_path)
    exported = [json.loads(line) for line in export.stdout.splitlines()]
    assert [{key: value for key, value in record.items() if key not in ("first_seen_at", "last_seen_at")}
            for record in exported] == expected_records
    # The pages read again give the records stored, but the free article's comment added by hand above.
    report = json.loads(scrape("reparse", "--db", db_path, "--json", "--dry-run").stdout)
    assert (report["updated"], report["inserted"], report["missing_bodies"]) == (1, 0, 0)
    assert report["fields"] == {"comments_count": 1, "comments": 1}
    assert json.loads(rows(db_path, "select record from articles where site_id = 554402")[0][0])["title"]

    [(articles, versions, bodies)] = rows(db_path, "select (select count(*) from articles), (select count(*) from"
                                               " article_versions), (select count(*) from bodies)")
    result = scrape("compact", "--db", db_path, "--json")
    assert result.exit_code == 0, result.stderr
    done = json.loads(result.stdout)
    assert done["trained"]
    assert (done["bodies"], done["records"], done["versions"]) == (bodies, articles, versions)
    assert done["bytes_after"] < done["bytes_before"]  # the zlib bodies, now with a dictionary
    assert rows(db_path, "select distinct compression from bodies") == [("zstd",)]
    assert rows(db_path, "select count(*) from article_versions where diff is null or previous is not null") == [(0,)]
    assert rows(db_path, "select record from articles where site_id = 554402") == [("{}",)]
    assert rows(db_path, "pragma page_size") == [(8192,)]
    assert rows(db_path, "pragma journal_mode") == [("wal",)]
    assert scrape("check", "--db", db_path).exit_code == 0  # the full-text index, merged, follows the articles
    with Archive(db_path) as archive:
        assert list(archive.articles.records()) == expected_records
        assert archive.versions.history("554402").to_dict() == expected_history
    assert warc_payloads(db_path, tmp_path) == expected_warc
