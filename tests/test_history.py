"""`scrape history ARTICLE`: an article's versions and what changed between them, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import scrape

from scraper.archive import Archive
from scraper.models import Article, Comment

URL = "https://www.lagazettedescommunes.com/554402/la-telegestion-de-leclairage-public/"
BODY = " ".join(f"Phrase numéro {number} du corps de l’article." for number in range(60))


def article(**changes: object) -> Article:
    fields: dict = {"url": URL, "site_id": 554402, "title": "La télégestion de l’éclairage public",
                    "authors": ["Marie Dupont"], "body": BODY, "comments_count": 1,
                    "comments": [Comment("technicien38", "2018-03-12T14:02:00", "Très utile.")]}
    fields.update(changes)
    return Article(**fields)


@pytest.fixture
def archive_db(db_path: Path) -> Path:
    """Three captures of one article: first seen, then retitled with a comment more, then its body edited."""
    second = {"title": "La télégestion de l’éclairage public séduit les petites communes", "comments_count": 2,
              "comments": [*article().comments, Comment("Marc L.", "2018-03-13T09:00:00", "Et le coût ?", 0)]}
    with Archive(db_path) as archive:
        archive.records.store(article(), seen_at="2018-03-12T10:00:00+00:00")
        archive.records.store(article(**second), seen_at="2018-03-14T10:00:00+00:00")
        archive.records.store(article(**second, body=BODY.replace("Phrase numéro 30 du", "La trentième phrase du")),
                             seen_at="2018-03-20T10:00:00+00:00")
        archive.records.store(Article(url=URL.replace("554402", "554403"), site_id=554403, title="Autre"))
    return db_path


def test_json_gives_every_version_and_the_changes_word_by_word(archive_db: Path) -> None:
    result = scrape("history", "554402", "--db", archive_db, "--json")
    assert result.exit_code == 0, result.stderr
    history = json.loads(result.stdout)
    assert (history["site_id"], history["url"], len(history["versions"])) == (554402, URL, 3)
    first, second, third = history["versions"]
    assert (first["version"], first["seen_from"], first["changed_fields"]) == (1, "2018-03-12T10:00:00.000Z", [])
    assert first["record"] == article().to_dict()
    assert second["changed_fields"] == ["title", "comments_count", "comments"]
    assert second["changes"]["title"] == {"words": [["=", "La télégestion de l’éclairage public"],
                                                    ["+", " séduit les petites communes"]]}
    assert second["changes"]["comments_count"] == {"before": 1, "after": 2}
    assert second["changes"]["comments"] == {"removed": [], "added": [
        {"author": "Marc L.", "posted_at": "2018-03-13T09:00:00", "text": "Et le coût ?", "in_reply_to": 0}]}
    assert (third["seen_from"], third["changed_fields"]) == ("2018-03-20T10:00:00.000Z", ["body"])
    assert ["-", "Phrase numéro 30"] in third["changes"]["body"]["words"]
    assert ["+", "La trentième phrase"] in third["changes"]["body"]["words"]


def test_the_terminal_shows_the_changes_with_a_few_words_around_them(archive_db: Path) -> None:
    result = scrape("history", URL, "--db", archive_db)  # by URL; not a terminal: plain markers
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "3 versions" in out
    assert "version 1 — first archived 2018-03-12T10:00:00.000Z" in out
    assert "version 2 — 2018-03-14T10:00:00.000Z: title, comments_count, comments" in out
    assert "title: La télégestion de l’éclairage public{+ séduit les petites communes+}" in out
    assert "comments_count: 1 → 2" in out
    assert '+ {"author": "Marc L."' in out
    assert "[-Phrase numéro 30-]{+La trentième phrase+}" in out
    assert "Phrase numéro 5 " not in out
    assert "…" in out  # the unchanged part of the body is cut
    assert "Phrase numéro 5 " in scrape("history", "554402", "--db", archive_db, "--full").stdout


def test_an_article_never_changed_has_one_version(archive_db: Path) -> None:
    history = json.loads(scrape("history", "554403", "--db", archive_db, "--json").stdout)
    assert [version["version"] for version in history["versions"]] == [1]


def test_an_article_the_archive_does_not_hold_is_one_line_and_exit_1(archive_db: Path) -> None:
    result = scrape("history", "999999", "--db", archive_db)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: no article 999999 in archive {archive_db}"
    assert scrape("history", "1", "--db", archive_db.with_name("none.db")).exit_code == 2


def test_help_shows_an_example() -> None:
    result = scrape("history", "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert "ARTICLE" in result.stdout
