"""One dossier filter for every command: `scrape export`, `scrape search` and the Datasette canned query pick
the same dossiers for the same words or URL, whatever the scheme, the page of the dossier or the case."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MANIFEST, SAMPLES, scrape

from scraper.archive import Archive
from scraper.site import site_id_from_url

DATASETTE = Path(sys.executable).parent / "datasette"
DOSSIER = MANIFEST["dossier-smart-city.html"]["url"]  # http://…/dossiers/smart-city-les-cles-de-la-ville-intelligente/


@pytest.fixture(scope="module")
def samples_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("queries") / "archive.db"
    names = [name for name in MANIFEST if name.endswith(".html")]
    assert scrape("url", "--db", db, "-q", *(SAMPLES / name for name in names)).exit_code == 0
    return db


WAYS_TO_NAME_IT = [
    DOSSIER,
    DOSSIER.replace("http://", "https://"),  # the site moved to https
    DOSSIER + "page/2/",  # any page of it
    DOSSIER.rstrip("/"),
    "clés de la ville",
    "CLÉS DE LA VILLE",  # accented capitals fold like the title's
    "Smart City",
]


@pytest.mark.parametrize("words", WAYS_TO_NAME_IT)
def test_every_way_of_naming_the_dossier_finds_it(samples_db: Path, words: str) -> None:
    with Archive(samples_db) as archive:
        assert len(archive.articles.matching_dossier_ids(words)) == 1


@pytest.mark.parametrize("words", ["voirie", "https://www.lagazettedescommunes.com/dossiers/smart-city/",
                                   DOSSIER + "autre/"])
def test_other_words_or_urls_do_not(samples_db: Path, words: str) -> None:
    with Archive(samples_db) as archive:
        assert archive.articles.matching_dossier_ids(words) == []


@pytest.mark.slow
@pytest.mark.parametrize("words", [DOSSIER.replace("http://", "https://") + "page/2/", "CLÉS DE LA VILLE"])
def test_export_search_and_datasette_agree(samples_db: Path, tmp_path: Path, words: str) -> None:
    exported = json.loads(scrape("export", "--db", samples_db, "--dossier", words).stdout)
    searched = json.loads(scrape("search", "--fts", "smart OR ville OR eclairage OR telegestion", "--db", samples_db,
                                 "--dossier", words, "--json").stdout)
    assert {record["site_id"] for record in exported} >= {hit["site_id"] for hit in searched} != set()
    metadata = tmp_path / "metadata.json"
    metadata.write_text(scrape("datasette-metadata", "--db", samples_db).stdout, encoding="utf-8")
    answer = subprocess.run(
        [str(DATASETTE), str(samples_db), "-m", str(metadata), "--get",
         "/archive/paywalled_articles_of_dossier.json?_shape=array&dossier=" + words.replace(" ", "%20")],
        capture_output=True, text=True, timeout=60, check=True)
    paywalled = {record["site_id"] for record in exported if record["paywall"]["is_paywalled"]}
    rows = json.loads(answer.stdout)
    assert rows
    assert {row["dossier"] for row in rows} == {exported_dossier(exported)}
    listed = {site_id_from_url(row["url"]) for row in rows if row["article_id"]}
    assert listed >= {record["site_id"] for record in exported if record["site_id"] in paywalled
                      and record["dossier"]} != set()


def exported_dossier(records: list[dict]) -> str:
    return next(record["dossier"]["title"] for record in records if record["dossier"])
