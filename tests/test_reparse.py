"""`scrape reparse`: the stored raw pages parsed again, offline, through real SQLite archives and the CLI."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import MANIFEST, SAMPLES, rows, scrape

from scraper.archive import Archive
from scraper.ingest import ingest
from scraper.models import Article, FetchResult
from scraper.parse import parse_page
from scraper.reparse import reparse

ARTICLES = [name for name in MANIFEST if name.startswith("article-")]
FREE = "article-free-2018.html"


def fetch_of(name: str, fetched_at: str = "2024-01-01T00:00:00+00:00", url: str | None = None) -> FetchResult:
    entry = MANIFEST[name]
    url = url or entry["url"]
    return FetchResult(url=url, final_url=url, status=200, fetched_at=fetched_at,
                       body=(SAMPLES / name).read_bytes(), content_type=entry["content_type"])


def store_samples(db: Path, fetched_at: str = "2024-01-01T00:00:00+00:00") -> None:
    with Archive(db) as archive:
        for name in MANIFEST:
            ingest(archive, fetch_of(name, fetched_at))


def store_as_an_older_parser_did(db: Path, names: list[str]) -> None:
    """Store each sample's fetch with a poorer record: no teaser, no themes (what an old parser gave)."""
    with Archive(db) as archive:
        for name in names:
            result = fetch_of(name)
            fetch_id = archive.fetches.record(result)
            record = parse_page(result.body, result.url, content_type=result.content_type)
            assert isinstance(record, Article)
            assert record.teaser
            assert record.themes
            archive.records.store(replace(record, teaser=None, themes=[]), fetch_id=fetch_id,
                                 seen_at=result.fetched_at)


