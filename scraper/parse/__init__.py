"""The parser: bytes or text of a page in, an Article, Dossier or Listing record out. Never raises.

Layers, in order, for every field: structured data (structured.py), the theme's markup (selectors.py),
the visible French labels (labels.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from scraper.models import Article, PageType, Record, page_kind
from scraper.parse.decode import decode_html, reads_as_utf8
from scraper.parse.detect import detect_type
from scraper.parse.limits import CAPPED_WARNING, cap_markup, over_caps
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
        page, capped = _built(content, url, content_type)
        kind = page_type or detect_type(page)
        record = parser_of(kind)(page)
        if capped:
            record.warnings.append(CAPPED_WARNING)
        return record
    except Exception as error:  # noqa: BLE001 - the parser never raises on any input, by contract
        return Article(url=url or "", title="", warnings=[f"page could not be parsed: {type(error).__name__}: {error}"])


def _built(content: bytes | str, url: str | None, content_type: str | None) -> tuple[Page, bool]:
    """The page, and whether markup over the parser's caps was left out. UTF-8 bytes within the caps go to lexbor as
    they are (it parses UTF-8); anything else is decoded first, and capped."""
    if isinstance(content, bytes) and reads_as_utf8(content, content_type) and not over_caps(content):
        return build_page(content, url), False
    text, encoding = decode_html(content, content_type)
    capped = cap_markup(text, content, encoding)  # what lexbor takes quadratic time over, left out
    return build_page(capped, url), capped is not text
