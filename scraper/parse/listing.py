"""Dossier and listing pages: an ordered list of article blocks, a title, and the next page."""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from scraper.models import Dossier, Listing, ListItem
from scraper.parse import labels, selectors
from scraper.parse.page import Page, ancestor_among
from scraper.parse.structured import site_id_from_url
from scraper.parse.text import has_class, node_text, or_none


def parse_dossier(page: Page) -> Dossier:
    title = _page_title(page)
    toc = _dossier_toc(page)
    dossier = Dossier(url=page.url, title=title, intro=_dossier_intro(page),
                      articles=_items(page, toc), next_page=read_next_page(page))
    dossier.warnings = page.warnings + _missing(dossier.title, dossier.articles)
    return dossier


def parse_listing(page: Page) -> Listing:
    listing = Listing(url=page.url, title=_page_title(page), articles=_items(page, page.main),
                      next_page=read_next_page(page))
    listing.warnings = page.warnings + _missing(listing.title, listing.articles)
    return listing


def _page_title(page: Page) -> str:
    heading = page.main.css_first("h1") or page.root.css_first("h1")
    if heading is not None and node_text(heading):
        return node_text(heading)
    return page.data.first("og:title") or node_text(page.tree.css_first("title"))


def _dossier_toc(page: Page) -> LexborNode:
    """The container of 'Au sommaire du dossier' in the main column (not the sidebar's other lists)."""
    for node in page.labelled(labels.DOSSIER_TOC_FRAGMENT):
        if labels.DOSSIER_TOC.match(node_text(node)) and not page.in_sidebar(node):
            scope = node.parent
            while scope is not None and scope.css_first(selectors.LIST_BLOCK) is None:
                scope = scope.parent
            if scope is not None:
                return scope
    return page.main


def _dossier_intro(page: Page) -> str | None:
    """The dossier's introduction: its description (structured data), else an intro block, else the first
    paragraph after the title and before the table of contents."""
    description = page.data.first("og:description", "description")
    if description:
        return description
    node = page.first(selectors.DOSSIER_INTRO, within=page.main)
    if node is not None and page.ancestor(node, selectors.LIST_BLOCK) is None:
        return or_none(node_text(node))
    heading = page.main.css_first("h1")
    sibling = heading.next if heading is not None else None
    while sibling is not None:
        if sibling.tag == "p" and node_text(sibling):
            return node_text(sibling)
        if sibling.is_element_node and sibling.css_first(selectors.LIST_BLOCK) is not None:
            return None
        sibling = sibling.next
    return None


def _items(page: Page, scope: LexborNode) -> list[ListItem]:
    items: list[ListItem] = []
    seen: set[str] = set()
    blocks = scope.css(selectors.LIST_BLOCK) or scope.css(selectors.GENERIC_LIST_BLOCK)
    block_ids = frozenset(block.mem_id for block in blocks)  # a block nested in another is in the same scope
    distractors = _distractor_sections(page, block_ids)
    for block in blocks:
        nested = ancestor_among(block, block_ids) is not None
        if nested or page.in_sidebar(block) or ancestor_among(block, distractors) is not None:
            continue
        item = _item(page, block, len(items) + 1)
        if item is not None and item.url not in seen:
            seen.add(item.url)
            items.append(item)
    return items


def _item(page: Page, block: LexborNode, position: int) -> ListItem | None:
    parts = _BlockParts(block)
    if parts.link is None:
        return None
    url = page.absolute(parts.link.attributes.get("href")) or ""
    title = node_text(parts.title) if parts.title is not None else node_text(parts.link)
    return ListItem(
        position=position,
        title=title,
        url=url,
        site_id=site_id_from_url(url),
        kicker=or_none(node_text(parts.kicker)) if parts.kicker is not None else None,
        teaser=or_none(parts.teaser),
        is_paywalled="isAbo" in parts.classes or has_class(parts.link, "isAbo") or _li_is_abo(block),
    )


