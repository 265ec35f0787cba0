"""Article pages: every field from the first layer that yields it (structured data, theme markup, labels).

Longer than most modules, and one cohesive thing: the fourteen fields of an article, each read through its
three layers, sharing one cleaned page and its label lookups.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from selectolax.lexbor import LexborNode

from scraper.models import Article, Comment, DossierRef, Image, Paywall, RelatedLink
from scraper.parse import dates, labels, selectors
from scraper.parse.nodes import leaf_blocks
from scraper.parse.page import Page
from scraper.parse.structured import (
    json_ld_authors,
    json_ld_image_credit,
    json_ld_image_url,
    json_ld_is_free,
    json_ld_text,
    site_id_from_url,
)
from scraper.parse.text import node_text, normalise, or_none

_TITLE_SUFFIX = re.compile(r"\s+[|\-–—]\s+(La\s*Gazette|Lagazette|Club\s+Techni|Techni\.?Cit).*$", re.IGNORECASE)
_CREDIT_PREFIX = re.compile(r"^(?:\s*(?:©|\(c\)|crédit\s*(?:photo)?\s*:?)\s*)+", re.IGNORECASE)
_NOT_BODY = ", ".join(selectors.PAYWALL_BOX + selectors.DOSSIER_BOX + selectors.TEASER)
_NESTING = "p, blockquote, ul, ol, table, figure, figcaption, li, pre"
_COMMENT = ", ".join(selectors.COMMENTS)


def parse_article(page: Page) -> Article:
    """Read every field of the contract from an article page; never raises on odd markup."""
    root = page.first_by_priority(selectors.ARTICLE_ROOT, within=page.main) or page.main
    title_node = page.first(selectors.TITLE, within=page.main)
    article = Article(url=page.url, title=read_title(page, title_node))
    article.site_id = read_site_id(page)
    article.kicker = read_kicker(page, root, title_node)
    article.published_at, article.updated_at = read_dates(page, root)
    article.authors = read_authors(page, root)
    article.teaser = read_teaser(page, root)
    article.image = read_image(page, root)
    article.dossier = read_dossier(page)
    article.paywall = read_paywall(page)
    article.body = read_body(page, root, article.teaser)
    article.related = read_related(page)
    article.comments_count = read_comments_count(page)
    article.comments = read_comments(page)
    article.themes = read_themes(page)
    article.warnings = page.warnings + _missing_core_fields(article)
    return article


def read_title(page: Page, title_node: LexborNode | None) -> str:
    headline = json_ld_text(page.data.article, "headline")
    if headline:
        return headline
    if title_node is not None and node_text(title_node):
        return node_text(title_node)
    social = page.data.first("og:title", "twitter:title")
    if social:
        return _TITLE_SUFFIX.sub("", social)
    return _TITLE_SUFFIX.sub("", node_text(page.tree.css_first("title")))


def read_site_id(page: Page) -> int | None:
    for url in (page.data.canonical, page.data.shortlink, page.data.first("og:url"),
                json_ld_text(page.data.article, "url"), page.url):
        site_id = site_id_from_url(url)
        if site_id is not None:
            return site_id
    return None


def read_kicker(page: Page, root: LexborNode, title_node: LexborNode | None) -> str | None:
    header = title_node.parent if title_node is not None else root
    for scope in (header, root):
        node = page.first(selectors.KICKER, within=scope) if scope is not None else None
        if node is not None and page.ancestor(node, selectors.LIST_BLOCK) is None:
            return or_none(node_text(node))
    return _kicker_before_title(title_node)


def _kicker_before_title(title_node: LexborNode | None) -> str | None:
    """Label-free fallback: a short line just before the h1 (the 'surtitre')."""
    previous = title_node.prev if title_node is not None else None
    while previous is not None and not previous.is_element_node:
        previous = previous.prev
    if previous is None:
        return None
    text = node_text(previous)
    if 0 < len(text) <= 80 and not dates.from_french(text):
        return text
    return None


def read_dates(page: Page, root: LexborNode) -> tuple[str | None, str | None]:
    published = dates.from_iso(json_ld_text(page.data.article, "datePublished")) or dates.from_iso(
        page.data.first("article:published_time", "datepublished"))
    updated = dates.from_iso(json_ld_text(page.data.article, "dateModified")) or dates.from_iso(
        page.data.first("article:modified_time", "datemodified"))
    if not (published and updated) and root.css_first(selectors.DATE_ELEMENTS) is not None:
        published = published or _date_element(page, root, selectors.PUBLISHED_TIME)
        updated = updated or _date_element(page, root, selectors.UPDATED_TIME)
    if published and updated:
        return published, updated
    text = page.text_of(root)
    if not published:
        match = labels.PUBLISHED.search(text)
        published = dates.from_french(match.group(1)) if match else None
    if not updated:
        match = labels.UPDATED.search(text)
        updated = dates.from_french(match.group(1)) if match else None
    return published, updated


def _date_element(page: Page, root: LexborNode, candidates: list[str]) -> str | None:
    """The date of the first element among `candidates`: its `datetime` (<time>) or `content` (<meta>)."""
    node = page.first(candidates, within=root)
    if node is None:
        return None
    return dates.from_iso(node.attributes.get("datetime") or node.attributes.get("content"))


def read_authors(page: Page, root: LexborNode) -> list[str]:
    names = json_ld_authors(page.data.article)
    if names:
        return names
    byline = page.first(selectors.BYLINE, within=root)
    if byline is not None:
        return _authors_from_byline(node_text(byline))
    for node in page.labelled(labels.BYLINE_FRAGMENT):
        text = node_text(node)
        if labels.BYLINE.match(text) and len(text) < 200:
            return _authors_from_byline(text)
    return []


def _authors_from_byline(text: str) -> list[str]:
    match = labels.BYLINE.match(text)
    names = match.group(1) if match else text
    return labels.split_authors(names or "")


def read_teaser(page: Page, root: LexborNode) -> str | None:
    node = page.first(selectors.TEASER, within=root)
    if node is not None and page.ancestor(node, selectors.LIST_BLOCK) is None:
        return or_none(node_text(node))
    return None


def read_image(page: Page, root: LexborNode) -> Image | None:
    figure = page.first(selectors.FIGURE, within=root)
    image = (figure if figure.tag == "img" else figure.css_first("img")) if figure is not None else None
    structured_url = json_ld_image_url(page.data.article) or page.data.first("og:image")
    if image is None:
        if not structured_url:
            return None
        return Image(url=page.absolute(structured_url), credit=clean_credit(json_ld_image_credit(page.data.article)))
    src = image.attributes.get("src") or image.attributes.get("data-src") or structured_url
    caption = page.first(selectors.CREDIT, within=figure)
    return Image(
        url=page.absolute(src) or "",
        alt=or_none(normalise(image.attributes.get("alt"))),
        credit=clean_credit(node_text(caption)),
    )


def clean_credit(text: str | None) -> str | None:
    """'© © Flickr CC' -> 'Flickr CC'."""
    return or_none(_CREDIT_PREFIX.sub("", text or "").strip())


def read_dossier(page: Page) -> DossierRef | None:
    box = page.first(selectors.DOSSIER_BOX, within=page.main)
    if box is None or not labels.DOSSIER_BOX.search(node_text(box)):
        box = _labelled_dossier_box(page)
    if box is None:
        return None
    link = page.first(selectors.DOSSIER_LINK, within=box)
    if link is None:
        return None
    return DossierRef(title=node_text(link), url=page.absolute(link.attributes.get("href")))


def _labelled_dossier_box(page: Page) -> LexborNode | None:
    """The smallest element whose text says 'fait partie du dossier' and that holds a dossier link."""
    for node in page.labelled(labels.DOSSIER_BOX_FRAGMENT):
        if len(node_text(node)) < 120:
            scope = node
            while scope is not None and scope.css_first("a[href*='/dossiers/']") is None:
                scope = scope.parent
            return scope
    return None


def read_paywall(page: Page) -> Paywall:
    markers = _paywall_markers(page)
    free = json_ld_is_free(page.data.article)
    reserved = page.flag("is_reserved_content")
    is_paywalled = bool(markers) or free is False or (reserved is True and not markers and free is None
                                                      and _paywall_box(page) is not None)
    return Paywall(is_paywalled=is_paywalled, markers=markers)


def _paywall_box(page: Page) -> LexborNode | None:
    return page.first(selectors.PAYWALL_BOX, within=page.main)


def _paywall_markers(page: Page) -> list[str]:
    markers: list[str] = []
    for node in page.labelled(*labels.PAYWALL_FRAGMENTS):
        text = _sentence_around(node, labels.is_paywall_marker)
        if text and text not in markers:
            markers.append(text)
    return markers


def _sentence_around(node: LexborNode, is_wanted: Callable[[str], bool]) -> str | None:
    """The text of `node`, or of the block around it when the label sits in an inline element."""
    for _ in range(3):
        if node is None:
            return None
        text = node_text(node)
        if len(text) > 300:
            return None
        if is_wanted(text):
            return text
        node = node.parent
    return None


def read_body(page: Page, root: LexborNode, teaser: str | None) -> str | None:
    container = page.first(selectors.BODY, within=root)
    if container is None:
        container = _densest_paragraph_container(page.main)
    if container is None:
        text = json_ld_text(page.data.article, "articleBody")
        return or_none(text)
    blocks = [_block_text(node) for node in _top_level_blocks(container)]
    blocks = [block for block in blocks if block and block != teaser and not labels.is_paywall_marker(block)]
    return "\n\n".join(blocks) or None


def _top_level_blocks(container: LexborNode) -> list[LexborNode]:
    """The blocks of the text, in order: not nested in another block, a paywall box, a figure, the teaser or
    a dossier box. Exclusions are collected once (in C) and checked by id on the way up to the container."""
    own = container.mem_id
    not_body = {node.mem_id for node in container.css(_NOT_BODY) if node.mem_id != own}
    nesting = not_body | {node.mem_id for node in container.css(_NESTING) if node.mem_id != own}
    blocks = []
    for node in container.css(selectors.BODY_BLOCKS):
        if node.mem_id in not_body:
            continue
        parent = node.parent
        while parent is not None and parent.mem_id != own and parent.mem_id not in nesting:
            parent = parent.parent
        if parent is None or parent.mem_id == own:
            blocks.append(node)
    return blocks


def _block_text(node: LexborNode) -> str:
    if node.tag in ("ul", "ol"):
        return "\n".join(f"- {node_text(item)}" for item in node.css("li") if node_text(item))
    return node_text(node)


def _densest_paragraph_container(main: LexborNode) -> LexborNode | None:
    """Without known classes: the element whose direct <p> children hold the most text."""
    best, best_length = None, 0
    seen: set[int] = set()  # each parent once: a page of 10,000 paragraphs is not read 10,000 times
    for paragraph in main.css("p"):
        parent = paragraph.parent
        if parent is None or parent.mem_id in seen:
            continue
        seen.add(parent.mem_id)
        length = sum(len(node_text(child)) for child in parent.iter() if child.tag == "p")
        if length > best_length:
            best, best_length = parent, length
    return best if best_length >= 100 else None


def read_related(page: Page) -> list[RelatedLink]:
    related: list[RelatedLink] = []
    for heading in page.labelled(*labels.RELATED_FRAGMENTS):
        section = node_text(heading)
        if not (labels.RELATED_SAME_SUBJECT.match(section) or labels.RELATED_NEWS.match(section)):
            continue
        if len(section) > 60:
            continue
        items = _list_after(heading)
        if items is not None:
            related.extend(_related_items(page, items, section))
    return related


def _list_after(heading: LexborNode) -> LexborNode | None:
    """The block of links that follows a section title: a later sibling of the title, or of its wrapper when
    the title is alone in it. A following section title ('Les plus lus'…) ends the search."""
    node: LexborNode | None = heading
    for _ in range(3):
        if node is None:
            return None
        sibling = node.next
        while sibling is not None:
            if sibling.is_element_node:
                if labels.NOT_RELATED.match(node_text(sibling)):
                    return None
                if sibling.css_first("a[href]") is not None:
                    return sibling
            sibling = sibling.next
        parent = node.parent
        if parent is None or _element_children(parent) > 1:
            return None
        node = parent
    return None


def _element_children(node: LexborNode) -> int:
    return sum(1 for child in node.iter() if child.is_element_node)


def _related_entries(container: LexborNode) -> list[LexborNode]:
    """The entries of a related block: its list items, else its cards, else its links."""
    for selector in ("li", "article", "a[href]"):
        entries = [node for node in container.css(selector) if node.mem_id != container.mem_id]
        if entries or container.tag == selector:
            return entries or [container]
    return []


def _related_items(page: Page, items: LexborNode, section: str) -> list[RelatedLink]:
    links = []
    for item in _related_entries(items):
        link, title_node, teaser_node = _entry_parts(item)
        if link is None:
            continue
        title = node_text(title_node or link)
        teaser = node_text(teaser_node) if teaser_node is not None else ""
        url = page.absolute(link.attributes.get("href")) or ""
        links.append(RelatedLink(section=section, title=title, url=url,
                                 teaser=or_none(teaser if teaser != title else "")))
    return links


def _entry_parts(item: LexborNode) -> tuple[LexborNode | None, LexborNode | None, LexborNode | None]:
    """The link, title and teaser of a related entry (the first of each in page order, the entry itself
    included), found in one walk of its few nodes."""
    link = title = teaser = None
    for node in item.traverse():
        tag = node.tag
        attributes = node.attributes
        class_attribute = attributes.get("class") or ""
        classes = class_attribute.split()
        if link is None and tag == "a" and "href" in attributes:
            link = node
        if title is None and selectors.RELATED_TITLE.matches(tag, class_attribute, classes):
            title = node
        if teaser is None and selectors.RELATED_TEASER.matches(tag, class_attribute, classes):
            teaser = node
    return link, title, teaser


def read_comments_count(page: Page) -> int | None:
    return labels.comments_count(page.text)


def read_comments(page: Page) -> list[Comment]:
    """Comments in page order. Each starts at a 'pseudo - DD/MM/YYYY HHh:MM' line (label layer); its container
    is the theme's comment element (selector layer) or else the nearest list item around that line."""
    headers = []
    for node in page.labelled(labels.COMMENT_TIME_FRAGMENT):
        header = _sentence_around(node, labels.COMMENT_HEADER.match)
        if header is None:
            continue
        while node is not None and node_text(node) != header:
            node = node.parent
        if node is not None and not any(node.mem_id == seen.mem_id for seen, _ in headers):
            headers.append((node, labels.COMMENT_HEADER.match(header)))
    containers = [_comment_container(page, node) for node, _ in headers]
    known = {container.mem_id: index for index, container in enumerate(containers)}
    comments = []
    for (header, match), container in zip(headers, containers, strict=True):
        parent = _enclosing_comment(container, known)
        comments.append(Comment(
            author=or_none(normalise(match.group("author"))),
            posted_at=dates.from_french(match.group("date")),
            text=_comment_text(container, header, known),
            in_reply_to=known.get(parent.mem_id) if parent is not None else None,
        ))
    return comments


