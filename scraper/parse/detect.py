"""Page-type detection from the page itself (structured data, canonical URL, body classes, labels)."""

from __future__ import annotations

import re

from scraper.models import PageType
from scraper.parse import labels, selectors
from scraper.parse.page import Page
from scraper.parse.structured import ARTICLE_TYPES
from scraper.parse.text import node_text
from scraper.site import is_dossier_path, path_of, site_id_from_url

_LISTING_PATH = re.compile(r"^/(rubriques|themes|thematiques|category|tag|author)/|/page/\d+/?$|^/?$")


def detect_type(page: Page) -> PageType:
    if page.data.types & ARTICLE_TYPES:
        return "article"
    if page.data.types & {"CollectionPage", "ItemList"}:
        return "dossier" if is_dossier_path(_path(page.url)) else "listing"
    path = _path(page.url)
    if is_dossier_path(path):
        return "dossier"
    if site_id_from_url(page.url) is not None or page.data.first("og:type") == "article":
        return "article"
    if page.flag("is_single"):
        return "article"
    if _LISTING_PATH.search(path):
        return "listing"
    return _by_labels(page)


def _path(url: str) -> str:
    return path_of(url)


def _by_labels(page: Page) -> PageType:
    body_classes = (page.root.attributes.get("class") or "").split()
    if "single" in body_classes or "single-post" in body_classes:
        return "article"
    text = node_text(page.main)
    if labels.DOSSIER_TOC.search(text) and len(page.main.css(selectors.LIST_BLOCK)) >= 2 \
            and not labels.UPDATED.search(text):
        return "dossier"
    blocks = len(page.main.css(selectors.LIST_BLOCK))
    if blocks >= 3 and len(page.main.css("p")) < blocks * 3:
        return "listing"
    return "article"
