"""One page being parsed: the tree cleaned of its frame, its structured data, and its warnings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.parse import selectors
from scraper.parse.nodes import unique
from scraper.parse.structured import StructuredData, read_structured
from scraper.parse.urls import join

_SCRIPT_FLAG = re.compile(r"(\w+)[\"']?\s*:\s*[\"']?(true|false|1|0)\b", re.IGNORECASE)


@dataclass
class Page:
    tree: LexborHTMLParser
    url: str
    data: StructuredData
    script_flags: dict[str, bool] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _main: LexborNode | None = None
    _texts: dict[int, str] = field(default_factory=dict)
    _ids: dict[str, frozenset[int]] = field(default_factory=dict)

    @property
    def root(self) -> LexborNode:
        return self.tree.body or self.tree.root

    def first(self, candidates: list[str], within: LexborNode | None = None) -> LexborNode | None:
        """The first node, in page order, that any of the selectors matches: one traversal in C that stops at
        the first hit (lexbor tests every selector of a comma list on each node)."""
        return (within or self.root).css_first(", ".join(candidates))

    def first_by_priority(self, candidates: list[str], within: LexborNode | None = None) -> LexborNode | None:
        """The first node of the first selector that matches anything: for lists whose order is a priority
        (the main column before <body>, the article element before <main>)."""
        scope = within or self.root
        if scope.css_first(", ".join(candidates)) is None:
            return None  # one C traversal answers the common miss
        for selector in candidates:
            node = scope.css_first(selector)
            if node is not None:
                return node
        return None

    @property
    def main(self) -> LexborNode:
        """The main column: the page without its sidebar (menus, header, footer are already gone)."""
        if self._main is None:
            self._main = self.first_by_priority(selectors.MAIN) or self.root
        return self._main

    def absolute(self, href: str | None) -> str | None:
        if not href:
            return None
        href = href.strip()
        if href.startswith(("javascript:", "mailto:", "#")):
            return None
        return join(self.url, href)

    def ids(self, selector: str) -> frozenset[int]:
        """The ids of every element `selector` matches, collected once per page (in C)."""
        if selector not in self._ids:
            self._ids[selector] = frozenset(node.mem_id for node in self.root.css(selector))
        return self._ids[selector]

    def is_a(self, node: LexborNode, selector: str) -> bool:
        """Whether `node` itself is matched by `selector` (selectolax's css_matches looks at descendants)."""
        return node.mem_id in self.ids(selector)

    def ancestor(self, node: LexborNode, selector: str) -> LexborNode | None:
        """The nearest ancestor of `node` that `selector` matches: a walk up with set lookups."""
        return ancestor_among(node, self.ids(selector))

    def in_sidebar(self, node: LexborNode) -> bool:
        return self.ancestor(node, selectors.SIDEBAR) is not None

    def text_of(self, node: LexborNode) -> str:
        """The whole visible text of `node`, its text nodes joined by spaces but not normalised (the label
        regexes allow any whitespace), computed once per node."""
        key = node.mem_id
        if key not in self._texts:
            self._texts[key] = node.text(deep=True, separator=" ")
        return self._texts[key]

    @property
    def text(self) -> str:
        return self.text_of(self.root)

    def labelled(self, *fragments: str) -> list[LexborNode]:
        """Elements whose own text holds one of `fragments`, in page order: lexbor finds them in C
        (`:lexbor-contains`), so label lookups never walk the tree in Python."""
        text = self.text
        fragments = tuple(fragment for fragment in fragments if fragment in text)  # absent labels cost nothing
        if not fragments:
            return []
        selector = ", ".join(f':lexbor-contains("{fragment}")' for fragment in fragments)
        nodes = [node for node in unique(self.root.css(selector)) if node.is_element_node]
        if len(fragments) > 1:
            nodes.sort(key=lambda node: text.find(node.text(deep=True, separator=" ")))
        return nodes


def ancestor_among(node: LexborNode, ids: frozenset[int]) -> LexborNode | None:
    """The nearest ancestor of `node` whose id is in `ids`."""
    parent = node.parent
    while parent is not None:
        if parent.mem_id in ids:
            return parent
        parent = parent.parent
    return None


def build_page(html: str, url: str | None) -> Page:
    """Parse, read structured data and page flags, then strip the frame (scripts, menus, header, footer)."""
    tree = LexborHTMLParser(html)
    data = read_structured(tree, url)
    base = data.canonical or data.first("og:url") or url or ""
    flags = _script_flags(html)
    tree.strip_tags(list(selectors.NOISE_TAGS), recursive=True)
    for node in tree.css(selectors.NOISE):
        node.remove()  # unlink only: a nested match stays valid (decompose would free it twice)
    page = Page(tree=tree, url=base, data=data, script_flags=flags)
    page.warnings.extend(data.warnings)
    return page


def _script_flags(html: str) -> dict[str, bool]:
    """Booleans of the theme's inline `var gm_js_current_page_data = {…}` (is_single, is_reserved_content…),
    read from the object literal in the page source (a string search: no tree walk through every script)."""
    start = html.find("gm_js_current_page_data")
    if start < 0:
        return {}
    end = html.find("}", start)
    literal = html[start:end if end > 0 else start + 2000]
    return {key.lower(): value.lower() in ("true", "1") for key, value in _SCRIPT_FLAG.findall(literal)}


