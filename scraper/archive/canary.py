"""The canary: notice when the site's markup changes under the parser.

A redesign rarely makes the parser fail: it makes it find less. So each stored page is compared with
what the recent pages of its kind yielded: when most of them had a core field (an article's title, date,
teaser, paywall state; a dossier's title and table of contents; a listing's title) and this page has
none, the page is flagged in the `canary_flags` table (one row per page, cleared when a later fetch or a
`scrape reparse` reads it again) and an alert is returned, for the command line to say loudly.

A page whose article links the parser could not all place (a list entry, a related link, the dossier box,
the text) is flagged too, with those links: it was read with loss.

Flagged articles are left out of the comparison, so a redesign keeps warning until someone acts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scraper.archive.fetchlog import utc_now
from scraper.models import Article, Dossier, PageType, Record

if TYPE_CHECKING:
    from scraper.archive.db import Archive
    from scraper.archive.records import StoreOutcome

TABLE = "canary_flags"
WINDOW = 200  # the most recent pages of a kind that make the baseline
MIN_PAGES = 3  # fewer earlier pages than this and nothing is expected yet
MIN_SHARE = 0.8  # a field is expected when at least this share of the window had it
UNREAD = "article links"  # in `missing`: links to articles the parser put nowhere (the page is read with loss)
UNREAD_SHOWN = 3


@dataclass(frozen=True)
class CoreField:
    """A field a page of some kind normally yields: how to count it in SQL and how to see it in a record."""

    name: str
    sql: str  # 1 when a stored row has the field
    has: Callable[[Any], bool]


@dataclass(frozen=True)
class _Kind:
    # The rows of this kind, newest first, but :key (the page itself) and, for articles, flagged ones.
    source: str
    fields: tuple[CoreField, ...]


_TITLE = CoreField("title", "coalesce(title, '') != ''", lambda record: bool(record.title))

KINDS: dict[str, _Kind] = {
    "article": _Kind(
        "select * from articles where id is not :key{not_flagged} order by id desc",
        (
            _TITLE,
            CoreField("date", "coalesce(published_at, updated_at) is not null",
                      lambda a: bool(a.published_at or a.updated_at)),
            CoreField("teaser", "coalesce(teaser, '') != ''", lambda a: bool(a.teaser)),
            # The paywall state is known when the page showed either its paywall or its free text.
            CoreField("paywall state", "is_paywalled = 1 or coalesce(body, '') != ''",
                      lambda a: a.paywall.is_paywalled or bool(a.body)),
        ),
    ),
    "dossier": _Kind(
        "select * from dossiers where url is not :key and last_seen_at is not null order by id desc",
        (
            _TITLE,
            CoreField("articles", "exists (select 1 from dossier_articles where dossier_id = page.id)",
                      lambda d: bool(d.articles)),
        ),
    ),
    # Listings (and feeds parsed as listings) warn about an empty list themselves; only the title here.
    "listing": _Kind("select * from listings where url is not :key order by rowid desc", (_TITLE,)),
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


def baseline(archive: Archive, kind: PageType, *, exclude: int | str | None = None) -> Baseline:
    """The baseline of `kind` from the archive's most recent pages (but `exclude`, a stored page's key)."""
    spec = KINDS[kind]
    sums = ", ".join(f"coalesce(sum({field.sql}), 0)" for field in spec.fields)
    not_flagged = f" and id not in (select article_id from [{TABLE}] where article_id is not null)"
    source = spec.source.format(not_flagged=not_flagged)
    sql = f"select count(*), {sums} from ({source} limit {WINDOW}) as page"
    pages, *counts = archive._execute(sql, {"key": exclude}).fetchone()
    shares = {field.name: (count / pages if pages else 0.0) for field, count in zip(spec.fields, counts, strict=True)}
    return Baseline(kind, pages, shares)


def lacks_a_core_field(record: Record) -> bool:
    """Whether `record` misses any core field of its kind (only then can it be flagged)."""
    return not all(field.has(record) for field in KINDS[record.type].fields)


def inspect(record: Record, base: Baseline | None) -> CanaryAlert | None:
    """The alert for `record` against `base` (None: no core field is expected), or None when it has every
    expected core field and no article link it could not read."""
    fields = {field.name: field for field in KINDS[record.type].fields}
    missing = [name for name in (base.expected() if base else []) if not fields[name].has(record)]
    if record.unread_links:
        missing.append(UNREAD)
    return CanaryAlert(record.url, record.type, missing, base, list(record.unread_links)) if missing else None


def mark(archive: Archive, record: Record, alert: CanaryAlert | None, *,
         stored: StoreOutcome | None = None, fetch_id: int | None = None) -> None:
    """Flag the page in `canary_flags` when there is an alert, clear its flag otherwise (no write if none)."""
    article_id = stored.key if stored is not None and isinstance(record, Article) else None
    if alert is None:
        if _flagged(archive, record.url, article_id):
            with archive.transaction():
                archive._execute(f"delete from [{TABLE}] where url = ? or article_id = ?", [record.url, article_id])
        return
    with archive.transaction():
        if article_id is not None:
            archive._execute(f"delete from [{TABLE}] where article_id = ? and url != ?", [article_id, record.url])
        archive._execute(f"insert or replace into [{TABLE}] (url, kind, article_id, fetch_id, missing, detail,"
                         " flagged_at) values (?, ?, ?, ?, ?, ?, ?)",
                         [record.url, record.type, article_id, fetch_id, json.dumps(alert.missing), alert.detail,
                          utc_now()])


def watch(archive: Archive, record: Record, stored: StoreOutcome, *, fetch_id: int | None = None
          ) -> CanaryAlert | None:
    """Check one page just stored: flag it (and return the alert) or clear an old flag."""
    base = None
    if lacks_a_core_field(record):  # a page with every core field needs no baseline
        exclude = stored.key if isinstance(record, Article | Dossier) else record.url
        base = baseline(archive, record.type, exclude=exclude)
    alert = inspect(record, base)
    mark(archive, record, alert, stored=stored, fetch_id=fetch_id)
    return alert


def flagged_pages(archive: Archive, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The flagged pages, newest flag first (the first `limit` of them)."""
    rows = archive._select(f"select url, kind, missing, detail, flagged_at, article_id, fetch_id from [{TABLE}]"
                           " order by flagged_at desc, url limit ?", [-1 if limit is None else limit])
    return [{**row, "missing": json.loads(row["missing"])} for row in rows]


def flagged_count(archive: Archive) -> int:
    return int(archive._scalar(f"select count(*) from [{TABLE}]"))


def _flagged(archive: Archive, url: str, article_id: int | str | None) -> bool:
    return archive._scalar(f"select 1 from [{TABLE}] where url = ? or article_id = ?", [url, article_id]) is not None
