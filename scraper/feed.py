"""RSS 2.0 (and Atom) feeds: the site has one per rubrique, at `<rubrique URL>feed/`.

Parsed with feedparser, always from bytes wrapped in a stream (a plain string would make feedparser
open URLs or files) and never expanding external entities (feedparser strips them from the DOCTYPE and
turns off external general entities in its SAX parser).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from scraper.models import Listing, ListItem
from scraper.site import site_id_from_url

if TYPE_CHECKING:
    import feedparser

_TAG = re.compile(r"<[^>]*>")


@dataclass
class FeedItem:
    """One entry of a feed: an article link with what the feed says about it."""

    url: str
    title: str
    published_at: str | None = None  # ISO 8601 with the feed's offset
    site_id: int | None = None
    summary: str | None = None


@dataclass
class Feed:
    url: str
    title: str
    items: list[FeedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version: str = ""  # feedparser's name of the format ("rss20", "atom10", ...), empty when not a feed

    @property
    def is_feed(self) -> bool:
        """Whether the document was a feed at all (an HTML page or garbage is not)."""
        return bool(self.version)

    def as_listing(self) -> Listing:
        """The feed as a listing record, so the archive keeps it (and its items) like a rubrique page."""
        items = [ListItem(position=i, title=item.title, url=item.url, site_id=item.site_id,
                          teaser=item.summary)
                 for i, item in enumerate(self.items, start=1)]
        return Listing(url=self.url, title=self.title, articles=items, warnings=list(self.warnings))


# A feed's first element (after the XML declaration, comments, a stylesheet) is <rss>, <feed> or <rdf:RDF>.
_FEED_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*)*<(?:rss|feed|rdf:rdf)[\s>]",
                         re.IGNORECASE | re.DOTALL)


def feed_refusal(body: bytes, url: str) -> str | None:
    """What a command that stores pages (`scrape url`, `scrape listing`, `scrape dossier`) says of a feed:
    'this is a feed: use scrape feed (URL)' when `body` starts as an RSS or Atom feed, else None."""
    return f"this is a feed: use scrape feed ({url})" if _FEED_START.match(body[:65536]) else None


def parse_feed(content: bytes, url: str, content_type: str | None = None) -> Feed:
    """Parse a feed's bytes. Never raises: what cannot be read is said in `warnings`.

    Only http(s) links are kept (relative ones are resolved against `url`); items keep the feed's order.
    """
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    import feedparser  # only when a feed is read: a dossier or listing crawl never needs it

    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers,
                              resolve_relative_uris=False, sanitize_html=True)
    feed = Feed(url=url, title=_clean(parsed.feed.get("title")) or url, version=parsed.get("version") or "")
    if not parsed.get("version"):
        feed.warnings.append(f"not an RSS or Atom feed ({_bozo(parsed) or 'no feed element'})")
    elif parsed.get("bozo"):
        feed.warnings.append(f"feed is not well-formed XML, read leniently ({_bozo(parsed)})")
    for entry in parsed.entries:
        item = _item(entry, url)
        if item is None:
            feed.warnings.append(f"entry without an http(s) link skipped: {_clean(entry.get('title'))!r}")
        else:
            feed.items.append(item)
    return feed


def _item(entry: feedparser.FeedParserDict, base: str) -> FeedItem | None:
    link = (entry.get("link") or "").strip()
    if not link:
        return None
    url = urljoin(base, link)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    return FeedItem(
        url=url,
        title=_clean(entry.get("title")),
        published_at=_date(entry.get("published") or entry.get("updated")),
        site_id=site_id_from_url(url) or site_id_from_url(entry.get("id")),
        summary=_text(entry.get("summary")) or None,
    )


def _date(value: str | None) -> str | None:
    """An RFC 822 date (RSS) or ISO 8601 date (Atom) as ISO 8601, None when unreadable."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def _text(fragment: str | None) -> str:
    """The text of an HTML fragment (feed descriptions are HTML: tags, entities such as &#8230;)."""
    return _clean(html.unescape(_TAG.sub(" ", fragment or "")))


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _bozo(parsed: feedparser.FeedParserDict) -> str:
    exc = parsed.get("bozo_exception")
    return str(exc).splitlines()[0] if exc else ""
