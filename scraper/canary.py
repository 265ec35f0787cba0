"""The canary: notice when the site's markup changes under the parser.

A redesign rarely makes the parser fail: it makes it find less. So each stored page is compared with
what the recent pages of its kind yielded: when most of them had a core field (an article's title, date,
teaser, paywall state; a dossier's title and table of contents; a listing's title) and this page has
none, the page is flagged in the archive (`canary_flags`, scraper.archive.canary: one row per page, cleared when a
later fetch or a `scrape reparse` reads it again) and an alert is returned, for the command line to say loudly.
These are the rules; the archive counts the fields of the recent pages and keeps the flags.

A page whose article links the parser could not all place (a list entry, a related link, the dossier box,
the text) is flagged too, with those links: it was read with loss.

Flagged articles are left out of the comparison, so a redesign keeps warning until someone acts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scraper.models import Article, Dossier, PageType, Record

if TYPE_CHECKING:
    from scraper.archive.canary import CanaryFlags
    from scraper.archive.records import StoreOutcome

MIN_PAGES = 3  # fewer earlier pages than this and nothing is expected yet
MIN_SHARE = 0.8  # a field is expected when at least this share of the window had it
UNREAD = "article links"  # in `missing`: links to articles the parser put nowhere (the page is read with loss)
UNREAD_SHOWN = 3


@dataclass(frozen=True)
class CoreField:
    """A field a page of some kind normally yields, and how to see it in a record (the archive counts it in SQL
    under the same name: scraper.archive.canary.KINDS)."""

    name: str
    has: Callable[[Any], bool]


_TITLE = CoreField("title", lambda record: bool(record.title))

CORE_FIELDS: dict[str, tuple[CoreField, ...]] = {
    "article": (
        _TITLE,
        CoreField("date", lambda a: bool(a.published_at or a.updated_at)),
        CoreField("teaser", lambda a: bool(a.teaser)),
        # The paywall state is known when the page showed either its paywall or its free text.
        CoreField("paywall state", lambda a: a.paywall.is_paywalled or bool(a.body)),
    ),
    "dossier": (_TITLE, CoreField("articles", lambda d: bool(d.articles))),
    # Listings (and feeds parsed as listings) warn about an empty list themselves; only the title here.
    "listing": (_TITLE,),
}


@dataclass
class Baseline:
    """What the recent pages of one kind yielded: how many pages, and the share that had each core field."""

    kind: PageType
    pages: int
    shares: dict[str, float]

    def expected(self) -> list[str]:
        """The core fields a new page of this kind should have."""
        if self.pages < MIN_PAGES:
            return []
        return [name for name, share in self.shares.items() if share >= MIN_SHARE]


@dataclass
class CanaryAlert:
    """A page that lacks core fields its kind used to have."""

    url: str
    kind: PageType
    missing: list[str]  # core fields, and UNREAD when the page has article links the parser put nowhere
    baseline: Baseline | None
    unread: list[str] = field(default_factory=list)  # those links

    @property
    def detail(self) -> str:
        fields = [name for name in self.missing if name != UNREAD]
        parts = []
        if fields and self.baseline is not None:
            shares = ", ".join(f"{self.baseline.shares[name]:.0%}" for name in fields)
            parts.append(f"no {', no '.join(fields)} (found on {shares} of the last {self.baseline.pages}"
                         f" {self.kind} pages)")
        if self.unread:
            shown = ", ".join(self.unread[:UNREAD_SHOWN]) + ("…" if len(self.unread) > UNREAD_SHOWN else "")
            parts.append(f"{len(self.unread)} article links were not read ({shown})")
        return "; ".join(parts)

    @property
    def message(self) -> str:
        return f"the site's markup may have changed: {self.url}: {self.detail}"


def baseline(flags: CanaryFlags, kind: PageType, *, exclude: int | str | None = None) -> Baseline:
    """The baseline of `kind` from the archive's most recent pages (but `exclude`, a stored page's key)."""
    pages, shares = flags.shares(kind, exclude=exclude)
    return Baseline(kind, pages, shares)


def lacks_a_core_field(record: Record) -> bool:
    """Whether `record` misses any core field of its kind (only then can it be flagged)."""
    return not all(field.has(record) for field in CORE_FIELDS[record.type])


def inspect(record: Record, base: Baseline | None) -> CanaryAlert | None:
    """The alert for `record` against `base` (None: no core field is expected), or None when it has every
    expected core field and no article link it could not read."""
    fields = {field.name: field for field in CORE_FIELDS[record.type]}
    missing = [name for name in (base.expected() if base else []) if not fields[name].has(record)]
    if record.unread_links:
        missing.append(UNREAD)
    return CanaryAlert(record.url, record.type, missing, base, list(record.unread_links)) if missing else None


def mark(flags: CanaryFlags, record: Record, alert: CanaryAlert | None, *,
         stored: StoreOutcome | None = None, fetch_id: int | None = None) -> None:
    """Flag the page when there is an alert, clear its flag otherwise (no write if none)."""
    article_id = stored.key if stored is not None and isinstance(record, Article) else None
    assert article_id is None or isinstance(article_id, int)
    if alert is None:
        flags.clear(record.url, article_id)
    else:
        flags.flag(record.url, record.type, article_id, fetch_id, alert.missing, alert.detail)


def watch(flags: CanaryFlags, record: Record, stored: StoreOutcome, *, fetch_id: int | None = None
          ) -> CanaryAlert | None:
    """Check one page just stored: flag it (and return the alert) or clear an old flag."""
    base = None
    if lacks_a_core_field(record):  # a page with every core field needs no baseline
        exclude = stored.key if isinstance(record, Article | Dossier) else record.url
        base = baseline(flags, record.type, exclude=exclude)
    alert = inspect(record, base)
    mark(flags, record, alert, stored=stored, fetch_id=fetch_id)
    return alert