def counts(db: Path) -> dict[str, int]:
    with Archive(db) as archive:
        return archive.counts()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def report_of(*args: str | Path) -> dict:
    result = scrape("reparse", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_reparse_of_an_up_to_date_archive_changes_nothing(db_path: Path) -> None:
    store_samples(db_path)
    before = counts(db_path)
    report = report_of("--db", db_path)
    # 9 pages; the http 2018 capture of article 457321 is superseded by its newer https redesign capture.
    assert (report["pages"], report["superseded"], report["unchanged"]) == (9, 1, 8)
    assert (report["updated"], report["inserted"], report["type_changes"], report["fields"]) == (0, 0, [], {})
    after = counts(db_path)
    assert after == {**before, "runs": before["runs"] + 1}  # the run is logged, nothing else written
    assert rows(db_path, "select command, stored, updated, unchanged from runs") == [("reparse", 8, 0, 8)]


def test_dry_run_reports_the_changes_and_writes_nothing(db_path: Path) -> None:
    store_as_an_older_parser_did(db_path, [FREE, "article-2016-cp1252.html"])
    digest, before = sha256(db_path), counts(db_path)
    report = report_of("--db", db_path, "--dry-run")
    assert report["dry_run"] is True
    assert (report["updated"], report["unchanged"]) == (2, 0)
    assert report["fields"] == {"teaser": 2, "themes": 2}
    assert sha256(db_path) == digest  # not one byte of the file changed
    assert counts(db_path) == before
    assert rows(db_path, "select count(*) from articles where teaser is null") == [(2,)]


def test_reparse_updates_the_records_and_records_versions(db_path: Path) -> None:
    store_as_an_older_parser_did(db_path, [FREE, "article-2016-cp1252.html"])
    predicted = report_of("--db", db_path, "--dry-run")
    report = report_of("--db", db_path)
    for key in ("updated", "inserted", "unchanged", "fields", "changes"):
        assert report[key] == predicted[key], key  # the dry run predicted exactly what the run did
    expected = parse_page((SAMPLES / FREE).read_bytes(), MANIFEST[FREE]["url"])
    assert rows(db_path, "select teaser from articles where site_id = 554402") == [(expected.teaser,)]
    assert rows(db_path, "select count(*) from article_themes join articles on articles.id = article_id"
                         " where site_id = 554402") == [(len(expected.themes),)]
    versions = rows(db_path, "select changed_fields from article_versions order by id")
    assert [json.loads(changed) for (changed,) in versions] == [["teaser", "themes"]] * 2
    with Archive(db_path) as archive:
        [before, after] = archive.versions.history("554402").versions
    assert (before.record["teaser"], before.record["themes"]) == (None, [])
    assert after.record == expected.to_dict()
    again = report_of("--db", db_path)
    assert (again["updated"], again["unchanged"]) == (0, 2)  # a second reparse finds nothing to do
    assert rows(db_path, "select count(*) from article_versions") == [(2,)]


def test_the_newest_capture_of_an_article_wins(db_path: Path) -> None:
    with Archive(db_path) as archive:
        ingest(archive, fetch_of("article-smart-city-redesign.html", "2024-01-01T00:00:00+00:00"))
        ingest(archive, fetch_of("article-smart-city-2018.html", "2024-06-01T00:00:00+00:00"))
    stored = rows(db_path, "select record from articles")
    report = report_of("--db", db_path)
    assert (report["pages"], report["superseded"], report["unchanged"]) == (2, 1, 1)
    assert rows(db_path, "select record from articles") == stored  # no flip-flop to the older capture
    assert rows(db_path, "select count(*) from article_versions") == [(1,)]  # only the one from the re-fetch


def test_a_dossier_page_with_a_stale_title_is_updated(db_path: Path) -> None:
    store_samples(db_path)
    with sqlite3.connect(db_path) as connection:
        connection.execute("update dossiers set title = 'Ancien titre'")
    report = report_of("--db", db_path)
    assert report["fields"] == {"title": 1}
    assert [change["type"] for change in report["changes"]] == ["dossier"]
    assert rows(db_path, "select title from dossiers") == [("Smart city : les clés de la ville intelligente",)]


def test_a_page_whose_type_changed_is_reported(db_path: Path) -> None:
    name = "listing-club-technicites.html"
    with Archive(db_path) as archive:  # an older parser took the listing for an article
        result = fetch_of(name)
        fetch_id = archive.fetches.record(result)
        archive.records.store(parse_page(result.body, result.url, content_type=result.content_type,
                                        page_type="article"), fetch_id=fetch_id)
    report = report_of("--db", db_path)
    assert report["type_changes"] == [{"url": MANIFEST[name]["url"], "before": "article", "after": "listing"}]
    assert report["inserted"] == 1
    assert rows(db_path, "select url from listings") == [(MANIFEST[name]["url"],)]


def test_since_keeps_the_pages_fetched_from_that_date(db_path: Path) -> None:
    store_samples(db_path, fetched_at="2020-05-01T10:00:00+00:00")
    with Archive(db_path) as archive:
        ingest(archive, fetch_of(FREE, "2024-01-01T00:00:00+00:00"))
    assert report_of("--db", db_path, "--since", "2023-01-01")["pages"] == 1
    assert report_of("--db", db_path, "--since", "2030-01-01")["pages"] == 0
    assert report_of("--db", db_path, "--since", "2020-01-01")["pages"] == 9


def test_parallel_parsing_gives_the_same_report(db_path: Path) -> None:
    store_as_an_older_parser_did(db_path, [FREE])
    with Archive(db_path) as archive:
        for name in MANIFEST:
            ingest(archive, fetch_of(name, "2023-01-01T00:00:00+00:00"))
        alone = reparse(archive, dry_run=True, jobs=1).to_dict()
        pooled = reparse(archive, dry_run=True, jobs=2).to_dict()
    for key in ("pages", "superseded", "updated", "unchanged", "inserted", "fields", "changes", "type_changes"):
        assert pooled[key] == alone[key], key


def test_human_output_names_the_changed_fields(db_path: Path) -> None:
    store_as_an_older_parser_did(db_path, [FREE])
    result = scrape("reparse", "--db", db_path, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "1 would be updated" in result.stdout
    assert "dry run" in result.stdout
    assert "teaser" in result.stdout
    assert "themes" in result.stdout


@pytest.mark.parametrize(("args", "words"), [
    (("--since", "yesterday"), ("invalid date", "yesterday")),
    (("--jobs", "0"), ("--jobs",)),
])
def test_bad_options_are_one_line_usage_errors(db_path: Path, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    store_samples(db_path)
    result = scrape("reparse", "--db", db_path, *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr


def test_a_missing_archive_is_a_usage_error(tmp_path: Path) -> None:
    result = scrape("reparse", "--db", tmp_path / "none.db")
    assert result.exit_code == 2
    assert "no such archive" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_missing_raw_body_fails_the_run_with_exit_1(db_path: Path) -> None:
    store_samples(db_path)
    with sqlite3.connect(db_path) as connection:
        connection.execute("pragma foreign_keys = off")
        connection.execute("delete from bodies where sha256 = (select sha256 from fetches where url = ?)",
                           [MANIFEST[FREE]["url"]])
    result = scrape("reparse", "--db", db_path)
    assert result.exit_code == 1
    assert "1 pages have no readable raw body" in result.stderr


def test_a_list_the_parser_can_no_longer_read_is_reported_and_kept(db_path: Path) -> None:
    """A newer fetch of the dossier, stored when a parser read it, that the current parser reads no entry of
    (its column now looks like a sidebar): the reparse keeps the table of contents it has and exits 1."""
    store_samples(db_path)
    name = "dossier-smart-city.html"
    toc = rows(db_path, "select page, position, site_id from dossier_articles order by page, position")
    body = (SAMPLES / name).read_bytes().replace(b'class="dossierMainCol pageWrapper__mainContent"',
                                                 b'class="pageWrapper__sideBar"')
    with Archive(db_path) as archive:  # the fetch log as an older version of the tool left it
        archive.fetches.record(replace(fetch_of(name, "2024-02-01T00:00:00+00:00"), body=body))

    result = scrape("reparse", "--db", db_path)

    assert result.exit_code == 1
    assert "1 dossier or listing pages give no entry though they link to articles: kept as stored" in result.stderr
    assert MANIFEST[name]["url"] in result.stderr
    assert rows(db_path, "select page, position, site_id from dossier_articles order by page, position") == toc


def test_a_dry_run_waits_for_no_writer(db_path: Path) -> None:
    """A dry run writes nothing to the archive (what it remembers goes to temporary tables), so another process
    holding the archive's write lock does not hold it up."""
    store_as_an_older_parser_did(db_path, [FREE])
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("begin immediate")
    try:
        with Archive(db_path) as archive:
            report = reparse(archive, dry_run=True)
    finally:
        writer.execute("rollback")
        writer.close()
    assert (report.updated, dict(report.fields)) == (1, {"teaser": 1, "themes": 1})


def test_a_dry_run_works_on_an_archive_opened_only_to_read(db_path: Path) -> None:
    """A dry run of an archive opened read-only (`mode=ro`) keeps what it remembers in temporary tables all the
    same, page after page (a query in progress over the stored pages is not disturbed), and writes nothing."""
    store_samples(db_path)
    store_as_an_older_parser_did(db_path, [FREE])
    digest = sha256(db_path)
    with Archive(db_path, read_only=True) as archive:
        report = reparse(archive, dry_run=True)
    assert report.pages == len(MANIFEST)
    assert (report.updated, dict(report.fields)) == (1, {"teaser": 1, "themes": 1})
    assert sha256(db_path) == digest


def store_stale_articles(db: Path, count: int, words: int) -> None:
    """`count` generated articles of `words` words each, stored with an old title and body: a reparse changes
    every one."""
    from crawlsite import article_html, make_articles

    base = "https://www.lagazettedescommunes.com"
    with Archive(db) as archive:
        for article in make_articles(count):
            text = " ".join(f"mot{article.site_id * k % 9973}" for k in range(words))
            body = article_html(base, article).replace("Premier paragraphe", text).encode()
            result = FetchResult(url=base + article.path, final_url=base + article.path, status=200,
                                 fetched_at="2024-02-01T00:00:00+00:00", body=body,
                                 content_type="text/html; charset=utf-8")
            with archive.transaction():
                fetch_id = archive.fetches.record(result)
                record = parse_page(body, result.url, content_type=result.content_type)
                archive.records.store(replace(record, title="Ancien titre", body="ancien"), fetch_id=fetch_id,
                                     seen_at=result.fetched_at)


def test_the_write_ahead_log_stays_smaller_than_the_archive_when_every_article_changes(db_path: Path) -> None:
    # 500 articles each changed by the reparse: the write-ahead log grew to 101 MB for a 16 MB archive, the
    # page query left open across the reparse's commits keeping SQLite from reusing the log.
    store_stale_articles(db_path, 500, words=1500)
    # Another connection keeps the log's file when the reparse closes the archive: its size is the log's peak.
    with sqlite3.connect(db_path) as watcher:
        watcher.execute("select count(*) from articles").fetchone()
        report = report_of("--db", db_path, "--jobs", "2")
        assert report["updated"] == 500
        wal = Path(f"{db_path}-wal").stat().st_size
        assert 0 < wal < db_path.stat().st_size, (wal, db_path.stat().st_size)


def test_a_reparse_commits_many_pages_at_once(db_path: Path) -> None:
    # Each changed page was its own transaction: a commit, and the log's pages written, for every page.
    store_stale_articles(db_path, 60, words=20)
    commits: list[str] = []
    with Archive(db_path) as archive:
        archive._conn.set_trace_callback(
            lambda sql: commits.append(sql) if sql.strip().lower() in ("commit", "end") else None)
        report = reparse(archive)
    assert report.updated == 60
    assert 1 <= len(commits) <= 10, commits  # the run's row and a few groups, not one per page
    assert len(rows(db_path, "select id from article_versions")) == 60


def test_the_pages_read_a_few_at_a_time_are_all_the_pages_in_the_same_order(db_path: Path) -> None:
    store_samples(db_path, "2024-01-01T00:00:00+00:00")
    store_samples(db_path, "2024-01-02T00:00:00+00:00")  # the same fetched_at for all: the id breaks the tie
    with Archive(db_path) as archive:
        whole = list(archive.fetches.stored_pages(chunk=10_000))
        assert len(whole) == len(MANIFEST)
        for chunk in (1, 2, 4):
            assert list(archive.fetches.stored_pages(chunk=chunk)) == whole



@pytest.fixture(scope="module")
def stale_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("stale") / "archive.db"
    store_stale_articles(db, 1000, words=200)
    return db


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_reparse_killed_leaves_no_process_behind(stale_archive: Path, signal_number: int) -> None:
    # Killed, it left the fork server, the resource tracker and 2 parsing processes running for ever, holding
    # its stdout and stderr: a cron job capturing them never ended.
    import psutil

    db_path = stale_archive
    process = subprocess.Popen([sys.executable, "-m", "scraper", "reparse", "--db", str(db_path), "--jobs", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        reparse = psutil.Process(process.pid)
        deadline = time.monotonic() + 60  # hang guard: starting the processes takes well under a second
        while len(reparse.children(recursive=True)) < 4 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        descendants = reparse.children(recursive=True)
        assert len(descendants) >= 4, descendants  # fork server, resource tracker, 2 parsing processes
        process.send_signal(signal_number)
        # Everything that held its stdout is gone: reading it reaches the end (hang guard only).
        process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == -signal_number  # killed in the middle of its work, not finished
    gone, alive = psutil.wait_procs(descendants, timeout=30)
    assert alive == []
