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
from scraper.parse.nodes import ancestor_ids, leaf_blocks, next_element, previous_element
from scraper.parse.page import Page
from scraper.parse.sections import Entry, Lists, read_lists, unread, unread_warning
from scraper.parse.structured import (
    json_ld_authors,
    json_ld_image_credit,
    json_ld_image_url,
    json_ld_is_free,
    json_ld_text,
)
from scraper.parse.text import node_text, normalise, or_none
from scraper.site import site_id_from_url

_TITLE_SUFFIX = re.compile(r"\s+[|\-–—]\s+(La\s*Gazette|Lagazette|Club\s+Techni|Techni\.?Cit).*$", re.IGNORECASE)
_WRAPPER_DEPTH = 6  # wrappers, each opened by the one inside it, between a title and the line above them
_CREDIT_PREFIX = re.compile(r"^(?:\s*(?:©|\(c\)|crédit\s*(?:photo)?\s*:?)\s*)+", re.IGNORECASE)
_NOT_BODY = ", ".join(selectors.PAYWALL_BOX + selectors.DOSSIER_BOX + selectors.TEASER)
_NESTING = "p, blockquote, ul, ol, table, figure, figcaption, li, pre"
_COMMENT = ", ".join(selectors.COMMENTS)
_IMAGE_TAGS = ("img", "amp-img")
_IMAGES = "img, amp-img"
_NOT_A_LINE = frozenset({"p", "div", "figure", "img", "amp-img", "picture", "ul", "ol", "section", "article"})
_TEXT_BLOCKS = frozenset({"p", "div", "section", "article"})
_TEASER_MIN = 60  # characters: a teaser is at least a sentence; a date line or a byline is shorter


def parse_article(page: Page) -> Article:
    """Read every field of the contract from an article page; never raises on odd markup."""
    title_node = page.first(selectors.TITLE, within=page.main)
    root = article_root(page, title_node)
    article = Article(url=page.url, title=read_title(page, title_node))
    article.site_id = read_site_id(page)
    article.kicker = read_kicker(page, root, title_node)
    article.published_at, article.updated_at = read_dates(page, root)
    article.authors = read_authors(page, root)
    body = body_container(page, root)
    article.teaser = read_teaser(page, root, title_node, body)
    article.image = read_image(page, root, title_node)
    dossier_box = dossier_box_of(page)
    article.dossier = read_dossier(page, dossier_box)
    article.paywall = read_paywall(page)
    article.body = read_body(page, body, article.teaser)
    lists = read_lists(page)
    article.related = read_related(lists, article.site_id)
    article.comments_count = read_comments_count(page)
    article.comments = read_comments(page)
    article.themes = read_themes(page)
    article.unread_links = read_unread_links(lists, article, [body, dossier_box])
    article.warnings = page.warnings + _missing_core_fields(article) + unread_warning(article.unread_links)
    return article


def article_root(page: Page, title_node: LexborNode | None) -> LexborNode:
    """The article's element: the first of the theme's candidates, in priority order, that holds the title
    (another <article> of the page, a card of related news, is not it)."""
    first = page.first_by_priority(selectors.ARTICLE_ROOT, within=page.main)
    if first is None or title_node is None:
        return first or page.main
    around_title = ancestor_ids(title_node)
    if first.mem_id in around_title:
        return first
    for selector in selectors.ARTICLE_ROOT:
        for node in page.main.css(selector):
            if node.mem_id in around_title:
                return node
    return page.main


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
    """Label-free fallback: a short line just before the h1 (the 'surtitre'), or before the wrappers that the h1
    opens (each the first child of the next, up to _WRAPPER_DEPTH of them)."""
    node = title_node
    previous = None
    for _ in range(_WRAPPER_DEPTH + 1):
        if node is None:
            return None
        previous = previous_element(node)
        if previous is not None:
            break
        node = node.parent
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
        if not (published and updated):
            shown_published, shown_updated = _time_elements_by_label(root)
            published, updated = published or shown_published, updated or shown_updated
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


