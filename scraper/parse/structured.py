"""Parsing layer 1: structured data (JSON-LD, OpenGraph and article:* metas, canonical, shortlink)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborNode

from scraper.parse.text import unescape
from scraper.parse.urls import join

ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
                 "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle"}


@dataclass
class StructuredData:
    """What the page says about itself in machine-readable form."""

    article: dict[str, Any] = field(default_factory=dict)   # the first JSON-LD NewsArticle-like object
    types: set[str] = field(default_factory=set)            # every JSON-LD @type seen
    meta: dict[str, str] = field(default_factory=dict)      # og:*, article:*, twitter:*, name=… metas
    canonical: str | None = None
    shortlink: str | None = None
    next_link: str | None = None
    warnings: list[str] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)  # JSON-LD nodes by their @id

    def first(self, *keys: str) -> str | None:
        """The first non-empty meta among `keys`."""
        for key in keys:
            value = self.meta.get(key)
            if value:
                return value
        return None


# Not the many other links. (One :is() for the three rels: lexbor tests the tag once per element, not thrice.) Every
# script, not only the JSON-LD ones: the page's parser strips them all, and one walk of the page finds both (lexbor
# walks the page once per selector of a list); read_structured reads the JSON-LD ones.
STRUCTURED = 'script, meta[content], link:is([rel~="canonical"], [rel~="shortlink"], [rel~="next"])'
_JSON_LD = "application/ld+json"  # a script's type, in any case (as the selector [type=…] of an HTML page reads it)


def read_structured(nodes: list[LexborNode], base_url: str | None) -> StructuredData:
    """JSON-LD blocks, metas and canonical/shortlink/next links, from the elements STRUCTURED finds (in page order;
    scripts of other types are left)."""
    data = StructuredData()
    for node in nodes:
        tag = node.tag
        if tag == "meta":
            _read_meta(node.attributes, data)
        elif tag == "link":
            _read_link(node.attributes, data, base_url)
        elif (node.attributes.get("type") or "").lower() == _JSON_LD:
            _read_json_ld(node.text(deep=True), data)
    if data.article and data.by_id:
        data.article = _with_references_resolved(data.article, data.by_id)
    return data


def _read_json_ld(raw: str, data: StructuredData) -> None:
    try:
        parsed = json.loads(raw, strict=False)
    except (ValueError, RecursionError):
        data.warnings.append("unreadable JSON-LD block ignored")
        return
    for node in _json_ld_nodes(parsed):
        types = _types(node)
        data.types |= types
        if types & ARTICLE_TYPES and not data.article:
            data.article = node
        if isinstance(node.get("@id"), str):
            data.by_id.setdefault(node["@id"], node)


# Keys of an article that @graph writers (Yoast SEO, Rank Math…) give as a reference to another node.
_LINKED_KEYS = ("author", "image", "publisher", "mainEntityOfPage", "isPartOf")


def _with_references_resolved(article: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The article with each `{"@id": …}` of its linked keys replaced by the node of the graph it names
    (author -> the Person with its name, image -> the ImageObject with its url), one level deep."""
    resolved = dict(article)
    for key in _LINKED_KEYS:
        value = article.get(key)
        if isinstance(value, list):
            resolved[key] = [_referenced(item, by_id) for item in value]
        elif value is not None:
            resolved[key] = _referenced(value, by_id)
    return resolved


def _referenced(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("@id"), str):
        return by_id.get(value["@id"], value)
    return value


def _json_ld_nodes(parsed: Any) -> list[dict[str, Any]]:
    if isinstance(parsed, list):
        return [node for item in parsed for node in _json_ld_nodes(item)]
    if not isinstance(parsed, dict):
        return []
    nodes = [parsed]
    graph = parsed.get("@graph")
    if isinstance(graph, list):
        nodes += [node for node in graph if isinstance(node, dict)]
    return nodes


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def _read_meta(attrs: dict[str, str | None], data: StructuredData) -> None:
    key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
    if not key:
        return
    key = key.lower()
    if key not in data.meta:
        value = unescape(attrs.get("content"))
        if value:
            data.meta[key] = value


_LINK_RELS = ("canonical", "shortlink", "next")


def _read_link(attrs: dict[str, str | None], data: StructuredData, base_url: str | None) -> None:
    rels = (attrs.get("rel") or "").lower().split()
    rel = next((name for name in _LINK_RELS if name in rels), None)
    if rel is None or getattr(data, _LINK_FIELDS[rel]) is not None:
        return
    href = (attrs.get("href") or "").strip()
    absolute = join(base_url, href) if href else None
    if absolute is not None:
        setattr(data, _LINK_FIELDS[rel], absolute)


_LINK_FIELDS = {"canonical": "canonical", "shortlink": "shortlink", "next": "next_link"}


def json_ld_text(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    return unescape(str(value)) if value not in (None, "") else None


def json_ld_authors(node: dict[str, Any]) -> list[str]:
    """Names of the Person authors; an Organization (the publisher itself) is not an author."""
    value = node.get("author")
    items = value if isinstance(value, list) else [value] if value else []
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(unescape(item))
        elif isinstance(item, dict) and "Organization" not in _types(item) and item.get("name"):
            names.append(unescape(str(item["name"])))
    return [name for name in names if name]


def json_ld_image_url(node: dict[str, Any]) -> str | None:
    value = node.get("image")
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return str(value) if value else None


def json_ld_image_credit(node: dict[str, Any]) -> str | None:
    """The image's credit line (creditText, else its caption, which the site uses for the credit)."""
    value = node.get("image")
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, dict):
        return None
    credit = value.get("creditText") or value.get("caption")
    return unescape(str(credit)) if isinstance(credit, str) and credit.strip() else None


def json_ld_is_free(node: dict[str, Any]) -> bool | None:
    value = node.get("isAccessibleForFree")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None
