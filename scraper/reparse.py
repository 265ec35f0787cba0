"""Offline reparse: run the current parser over the raw pages the archive holds, without the network.

Each page (a fetch's final URL) is reparsed from its newest successful fetch that kept a body. Pages are
taken newest first, and when two pages give the same record (the http and https copies of one article),
only the newest is stored, so a reparse never makes an article flip between two captures. Records go
through `Archive.store_record`, which records a version of every article whose content changes; an
article whose reparsed record equals the stored one is not written at all. `dry_run` only reads.
A record stored by a reparse keeps the time of its capture: `last_seen_at`, `changed_at` and the new
version's `recorded_at` are the fetch's `fetched_at` (the reparse itself is a row of `runs`).

The canary judges each reparsed page against the archive as it was before the reparse, and sets or clears
its flag, so a parser fix clears the flags of the pages it can read again.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

from scraper import canary
from scraper.models import Article, Dossier, Listing, ListItem, PageType, Record
from scraper.parse import parse_page
from scraper.store import (
    VERSIONED_FIELDS,
    Action,
    Archive,
    StoreOutcome,
    check_since,
    dossier_action,
    dossier_base_url,
    scheme_variants,
)

BATCH = 32  # pages per task sent to a parsing process
PARALLEL_FROM = 400  # pages: below this, starting parsing processes costs more than it saves
MAX_JOBS = 4

Progress = Callable[[int], None]  # called with the number of pages just done


@dataclass(frozen=True)
class StoredPage:
    """The newest successful fetch of one page that kept its body."""

    fetch_id: int
    url: str  # the fetch's final URL (else its URL)
    fetched_at: str
    content_type: str | None
    sha256: str


@dataclass(frozen=True)
class TypeChange:
    url: str
    before: PageType
    after: PageType


@dataclass(frozen=True)
class PageChange:
    url: str
    type: PageType
    action: Action
    fields: list[str]


@dataclass
class ReparseReport:
    """What a reparse did (or, with `dry_run`, would do)."""

    dry_run: bool
    pages: int = 0  # pages parsed again
    superseded: int = 0  # pages whose record a newer page of the archive gives
    missing_bodies: int = 0  # fetches whose body is not in the archive
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    fields: Counter[str] = field(default_factory=Counter)  # changed field -> records
    changes: list[PageChange] = field(default_factory=list)
    type_changes: list[TypeChange] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # pages the canary flags after the reparse
    unflagged: list[str] = field(default_factory=list)  # pages whose canary flag the reparse clears
    seconds: float = 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fields"] = dict(self.fields.most_common())
        data["pages_per_second"] = round(self.pages_per_second, 1)
        data["seconds"] = round(self.seconds, 3)
        return data


# --- which pages ---------------------------------------------------------------------------------

_LATEST_BODIES = """
select id, page_url, fetched_at, content_type, sha256 from (
  select id, coalesce(final_url, url) as page_url, fetched_at, content_type, sha256,
    row_number() over (partition by coalesce(final_url, url) order by fetched_at desc, id desc) as n
  from fetches
  where sha256 is not null and error is null and (status is null or status between 200 and 299)
) where n = 1 and (:since is null or fetched_at >= :since)
"""


def stored_pages(archive: Archive, *, since: str | None = None) -> Iterator[StoredPage]:
    """The newest body-carrying fetch of each page (fetched on or after `since`), newest first."""
    sql = f"{_LATEST_BODIES} order by fetched_at desc, id desc"
    for row in archive.db.execute(sql, {"since": check_since(since)}):
        yield StoredPage(*row)


def count_pages(archive: Archive, *, since: str | None = None) -> int:
    """How many pages `stored_pages` yields."""
    sql = f"select count(*) from ({_LATEST_BODIES})"
    return int(archive.db.execute(sql, {"since": check_since(since)}).fetchone()[0])


# --- the reparse ---------------------------------------------------------------------------------

def reparse(archive: Archive, *, since: str | None = None, dry_run: bool = False, jobs: int | None = 1,
            progress: Progress | None = None) -> ReparseReport:
    """Parse every stored page again and store what changed (nothing with `dry_run`).

    `since`: only pages whose newest fetch is on or after this date. `jobs`: parsing processes (the
    archive is written by this one); None picks by the CPUs and the pages. `progress` is called as
    pages are done.
    """
    started = time.perf_counter()
    if jobs is None:
        jobs = auto_jobs(count_pages(archive, since=since))
    report = ReparseReport(dry_run=dry_run)
    known = _KnownPages(archive)
    baselines = {kind: canary.baseline(archive, kind) for kind in canary.KINDS}
    flagged_before = {row["url"] for row in canary.flagged_pages(archive)}
    run_id = None if dry_run else archive.start_run("reparse")
    seen: set[tuple[str, Any]] = set()
    with _relaxed_sync(archive):
        for page, record in _parsed(archive, stored_pages(archive, since=since), jobs, report):
            report.pages += 1
            identity = _identity(record)
            if identity in seen:
                report.superseded += 1
            else:
                seen.add(identity)
                _reparse_one(archive, page, record, report, known, baselines, flagged_before)
            if progress:
                progress(1)
    if run_id is not None:
        archive.finish_run(run_id, {"stored": report.inserted + report.updated, "inserted": report.inserted,
                                    "updated": report.updated, "unchanged": report.unchanged})
    report.seconds = time.perf_counter() - started
    return report


def auto_jobs(pages: int) -> int:
    """Parsing processes for `pages` pages: one per CPU (at most MAX_JOBS), or none for a few pages."""
    return min(os.cpu_count() or 1, MAX_JOBS) if pages >= PARALLEL_FROM else 1


def _reparse_one(archive: Archive, page: StoredPage, record: Record, report: ReparseReport,
                 known: _KnownPages, baselines: dict[str, canary.Baseline], flagged_before: set[str]) -> None:
    before = known.type_of(page, record)
    if before is not None and before != record.type:
        report.type_changes.append(TypeChange(page.url, before, record.type))
    action, fields = preview(archive, record)
    stored = None
    if action != "unchanged" and not report.dry_run:
        stored = archive.store_record(record, fetch_id=page.fetch_id, seen_at=page.fetched_at)
        action, fields = stored.action, stored.changed_fields
    _count(report, record, action, fields)
    alert = canary.inspect(record, baselines[record.type])
    if alert is not None:
        report.flagged.append(record.url)
    elif record.url in flagged_before:
        report.unflagged.append(record.url)
    if not report.dry_run:
        canary.mark(archive, record, alert, stored=stored or _outcome_of(archive, record), fetch_id=page.fetch_id)


@contextmanager
def _relaxed_sync(archive: Archive) -> Iterator[None]:
    """WAL with synchronous=NORMAL: no fsync per page; a power cut may lose the last pages, never the file.

    A reparse can be run again, so it trades that for speed; the setting is restored afterwards.
    """
    previous = archive.db.execute("pragma synchronous").fetchone()[0]
    archive.db.execute("pragma synchronous = normal")
    try:
        yield
    finally:
        archive.db.execute(f"pragma synchronous = {int(previous)}")


def _count(report: ReparseReport, record: Record, action: Action, fields: list[str]) -> None:
    setattr(report, action, getattr(report, action) + 1)
    if action != "unchanged":
        report.fields.update(fields)
        report.changes.append(PageChange(record.url, record.type, action, fields))


def _outcome_of(archive: Archive, record: Record) -> StoreOutcome | None:
    """The stored key of an unchanged article (what `canary.mark` needs), from its natural key."""
    if not isinstance(record, Article):
        return None
    row = _article_row(archive, record)
    return StoreOutcome("article", row["id"], "unchanged") if row else None


# --- parsing, here or in other processes ----------------------------------------------------------

def _parsed(archive: Archive, pages: Iterable[StoredPage], jobs: int,
            report: ReparseReport) -> Iterator[tuple[StoredPage, Record]]:
    with_bodies = _with_bodies(archive, pages, report)
    if jobs <= 1:
        for page, body in with_bodies:
            yield page, parse_page(body, page.url, content_type=page.content_type)
        return
    yield from _parsed_in_pool(with_bodies, jobs)


def _with_bodies(archive: Archive, pages: Iterable[StoredPage],
                 report: ReparseReport) -> Iterator[tuple[StoredPage, bytes]]:
    for page in pages:
        body = archive.raw_body(page.sha256)
        if body is None:
            report.missing_bodies += 1
            continue
        yield page, body


def _parse_batch(batch: list[tuple[bytes, str, str | None]]) -> list[Record]:
    return [parse_page(body, url, content_type=content_type) for body, url, content_type in batch]


def _parsed_in_pool(pages: Iterator[tuple[StoredPage, bytes]], jobs: int) -> Iterator[tuple[StoredPage, Record]]:
    """Parse batches in `jobs` processes, a bounded number in flight, results in order."""
    pending: deque[tuple[list[StoredPage], Future[list[Record]]]] = deque()
    # forkserver: the workers do not inherit this process's SQLite connection.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("forkserver")) as pool:
        while batch := list(islice(pages, BATCH)):
            work = [(body, page.url, page.content_type) for page, body in batch]
            pending.append(([page for page, _ in batch], pool.submit(_parse_batch, work)))
            if len(pending) > 2 * jobs:
                yield from _results(*pending.popleft())
        while pending:
            yield from _results(*pending.popleft())


def _results(pages: list[StoredPage], future: Future[list[Record]]) -> Iterator[tuple[StoredPage, Record]]:
    yield from zip(pages, future.result(), strict=True)


# --- what storing would change (read only) --------------------------------------------------------

def preview(archive: Archive, record: Record) -> tuple[Action, list[str]]:
    """What `store_record(record)` would do, and the fields it would change, without writing."""
    if isinstance(record, Article):
        return _preview_article(archive, record)
    if isinstance(record, Dossier):
        return _preview_dossier(archive, record)
    return _preview_listing(archive, record)


def _article_row(archive: Archive, article: Article) -> dict[str, Any] | None:
    for column, value in (("site_id", article.site_id), ("url", article.url)):
        if value is not None:
            rows = list(archive.db.query(f"select id, record from articles where {column} = ?", [value]))
            if rows:
                return rows[0]
    return None


def _preview_article(archive: Archive, article: Article) -> tuple[Action, list[str]]:
    row = _article_row(archive, article)
    if row is None:
        return "inserted", []
    previous, data = json.loads(row["record"]), article.to_dict()
    changed = [key for key in (*VERSIONED_FIELDS, "warnings") if previous.get(key) != data[key]]
    return ("updated" if changed else "unchanged"), changed


def _preview_dossier(archive: Archive, dossier: Dossier) -> tuple[Action, list[str]]:
    base, page = dossier_base_url(dossier.url)
    variants = scheme_variants(base)
    rows = list(archive.db.query(
        f"select id, title, intro, last_seen_at from dossiers where url in ({', '.join('?' for _ in variants)})"
        " order by url = ? desc", [*variants, base]))
    if not rows:
        return "inserted", []
    existing = rows[0]
    if page == 1:
        updates = {"title": dossier.title, "intro": dossier.intro}
    else:  # later pages only fill what page 1 left empty
        updates = {"title": existing["title"] or dossier.title,
                   "intro": dossier.intro if existing["intro"] is None else existing["intro"]}
    changed = [key for key, value in updates.items() if value != existing[key]]
    stored = _stored_items(archive, "dossier_articles", "dossier_id = ? and page = ?", [existing["id"], page])
    if stored != _items(dossier.articles):
        changed.append("articles")
    action = dossier_action(existing, changed)
    return action, (changed if action == "updated" else [])


def _preview_listing(archive: Archive, listing: Listing) -> tuple[Action, list[str]]:
    rows = list(archive.db.query("select title, next_page from listings where url = ?", [listing.url]))
    if not rows:
        return "inserted", []
    existing = rows[0]
    changed = [key for key in ("title", "next_page") if existing[key] != getattr(listing, key)]
    if _stored_items(archive, "listing_items", "listing_url = ?", [listing.url]) != _items(listing.articles):
        changed.append("articles")
    return ("updated" if changed else "unchanged"), changed


_ITEM_COLUMNS = ("position", "url", "site_id", "title", "kicker", "teaser", "is_paywalled")


def _stored_items(archive: Archive, table: str, where: str, args: list[Any]) -> list[tuple[Any, ...]]:
    sql = f"select {', '.join(_ITEM_COLUMNS)} from [{table}] where {where} order by position"
    return [tuple(row) for row in archive.db.execute(sql, args)]


def _items(items: list[ListItem]) -> list[tuple[Any, ...]]:
    return [(item.position, item.url, item.site_id, item.title, item.kicker, item.teaser, int(item.is_paywalled))
            for item in items]


# --- identities and the type each page had ------------------------------------------------------

def _bare(url: str) -> str:
    """A URL without its scheme: the site's http and https pages are the same page."""
    return url.split("://", 1)[-1]


