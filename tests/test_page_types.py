"""The registry of page types (scraper.models.PAGE_TYPES): what the parser, the crawl, the refusal check and
`scrape parse --type` read, and a type registered from outside that the command line offers and parses with."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
from conftest import MANIFEST, SAMPLES

from scraper.models import PAGE_TYPES, Article, Dossier, PageType, page_kind, record_from_dict, unreadable_list
from scraper.parse import parse_page, parser_of
from scraper.refusal import holds_content

SAMPLE_OF_TYPE = {"article": "article-free-2018.html", "dossier": "dossier-smart-city.html",
                  "listing": "listing-club-technicites.html"}


def test_the_types_the_type_checker_knows_are_the_registered_ones() -> None:
    assert get_args(PageType) == tuple(PAGE_TYPES) == tuple(SAMPLE_OF_TYPE)


@pytest.mark.parametrize("name", list(SAMPLE_OF_TYPE))
def test_each_type_parses_its_sample_into_its_record_with_its_contract_keys(name: str) -> None:
    kind = page_kind(name)
    sample = SAMPLE_OF_TYPE[name]
    record = parse_page((SAMPLES / sample).read_bytes(), MANIFEST[sample]["url"])
    assert type(record) is kind.record and record.type == name
    assert tuple(record.to_dict()) == kind.keys
    assert record_from_dict(record.to_dict()).to_dict() == record.to_dict()
    assert holds_content(record)
    assert parser_of(name).__name__ == kind.parser.rsplit(":", 1)[1]


def test_an_unknown_type_is_a_value_error_and_never_breaks_the_parser() -> None:
    with pytest.raises(ValueError, match="unknown page type 'brief'"):
        page_kind("brief")
    with pytest.raises(ValueError, match="unknown record type"):
        record_from_dict({"type": "brief", "url": "u", "title": "t"})
    record = parse_page(b"<html><title>x</title></html>", "https://example.org/", page_type="brief")  # type: ignore[arg-type]
    assert isinstance(record, Article) and "unknown page type 'brief'" in record.warnings[0]


def test_only_a_type_that_lists_articles_can_be_an_unreadable_list() -> None:
    assert [name for name, kind in PAGE_TYPES.items() if kind.lists_articles] == ["dossier", "listing"]
    assert unreadable_list(Dossier(url="u", title="t", linked_articles=3)) is not None
    assert unreadable_list(Article(url="u", title="t")) is None
    assert not holds_content(Article(url="u", title="Connexion"))  # a login page parsed as an article


BRIEF_TYPE = '''
from dataclasses import dataclass, field
from scraper.models import PageKind, PageRecord, register_page_type

@dataclass
class Brief(PageRecord):
    url: str
    title: str
    warnings: list = field(default_factory=list)
    type: str = "brief"

def parse_brief(page):
    return Brief(url=page.url, title=page.data.first("og:title") or "")

register_page_type(PageKind("brief", Brief, ("type", "url", "title", "warnings"), "brief:parse_brief", "briefs",
                            False, lambda record: bool(record.title), lambda data: Brief(data["url"], data["title"])))
'''
REGISTERING_SCRAPE = '''
import sys
sys.path.insert(0, sys.argv.pop(1))
import brief
from scraper.cli import main
main(sys.argv[1:])
'''


def test_a_type_registered_from_outside_is_offered_by_scrape_parse_and_parsed_with(tmp_path: Path) -> None:
    (tmp_path / "brief.py").write_text(BRIEF_TYPE, encoding="utf-8")

    def scrape(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", REGISTERING_SCRAPE, str(tmp_path), *args], capture_output=True,
                              text=True, encoding="utf-8", timeout=120,
                              env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})

    help_text = " ".join(re.sub("[│╭╮╰╯─]", " ", scrape("parse", "--help").stdout).split())
    assert "<article|dossier|listing|brief>" in help_text
    sample = "article-free-2018.html"
    result = scrape("parse", "--type", "brief", str(SAMPLES / sample), "--url", MANIFEST[sample]["url"])
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert list(record) == ["type", "url", "title", "warnings"]
    assert record["type"] == "brief" and record["title"] and record["warnings"] == []
    assert scrape("parse", "--type", "memo", str(SAMPLES / sample)).returncode == 2  # not registered: no choice


def test_scrape_parse_reads_a_page_as_the_type_asked(tmp_path: Path) -> None:
    sample = "article-free-2018.html"
    result = subprocess.run([sys.executable, "-m", "scraper", "parse", "--type", "listing", str(SAMPLES / sample),
                             "--url", MANIFEST[sample]["url"]], capture_output=True, text=True, encoding="utf-8",
                            timeout=120)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["type"] == "listing" and list(record) == list(page_kind("listing").keys)
