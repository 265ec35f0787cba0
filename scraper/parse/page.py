"""One page being parsed: the tree cleaned of its frame, its structured data, and its warnings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.parse import selectors
from scraper.parse.match import ancestor_matching
from scraper.parse.structured import StructuredData, read_structured
from scraper.parse.urls import join

_SCRIPT_FLAG = re.compile(r"[\"']?(\w+)[\"']?\s*:\s*[\"']?(true|false|1|0)\b", re.IGNORECASE)


@dataclass
class Page:
    tree: LexborHTMLParser
    url: str
    data: StructuredData
    script_flags: dict[str, bool] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _main: LexborNode | None = None

    @property
    def root(self) -> LexborNode:
        return self.tree.body or self.tree.root

    def first(self, candidates: list[str], within: LexborNode | None = None) -> LexborNode | None:
        """The first node that the first matching selector finds."""
        scope = within or self.root
        for selector in candidates:
            node = scope.css_first(selector)
            if node is not None:
                return node
        return None

    @property
    def main(self) -> LexborNode:
        """The main column: the page without its sidebar (menus, header, footer are already gone)."""
        if self._main is None:
            self._main = self.first(selectors.MAIN) or self.root
        return self._main

    def absolute(self, href: str | None) -> str | None:
        if not href:
            return None
        href = href.strip()
        if href.startswith(("javascript:", "mailto:", "#")):
            return None
        return join(self.url, href)

    def in_sidebar(self, node: LexborNode) -> bool:
        return ancestor_matching(node, selectors.SIDEBAR) is not None


def build_page(html: str, url: str | None) -> Page:
    """Parse, read structured data and page flags, then strip the frame (scripts, menus, header, footer)."""
    tree = LexborHTMLParser(html)
    data = read_structured(tree, url)
    base = data.canonical or data.first("og:url") or url or ""
    flags = _script_flags(tree)
    for node in tree.css(selectors.NOISE):
        node.remove()  # unlink only: a nested match stays valid (decompose would free it twice)
    page = Page(tree=tree, url=base, data=data, script_flags=flags)
    page.warnings.extend(data.warnings)
    return page


def _script_flags(tree: LexborHTMLParser) -> dict[str, bool]:
    """Booleans of the theme's `gm_js_current_page_data` (is_single, is_reserved_content…)."""
    for script in tree.css("script"):
        text = script.text(deep=True)
        if "gm_js_current_page_data" in text:
            return {key.lower(): value.lower() in ("true", "1") for key, value in _SCRIPT_FLAG.findall(text)}
    return {}


