"""`scrape search`: FTS5 over the archived articles, through real SQLite archives, the CLI and the console script."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MANIFEST, ingest_samples
from typer.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import app
from scraper.models import Article

SITE = "https://www.lagazettedescommunes.com"


def scrape(*args: str | Path):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def store_samples(db: Path) -> None:
    with Archive(db) as archive:
        ingest_samples(archive)


def article(site_id: int, title: str, body: str, **fields: object) -> Article:
    return Article(url=f"{SITE}/{site_id}/a/", title=title, site_id=site_id, body=body, **fields)


def hits(db: Path, *args: str) -> list[dict]:
    result = scrape("search", "--db", db, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def site_ids(db: Path, *args: str) -> list[int]:
    return [hit["site_id"] for hit in hits(db, *args)]


@pytest.fixture
def samples_db(db_path: Path) -> Path:
    store_samples(db_path)
    return db_path


@pytest.mark.parametrize("query", ["eclairage", "éclairage", "ECLAIRAGE", "Éclairage", "telegestion"])
def test_accents_and_case_do_not_matter(samples_db: Path, query: str) -> None:
    assert site_ids(samples_db, query) == [554402]  # "La télégestion de l’éclairage public…"


def test_ville_finds_ville_in_any_case(db_path: Path) -> None:
    with Archive(db_path) as archive:
        archive.store_record(article(1, "Ville intelligente : le bilan", "Rien d'autre."))
        archive.store_record(article(2, "Routes", "Le centre-ville se transforme."))
        archive.store_record(article(3, "Eau", "Les réseaux d'eau potable."))
    assert sorted(site_ids(db_path, "ville")) == [1, 2]
    assert sorted(site_ids(db_path, "VILLE")) == [1, 2]


def test_results_are_ranked_title_first_and_snippets_highlighted(db_path: Path) -> None:
    with Archive(db_path) as archive:
        archive.store_record(article(1, "Les budgets", "Un mot sur l'éclairage, en passant, parmi bien d'autres."))
        archive.store_record(article(2, "L'éclairage public", "La modernisation des réseaux."))
    found = hits(db_path, "eclairage")
    assert [hit["site_id"] for hit in found] == [2, 1]
    assert found[0]["rank"] < found[1]["rank"]  # bm25: lower is better
    assert "<mark>éclairage</mark>" in found[0]["snippet"]
    assert "<mark>éclairage</mark>" in found[1]["snippet"]


def test_fts_syntax_phrases_prefixes_and_columns(samples_db: Path) -> None:
    assert site_ids(samples_db, '"modèles économiques"') == [457321]
    assert site_ids(samples_db, "voiri*") == [431208]
    assert site_ids(samples_db, "title:voirie") == [431208]
    assert site_ids(samples_db, "eclairage OR voirie") != []


def test_filters_dossier_since_and_limit(samples_db: Path) -> None:
    assert 457321 in site_ids(samples_db, "smart OR eclairage OR voirie")
    assert site_ids(samples_db, "smart OR eclairage OR voirie", "--dossier", "clés de la ville") == [457321]
    dossier_url = MANIFEST["dossier-smart-city-page-2.html"]["url"].replace("http://", "https://")
    assert site_ids(samples_db, "smart OR eclairage", "--dossier", dossier_url) == [457321]
    assert set(site_ids(samples_db, "la", "--since", "2018-01-01")) == {554402}
    assert len(hits(samples_db, "la", "--limit", "1")) == 1
    assert len(hits(samples_db, "la")) == 3


def test_the_index_follows_upserts_and_deletes(db_path: Path) -> None:
    with Archive(db_path) as archive:
        archive.store_record(article(1, "Assainissement", "Les stations d'épuration."))
        assert site_ids(db_path, "epuration") == [1]
        archive.store_record(article(1, "Assainissement", "Le lagunage des petites communes."))
    assert site_ids(db_path, "epuration") == []
    assert site_ids(db_path, "lagunage") == [1]
    with sqlite3.connect(db_path) as connection:
        connection.execute("pragma foreign_keys = on")
        for table in ("article_versions", "article_authors", "article_themes", "article_paywall_phrases",
                      "article_links", "comments"):
            connection.execute(f"delete from {table} where article_id = (select id from articles where site_id = 1)")
        connection.execute("delete from articles where site_id = 1")
    assert site_ids(db_path, "lagunage") == []


def test_the_rich_table_shows_titles_and_the_match(samples_db: Path) -> None:
    result = scrape("search", "--db", samples_db, "telegestion")
    assert result.exit_code == 0, result.stderr
    assert "1 article matches" in result.stdout
    assert "télégestion" in result.stdout


def test_no_match_says_so(samples_db: Path) -> None:
    result = scrape("search", "--db", samples_db, "zzyzx")
    assert result.exit_code == 0
    assert "no article matches" in result.stderr


@pytest.mark.parametrize("query", ['"unbalanced', "smart-city", "AND", "nosuchcolumn:x", "NEAR(", "*"])
def test_a_malformed_query_is_a_one_line_usage_error(samples_db: Path, query: str) -> None:
    result = scrape("search", "--db", samples_db, query)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "invalid search query" in lines[0], result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_literal_searches_the_words_as_typed(samples_db: Path) -> None:
    assert site_ids(samples_db, "--literal", "smart-city") == [457321]


def test_the_console_script_exits_2_on_a_malformed_query(samples_db: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "scraper", "search", "--db", str(samples_db), '"oops'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: invalid search query")


@pytest.mark.parametrize(("args", "words"), [
    (("--since", "2018-13-45"), ("invalid date",)),
    (("--dossier", "no such dossier"), ("no dossier",)),
    (("--limit", "0"), ("--limit",)),
])
def test_bad_options_are_usage_errors(samples_db: Path, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    result = scrape("search", "--db", samples_db, "smart", *args)
    assert result.exit_code == 2
    for word in words:
        assert word in result.stderr


def test_a_missing_archive_is_a_usage_error(tmp_path: Path) -> None:
    result = scrape("search", "--db", tmp_path / "none.db", "x")
    assert result.exit_code == 2
    assert "no such archive" in result.stderr
