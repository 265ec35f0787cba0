"""One page being parsed: the tree cleaned of its frame, its structured data, and its warnings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.parse import labels, selectors
from scraper.parse.nodes import Ancestry, tag_id, unique
from scraper.parse.structured import STRUCTURED, StructuredData, read_structured
from scraper.parse.text import node_text
from scraper.parse.urls import join

_MAX_PAGINATION_LINKS = 20  # a pagination's links: a few numbers and arrows; a menu has more
_PAGINATION_DEPTH = 4  # wrappers between a pagination's link and the element that names it
_FLAG_VALUE = r"[\"']?\s*:\s*[\"']?(true|false|1|0)\b"
_PAGE_DATA_MAX = 2000  # characters of the theme's page data read when its '}' is missing
_SIDEBAR_TAG_ID = tag_id(selectors.SIDEBAR_TAG)  # an int compared, not a name read


@dataclass
class Page:
    tree: LexborHTMLParser
    url: str
    data: StructuredData
    page_data: str = ""  # the theme's inline `gm_js_current_page_data = {…}` object literal, if any
    paginated: bool = False  # a <nav> is left after the frame's removal: a pagination
    warnings: list[str] = field(default_factory=list)
    _main: LexborNode | None = None
    _texts: dict[int, str] = field(default_factory=dict)
    _ids: dict[str, frozenset[int]] = field(default_factory=dict)
    _labels: dict[tuple[str, ...], list[LexborNode]] = field(default_factory=dict)

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

    def flag(self, name: str) -> bool | None:
        """A boolean of the theme's page data (`is_single`, `is_reserved_content`…), None when absent."""
        match = re.search(r"\b" + re.escape(name) + _FLAG_VALUE, self.page_data, re.IGNORECASE)
        return match.group(1).lower() in ("true", "1") if match else None

    def labelled(self, *fragments: str) -> list[LexborNode]:
        """Elements whose own text holds one of `fragments`, in page order: lexbor finds them in C
        (`:lexbor-contains` matches an element by its own text nodes), so label lookups never walk the tree
        in Python. Each lookup is a pass over the page (the most expensive kind): absent labels cost only a
        substring test of the page text, and results are kept for the next caller."""
        key = fragments
        if key not in self._labels:
            text = self.text
            present = [fragment for fragment in fragments if fragment in text]
            selector = ", ".join(f':lexbor-contains("{fragment}")' for fragment in present)
            self._labels[key] = unique(self.root.css(selector)) if present else []
        return self._labels[key]


def in_sidebars(page: Page, tree: Ancestry, keys: list[int]) -> list[bool]:
    """For each element of `tree` (`keys`: their ids), whether it is in a sidebar (selectors.SIDEBAR) or is one. The
    page's sidebars are looked for (a CSS walk of the page) only when one of those elements or of their ancestors may
    be one (may_be_sidebar): around a list page's entries, the elements tell that none is without that walk."""
    lineages = [tree.lineage(key) for key in keys]
    seen: set[int] = set()
    for lineage in reversed(lineages):  # a sidebar, if any, usually follows the content: it is met sooner
        for key in lineage:
            if key in seen:
                break  # and so were the elements above it
            seen.add(key)
            if may_be_sidebar(tree.nodes[key]):
                sidebar = page.ids(selectors.SIDEBAR)
                return [not sidebar.isdisjoint(around) for around in lineages]
    return [False] * len(lineages)


def may_be_sidebar(node: LexborNode) -> bool:
    """Whether selectors.SIDEBAR may match `node`: its tag is the sidebar's, or its class, id or role holds one of the
    sidebar's words in any case (every element the selector matches, and a few more)."""
    if node.tag_id == _SIDEBAR_TAG_ID:
        return True
    attributes = node.attributes  # one dict: less than asking for three attributes, most of them absent
    if not attributes:
        return False
    named = attributes.get("class") or ""
    if len(attributes) > 1 or not named:  # most elements have a class and nothing else: no id or role to add
        named = f"{named} {attributes.get('id') or ''} {attributes.get('role') or ''}"
    named = named.lower()
    for word in selectors.SIDEBAR_WORDS:  # noqa: SIM110 - a loop: any() of a generator costs more, for every element
        if word in named:
            return True
    return False


