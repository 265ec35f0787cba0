"""The canary: a redesigned page the parser cannot read, fetched over HTTP into an archive holding the
samples, warns loudly, is marked in the archive and listed by `scrape stats`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import MANIFEST, SAMPLES, SampleSite, scrape

from scraper import canary
from scraper.archive import Archive
from scraper.archive.canary import KINDS as CANARY_SQL
from scraper.archive.canary import TABLE
from scraper.ingest import ingest
from scraper.models import FetchResult

# A page of a site redesigned with markup no generation of the theme used: no structured data, no known
# class, no French label the parser knows. Only its <title> and its URL can be read.
REDESIGNED = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>La Gazette</title></head>
<body><gz-app><gz-hero><gz-headline>Les communes face à la sécheresse</gz-headline>
<gz-standfirst>Arrêtés, restrictions, réserves : ce que font les élus.</gz-standfirst></gz-hero>
<gz-prose><gz-para>Depuis le printemps, les préfectures multiplient les arrêtés.</gz-para></gz-prose>
</gz-app></body></html>""".encode()
PATH = "/612345/les-communes-face-a-la-secheresse/"


def store(db: Path, names: list[str]) -> None:
    with Archive(db) as archive:
        for name in names:
            entry = MANIFEST[name]
            ingest(archive, FetchResult(url=entry["url"], final_url=entry["url"], status=200,
                                        fetched_at="2024-01-01T00:00:00+00:00", body=(SAMPLES / name).read_bytes(),
                                        content_type=entry["content_type"]))


def flags(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(f"select url, kind, missing from {TABLE}").fetchall()


@pytest.fixture
def samples_db(db_path: Path) -> Path:
    store(db_path, list(MANIFEST))
    return db_path


def test_a_redesigned_page_warns_is_marked_and_listed(samples_db: Path, sample_site: SampleSite) -> None:
    url = sample_site.add(PATH, REDESIGNED)
    result = scrape("url", "--db", samples_db, "--delay", "0", url)
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr
    assert "the site's markup may have changed" in result.stderr
    assert url in result.stderr
    assert flags(samples_db) == [(url, "article", json.dumps(["date", "teaser", "paywall state"]))]
    stats = scrape("stats", "--db", samples_db, "--json")
    assert stats.exit_code == 0, stats.stderr
    flagged = json.loads(stats.stdout)["canary"]
    assert flagged["total"] == 1
    assert flagged["pages"][0]["url"] == url
    assert flagged["pages"][0]["missing"] == ["date", "teaser", "paywall state"]
    assert "Pages flagged by the canary (1)" in scrape("stats", "--db", samples_db).stdout


def test_the_alarm_follows_quiet_and_json(samples_db: Path, sample_site: SampleSite) -> None:
    url = sample_site.add(PATH, REDESIGNED)
    quiet = scrape("url", "--db", samples_db, "--delay", "0", "-q", url)
    assert quiet.exit_code == 0, quiet.output
    assert "WARNING" not in quiet.stderr
    assert quiet.stdout == ""
    as_json = scrape("url", "--db", samples_db, "--delay", "0", "--json", url)
    [page] = json.loads(as_json.stdout)
    assert page["canary"].startswith(f"the site's markup may have changed: {url}: no date")


def test_pages_the_parser_reads_raise_no_alarm(db_path: Path, sample_site: SampleSite) -> None:
    store(db_path, [name for name in MANIFEST if name != "article-2016-cp1252.html"])
    url = sample_site.url("article-2016-cp1252.html")
    result = scrape("url", "--db", db_path, "--delay", "0", url)
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr
    with Archive(db_path) as archive:
        assert archive.canary.pages() == []


def test_no_alarm_before_the_archive_knows_what_pages_yield(db_path: Path, sample_site: SampleSite) -> None:
    store(db_path, ["article-free-2018.html"])  # one earlier article is not enough to judge by
    result = scrape("url", "--db", db_path, "--delay", "0", sample_site.add(PATH, REDESIGNED))
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr


def test_the_flag_is_cleared_when_the_page_is_read_again(samples_db: Path, sample_site: SampleSite) -> None:
    url = sample_site.add(PATH, REDESIGNED)
    scrape("url", "--db", samples_db, "--delay", "0", url)
    assert len(flags(samples_db)) == 1
    # The site is back to markup the parser reads: the same article (same id) comes back whole.
    readable = (SAMPLES / "article-2016-cp1252.html").read_bytes().replace(b"431208", b"612345")
    sample_site.add(PATH, readable, content_type=MANIFEST["article-2016-cp1252.html"]["content_type"])
    result = scrape("url", "--db", samples_db, "--delay", "0", url)
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr
    assert flags(samples_db) == []


def test_flagged_articles_do_not_lower_the_baseline(samples_db: Path) -> None:
    with Archive(samples_db) as archive:
        for number in range(5):  # a redesign: page after page comes back empty
            result = FetchResult(url=f"https://www.lagazettedescommunes.com/7000{number}/x/", status=200,
                                 fetched_at="2024-02-01T00:00:00+00:00", body=REDESIGNED,
                                 content_type="text/html; charset=utf-8")
            assert ingest(archive, result).canary is not None  # every one of them, not only the first few
        assert len(archive.canary.pages()) == 5


def test_reparse_lists_the_flagged_pages_loudly(samples_db: Path, sample_site: SampleSite) -> None:
    url = sample_site.add(PATH, REDESIGNED)
    scrape("url", "--db", samples_db, "--delay", "0", url)
    result = scrape("reparse", "--db", samples_db)
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr
    assert url in result.stderr
    assert len(flags(samples_db)) == 1  # still unreadable: still flagged


def test_baseline_and_inspect() -> None:
    base = canary.Baseline("article", pages=10, shares={"title": 1.0, "date": 0.9, "teaser": 0.5,
                                                        "paywall state": 1.0})
    assert base.expected() == ["title", "date", "paywall state"]  # half the articles had a teaser: not expected
    assert canary.Baseline("article", pages=2, shares=dict.fromkeys(base.shares, 1.0)).expected() == []


def test_the_rules_and_the_archive_name_the_same_core_fields() -> None:
    """The canary's rules (scraper.canary) see a field in a record, the archive counts it in SQL under the same
    name (scraper.archive.canary): a field one side lacks would make every judgement of its kind fail."""
    assert {kind: [field.name for field in fields] for kind, fields in canary.CORE_FIELDS.items()} == {
        kind: list(spec.fields) for kind, spec in CANARY_SQL.items()}
