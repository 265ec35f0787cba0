"""Dossier and listing pages: their article entries read by structure (sections.py), a title, the next page."""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from scraper.models import Dossier, Listing, ListItem
from scraper.parse import labels, selectors
from scraper.parse.nodes import first_of_each, next_element
from scraper.parse.page import Page, in_pagination, labelled_links, labelled_mark
from scraper.parse.sections import Entry, Lists, read_lists, unread, unread_warning
from scraper.parse.text import node_text, or_none
from scraper.site import dossier_base_url

_INTRO_TAGS = frozenset({"p", "div", "section"})
_OL_DEPTH = 3  # wrappers between an entry and its ordered list
_WRAPPER_DEPTH = 3  # wrappers a dossier's title may stand alone in
_INTRO_MIN = 60  # characters: a block of that much text after the title is the introduction


def parse_dossier(page: Page) -> Dossier:
    """The dossier's contents are the entries of its 'Au sommaire du dossier' section (every content entry
    when the page names no such section); any other article link of the content is reported as unread."""
    lists = read_lists(page)
    content = _content(lists)
    toc = [entry for entry in content if entry.under(labels.DOSSIER_TOC)]
    entries = _first_of_each(toc or content)
    dossier = Dossier(url=page.url, title=_page_title(page, lists), intro=_dossier_intro(page, lists),
                      articles=_items(entries), next_page=read_next_page(page))
    dossier.unread_links = unread(content, {entry.site_id for entry in entries})
    dossier.linked_articles = _linked_articles(lists)
    dossier.warnings = page.warnings + _missing(dossier.title, dossier.articles) + unread_warning(dossier.unread_links)
    return dossier


def parse_listing(page: Page) -> Listing:
    """Every article entry of the page's content areas, each once, in page order (the first place wins)."""
    lists = read_lists(page)
    content = _content(lists)
    entries = _first_of_each(content)
    listing = Listing(url=page.url, title=_page_title(page, lists), articles=_items(entries),
                      next_page=read_next_page(page))
    listing.unread_links = unread(content, {entry.site_id for entry in entries})
    listing.linked_articles = _linked_articles(lists)
    listing.warnings = page.warnings + _missing(listing.title, listing.articles) + unread_warning(listing.unread_links)
    return listing


def _content(lists: Lists) -> list[Entry]:
    """The entries of the content areas: neither in a sidebar nor in a section left out by name."""
    return [entry for entry in lists.entries if not entry.in_sidebar and not entry.left_out]


def _linked_articles(lists: Lists) -> int:
    """How many distinct articles the page links to, anywhere in it (sidebars included)."""
    return len({link.site_id for link in lists.links})


def _first_of_each(entries: list[Entry]) -> list[Entry]:
    return first_of_each(entries, lambda entry: entry.site_id)


def _items(entries: list[Entry]) -> list[ListItem]:
    start = _list_start(entries[0]) if entries else 1
    # In the order of ListItem's fields (position, title, url, site_id, kicker, teaser, is_paywalled, section):
    # keyword arguments cost a dataclass twice the time of positional ones.
    return [ListItem(start + index, entry.title, entry.url, entry.site_id, entry.kicker, entry.teaser,
                     entry.is_paywalled, entry.section)
            for index, entry in enumerate(entries)]


def _list_start(entry: Entry) -> int:
    """The number the page shows for its first entry: the `start` of the ordered list around it (`<ol start="7">`
    on a dossier's second page), else a number shown beside its title, else 1."""
    node = entry.root.parent
    for _ in range(_OL_DEPTH):
        if node is None:
            break
        if node.tag == "ol":
            start = (node.attributes.get("start") or "").strip()
            if start.isdigit():
                return int(start)
            break
        node = node.parent
    return entry.number or 1


def _page_title(page: Page, lists: Lists) -> str:
    """The first <h1> of the main column, else of the page, else the page's title by its metadata."""
    heading = _first_heading(page, lists)
    text = node_text(heading)
    if text:
        return text
    return page.data.first("og:title") or node_text(page.tree.css_first("title"))


