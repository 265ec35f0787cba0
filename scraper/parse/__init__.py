"""The parser: bytes or text of a page in, an Article, Dossier or Listing record out. Never raises.

Layers, in order, for every field: structured data (structured.py), the theme's markup (selectors.py),
the visible French labels (labels.py).
"""

from __future__ import annotations

import codecs
import importlib
from collections.abc import Callable
from functools import cache

from scraper.models import Article, PageType, Record, page_kind
from scraper.parse.decode import decode_html
from scraper.parse.detect import detect_type
from scraper.parse.limits import CAPPED_WARNING, cap_markup
from scraper.parse.page import Page, build_page

__all__ = ["decode_html", "parse_page", "parser_of"]


def parser_of(page_type: str) -> Callable[[Page], Record]:
    """The parser of a registered type of page (scraper.models.PAGE_TYPES), its module imported on first use."""
    return _function(page_kind(page_type).parser)


@cache
def _function(path: str) -> Callable[[Page], Record]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


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
        record = parser_of(kind)(page)
        if capped is not text:
            record.warnings.append(CAPPED_WARNING)
        return record
    except Exception as error:  # noqa: BLE001 - the parser never raises on any input, by contract
        return Article(url=url or "", title="", warnings=[f"page could not be parsed: {type(error).__name__}: {error}"])
