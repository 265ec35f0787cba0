"""The candidates of a reading of lists (sections.py): the article links and the headings of a part of a page,
in page order, from one CSS query. An article link is one whose URL gives a post id (site_id_from_url) on the
page's own host, made absolute."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult

from selectolax.lexbor import LexborNode

from scraper.parse.nodes import tag_id
from scraper.parse.page import Page
from scraper.site import post_id_url, site_id_from_url, split

_CANDIDATES = "a[href], h1, h2, h3, h4, h5, h6"
_WEB = ("http", "https")
_A, _H1 = tag_id("a"), tag_id("h1")  # lexbor's ids of the tags: an int compared, not a name read out


@dataclass
class Link:
    """An article link, and its place in page order among the links and headings."""

    node: LexborNode
    key: int  # the node's mem_id
    url: str
    site_id: int
    position: int


def candidates(page: Page, scope: LexborNode) -> tuple[list[Link], list[tuple[int, LexborNode]]]:
    """The article links and the headings of `scope`, in page order (one query)."""
    links: list[Link] = []
    headings: list[tuple[int, LexborNode]] = []
    parts = split(page.url)
    host = _host_of(parts)
    origin = f"{parts.scheme}://{parts.netloc}" if parts is not None and host else ""
    # URLs that start with the page's own http(s) origin are absolute and on its host: kept as they are.
    own = origin + "/" if origin and parts is not None and parts.scheme in _WEB else None
    for position, node in enumerate(scope.css(_CANDIDATES)):
        if node.tag_id != _A:
            headings.append((position, node))
            continue
        href = node.attrs["href"] or ""  # there: the query asks for it (a key read, where .get() goes through a try)
        # site_id_from_url, its common case inline: one call less for each link of the page
        match = post_id_url(href)
        if match is not None:
            site_id = int(match[1])
        elif "p=" not in href or (site_id := site_id_from_url(href)) is None:
            continue
        url = href.strip()
        if own is None or not url.startswith(own):
            url = _absolute(page, url, origin)
            if not url or not (host is None or (own is not None and url.startswith(own)) or _host(url) in (host, None)):
                continue
        links.append(Link(node, node.mem_id, url, site_id, position))
    return links, headings


def _absolute(page: Page, href: str, origin: str) -> str | None:
    """`href` made absolute: a path on the page's own origin without urljoin (most links), else urljoin."""
    if origin and href.startswith("/") and not href.startswith("//"):
        return origin + href
    if href.startswith(("http://", "https://")):
        return href
    return page.absolute(href)


def _host(url: str | None) -> str | None:
    return _host_of(split(url))


def _host_of(parts: SplitResult | None) -> str | None:
    host = parts.hostname if parts is not None else None
    return host.removeprefix("www.") if host else None


def first_h1(headings: list[tuple[int, LexborNode]]) -> LexborNode | None:
    """The first <h1> of the headings that candidates() found."""
    return next((node for _, node in headings if node.tag_id == _H1), None)
