"""Article pages: every field from the first layer that yields it (structured data, theme markup, labels).

Each field read through its three layers, sharing one cleaned page and its label lookups: the metadata here; the
text and the lead image (body.py), the comments (comments.py) and the paywall (paywall.py) in modules of their
own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from selectolax.lexbor import LexborNode

from scraper.models import Article, DossierRef, RelatedLink
from scraper.parse import dates, labels, selectors
from scraper.parse.body import article_text, body_container, read_image
from scraper.parse.comments import read_comments_count, read_thread
from scraper.parse.nodes import ancestor_ids, previous_element
from scraper.parse.page import Page, ancestor_among
from scraper.parse.paywall import metered_paywall_box, read_paywall
from scraper.parse.sections import Entry, Lists, read_lists, unread, unread_warning
from scraper.parse.structured import (
    json_ld_authors,
    json_ld_text,
)
from scraper.parse.text import node_text, normalise, or_none
from scraper.site import is_site_host, site_id_from_url, split

_TITLE_SUFFIX = re.compile(r"\s+[|\-–—]\s+(La\s*Gazette|Lagazette|Club\s+Techni|Techni\.?Cit).*$", re.IGNORECASE)
_WRAPPER_DEPTH = 6  # wrappers, each opened by the one inside it, between a title and the line above them
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
    body = body_container(page, root)
    lists = read_lists(page, locks=False)  # related news carry no paywall flag
    others = _other_entries(lists, article.site_id)
    thread = read_thread(page, root, body, others)
    article.published_at, article.updated_at = read_dates(page, root, others | frozenset(thread.containers))
    article.authors = read_authors(page, root)
    article.teaser = read_teaser(page, root, title_node, body)
    article.image = read_image(page, root, title_node, body)
    dossier_box = dossier_box_of(page)
    article.dossier = read_dossier(page, dossier_box)
    paywall_box, box_sentences = metered_paywall_box(page, root, body)
    article.paywall = read_paywall(page, box_sentences)
    article.body = article_text(page, body, article.teaser, paywall_box)
    article.related = read_related(lists, article.site_id)
    article.comments_count = read_comments_count(page, others)
    article.comments = thread.comments
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


def _other_entries(lists: Lists, site_id: int | None) -> frozenset[int]:
    """The elements of the entries that link to another article than `site_id` (an article's title or a comment's
    permalink that links to the article itself is not a list of other articles)."""
    return frozenset(entry.root_key for entry in lists.entries if entry.site_id != site_id)


def read_dates(page: Page, root: LexborNode, foreign: frozenset[int] = frozenset()) -> tuple[str | None, str | None]:
    """Structured data, else the article's own date elements, else its visible 'Publié le …' / 'Mis à jour le …'.
    A date inside a comment, an entry of a list of other articles (`foreign`) or a sidebar is never the
    article's."""
    published = dates.from_iso(json_ld_text(page.data.article, "datePublished")) or dates.from_iso(
        page.data.first("article:published_time", "datepublished"))
    updated = dates.from_iso(json_ld_text(page.data.article, "dateModified")) or dates.from_iso(
        page.data.first("article:modified_time", "datemodified"))
    if not (published and updated) and root.css_first(selectors.DATE_ELEMENTS) is not None:
        def own(node: LexborNode) -> bool:
            return ancestor_among(node, foreign) is None and not page.in_sidebar(node)
        published = published or _date_element(page, root, selectors.PUBLISHED_TIME, own)
        updated = updated or _date_element(page, root, selectors.UPDATED_TIME, own)
        if not (published and updated):
            shown_published, shown_updated = _time_elements_by_label(root, own)
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


def _time_elements_by_label(root: LexborNode, own: Callable[[LexborNode], bool]) -> tuple[str | None, str | None]:
    """The `datetime` of <time> elements without a theme's class, by what they show: 'Mis à jour le …' is the
    update, anything else the publication (an AMP page's lone <time>). Keeps the time and offset the
    attribute gives where the text shows only a date."""
    published = updated = None
    for node in root.css("time[datetime]"):
        if not own(node):
            continue
        moment = dates.from_iso(node.attributes.get("datetime"))
        if labels.UPDATED.search(node_text(node)):
            updated = updated or moment
        else:
            published = published or moment
    return published, updated


def _date_element(page: Page, root: LexborNode, candidates: list[str],
                  own: Callable[[LexborNode], bool]) -> str | None:
    """The date of the first of the article's own elements among `candidates`: its `datetime` (<time>) or
    `content` (<meta>)."""
    node = page.first(candidates, within=root)
    if node is not None and not own(node):  # rarely: the first is a comment's or a list's, look further
        node = next((node for node in root.css(", ".join(candidates)) if own(node)), None)
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


def read_themes(page: Page) -> list[str]:
    """The links of the themes box (or after the 'Thèmes abordés' label) that lead to a page of the site: share
    links ('Partager sur LinkedIn', to another site or a script) are none."""
    box = page.first(selectors.THEMES_BOX, within=page.root)
    links = box.css("a") if box is not None else _links_after_label(page, labels.THEMES)
    themes: list[str] = []
    hosts = {_host(page.url), ""}
    for link in links:
        text = node_text(link)
        if text and text not in themes and not labels.SHARE.match(text) and _on_site(
                _host(page.absolute(link.attributes.get("href"))), hosts):
            themes.append(text)
    return themes


def _on_site(host: str | None, hosts: set[str | None]) -> bool:
    return host is not None and (host in hosts or is_site_host(host))


def _host(url: str | None) -> str | None:
    """The host of `url` without 'www.', '' for a URL without one, None for no URL."""
    parts = split(url)
    if parts is None:
        return None
    return (parts.hostname or "").removeprefix("www.")


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