def _time_elements_by_label(root: LexborNode) -> tuple[str | None, str | None]:
    """The `datetime` of <time> elements without a theme's class, by what they show: 'Mis à jour le …' is the
    update, anything else the publication (an AMP page's lone <time>). Keeps the time and offset the
    attribute gives where the text shows only a date."""
    published = updated = None
    for node in root.css("time[datetime]"):
        moment = dates.from_iso(node.attributes.get("datetime"))
        if labels.UPDATED.search(node_text(node)):
            updated = updated or moment
        else:
            published = published or moment
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
        text = labels.byline_part(node_text(node))
        if labels.BYLINE.match(text) and len(text) < 200:
            return _authors_from_byline(text)
    return []


def _authors_from_byline(text: str) -> list[str]:
    """'Par A et B', alone or as one part of 'Publié le … • Par A • dans : …'."""
    text = labels.byline_part(text)
    match = labels.BYLINE.match(text)
    names = match.group(1) if match else text
    return labels.split_authors(names or "")


def read_teaser(page: Page, root: LexborNode, title_node: LexborNode | None,
                body: LexborNode | None) -> str | None:
    """The theme's teaser element (or a microdata description), else, by structure: a bold first paragraph of
    the text, or the first sentence-long paragraph between the title and the text."""
    node = page.first(selectors.TEASER, within=root)
    if node is not None and page.ancestor(node, selectors.LIST_BLOCK) is None:
        text = node_text(node) if node.tag != "meta" else normalise(node.attributes.get("content"))
        if text:
            return text
    if body is None:
        return None
    return _bold_first_paragraph(body) or _paragraph_before_body(root, title_node, body)


def _bold_first_paragraph(body: LexborNode) -> str | None:
    """A first paragraph that is all bold (<p><strong>…</strong></p>): the teaser, not the text."""
    first = body.css_first("p")
    if first is None:
        return None
    bold = first.css_first("strong, b")
    text = node_text(first)
    return text if bold is not None and text and node_text(bold) == text else None


def _paragraph_before_body(root: LexborNode, title_node: LexborNode | None, body: LexborNode) -> str | None:
    """The first paragraph after the title and before the body's container, outside it, long enough to be a
    sentence, that is not a date, a byline, a caption, a paywall notice or the dossier box."""
    if title_node is None:
        return None
    started = False
    for node in root.traverse():
        key = node.mem_id
        if key == body.mem_id:
            return None
        if key == title_node.mem_id:
            started = True
            continue
        if not started or node.tag not in _TEXT_BLOCKS or _has_block_child(node):
            continue
        text = node_text(node)
        if len(text) >= _TEASER_MIN and _is_teaser_like(text):
            return text
    return None


def _has_block_child(node: LexborNode) -> bool:
    return any(child.tag in _NOT_A_LINE for child in node.iter())


def _is_teaser_like(text: str) -> bool:
    return not (text.startswith("©") or labels.PUBLISHED.search(text) or labels.UPDATED.search(text)
                or labels.BYLINE.match(text) or labels.DOSSIER_BOX.search(text) or labels.is_paywall_marker(text))


def read_image(page: Page, root: LexborNode, title_node: LexborNode | None) -> Image | None:
    figure = page.first(selectors.FIGURE, within=root)
    image = (figure if figure.tag in _IMAGE_TAGS else figure.css_first(_IMAGES)) if figure is not None else None
    if image is None:
        image = _first_image_after(root, title_node)
        figure = image.parent if image is not None else None
    structured_url = json_ld_image_url(page.data.article) or page.data.first("og:image")
    if image is None:
        if not structured_url:
            return None
        return Image(url=page.absolute(structured_url), credit=clean_credit(json_ld_image_credit(page.data.article)))
    src = image.attributes.get("src") or image.attributes.get("data-src") or structured_url
    return Image(
        url=page.absolute(src) or "",
        alt=or_none(normalise(image.attributes.get("alt"))),
        credit=clean_credit(_credit_text(page, figure, image)),
    )


