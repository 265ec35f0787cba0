"""The run ledger: every command that writes the archive closes its row of `runs` with the same counts, each with one
meaning (scraper.models.RUN_COUNTS), through the real command line and a real archive."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLES, SampleSite
from pytest_httpserver import HTTPServer

from scraper.ledger import RUN_COUNTS


def scrape(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scraper", *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


def runs(db: Path) -> list[dict[str, object]]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute("select * from runs order by id")]


def test_every_command_writes_every_count_and_stored_is_always_inserted_updated_unchanged(
        sample_site: SampleSite, db_path: Path) -> None:
    assert scrape("url", "--db", db_path, SAMPLES / "article-free-2018.html").returncode == 0
    assert scrape("import", "--db", db_path, SAMPLES / "article-smart-city-2018.html").returncode == 0
    assert scrape("reparse", "--db", db_path).returncode == 0
    for path, (status, content_type, body) in sample_site.routes.items():  # links to the test server, not the site
        for host in (b"http://www.lagazettedescommunes.com", b"https://www.lagazettedescommunes.com"):
            body = body.replace(host, sample_site.base.encode())
        sample_site.routes[path] = (status, content_type, body)
    crawl = scrape("listing", "--db", db_path, "--delay", "0", "--retries", "0", "--pages", "1",
                   sample_site.url("listing-club-technicites.html"))
    assert crawl.returncode in (0, 1), crawl.stderr
    rows = runs(db_path)
    assert [str(row["command"]).split()[:2] for row in rows] == [
        ["scrape", "url"], ["scrape", "import"], ["reparse"], ["scrape", "listing"]]
    for row in rows:
        assert all(row[name] is not None for name in RUN_COUNTS), row
        assert row["stored"] == row["inserted"] + row["updated"] + row["unchanged"], row  # type: ignore[operator]
    url, imported, reparsed, listing = rows
    assert (url["fetched"], url["stored"], url["inserted"], url["bytes"] > 0) == (0, 1, 1, True)  # type: ignore[operator]
    assert (imported["stored"], imported["inserted"], imported["skipped"]) == (1, 1, 0)
    assert (reparsed["stored"], reparsed["unchanged"], reparsed["fetched"]) == (2, 2, 0)  # both pages read again
    assert listing["stored"] >= 1 and listing["fetched"] >= 1
    with sqlite3.connect(db_path) as connection:
        failed = connection.execute("select count(*) from fetches where run_id = ? and error is not null",
                                    [listing["id"]]).fetchone()[0]
    assert listing["failed"] == failed


def test_url_counts_a_304_as_not_modified_not_as_fetched(httpserver: HTTPServer, tmp_path: Path) -> None:
    page = (SAMPLES / "article-free-2018.html").read_bytes()
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/457321/x/", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    httpserver.expect_request("/457321/x/").respond_with_data(page, content_type="text/html; charset=utf-8",
                                                              headers={"ETag": '"v1"'})
    db = tmp_path / "archive.db"
    url = httpserver.url_for("/457321/x/")
    for _ in range(2):
        result = scrape("url", "--db", db, "--delay", "0", url)
        assert result.returncode == 0, result.stderr
    first, second = runs(db)
    assert (first["fetched"], first["not_modified"], first["stored"], first["bytes"]) == (1, 0, 1, len(page))
    assert (second["fetched"], second["not_modified"], second["stored"], second["bytes"]) == (0, 1, 0, 0)
