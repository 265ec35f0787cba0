"""`scrape search`: what people type, in French, over the archived articles (FTS5, Snowball's French stemmer), through
real SQLite archives, the CLI and the console script."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MANIFEST, ingest_samples, scrape

from scraper.archive import SCHEMA_VERSION, Archive
from scraper.models import Article, Comment, DossierRef

SITE = "https://www.lagazettedescommunes.com"


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
        archive.records.store(article(1, "Ville intelligente : le bilan", "Rien d'autre."))
        archive.records.store(article(2, "Routes", "Le centre-ville se transforme."))
        archive.records.store(article(3, "Eau", "Les réseaux d'eau potable."))
    assert sorted(site_ids(db_path, "ville")) == [1, 2]
    assert sorted(site_ids(db_path, "VILLE")) == [1, 2]


def test_results_are_ranked_title_first_and_snippets_highlighted(db_path: Path) -> None:
    with Archive(db_path) as archive:
        archive.records.store(article(1, "Les budgets", "Un mot sur l'éclairage, en passant, parmi bien d'autres."))
        archive.records.store(article(2, "L'éclairage public", "La modernisation des réseaux."))
    found = hits(db_path, "eclairage")
    assert [hit["site_id"] for hit in found] == [2, 1]
    assert found[0]["rank"] < found[1]["rank"]  # bm25: lower is better
    assert "<mark>éclairage</mark>" in found[0]["snippet"]
    assert "<mark>éclairage</mark>" in found[1]["snippet"]


def test_fts_syntax_phrases_prefixes_and_columns(samples_db: Path) -> None:
    assert site_ids(samples_db, "--fts", '"modèles économiques"') == [457321]
    assert site_ids(samples_db, "--fts", "voiri*") == [431208]
    assert site_ids(samples_db, "--fts", "title:voirie") == [431208]
    assert site_ids(samples_db, "--fts", "eclairage OR voirie") != []


def test_filters_dossier_since_and_limit(samples_db: Path) -> None:
    assert 457321 in site_ids(samples_db, "--fts", "smart OR eclairage OR voirie")
    assert site_ids(samples_db, "--fts", "smart OR eclairage OR voirie", "--dossier", "clés de la ville") == [457321]
    dossier_url = MANIFEST["dossier-smart-city-page-2.html"]["url"].replace("http://", "https://")
    assert site_ids(samples_db, "--fts", "smart OR eclairage", "--dossier", dossier_url) == [457321]
    assert set(site_ids(samples_db, "la", "--since", "2018-01-01")) == {554402}
    assert len(hits(samples_db, "la", "--limit", "1")) == 1
    assert len(hits(samples_db, "la")) == 3


def test_the_index_follows_upserts_and_deletes(db_path: Path) -> None:
    with Archive(db_path) as archive:
        archive.records.store(article(1, "Assainissement", "Les stations d'épuration."))
        assert site_ids(db_path, "epuration") == [1]
        archive.records.store(article(1, "Assainissement", "Le lagunage des petites communes."))
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
    assert "1 article matches 'telegestion'" in result.stdout
    assert "télégestion" in result.stdout


def test_no_match_says_so(samples_db: Path) -> None:
    result = scrape("search", "--db", samples_db, "zzyzx")
    assert result.exit_code == 0
    assert "no article matches" in result.stderr


@pytest.mark.parametrize("query", ['"unbalanced', "smart-city", "AND", "nosuchcolumn:x", "NEAR(", "*"])
def test_a_malformed_fts_query_is_a_one_line_usage_error(samples_db: Path, query: str) -> None:
    result = scrape("search", "--db", samples_db, "--fts", query)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "invalid search query" in lines[0], result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_literal_is_still_accepted_and_searches_the_words_as_typed(samples_db: Path) -> None:
    assert site_ids(samples_db, "--literal", "smart-city") == site_ids(samples_db, "smart-city") == [457321]


def test_the_console_script_exits_2_on_a_malformed_fts_query(samples_db: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "scraper", "search", "--db", str(samples_db), "--fts", '"oops'],
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


# --- what people type ---------------------------------------------------------------------------------------------

@pytest.fixture
def typed_db(samples_db: Path) -> Path:
    """The samples, and articles written with the words people type: elisions, hyphens, ligatures, plurals."""
    with Archive(samples_db) as archive:
        archive.records.store(article(900001, "Main-d’œuvre : les collectivités peinent à recruter",
                                     "Les métiers techniques manquent de bras.", authors=["Hélène Girard"]))
        archive.records.store(article(900002, "Voirie : la saison des trous",
                                     "Les nids-de-poule abîment les chaussées communales après l’hiver.",
                                     themes=["Routes et mobilité"]))
        archive.records.store(article(900003, "C'est l'heure du bilan", "Un exercice budgétaire serré.",
                                     dossier=DossierRef("Finances locales : le guide", f"{SITE}/dossiers/finances/"),
                                     comments=[Comment("lecteur", None, "Et les lampadaires, qui les paie ?")]))
    return samples_db


@pytest.mark.parametrize(("query", "expected"), [
    ("l'éclairage", [554402]),
    ("l’éclairage", [554402]),
    ("C'est", [900003, 457321, 431208]),  # as a phrase: in the title of one, in the body of two samples
    ("main-d'œuvre", [900001, 431208]),  # in a title, in a body (the sample on roads' costs)
    ("main-d’oeuvre", [900001, 431208]),
    ("oeuvre", [900001, 431208]),
    ("œuvres", [900001, 431208]),
    ("chaussee", [431208, 900002]),  # "Voirie : le coût de l’entretien des chaussées"; "les chaussées" in a body
    ("CHAUSSÉE", [431208, 900002]),
    ("nids-de-poule", [900002, 431208]),  # in a body; in a comment of the sample
    ("nid de poules", [900002, 431208]),
    ("saisons", [900002]),
    ("recrute", [900001]),
    ("lampadaire", [554402, 900003]),  # in a body; in a comment
    ("girard", [900001]),
    ("mobilite", [900002]),
    ("finances", [431208, 900003]),  # a theme of the sample; a dossier's title
])
def test_typed_queries_find_inflected_folded_words_in_every_field(typed_db: Path, query: str,
                                                                   expected: list[int]) -> None:
    assert site_ids(typed_db, query) == expected


@pytest.mark.parametrize("query", ["l'éclairage", "C'est", "main-d'œuvre", "nids-de-poule", "title:voirie", '"oops',
                                   "NEAR(", "*", "AND", "(voirie OR", "a:b:c", "smart-city", "«\u00a0ville\u00a0»",
                                   "-voirie", "voirie^2", "'", "l'"])
def test_a_typed_query_never_is_an_sql_error(typed_db: Path, query: str) -> None:
    result = scrape("search", "--db", typed_db, "--", query)
    assert result.exit_code in (0, 2), result.output
    assert "syntax" not in result.stderr
    assert "no such column" not in result.stderr
    if result.exit_code == 2:  # a query of no word at all
        assert result.stderr.strip() == f"error: no word to search for in {query!r}"


def test_every_word_must_match_but_in_any_field(typed_db: Path) -> None:
    assert site_ids(typed_db, "girard recruter") == [900001]  # an author and a word of the title
    assert site_ids(typed_db, "lampadaire bilan") == [900003]  # a comment and the title
    assert site_ids(typed_db, "girard lampadaire") == []


def test_each_hit_says_where_it_matched(typed_db: Path) -> None:
    assert hits(typed_db, "hivers")[0]["matched_in"] == ["body"]
    assert hits(typed_db, "voirie trous")[0]["matched_in"] == ["title"]
    assert hits(typed_db, "mobilités")[0]["matched_in"] == ["themes"]
    assert hits(typed_db, "guide")[0]["matched_in"] == ["dossier"]
    (found,) = hits(typed_db, "girard")
    assert (found["matched_in"], found["snippet"]) == (["authors"], "authors: Hélène <mark>Girard</mark>")
    (_, found) = hits(typed_db, "lampadaires")
    assert found["matched_in"] == ["comments"]
    assert found["snippet"] == "comment: Et les <mark>lampadaires</mark>, qui les paie ?"
    assert "<mark>chaussées</mark>" in hits(typed_db, "chaussee")[1]["snippet"]


def test_the_words_as_typed_rank_before_other_words_of_their_stem(typed_db: Path) -> None:
    assert site_ids(typed_db, "voirie")[:2] == [900002, 431208]  # "Voirie : …" in both titles
    assert 457321 in site_ids(typed_db, "voirie")  # "voir", the same stem to Snowball, in its body


def test_inflected_forms_rank_title_matches_first(db_path: Path) -> None:
    with Archive(db_path) as archive:
        archive.records.store(article(1, "Budgets", "Les chaussées, un poste parmi d'autres dépenses des communes."))
        archive.records.store(article(2, "La chaussée rénovée", "Un chantier de trois mois."))
        for site_id in range(3, 13):  # what bm25 weighs a word's rarity against
            archive.records.store(article(site_id, f"Eau n°{site_id}", "Les réseaux d'eau potable."))
    assert site_ids(db_path, "chaussees") == [2, 1]


def test_the_header_says_how_many_are_shown_of_how_many(db_path: Path) -> None:
    with Archive(db_path) as archive:
        for site_id in range(1, 31):
            archive.records.store(article(site_id, f"Voirie n°{site_id}", "Des routes."))
    result = scrape("search", "--db", db_path, "voirie", "--limit", "20")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("showing 20 of 30 articles matching 'voirie'")
    result = scrape("search", "--db", db_path, "voirie", "--limit", "20", "--json")
    assert len(json.loads(result.stdout)) == 20
    assert "showing 20 of 30 matching articles" in result.stderr


def test_the_whole_url_shows_on_an_80_column_terminal(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    url = f"{SITE}/600001/la-telegestion-de-leclairage-public-seduit-les-petites-communes-rurales-du-departement/"
    with Archive(db) as archive:
        archive.records.store(Article(url=url, title="La télégestion de l’éclairage public séduit les communes",
                                     site_id=600001, body="Les petites communes rurales s'équipent."))
    result = subprocess.run([sys.executable, "-m", "scraper", "search", "--db", str(db), "eclairage"],
                            capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert url in result.stdout.splitlines()
    found = hits(db, "eclairage")
    assert found[0]["url"] == url
    assert found[0]["matched_in"] == ["title"]


def test_a_query_of_thousands_of_words_is_refused_at_once(samples_db: Path) -> None:
    for query, fts in ((" ".join(f"mot{n}" for n in range(2000)), ()), (" OR ".join(["voirie"] * 2000), ("--fts",))):
        started = time.monotonic()
        result = scrape("search", "--db", samples_db, *fts, query)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: search query too long: ")
        assert result.stderr.count("\n") == 1
        assert time.monotonic() - started < 30  # a hang guard: a refusal reads no index
    assert scrape("search", "--db", samples_db, " ".join(["voirie"] * 32)).exit_code == 0


def test_comments_become_searchable_when_an_older_archive_is_opened(db_path: Path) -> None:
    with Archive(db_path) as archive:
        archive.records.store(article(1, "Budgets", "Rien.", comments=[Comment("x", None, "Les lampadaires.")]))
    with sqlite3.connect(db_path) as connection:  # as schema 7 left it: no index of the comments
        for trigger in ("comments_ai", "comments_ad", "comments_au"):
            connection.execute(f"drop trigger {trigger}")
        connection.execute("drop table comments_fts")
        connection.execute("pragma user_version = 7")
    assert scrape("search", "--db", db_path, "lampadaire").exit_code == 2  # read-only: says to bring it up to date
    with Archive(db_path) as archive:
        assert archive.schema_version() == SCHEMA_VERSION
    assert site_ids(db_path, "lampadaire") == [1]
