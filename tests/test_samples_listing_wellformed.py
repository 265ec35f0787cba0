"""The dossier, listing and feed samples are well-formed and agree with their expected records.

These tests check the samples themselves (not the parser): each file is in samples/manifest.json,
decodes, links what its expected record says it lists, and each expected JSON is exactly what
`record_from_dict(...).to_dict()` gives back.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest

from scraper.models import Dossier, Listing, record_from_dict

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
EXPECTED = ROOT / "tests" / "expected"
SITE = "http://www.lagazettedescommunes.com"

PAGES = {
    "dossier-smart-city": Dossier,
    "dossier-smart-city-page-2": Dossier,
    "listing-club-technicites": Listing,
    "listing-club-technicites-page-2": Listing,
}
FEED = "feed-club-technicites"
FILES = [f"{stem}.html" for stem in PAGES] + [f"{FEED}.xml"]
SMART_CITY = SITE + "/457321/la-smart-city-a-la-recherche-de-modeles-economiques/"
FREE_ARTICLE = SITE + "/551234/eclairage-public-la-telegestion-fait-ses-preuves/"
ARTICLE_ID = re.compile(r"^/(\d+)/[^/]+/$")


class _PageScan(HTMLParser):
    """Collects <link rel> hrefs, <a> hrefs and the visible text (scripts and styles left out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: dict[str, list[str]] = {}
        self.anchors: list[tuple[str, str]] = []
        self.text_parts: list[str] = []
        self._skip = 0
        self._anchor: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "link" and "rel" in values:
            self.links.setdefault(values["rel"], []).append(values.get("href", ""))
        elif tag == "a" and "href" in values:
            self._anchor = (values["href"], [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "a" and self._anchor is not None:
            href, parts = self._anchor
            self.anchors.append((href, _normalise("".join(parts))))
            self._anchor = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text_parts.append(data)
        if self._anchor is not None:
            self._anchor[1].append(data)

    @property
    def text(self) -> str:
        return _normalise("".join(self.text_parts))


def _normalise(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def _manifest() -> dict[str, dict[str, str]]:
    return json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))


def _scan(file_name: str) -> _PageScan:
    scan = _PageScan()
    scan.feed((SAMPLES / file_name).read_bytes().decode("utf-8"))
    scan.close()
    return scan


def _expected(stem: str) -> Any:
    return json.loads((EXPECTED / f"{stem}.json").read_text(encoding="utf-8"))


def _post_id(url: str) -> int | None:
    match = ARTICLE_ID.match(urlsplit(url).path)
    return int(match.group(1)) if match else None


@pytest.mark.parametrize("name", FILES)
def test_manifest_describes_sample(name: str) -> None:
    entry = _manifest()[name]
    assert (SAMPLES / name).is_file()
    assert set(entry) == {"url", "content_type"}
    assert entry["url"].startswith(SITE + "/")
    expected_type = "application/rss+xml" if name.endswith(".xml") else "text/html"
    assert entry["content_type"] == f"{expected_type}; charset=UTF-8"


@pytest.mark.parametrize("stem", PAGES)
def test_html_sample_is_a_utf8_page_of_its_url(stem: str) -> None:
    raw = (SAMPLES / f"{stem}.html").read_bytes()
    text = raw.decode("utf-8")  # raises on a stray cp1252 byte
    assert text.startswith("<!DOCTYPE html>")
    assert text.rstrip().endswith("</html>")
    assert 'charset=UTF-8"' in text
    scan = _scan(f"{stem}.html")
    assert scan.links["canonical"] == [_manifest()[f"{stem}.html"]["url"]]
    # The frame's noise is present, so a parser has something to ignore.
    for marker in ('id="oas_Top1"', "gm_js_current_page_data", "bloc--club bloc--themTechn", "Les plus lus"):
        assert marker in text
    assert any(label == "Abonnez-vous" for _, label in scan.anchors)


@pytest.mark.parametrize("stem", PAGES)
def test_expected_record_round_trips(stem: str) -> None:
    path = EXPECTED / f"{stem}.json"
    data = _expected(stem)
    record = record_from_dict(data)
    assert isinstance(record, PAGES[stem])
    assert record.to_dict() == data
    assert path.read_text(encoding="utf-8") == json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    assert data["url"] == _manifest()[f"{stem}.html"]["url"]
    assert data["warnings"] == []


@pytest.mark.parametrize("stem", PAGES)
def test_expected_items_are_linked_and_visible_on_the_page(stem: str) -> None:
    data = _expected(stem)
    scan = _scan(f"{stem}.html")
    linked = {urljoin(data["url"], href) for href, _ in scan.anchors}
    assert [item["position"] for item in data["articles"]] == list(range(1, len(data["articles"]) + 1))
    for item in data["articles"]:
        assert item["url"] in linked, item["url"]
        assert item["site_id"] == _post_id(item["url"])
        for field in ("title", "kicker", "teaser"):
            if item[field] is not None:
                assert item[field] == _normalise(item[field])
                assert item[field] in scan.text, (field, item[field])
    assert data["title"] in scan.text
    if data.get("intro"):
        assert data["intro"] in scan.text


@pytest.mark.parametrize("first, second", [
    ("dossier-smart-city", "dossier-smart-city-page-2"),
    ("listing-club-technicites", "listing-club-technicites-page-2"),
])
def test_pagination_links_page_one_to_the_last_page(first: str, second: str) -> None:
    page_one, page_two = _expected(first), _expected(second)
    assert page_one["next_page"] == page_two["url"]
    assert page_two["next_page"] is None
    first_scan, second_scan = _scan(f"{first}.html"), _scan(f"{second}.html")
    assert first_scan.links["next"] == [page_two["url"]]
    suivante = [href for href, label in first_scan.anchors if label.startswith("Page suivante")]
    assert [urljoin(page_one["url"], href) for href in suivante] == [page_two["url"]]
    assert "next" not in second_scan.links
    assert second_scan.links["prev"] == [page_one["url"]]
    assert not any(label.startswith("Page suivante") for _, label in second_scan.anchors)


def test_shared_articles_are_where_the_other_samples_expect_them() -> None:
    dossier = _expected("dossier-smart-city")["articles"]
    assert dossier[0]["url"] == SMART_CITY
    assert (dossier[0]["title"], dossier[0]["kicker"], dossier[0]["is_paywalled"]) == (
        "La Smart city à la recherche de modèles économiques", "Smart city", True)
    listed = {item["url"]: item for stem in ("listing-club-technicites", "listing-club-technicites-page-2")
              for item in _expected(stem)["articles"]}
    assert listed[SMART_CITY]["is_paywalled"] is True
    assert listed[FREE_ARTICLE]["is_paywalled"] is False


def test_feed_parses_cleanly_and_lists_its_expected_items() -> None:
    parsed = feedparser.parse((SAMPLES / f"{FEED}.xml").read_bytes())
    assert parsed.bozo is False, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Lagazette.fr » Club Techni.Cités"
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == [_manifest()[f"{FEED}.xml"]["url"]]
    got = [
        {"title": entry.title, "url": entry.link,
         "published_at": parsedate_to_datetime(entry.published).isoformat(),
         "site_id": int(entry.id.rsplit("?p=", 1)[1])}
        for entry in parsed.entries
    ]
    assert got == _expected(FEED)


def test_feed_expected_items_are_consistent_with_the_listing() -> None:
    items = _expected(FEED)
    for item in items:
        assert item["site_id"] == _post_id(item["url"])
        assert datetime.fromisoformat(item["published_at"]).utcoffset() is not None
    dates = [datetime.fromisoformat(item["published_at"]) for item in items]
    assert dates == sorted(dates, reverse=True)
    listed = _expected("listing-club-technicites")["articles"]
    # The rubrique's own articles (no section of their own) are the feed's, in its order; the older articles
    # of a lead block's "Sur le même sujet" are listed too, but are not new items of the feed.
    listing_ids = [item["site_id"] for item in listed if item["section"] is None]
    feed_ids = [item["site_id"] for item in items]
    assert [site_id for site_id in feed_ids if site_id in listing_ids] == listing_ids
    assert {item["section"] for item in listed if item["site_id"] not in listing_ids} == {"Sur le même sujet"}