def _identity(record: Record) -> tuple[str, Any]:
    if isinstance(record, Article) and record.site_id is not None:
        return ("article", record.site_id)
    return (record.type, _bare(record.url))


class _KnownPages:
    """The type each page had in the archive before the reparse, from its URL or its fetch."""

    def __init__(self, archive: Archive) -> None:
        def urls(sql: str) -> set[str]:
            return {_bare(url) for (url,) in archive.db.execute(sql) if url}

        self.article_fetches = {fetch_id for (fetch_id,) in archive.db.execute("select fetch_id from articles")}
        self.articles = urls("select url from articles")
        self.listings = urls("select url from listings")
        self.dossier_pages = {
            (_bare(url), page) for url, page in archive.db.execute(
                "select dossiers.url, dossier_articles.page from dossiers join dossier_articles"
                " on dossier_articles.dossier_id = dossiers.id"
                " union select url, 1 from dossiers where last_seen_at is not null")
        }

    def type_of(self, page: StoredPage, record: Record) -> PageType | None:
        if page.fetch_id in self.article_fetches:
            return "article"
        for url in (page.url, record.url):
            bare = _bare(url)
            if bare in self.articles:
                return "article"
            if bare in self.listings:
                return "listing"
            base, number = dossier_base_url(url)
            if (_bare(base), number) in self.dossier_pages:
                return "dossier"
        return None
