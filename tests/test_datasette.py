"""The archive in Datasette: every table, view and canned query answers, with labels and descriptions.

Datasette runs in-process through its own test client (`Datasette.client`, an httpx client on the ASGI app),
on an archive built from the bundled samples. Datasette is in the `test` extra, so this runs in CI.
"""

from __future__ import annotations

import asyncio
import html
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from conftest import MANIFEST, SAMPLES
from datasette.app import Datasette

from scraper.archive import Archive
from scraper.datasette import HEAVY_COLUMNS, NEWEST_FIRST, QUERIES, datasette_metadata, page_css
from scraper.ingest import ingest
from scraper.ledger import RunLedger
from scraper.models import FetchResult
from scraper.sources import read_local

SMART_CITY = "La Smart city à la recherche de modèles économiques"
TELEGESTION = "La télégestion de l’éclairage public séduit les petites communes"
# Tables and views the samples fill (crawl_queue stays empty: nothing was crawled).
FILLED = {
    "articles", "dossiers", "dossier_articles", "listings", "listing_items", "authors", "article_authors",
    "themes", "article_themes", "paywall_markers", "related_links", "comments", "article_versions", "fetches",
    "bodies", "runs", "article_details", "dossier_contents", "fetch_errors", "links", "article_links",
    "paywall_phrases", "article_paywall_phrases", "header_sets", "fetch_details",
}


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML samples stored as `scrape url samples/*.html` stores them, one failed fetch and one run."""
    path = tmp_path_factory.mktemp("datasette") / "archive.db"
    with Archive(path) as archive:
        run_id = archive.runs.start("url samples")
        for name in sorted(MANIFEST):
            if name.endswith(".html"):
                ingest(archive, read_local(SAMPLES / name), run_id=run_id)
        archive.fetches.record(FetchResult(url="https://www.lagazettedescommunes.com/1/gone/", status=503,
                                         error="HTTP 503 Service Unavailable", error_class="http_status"),
                             run_id=run_id)
        archive.runs.finish(run_id, RunLedger(fetched=9, failed=1))
    return path


def schema(path: Path) -> dict[str, list[str]]:
    """Every table and view of the archive with its columns."""
    with Archive(path) as archive:
        names = [row["name"] for row in archive.db.query(
            "select name from sqlite_master where type in ('table', 'view') and name not like 'articles_fts%'")]
        return {name: [column for (_, column, *_rest) in archive.db.execute(f"pragma table_info([{name}])")]
                for name in names}


@pytest.fixture(scope="module")
def responses(archive_path: Path) -> Iterator[dict[str, Any]]:
    """GET every path the tests look at, once, through Datasette's own test client."""
    metadata = datasette_metadata(archive_path)
    tables = schema(archive_path)
    paths = [f"/archive/{name}.json?_shape=objects&_size=max" for name in tables]
    paths += [f"/archive/{name}" for name in tables]  # the HTML pages, with their descriptions
    paths += [
        "/archive/articles.json?_shape=objects&_labels=on",
        "/archive/article_authors.json?_shape=objects&_labels=on",
        "/archive/paywalled_articles_of_dossier.json?_shape=objects&dossier=smart",
        "/archive/paywalled_articles_of_dossier.json?_shape=objects&dossier=nothing%20like%20this",
        "/archive/most_commented_articles.json?_shape=objects",
        "/archive/articles_by_author.json?_shape=objects&author=Dupont",
        "/archive/changed_articles.json?_shape=objects",
        "/archive/articles.json?_shape=objects&_search=eclairage",
        "/-/metadata.json",
    ]

    async def get_all() -> dict[str, Any]:
        datasette = Datasette([str(archive_path)], metadata=metadata)
        await datasette.invoke_startup()
        return {path: await datasette.client.get(path) for path in paths}

    yield asyncio.run(get_all())


def rows(responses: dict[str, Any], path: str) -> list[dict[str, Any]]:
    response = responses[path]
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()["rows"]


def test_metadata_describes_what_the_archive_holds(archive_path: Path) -> None:
    tables = schema(archive_path)
    described = datasette_metadata(archive_path)["databases"]["archive"]["tables"]
    assert set(described) <= set(tables)
    assert FILLED | {"crawl_queue"} <= set(described)
    for name, table in described.items():
        assert table["description"]
        assert set(table.get("columns", {})) <= set(tables[name]), name
        if "label_column" in table:
            assert table["label_column"] in tables[name]


def test_every_table_and_view_answers(archive_path: Path, responses: dict[str, Any]) -> None:
    for name in schema(archive_path):
        found = rows(responses, f"/archive/{name}.json?_shape=objects&_size=max")
        if name in FILLED | {"crawl_queue"}:  # tables other areas add only have to answer
            assert bool(found) == (name in FILLED), name
        assert responses[f"/archive/{name}"].status_code == 200