def labelled_links(page: Page, fragment: str, extra: str = "") -> list[LexborNode]:
    """The <a> elements whose own text holds `fragment`, in page order: the labelled() of links, in one query that
    tests the text of links only (and a match shows the page text holds the fragment: no need to look there);
    with those `extra` selects in the same query."""
    return page.root.css(labelled_link(fragment) + (f", {extra}" if extra else ""))


def labelled_link(fragment: str) -> str:
    """The selector of the <a> elements whose own text holds `fragment`."""
    return f"a{labelled_mark(fragment)}"


def labelled_mark(fragment: str) -> str:
    """The test, in a selector, of an element whose own text holds `fragment`."""
    return f':lexbor-contains("{fragment}")'


def in_pagination(node: LexborNode) -> bool:
    """Whether `node` sits in a pagination: a <nav> (the only ones left are paginations) or an element whose class
    or aria-label names one ('pagination', 'page-numbers', 'nav-links')."""
    parent = node.parent
    for _ in range(_PAGINATION_DEPTH):
        if parent is None:
            return False
        if parent.tag == selectors.MENU_TAG or _names_pagination(parent):
            return True
        parent = parent.parent
    return False


def _names_pagination(node: LexborNode, helpers: bool = True) -> bool:
    """Whether the class or aria-label of `node` names a pagination ('pagination', 'nav-links', 'page-numbers';
    with `helpers`, the 'navigation' class of WordPress's pagination helpers too)."""
    attributes = node.attributes
    classes = attributes.get("class") or ""
    if selectors.PAGINATION_CLASS in classes or (helpers and "navigation" in classes.split()):
        return True
    return any(labels.PAGINATION_LABEL.search(attributes.get(name) or "") for name in ("class", "aria-label"))


def ancestor_among(node: LexborNode, ids: frozenset[int]) -> LexborNode | None:
    """The nearest ancestor of `node` whose id is in `ids`."""
    parent = node.parent
    while parent is not None:
        if parent.mem_id in ids:
            return parent
        parent = parent.parent
    return None


def build_page(html: str | bytes, url: str | None) -> Page:
    """Parse, read structured data and page flags, then strip the frame (scripts, menus, header, footer).

    `html` is the page's text, or its bytes when they are valid UTF-8 (lexbor parses UTF-8: it takes them as they
    are)."""
    tree = LexborHTMLParser(html)
    structured: list[LexborNode] = []
    framing: list[LexborNode] = []
    scripts: list[LexborNode] = []
    for node in tree.css(_FIRST_PASS):
        tag = node.tag
        if tag in _FRAME_TAG_NAMES:
            framing.append(node)
        else:
            structured.append(node)
            if tag == _SCRIPT:
                scripts.append(node)
    data = read_structured(structured, url)
    base = data.canonical or data.first("og:url") or url or ""
    paginations: list[LexborNode] = []
    # The frame first: it is half the page, and the noise is searched in the rest. Each is unlinked with its subtree
    # (a match inside one already removed is unlinked from it: harmless).
    for node in _frame(framing, paginations):
        node.decompose(recursive=False)
    for node in scripts + _noise(tree):
        node.decompose(recursive=False)
    page = Page(tree=tree, url=base, data=data, page_data=_page_data(html), paginated=bool(paginations))
    page.warnings.extend(data.warnings)
    return page


# Tags are found with CSS. lexbor walks the page once per selector of a list (each walk costs about what selectolax's
# own walk per tag does: strip_tags, tags()), so each selector counts. The structured data, the scripts and the frame
# are found in one query (before anything is removed), the other noise tags and classes in another (after the frame
# is gone: a smaller page to walk).
_FRAME_TAG_NAMES = frozenset((selectors.MENU_TAG, *selectors.FRAME_TAGS))
_FIRST_PASS = ", ".join((STRUCTURED, selectors.MENU_TAG, *selectors.FRAME_TAGS))
# Scripts are noise too, found by the first walk (STRUCTURED).
_SCRIPT = "script"
_NOISE = ", ".join((*(tag for tag in selectors.NOISE_TAGS if tag != _SCRIPT), selectors.NOISE))


