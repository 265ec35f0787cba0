"""Samples parsed before and after mutations, compared field by field.

A record is flattened into named fields: the contract's keys, each key of the list items as one field over
all items (`articles[].title`: the titles in order), and `unread_links`, which the crawl relies on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from scraper.models import Record
from scraper.parse import parse_page

from .mutations import COMBINED_REMOVES, SAMPLES, Mutation

MANIFEST: dict[str, dict[str, str]] = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
HTML_SAMPLES = sorted(name for name in MANIFEST if name.endswith(".html"))


def charset_of(sample: str) -> str:
    content_type = MANIFEST[sample]["content_type"]
    return content_type.split("charset=")[-1].strip() if "charset=" in content_type else "utf-8"


def _codec(charset: str) -> str:
    return "windows-1252" if charset.lower() in ("iso-8859-1", "latin-1", "windows-1252") else charset


@cache
def sample_text(sample: str) -> str:
    return (SAMPLES / sample).read_bytes().decode(_codec(charset_of(sample)))


def parse(sample: str, html: str, charset: str) -> Record:
    raw = html.encode(_codec(charset), errors="xmlcharrefreplace")
    return parse_page(raw, MANIFEST[sample]["url"], content_type=f"text/html; charset={charset}")


def fields(record: Record) -> dict[str, Any]:
    data = record.to_dict()
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "articles":
            keys = value[0].keys() if value else ()
            for item_key in keys:
                flat[f"articles[].{item_key}"] = [item[item_key] for item in value]
            flat["articles"] = len(value)
        else:
            flat[key] = value
    flat["unread_links"] = list(record.unread_links)
    return flat


@cache
def original(sample: str) -> dict[str, Any]:
    return fields(parse(sample, sample_text(sample), charset_of(sample)))


def mutated(sample: str, mutations: tuple[Mutation, ...]) -> dict[str, Any]:
    html, charset = sample_text(sample), charset_of(sample)
    for mutation in mutations:
        html, charset = mutation.apply(html, charset)
    return fields(parse(sample, html, charset))


def compared(sample: str, mutations: tuple[Mutation, ...]) -> Comparison:
    """The sample's fields before and after `mutations`: which differ though the mutations keep them, and
    which differ because a mutation takes them away (its `removes`)."""
    removable = set().union(*(mutation.removes for mutation in mutations))
    names = {mutation.name for mutation in mutations}
    for pair, (removes, _) in COMBINED_REMOVES.items():
        if pair <= names:
            removable |= removes
    before = original(sample)
    after = mutated(sample, mutations)
    differing = [name for name in before if after.get(name) != before[name]]
    removed = [name for name in differing if name in removable]
    return Comparison(total=len(before), removed=removed, wrong=[name for name in differing if name not in removed])


@dataclass
class Comparison:
    total: int
    removed: list[str]  # differ, and a mutation takes them away from the page
    wrong: list[str]  # differ, though kept: the parser's fault

    @property
    def kept(self) -> int:
        return self.total - len(self.removed)

    @property
    def equal(self) -> int:
        return self.kept - len(self.wrong)

    def cell(self) -> str:
        removed = f" (−{len(self.removed)})" if self.removed else ""
        return f"{self.equal}/{self.kept}{removed}"
