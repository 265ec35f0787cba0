"""The rules of a crawl: what each page leads to (a dossier's articles and next page, a listing's articles and
its next page within --pages and --since, a feed's items), which links are followed, and the login check of a
subscriber's cookies."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from scraper.archive import Archive
from scraper.archive.queue import EntryKind
from scraper.crawl.parsing import PARSE_TIMEOUT
from scraper.crawl.report import CrawlKind
from scraper.errors import InvalidDate, InvalidOption
from scraper.feed import Feed
from scraper.fetch import FetchPolicy
from scraper.models import Article, Dossier, FetchResult, Listing, ListItem, Record
from scraper.site import normal_url

Child = tuple[str, EntryKind]


@dataclass
class CrawlOptions:
    """What to crawl beyond the root, from the command line."""

    refresh: bool = False  # fetch again what is archived (with conditional GET), retry given-up pages
    since: str | None = None  # YYYY-MM-DD: listings and feeds stop at older articles
    max_pages: int | None = None  # listings: at most this many pages
    parse_timeout: float = PARSE_TIMEOUT  # seconds for one page's parse: over it, the page fails (`parse`)

    def __post_init__(self) -> None:
        if self.since is not None:
            try:
                date.fromisoformat(self.since)
            except ValueError:
                raise InvalidDate(f"invalid date {self.since!r}: expected YYYY-MM-DD") from None
        if self.max_pages is not None and self.max_pages < 1:
            raise InvalidOption("--pages must be at least 1")


class Rules:
    """What the pages of one crawl lead to. `note(message)` tells the run something worth saying;
    `skip(url)` reports an article left out because it is archived already."""

    def __init__(self, archive: Archive, policy: FetchPolicy, kind: CrawlKind, options: CrawlOptions, *,
                 note: Callable[[str], None], skip: Callable[[str], None]) -> None:
        self.archive = archive
        self.policy = policy
        self.kind = kind
        self.options = options
        self._note = note
        self._skip = skip
        self.paywalled: set[str] = set()  # article URLs their dossier or listing marks paywalled
        self.older_seen = False  # a listing's article older than --since was met: no further listing pages
        self.offsite: list[str] = []  # links to hosts that are not allowed, not followed

    def children(self, record: Record | Feed, listing_pages: Callable[[], int]) -> list[Child]:
        """The pages `record` leads to; `listing_pages` tells how many listing pages the crawl has queued (asked
        only of a listing page that could lead to the next one under --pages)."""
        if isinstance(record, Feed):
            return self._feed_children(record)
        if isinstance(record, Dossier):
            children = self._article_children(record.articles)
            if record.next_page and self.follows(record.next_page):
                children.append((normal_url(record.next_page), "dossier"))
            return children
        if isinstance(record, Listing):
            return self._listing_children(record, listing_pages)
        return []

    def _article_children(self, items: list[ListItem]) -> list[Child]:
        children: list[Child] = []
        for item in items:
            url = normal_url(item.url)
            if item.is_paywalled:
                self.paywalled.add(url)
            if not self.follows(url):
                continue
            if not self.options.refresh and self.archive.articles.find(url, item.site_id) is not None:
                self._skip(url)
                continue
            children.append((url, "article"))
        return children

    def _listing_children(self, listing: Listing, listing_pages: Callable[[], int]) -> list[Child]:
        children = self._article_children(listing.articles)
        if not listing.next_page or not self.follows(listing.next_page):
            return children
        if listing.articles and not children and not self.options.refresh:
            self._note(f"every article of {listing.url} is already archived: no further listing pages"
                       " (--refresh goes further)")
            return children
        if self.older_seen:
            return children
        if self.options.max_pages is not None and (queued := listing_pages()) >= self.options.max_pages:
            self._note(f"stopped after {queued} listing page(s) (--pages {self.options.max_pages})")
            return children
        return [*children, (normal_url(listing.next_page), "listing")]

    def _feed_children(self, feed: Feed) -> list[Child]:
        since = self.options.since
        items = [item for item in feed.items if not (since and item.published_at and item.published_at[:10] < since)]
        if len(items) < len(feed.items):
            self._note(f"{len(feed.items) - len(items)} feed item(s) older than {since} left out")
        return self._article_children([
            ListItem(position=i, title=item.title, url=item.url, site_id=item.site_id)
            for i, item in enumerate(items, start=1)
        ])

    def older_than_since(self, article: Article) -> bool:
        """Whether this article of a listing crawl is the first one published before --since (the listing
        then goes no further)."""
        since = self.options.since
        published = article.published_at or article.updated_at
        if self.kind != "listing" or not since or not published or published[:10] >= since or self.older_seen:
            return False
        self.older_seen = True
        self._note(f"{article.url} was published {published[:10]}, before --since {since}: no further listing pages")
        return True

    def follows(self, url: str) -> bool:
        """Only http(s) links to allowed origins (host and port) are taken from pages."""
        if self.policy.allows(url):
            return True
        if url not in self.offsite:
            self.offsite.append(url)
        return False

    def offsite_note(self) -> str | None:
        if not self.offsite:
            return None
        shown = ", ".join(self.offsite[:3])
        return (f"{len(self.offsite)} link(s) to hosts that are not allowed were not followed (e.g. {shown});"
                " --allow-host HOST (or HOST:PORT for another port) adds one")

    def known_paywalled(self, url: str) -> bool:
        """Whether the article at `url` is known to be paywalled (by its listing, or archived so) — only asked
        with --cookies, to tell whether the subscriber's session opens it."""
        if url in self.paywalled:
            return True
        if self.policy.cookies_file is None:
            return False
        article = self.archive.articles.find(url)
        return bool(article and article["is_paywalled"])


class LoginCheck:
    """With --cookies: whether the session looks logged in, from paywalled articles served with cookies."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()  # "full" / "locked" paywalled articles served with cookies
        self.locked_example: str | None = None
        self.login_pages = 0  # pages asked with cookies that came back as the site's login page

    def saw_login_page(self) -> None:
        """A page asked with cookies came back as the login page: the session has expired."""
        self.login_pages += 1

    def saw(self, article: Article, result: FetchResult | None, known_paywalled: bool) -> None:
        """Count an article fetched with cookies that is known to be paywalled."""
        if result is None or not result.cookies_sent or not known_paywalled or result.not_modified:
            return
        locked = article.paywall.is_paywalled or bool(article.paywall.markers)
        self.seen["locked" if locked else "full"] += 1
        if locked and self.locked_example is None:
            self.locked_example = article.url

    def probe(self, archive: Archive, paywalled: set[str]) -> str | None:
        """A paywalled article to fetch when the run met none: one its pages marked, else the archive's."""
        if paywalled:
            return sorted(paywalled)[0]
        return archive.articles.latest_paywalled()

    def verdict(self) -> str:
        if self.login_pages:
            return (f"NOT logged in: the site served its login page in place of {self.login_pages} page(s):"
                    " the session has expired; export fresh cookies from your browser")
        if self.seen["full"]:
            return f"logged in: {self.seen['full']} paywalled article(s) served in full"
        if self.seen["locked"]:
            return (f"NOT logged in: {self.locked_example} still shows its paywall"
                    " (cookies expired or for another site?)")
        return "unknown: the paywalled article to check could not be fetched"