def test_table_pages_show_their_descriptions(responses: dict[str, Any]) -> None:
    assert "History: one row each time an article" in responses["/archive/article_versions"].text
    assert "The rubric line above the title" in responses["/archive/articles"].text
    served = responses["/-/metadata.json"].json()
    assert served["title"] == "Club Techni.Cités archive"
    assert "source" in served
    assert "license" in served


def test_foreign_keys_show_labels(responses: dict[str, Any]) -> None:
    articles = {row["title"]: row for row in rows(responses, "/archive/articles.json?_shape=objects&_labels=on")}
    assert articles[SMART_CITY]["dossier_id"]["label"] == "Smart city : les clés de la ville intelligente"
    names = {row["author_id"]["label"] for row in
             rows(responses, "/archive/article_authors.json?_shape=objects&_labels=on")}
    assert {"Marie Dupont", "Jean-Marc Le Goff", "Sophie Marchand"} <= names
    assert {row["article_id"]["label"] for row in
            rows(responses, "/archive/article_authors.json?_shape=objects&_labels=on")} >= {TELEGESTION}


def test_full_text_search_ignores_accents(responses: dict[str, Any]) -> None:
    found = rows(responses, "/archive/articles.json?_shape=objects&_search=eclairage")
    assert TELEGESTION in [row["title"] for row in found]


def test_canned_queries(responses: dict[str, Any]) -> None:
    paywalled = rows(responses, "/archive/paywalled_articles_of_dossier.json?_shape=objects&dossier=smart")
    assert paywalled
    assert {row["dossier"] for row in paywalled} == {"Smart city : les clés de la ville intelligente"}
    assert SMART_CITY in [row["title"] for row in paywalled]
    assert rows(responses, "/archive/paywalled_articles_of_dossier.json?_shape=objects"
                           "&dossier=nothing%20like%20this") == []

    commented = rows(responses, "/archive/most_commented_articles.json?_shape=objects")
    assert [(row["title"], row["comments"]) for row in commented][:2] == [
        (TELEGESTION, 4), ("Voirie : le coût de l’entretien des chaussées", 1)]

    by_author = rows(responses, "/archive/articles_by_author.json?_shape=objects&author=Dupont")
    assert [(row["author"], row["title"]) for row in by_author] == [("Marie Dupont", TELEGESTION)]

    changed = rows(responses, "/archive/changed_articles.json?_shape=objects")
    assert [row["title"] for row in changed] == [SMART_CITY]
    assert changed[0]["versions"] == 1
    assert "paywall" in changed[0]["changed_fields"]


def test_every_canned_query_was_exercised(responses: dict[str, Any]) -> None:
    asked = {path.split("/")[2].split(".json")[0] for path in responses if path.startswith("/archive/")}
    assert set(QUERIES) <= asked


def test_datasette_metadata_command_names_the_database_after_the_file(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "scraper", "datasette-metadata", "--db", "gazette.db"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    metadata = json.loads(result.stdout)
    assert list(metadata["databases"]) == ["gazette"]
    assert set(metadata["databases"]["gazette"]["queries"]) == set(QUERIES)
    assert not (tmp_path / "gazette.db").exists()  # printing metadata creates no archive


# --- readable pages (the browser test, tests/test_datasette_browser.py, checks what a reader sees) ------

def test_growing_tables_open_newest_first(archive_path: Path, responses: dict[str, Any]) -> None:
    described = datasette_metadata(archive_path)["databases"]["archive"]["tables"]
    tables = schema(archive_path)
    for name, column in NEWEST_FIRST.items():
        assert described[name]["sort_desc"] == column, name
        assert column in tables[name], name
    published = [row["published_at"] for row in rows(responses, "/archive/articles.json?_shape=objects&_size=max")]
    dated = [value for value in published if value]
    assert dated == sorted(dated, reverse=True)
    assert len(dated) >= 3


def test_the_pages_carry_their_stylesheet_and_script_and_the_api_keeps_every_column(
        archive_path: Path, responses: dict[str, Any]) -> None:
    metadata = datasette_metadata(archive_path)
    [css_url], [js_url] = metadata["extra_css_urls"], metadata["extra_js_urls"]
    css = unquote(css_url.split(",", 1)[1])
    assert css == page_css()
    assert css_url.startswith("data:text/css;")
    for table, columns in HEAVY_COLUMNS.items():
        for column in columns:
            assert f"body.table.table-{table} .col-{column}" in css
    assert "text-overflow: ellipsis" in css
    assert js_url.startswith("data:text/javascript;")
    page = responses["/archive/articles"].text
    assert 'class="table db-archive table-articles"' in page  # what the stylesheet's selectors name
    assert f'href="{html.escape(css_url)}"' in page or f'href="{css_url}"' in page
    articles = rows(responses, "/archive/articles.json?_shape=objects&_size=max")
    assert all(row["body"] is not None and row["record"] for row in articles if row["site_id"] == 554402)
