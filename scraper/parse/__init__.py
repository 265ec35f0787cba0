"""The parser: bytes or text of a page in, an Article, Dossier or Listing record out. Never raises.

Layers, in order, for every field: structured data (structured.py), the theme's markup (selectors.py),
the visible French labels (labels.py).
"""

from __future__ import annotations

import codecs

from scraper.models import Article, PageType, Record
from scraper.parse.article import parse_article
from scraper.parse.decode import decode_html
from scraper.parse.detect import detect_type
from scraper.parse.limits import CAPPED_WARNING, cap_markup
from scraper.parse.listing import parse_dossier, parse_listing
from scraper.parse.page import build_page

__all__ = ["decode_html", "parse_page"]

_PARSERS = {"article": parse_article, "dossier": parse_dossier, "listing": parse_listing}


def parse_page(content: bytes | str, url: str | None = None, *, content_type: str | None = None,
               page_type: PageType | None = None) -> Record:
    """Parse one page into its record. `url` is where it was fetched (the canonical link wins).

    `page_type` forces the kind (e.g. a crawler that knows it follows a dossier's articles); by default it
    is detected from the page. Any failure yields a record with what was found and a warning.
    """
    try:
        text, encoding = decode_html(content, content_type)
        capped = cap_markup(text, content, encoding)  # what lexbor takes quadratic time over, left out
        utf8 = capped is text and encoding == "utf-8" and isinstance(content, bytes) \
            and not content.startswith(codecs.BOM_UTF8)
        page = build_page(capped, url, utf8_source=content if utf8 else None)
        kind = page_type or detect_type(page)
        record = _PARSERS[kind](page)
        if capped is not text:
            record.warnings.append(CAPPED_WARNING)
        return record
    except Exception as error:  # noqa: BLE001 - the parser never raises on any input, by contract
        return Article(url=url or "", title="", warnings=[f"page could not be parsed: {type(error).__name__}: {error}"])