def _first_image_after(root: LexborNode, title_node: LexborNode | None) -> LexborNode | None:
    """Without the theme's figure: the first image after the title that is not a link's (a thumbnail)."""
    if title_node is None:
        return None
    started = False
    for node in root.css(f"{title_node.tag}, {_IMAGES}"):
        if node.mem_id == title_node.mem_id:
            started = True
        elif started and node.tag in _IMAGE_TAGS and _ancestor_tagged(node, ("a",)) is None:
            return node
    return None


def _credit_text(page: Page, figure: LexborNode | None, image: LexborNode) -> str | None:
    """The caption of the figure, else a '©' line beside the image (a caption-like element without
    figcaption)."""
    caption = page.first(selectors.CREDIT, within=figure) if figure is not None and figure.tag not in _IMAGE_TAGS \
        else None
    if caption is not None:
        return node_text(caption)
    node = image.parent if image.parent is not None and image.parent.tag in ("picture", "a") else image
    for sibling in (next_element(node), previous_element(node)):
        if sibling is not None and node_text(sibling).startswith("©"):
            return node_text(sibling)
    return None


def clean_credit(text: str | None) -> str | None:
    """'© © Flickr CC' -> 'Flickr CC'."""
    return or_none(_CREDIT_PREFIX.sub("", text or "").strip())


def dossier_box_of(page: Page) -> LexborNode | None:
    """The box that says which dossier the article is part of: the theme's, else the labelled one."""
    box = page.first(selectors.DOSSIER_BOX, within=page.main)
    if box is None or not labels.DOSSIER_BOX.search(node_text(box)):
        box = _labelled_dossier_box(page)
    return box


def read_dossier(page: Page, box: LexborNode | None) -> DossierRef | None:
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


def body_container(page: Page, root: LexborNode) -> LexborNode | None:
    """The element of the article's text: the theme's, else the one with the most paragraph text."""
    container = page.first(selectors.BODY, within=root)
    return container if container is not None else _densest_paragraph_container(page.main)


def read_body(page: Page, container: LexborNode | None, teaser: str | None) -> str | None:
    if container is None:
        text = json_ld_text(page.data.article, "articleBody")
        return or_none(text)
    blocks = [_block_text(node) for node in _top_level_blocks(container)]
    blocks = [block for block in blocks if block and block != teaser and not labels.is_paywall_marker(block)
              and not block.startswith("©") and not labels.BULLET_BYLINE.match(block)]
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


def read_related(lists: Lists, site_id: int | None) -> list[RelatedLink]:
    """The entries of the page's related-news sections ('Sur le même sujet', 'L'actu …'), page order; never a
    link to the article itself (a comment's 'Répondre')."""
    return [RelatedLink(section=entry.section, title=entry.title, url=entry.url,
                        teaser=entry.teaser if entry.teaser != entry.title else None)
            for entry in lists.entries if _is_related(entry) and entry.site_id != site_id]


def _is_related(entry: Entry) -> bool:
    section = entry.section
    return (section is not None and len(section) <= 60 and not entry.left_out
            and bool(labels.RELATED_SAME_SUBJECT.match(section) or labels.RELATED_NEWS.match(section)))


def read_unread_links(lists: Lists, article: Article, read_in: list[LexborNode | None]) -> list[str]:
    """Article links of the content that are none of: the article itself, a related link, a link inside the
    body text or the dossier box (`read_in`), a section left out by name."""
    inside = {node.mem_id for node in read_in if node is not None}
    content = [entry for entry in lists.entries if not entry.in_sidebar and not entry.left_out
               and not _is_related(entry) and not inside & ancestor_ids(entry.root)]
    return unread(content, set(), self_id=article.site_id)


def read_comments_count(page: Page) -> int | None:
    """The number before '| réagir', else a heading that says 'N commentaires'."""
    count = labels.comments_count(page.text)
    if count is not None or "commentaire" not in page.text:
        return count
    for heading in page.root.css("h2, h3, h4, h5"):
        match = labels.COMMENTS_HEADING.match(node_text(heading))
        if match:
            return int(match.group(1))
    return None


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