class _BlockParts:
    """The link, title, kicker and teaser of a list block, found in one walk of its nodes (the block
    itself included, as CSS on a node would): the first node of each kind in page order."""

    def __init__(self, block: LexborNode) -> None:
        self.classes = (block.attributes.get("class") or "").split()
        self.link: LexborNode | None = None
        self.title: LexborNode | None = None
        self.kicker: LexborNode | None = None
        self.teaser: str | None = None
        teasers: list[tuple[LexborNode, list[str]]] = []
        links: list[LexborNode] = []
        if block.tag == "a" and block.attributes.get("href"):
            self.link = block  # a block that is itself a link is its own link
        for node in block.traverse():
            tag = node.tag
            attributes = node.attributes
            class_attribute = attributes.get("class") or ""
            classes = class_attribute.split()
            if tag == "a" and _is_article_href(attributes.get("href")):
                links.append(node)
            if self.title is None and selectors.BLOCK_TITLE.matches(tag, class_attribute, classes):
                self.title = node
            if self.kicker is None and selectors.BLOCK_KICKER.matches(tag, class_attribute, classes):
                self.kicker = node
            if selectors.BLOCK_TEASER.matches(tag, class_attribute, classes):
                teasers.append((node, classes))
        if self.link is None and links:
            self.link = self._title_link(block, links) or links[0]
        self.teaser = self._first_teaser(teasers)

    def _title_link(self, block: LexborNode, links: list[LexborNode]) -> LexborNode | None:
        """Of the block's article links, the one around or inside the title: it wins over a first link that
        may be a category or an author ('Eau', 'Par X' before the title)."""
        if self.title is None:
            return None
        ids = {link.mem_id for link in links}
        around = ancestor_among(self.title, frozenset(ids)) if self.title.mem_id not in ids else self.title
        if around is not None:
            return around
        title_id = frozenset({self.title.mem_id})
        return next((link for link in links if ancestor_among(link, title_id) is not None), None)

    def _first_teaser(self, candidates: list[tuple[LexborNode, list[str]]]) -> str | None:
        """The first teaser-like node with text that is not the title, the kicker or a caption."""
        taken = {node.mem_id for node in (self.title, self.kicker) if node is not None}
        for node, classes in candidates:
            if node.mem_id in taken or node.tag == "figcaption" or "caption" in classes:
                continue
            text = node_text(node)
            if text:
                return text
        return None


def _is_article_href(href: str | None) -> bool:
    """A link to an article: any link but one to another dossier (a dossier URL has no post id)."""
    if not href:
        return False
    return "/dossiers/" not in href or site_id_from_url(href) is not None


def _li_is_abo(block: LexborNode) -> bool:
    parent = block.parent
    return parent is not None and parent.tag == "li" and has_class(parent, "isAbo")


def _distractor_sections(page: Page, block_ids: frozenset[int]) -> frozenset[int]:
    """Sections titled 'Les plus lus', 'Autres dossiers'…: their blocks are not part of the page's own list.
    A title inside a block is the title of an item, not of a section: the list's own blocks (`block_ids`) rule
    out most titles at once, the page's other blocks are looked up only for a title that reads like one."""
    sections = set()
    for heading in page.root.css(_SECTION_TITLES):
        if (ancestor_among(heading, block_ids) is None and labels.NOT_RELATED.match(node_text(heading))
                and page.ancestor(heading, selectors.LIST_BLOCK) is None):
            section = _section_around(heading) or heading.parent
            if section is not None:
                sections.add(section.mem_id)
    return frozenset(sections)


_SECTION_TITLES = "h2, h3, h4, .subTitleB, .titleE, p.title"
_SECTION = selectors.Part(tags=frozenset({"section", "aside"}), classes=frozenset({"bloc", "block"}))


def _section_around(node: LexborNode) -> LexborNode | None:
    """The nearest section, aside, .bloc or .block around `node` (a walk up: only a few headings ask)."""
    parent = node.parent
    while parent is not None:
        class_attribute = parent.attributes.get("class") or ""
        if _SECTION.matches(parent.tag, class_attribute, class_attribute.split()):
            return parent
        parent = parent.parent
    return None


def read_next_page(page: Page) -> str | None:
    if page.data.next_link:
        return page.data.next_link
    link = page.first(selectors.NEXT_PAGE)
    if link is None:
        link = next((node for node in page.labelled(labels.NEXT_PAGE_FRAGMENT)
                     if node.tag == "a" and labels.NEXT_PAGE.match(node_text(node))), None)
    return page.absolute(link.attributes.get("href")) if link is not None else None


def _missing(title: str, items: list[ListItem]) -> list[str]:
    warnings = [] if title else ["no title found: the site's markup may have changed"]
    if not items:
        warnings.append("no article found in the list: the site's markup may have changed")
    return warnings