def _comment_container(page: Page, header: LexborNode) -> LexborNode:
    return page.ancestor(header, _COMMENT) or _ancestor_tagged(header, ("li", "article")) or header.parent or header


def _ancestor_tagged(node: LexborNode, tags: tuple[str, ...]) -> LexborNode | None:
    parent = node.parent
    while parent is not None and parent.tag not in tags:
        parent = parent.parent
    return parent


def _enclosing_comment(container: LexborNode, known: dict[int, int]) -> LexborNode | None:
    parent = container.parent
    while parent is not None and parent.tag not in ("body", "html"):
        if parent.mem_id in known:
            return parent
        parent = parent.parent
    return None


def _comment_text(container: LexborNode, header: LexborNode, known: dict[int, int]) -> str:
    parts = []
    for node in leaf_blocks(container, ("p", "div")):
        if node.mem_id == header.mem_id:
            continue
        owner = node if node.mem_id in known else _enclosing_comment(node, known)
        if owner is not None and owner.mem_id != container.mem_id:
            continue  # the text of a reply nested in this comment
        text = node_text(node)
        if text and not (labels.COMMENT_ACTIONS.match(text) or labels.COMMENT_HEADER.match(text)
                         or labels.COMMENTS_COUNT.search(text)):
            parts.append(text)
    return "\n\n".join(parts)


def read_themes(page: Page) -> list[str]:
    box = page.first(selectors.THEMES_BOX, within=page.root)
    links = box.css("a") if box is not None else _links_after_label(page, labels.THEMES)
    themes: list[str] = []
    for link in links:
        text = node_text(link)
        if text and text not in themes:
            themes.append(text)
    return themes


def _links_after_label(page: Page, label: re.Pattern[str]) -> list[LexborNode]:
    """The links that follow a label inside the label's own container (an empty block gives none)."""
    for node in page.labelled(labels.THEMES_FRAGMENT):
        if label.match(node_text(node)):
            links = [link for link in node.css("a[href]")]  # 'Thèmes abordés : <a>…</a>, <a>…</a>'
            sibling = node.next
            while sibling is not None:
                if sibling.is_element_node:
                    links += [link for link in sibling.css("a") if link.attributes.get("href")]
                sibling = sibling.next
            return links
    return []


def _missing_core_fields(article: Article) -> list[str]:
    missing = [name for name, value in (("title", article.title),
                                        ("date", article.published_at or article.updated_at)) if not value]
    return [f"no {name} found: the site's markup may have changed" for name in missing]
