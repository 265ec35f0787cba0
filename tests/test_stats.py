"""`scrape stats`: what a real archive holds, as JSON and as rich tables, through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import MANIFEST, SAMPLES, scrape

from scraper.archive import Archive
from scraper.ingest import ingest
from scraper.ledger import RunLedger
from scraper.models import Article, DossierRef, FetchResult

UNREADABLE = b"<html><head><title>?</title></head><body><x-app><x-p>...</x-p></x-app></body></html>"


def fetch(url: str, body: bytes | None = None, **fields: object) -> FetchResult:
    return FetchResult(url=url, final_url=url, fetched_at="2024-01-01T00:00:00+00:00", body=body,
                       content_type="text/html; charset=UTF-8", **fields)


@pytest.fixture
def archive_db(db_path: Path) -> Path:
    """The samples, stored by a run, plus two failed fetches and one page the parser cannot read."""
    with Archive(db_path) as archive:
        run_id = archive.runs.start("url")
        for name, entry in MANIFEST.items():
            ingest(archive, fetch(entry["url"], (SAMPLES / name).read_bytes(), status=200), run_id=run_id)
        site = "https://www.lagazettedescommunes.com"
        ingest(archive, fetch(f"{site}/1/a/", status=None, error="timed out after 30 s", error_class="timeout"),
               run_id=run_id)
        ingest(archive, fetch(f"{site}/2/b/", status=404, error="HTTP 404", error_class="http_status"),
               run_id=run_id)
        ingest(archive, fetch(f"{site}/3/c/", status=404, error="HTTP 404", error_class="http_status"),
               run_id=run_id)
        ingest(archive, fetch(f"{site}/612345/illisible/", UNREADABLE, status=200), run_id=run_id)
        archive.runs.finish(run_id, RunLedger(fetched=14, failed=3, inserted=10))
    return db_path


def stats(db: Path) -> dict:
    result = scrape("stats", "--db", db, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_counts_and_paywalled_share(archive_db: Path) -> None:
    data = stats(archive_db)
    totals = data["archive"]
    assert (totals["articles"], totals["dossiers"], totals["authors"], totals["comments"]) == (4, 1, 3, 5)
    assert totals["fetches"] == 13
    assert totals["raw_bodies"] == 10
    assert data["paywall"] == {"articles": 4, "paywalled": 1, "free": 3, "share": 0.25}


def test_stats_count_the_raw_pages_compact_would_recompress_but_do_not_suggest_it_for_a_few(archive_db: Path
                                                                                             ) -> None:
    assert stats(archive_db)["archive"]["bodies_to_compact"] == 10  # too few pages for a dictionary yet
    assert "to compact" not in scrape("stats", "--db", archive_db).stdout
    assert scrape("compact", "--db", archive_db).exit_code == 0
    assert stats(archive_db)["archive"]["bodies_to_compact"] == 0


def test_dossiers_and_authors(archive_db: Path) -> None:
    data = stats(archive_db)
    [dossier] = data["dossiers"]
    assert dossier["title"] == "Smart city : les clés de la ville intelligente"
    assert (dossier["listed"], dossier["archived"], dossier["articles"], dossier["paywalled"]) == (10, 1, 1, 1)
    assert {author["name"] for author in data["authors"]} == {"Jean-Marc Le Goff", "Marie Dupont", "Sophie Marchand"}


def test_last_runs_and_errors_by_class(archive_db: Path) -> None:
    data = stats(archive_db)
    [run] = data["runs"]
    assert (run["command"], run["fetched"], run["failed"], run["stored"]) == ("url", 14, 3, 10)
    assert run["ended_at"] is not None
    assert [(error["error_class"], error["fetches"], error["urls"]) for error in data["errors"]] == [
        ("http_status", 2, 2), ("timeout", 1, 1)]


def test_pages_with_warnings_and_canary_flags(archive_db: Path) -> None:
    data = stats(archive_db)
    assert data["warnings"]["total"] == 1
    [page] = data["warnings"]["pages"]
    assert page["url"].endswith("/612345/illisible/")
    assert page["warnings"]
    assert data["canary"]["total"] == 1
    assert data["canary"]["pages"][0]["url"].endswith("/612345/illisible/")


def test_rich_tables(archive_db: Path) -> None:
    result = scrape("stats", "--db", archive_db)
    assert result.exit_code == 0, result.stderr
    for title in ("Dossiers", "Last runs", "Fetch errors by class", "Pages with parse warnings (1)",
                  "Pages flagged by the canary (1)", "paywalled", "1 (25%)", "http_status", "timeout"):
        assert title in result.stdout, title


def test_an_empty_archive(db_path: Path) -> None:
    Archive(db_path).close()
    data = stats(db_path)
    assert data["archive"]["articles"] == 0
    assert data["paywall"]["share"] == 0.0
    assert data["runs"] == []
    assert data["errors"] == []
    assert data["canary"] == {"total": 0, "pages": []}
    assert scrape("stats", "--db", db_path).exit_code == 0


def test_a_missing_archive_is_a_usage_error(tmp_path: Path) -> None:
    result = scrape("stats", "--db", tmp_path / "none.db")
    assert result.exit_code == 2
    assert "no such archive" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_help_shows_an_example() -> None:
    for command in ("stats", "search", "check", "reparse"):
        result = scrape(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout, command


def many_dossiers(db_path: Path, dossiers: int) -> None:
    """`dossiers` dossiers, dossier n named by n + 1 articles, each article signed by its own author."""
    site = "https://www.lagazettedescommunes.com"
    with Archive(db_path) as archive:
        site_id = 700000
        for number in range(dossiers):
            for _ in range(number + 1):
                site_id += 1
                archive.records.store(Article(url=f"{site}/{site_id}/a/", title=f"Article {site_id}", site_id=site_id,
                                             authors=[f"Auteur {number}"],
                                             dossier=DossierRef(f"Dossier {number:02}", f"{site}/dossiers/d{number}/")))


def test_lists_show_their_top_rows_unless_all(db_path: Path) -> None:
    many_dossiers(db_path, 15)
    result = scrape("stats", "--db", db_path)
    assert result.exit_code == 0, result.stderr
    assert "Dossiers with the most articles (10 of 15)" in result.stdout
    assert "Dossier 14" in result.stdout
    assert "Dossier 04" not in result.stdout  # the 5 smallest are left out
    assert "Most published authors (10 of 15)" in result.stdout
    assert "--all shows every row" in result.stdout
    every = scrape("stats", "--db", db_path, "--all").stdout
    assert "Dossier 04" in every
    assert "(10 of 15)" not in every
    data = stats(db_path)  # --json: every row
    assert [dossier["title"] for dossier in data["dossiers"]] == [f"Dossier {n:02}" for n in range(14, -1, -1)]
    assert data["dossiers"][0]["articles"] == 15
    assert len(data["authors"]) == 15


def test_stats_read_indexes_not_the_articles_or_the_raw_pages(db_path: Path) -> None:
    """Every query of `scrape stats` is answered from indexes: none reads the whole articles table (their texts)
    or bodies table (the raw pages), so it takes about the same time for 1,000 articles as for 100,000."""
    from scraper.archive.stats import archive_stats

    many_dossiers(db_path, 3)
    with Archive(db_path) as archive:
        statements: list[str] = []
        archive.db.conn.set_trace_callback(statements.append)
        archive_stats(archive, limit=10)
        archive.db.conn.set_trace_callback(None)
        scans = []
        for sql in statements:
            if not sql.lstrip().lower().startswith(("select", "with")):
                continue
            for row in archive.db.execute(f"explain query plan {sql}", _parameters(sql)).fetchall():
                detail = row[-1]
                if re.fullmatch(r"SCAN (articles|bodies)", detail):  # a scan of the table itself, no index
                    scans.append((sql.split()[:8], detail))
    assert statements
    assert scans == []


def _parameters(sql: str) -> list[int]:
    return [10] * sql.count("?")


def test_the_last_runs_stay_short_whatever_the_command_line(db_path: Path, tmp_path: Path) -> None:
    # One `scrape url` of 1,500 files made "Last runs" 1,500 lines long: each source was in its command.
    sample = (SAMPLES / "article-free-2018.html").read_bytes()
    files = []
    for number in range(40):
        path = tmp_path / f"page-{number:04}.html"
        path.write_bytes(sample)
        files.append(path)
    listing = tmp_path / "files.txt"
    listing.write_text("\n".join(map(str, files[20:])) + "\n", encoding="utf-8")
    assert scrape("url", *files[:20], "--db", db_path).exit_code == 0
    assert scrape("url", "-i", listing, "--db", db_path).exit_code == 0
    assert scrape("url", files[0], "--db", db_path).exit_code == 0
    with Archive(db_path) as archive:  # a run an older version stored with its 1,500 sources
        command = " ".join(["scrape url", *[f"/data/page-{n}.html" for n in range(1500)]])
        archive.runs.finish(archive.runs.start(command), RunLedger())
    runs = json.loads(scrape("stats", "--db", db_path, "--json").stdout)["runs"]
    assert [run["command"] for run in runs[1:]] == [f"scrape url {files[0]}", f"scrape url -i {listing} (20 sources)",
                                                    "scrape url (20 sources)"]
    assert runs[0]["command"].endswith("… (1,502 words)")
    assert len(runs[0]["command"]) < 140
    shown = scrape("stats", "--db", db_path)
    assert shown.exit_code == 0
    assert len(shown.stdout.splitlines()) < 120