def _first_heading(page: Page, lists: Lists) -> LexborNode | None:
    """The first <h1> of the main column, else of the page. The page's first is known from the reading of its lists
    (`lists`, of the whole page): when there is none (a home page) or it is in the main column, that answers
    without a walk of the page."""
    first = lists.first_h1
    if first is None or _inside(first, {page.main.mem_id}):
        return first
    return page.main.css_first("h1") or first


def _dossier_intro(page: Page, lists: Lists) -> str | None:
    """The dossier's introduction as the page shows it (an intro block, else the first paragraph after the title
    and before the table of contents); on the first page, its description (structured data) when that says
    more. A later page (/page/N/) that shows none has none: its description is the first page's."""
    shown = _shown_intro(page, lists)
    if dossier_base_url(page.url)[1] > 1:
        return shown
    description = page.data.first("og:description", "description")
    if description and (shown is None or len(description) > len(shown)):
        return description
    return shown


def _shown_intro(page: Page, lists: Lists) -> str | None:
    """The intro block, else the first paragraph after the title (or after the wrappers it stands alone in)
    and before any link."""
    entries = {entry.root.mem_id for entry in lists.entries}
    node = page.first(selectors.DOSSIER_INTRO, within=page.main)
    if node is not None and not _inside(node, entries):
        return or_none(node_text(node))
    heading = page.main.css_first("h1")
    for _ in range(_WRAPPER_DEPTH):  # a title alone in its wrappers: the intro follows the outermost
        if heading is None or next_element(heading) is not None or heading.parent is None \
                or heading.parent.mem_id == page.main.mem_id:
            break
        heading = heading.parent
    sibling = heading.next if heading is not None else None
    while sibling is not None:
        if sibling.is_element_node and sibling.css_first("a[href]") is not None:
            return None
        if sibling.tag in _INTRO_TAGS and sibling.css_first("img, figure") is None:
            text = node_text(sibling)
            if len(text) >= _INTRO_MIN or (sibling.tag == "p" and text):
                return text
        sibling = sibling.next
    return None


def _inside(node: LexborNode, ids: set[int]) -> bool:
    current: LexborNode | None = node
    while current is not None:
        if current.mem_id in ids:
            return True
        current = current.parent
    return False


def read_next_page(page: Page) -> str | None:
    """The next page: `rel=next` (head or link), the theme's next link, else a link labelled 'Page suivante',
    'Suivant', or a bare '»' inside a pagination."""
    if page.data.next_link:
        return page.data.next_link
    # The menus are gone: the <nav>s left are paginations, where a bare arrow is the next page.
    arrows = f"{selectors.MENU_TAG} a" if page.paginated else ""
    if page.root.css_first(_ANY_NEXT_LINK[page.paginated]) is None:
        return None  # neither the theme's link nor a labelled one, told by one walk (a page without pagination)
    link = page.root.css_first(selectors.NEXT_PAGE)
    if link is None:
        links = labelled_links(page, labels.NEXT_PAGE_FRAGMENT, extra=arrows)
        link = next((node for node in links if _is_next_link(node)), None)
    return page.absolute(link.attributes.get("href")) if link is not None else None


def _any_next_link(paginated: bool) -> str:
    """The selector of every link read_next_page may take: the theme's, a labelled one, a link in a pagination when
    the page has one; as one `a:is(…)` (its tag tested once per element, its marks on the links only)."""
    marks = [labelled_mark(labels.NEXT_PAGE_FRAGMENT), *selectors.NEXT_PAGE_MARKS]
    if paginated:
        marks.append(f"{selectors.MENU_TAG} *")
    return f"a:is({', '.join(marks)})"


def _is_next_link(link: LexborNode) -> bool:
    """A link labelled as the next page, or a bare arrow in a pagination."""
    text = node_text(link)
    if labels.NEXT_PAGE.match(text):
        return True
    return bool(labels.NEXT_ARROW.match(text)) and in_pagination(link)


_ANY_NEXT_LINK = {paginated: _any_next_link(paginated) for paginated in (False, True)}  # written once


def _missing(title: str, items: list[ListItem]) -> list[str]:
    warnings = [] if title else ["no title found: the site's markup may have changed"]
    if not items:
        warnings.append("no article found in the list: the site's markup may have changed")
    return warnings
