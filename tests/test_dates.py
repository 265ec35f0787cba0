"""Honest dates: every time the site shows is Paris time and gets Paris's offset that day (summer time
included); offsets given by the page are kept; dates stay dates; `scrape reparse` migrates stored records."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from conftest import MANIFEST, SAMPLES
from typer.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import app
from scraper.models import Article, Comment, FetchResult
from scraper.parse import parse_page
from scraper.parse.dates import from_french, from_iso


@pytest.mark.parametrize(("shown", "expected"), [
    ("12/03/2018 à 10h45", "2018-03-12T10:45:00+01:00"),  # winter: UTC+1
    ("12 juin 2018 à 10h45", "2018-06-12T10:45:00+02:00"),  # summer time: UTC+2
    ("24/03/2018 à 23h59", "2018-03-24T23:59:00+01:00"),  # the night before summer time begins
    ("25/03/2018 à 03h00", "2018-03-25T03:00:00+02:00"),  # summer time began at 2:00 that night
    ("28/10/2018 à 01h30", "2018-10-28T01:30:00+02:00"),  # still summer time
    ("28/10/2018 à 03h00", "2018-10-28T03:00:00+01:00"),  # back to winter at 3:00
    ("27/07/2016", "2016-07-27"),  # a date stays a date
    ("1er avril 2019", "2019-04-01"),
])
def test_a_time_the_site_shows_gets_the_paris_offset_of_that_day(shown: str, expected: str) -> None:
    assert from_french(shown) == expected


@pytest.mark.parametrize(("given", "expected"), [
    ("2016-07-26T18:00:00+02:00", "2016-07-26T18:00:00+02:00"),  # an offset given is kept
    ("2016-07-26T16:00:00Z", "2016-07-26T16:00:00+00:00"),
    ("2016-07-26T18:00:00+0200", "2016-07-26T18:00:00+02:00"),
    ("2018-03-12T10:45", "2018-03-12T10:45:00+01:00"),  # <time datetime> without a zone: the site's time
    ("2018-07-12 10:45:30", "2018-07-12T10:45:30+02:00"),
    ("2018-03-12", "2018-03-12"),
])
def test_structured_dates_keep_their_offset_and_naive_ones_are_paris_time(given: str, expected: str) -> None:
    assert from_iso(given) == expected


def test_every_moment_of_the_samples_is_one_instant() -> None:
    """pandas and SQLite can compare them: each date-time carries an offset, so they all parse as aware."""
    seen = 0
    for name, entry in MANIFEST.items():
        if not name.startswith("article-"):
            continue
        record = parse_page((SAMPLES / name).read_bytes(), entry["url"], content_type=entry["content_type"])
        moments = [record.published_at, record.updated_at, *(comment.posted_at for comment in record.comments)]
        for moment in filter(None, moments):
            if "T" in moment:
                assert datetime.fromisoformat(moment).tzinfo is not None, (name, moment)
                seen += 1
    assert seen >= 7


def test_reparse_gives_stored_records_their_offset(db_path: Path) -> None:
    """An archive made before dates had offsets: `scrape reparse` migrates it, keeping the old values as a
    version."""
    name = "article-free-2018.html"
    url = MANIFEST[name]["url"]
    result = FetchResult(url=url, final_url=url, status=200, fetched_at="2024-01-01T00:00:00+00:00",
                         body=(SAMPLES / name).read_bytes(), content_type=MANIFEST[name]["content_type"])
    record = parse_page(result.body, url, content_type=result.content_type)
    assert isinstance(record, Article)
    naive = replace(record, published_at=record.published_at[:19],
                    comments=[replace(comment, posted_at=comment.posted_at[:19]) for comment in record.comments])
    assert naive.published_at == "2018-03-12T10:45:00"
    assert isinstance(naive.comments[0], Comment)
    with Archive(db_path) as archive:
        archive.records.store(naive, fetch_id=archive.fetches.record(result), seen_at=result.fetched_at)

    outcome = CliRunner().invoke(app, ["reparse", "--db", str(db_path), "--json"])
    assert outcome.exit_code == 0, outcome.output

    with sqlite3.connect(db_path) as connection:
        published, stored = connection.execute(
            "select published_at, (select record from article_records where id = articles.id) from articles"
        ).fetchone()
        posted = [row[0] for row in connection.execute("select posted_at from comments order by position")]
    assert published == "2018-03-12T10:45:00+01:00" == json.loads(stored)["published_at"]
    assert posted[0] == "2018-03-12T14:02:00+01:00"
    with Archive(db_path) as archive:
        [before, after] = archive.versions.history(url).versions
    assert (before.record["published_at"], after.record["published_at"]) == ("2018-03-12T10:45:00",
                                                                               "2018-03-12T10:45:00+01:00")
