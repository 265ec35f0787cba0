"""A page saved whole by a browser extension (SingleFile, Zotero's snapshots) has its pictures inlined as data:
URIs: the record keeps the picture's address from the page's other sources, never the inlined bytes."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLES

from scraper.parse import parse_page

INLINED = rb"\1data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD\2"


@pytest.mark.parametrize("name", ["article-smart-city-2018.html", "article-free-2018.html",
                                  "article-smart-city-redesign.html", "article-2016-cp1252.html"])
def test_an_inlined_picture_keeps_the_address_the_page_gives_elsewhere(name: str) -> None:
    page = (SAMPLES / name).read_bytes()
    saved = re.sub(rb'(<img[^>]*?\ssrc=")[^"]*(")', INLINED, page)
    assert saved != page
    live, whole = parse_page(page), parse_page(saved)
    assert live.image is not None
    assert whole.image is not None
    assert not whole.image.url.startswith("data:")
    assert whole.image.url in (live.image.url, "")  # its og:image or JSON-LD address, else none
    assert (whole.image.alt, whole.image.credit) == (live.image.alt, live.image.credit)