def _frame(framing: list[LexborNode], paginations: list[LexborNode]) -> list[LexborNode]:
    """The page's menus (every <nav> but a pagination, added to `paginations`), its own header and footer
    (selectors.FRAME_TAGS: a child of <body>, or one that has the class of its tag; an article's own <header>
    stays), among `framing` (the page's <nav>, <header> and <footer> elements, in page order)."""
    frame: list[LexborNode] = []
    removed: set[int] = set()  # the headers and footers removed
    for node in framing:
        tag = node.tag
        if tag == selectors.MENU_TAG:
            if ancestor_among(node, frozenset(removed)) is not None:
                continue  # it goes with the header it is in
            (paginations if _is_pagination(node) else frame).append(node)
        else:
            parent = node.parent
            if (parent is not None and parent.tag == "body") or tag in (node.attributes.get("class") or "").split():
                frame.append(node)
                removed.add(node.mem_id)
    return frame


def _is_pagination(nav: LexborNode) -> bool:
    """A <nav> that is a pagination: named so (class or aria-label: 'pagination', WordPress's 'navigation'
    helpers), else a short one whose links are a next page's label ('Page suivante', 'Suivant': WordPress's
    helpers render those without rel=next) or only page numbers and arrows ('1 2 3 »')."""
    if _names_pagination(nav, helpers=False):
        return True
    links = nav.css("a")
    if len(links) > _MAX_PAGINATION_LINKS:
        return False  # a menu
    if _names_pagination(nav):
        return True  # WordPress's helpers: `<nav class="navigation posts-navigation">`, a few links
    texts = [node_text(link) for link in links]
    return any(labels.NEXT_PAGE.match(text) for text in texts) or (
        any(labels.NEXT_ARROW.match(text) for text in texts) and all(labels.PAGE_LINK.match(text) for text in texts))


def _noise(tree: LexborHTMLParser) -> list[LexborNode]:
    """The elements stripped whole but the scripts (the first walk found those): styles, SVG, forms…
    (selectors.NOISE_TAGS), the theme's pop-ins and share buttons (selectors.NOISE). An SVG lock icon leaves its mark
    on its parent (`data-lock`): a list entry's lock as a reader sees it."""
    nodes = tree.css(_NOISE)
    for node in nodes:
        if node.tag == "svg" and node.parent is not None and _is_lock_svg(node):
            node.parent.attrs[selectors.LOCK_MARK] = "svg"
    return nodes


def _is_lock_svg(svg: LexborNode) -> bool:
    """An SVG named like a lock (class, aria-label, its <title> or the symbol it uses)."""
    attributes = svg.attributes
    named = " ".join(value or "" for key, value in attributes.items() if key in ("class", "aria-label", "title"))
    inner = svg.css_first("title, use")
    if inner is not None:
        named += " " + node_text(inner) + " " + (inner.attributes.get("href") or inner.attributes.get("xlink:href")
                                                 or "")
    return bool(labels.LOCK_NAME.search(named))


def _page_data(html: str | bytes) -> str:
    """The theme's inline `var gm_js_current_page_data = {…}` (is_single, is_reserved_content…), found by a
    string search in the page source (no tree walk through every script); its flags are read on demand."""
    if isinstance(html, bytes):  # UTF-8 (no character holds the bytes of the name or of '}'): decode only that part
        start = html.find(b"gm_js_current_page_data")
        if start < 0:
            return ""
        end = html.find(b"}", start)
        html = html[start:end + 1 if end > 0 else start + 4 * _PAGE_DATA_MAX].decode("utf-8", "ignore")
    start = html.find("gm_js_current_page_data")
    if start < 0:
        return ""
    end = html.find("}", start)
    return html[start:end if end > 0 else start + _PAGE_DATA_MAX]
