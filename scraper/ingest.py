"""From one fetch to the archive: record the fetch, parse what came back, store the record, let the canary look.

The one pipeline every way in shares: `scrape url`, the crawler (its feeds too), the imports and the login probe.
What is not the
page asked for never reaches the archive's records: a bot protection's challenge or a login page in its place
(scraper.refusal: a failure of class `blocked`), a list page whose list could not be read, and a page whose
record lacks what the archived record of the same page has (its dates and text, every entry: class `parse`).
Each is a failed fetch in the log, with its reason; what the archive held stays as it was.

A capture the fetch log already holds, read again by the current parser (`scrape reparse`), takes the same way
through `reread`: the same refusal of an unreadable list, the same store and the same canary, but no new line in
the fetch log, a record the archive holds as it is writing nothing, and the canary's judgement made against a
baseline the caller took once (the archive as it was before the whole pass).
"""

from __future__ import annotations

from dataclasses import dataclass

from scraper.archive import Archive, StoreOutcome
from scraper.canary import Baseline, CanaryAlert, inspect, mark, watch
from scraper.errors import DegradedPage, ErrorClass
from scraper.feed import Feed, parse_feed
from scraper.models import FetchResult, PageType, Record, unreadable_list
from scraper.parse import parse_page
from scraper.refusal import Refusal, refused_page


@dataclass
class PageOutcome:
    """What happened to one page: its fetch, its record (when it could be read) and what the store did."""

    url: str
    fetch: FetchResult
    fetch_id: int | None = None
    record: Record | None = None
    stored: StoreOutcome | None = None
    canary: CanaryAlert | None = None  # the page lacks core fields its kind used to have
    refusal: Refusal | None = None  # the page, once read, is a challenge or a login page (not the page asked)
    feed: Feed | None = None  # a feed's items, when the page was read as a feed (its record is their listing)

    @property
    def failed(self) -> bool:
        return self.record is None

    @property
    def error(self) -> str | None:
        return self.fetch.error

    @property
    def action(self) -> str:
        """'inserted', 'updated', 'unchanged', 'not modified' (304) or 'failed'."""
        if self.failed:
            return "failed"
        if self.fetch.not_modified:
            return "not modified"
        return self.stored.action if self.stored else "parsed"


def ingest(archive: Archive, result: FetchResult, *, run_id: int | None = None,
           page_type: PageType | None = None, feed: bool = False) -> PageOutcome:
    """Record `result` in the fetch log; when it carries a page (or a 304 of a stored one), parse and store it.

    A 304 reuses the body stored by the earlier fetch, so the caller still gets the record (a crawler needs
    an unchanged dossier's table of contents) without anything being downloaded. The fetch and the record
    are written in one transaction (a part of the caller's own, when one is open: a crawl's commit group).
    """
    return store(archive, read(archive, result, page_type=page_type, feed=feed), run_id=run_id)


def read(archive: Archive, result: FetchResult, *, page_type: PageType | None = None,
         feed: bool = False) -> PageOutcome:
    """The first half of `ingest`, which writes nothing: parse the page `result` brought (a 304: the
    stored copy), as a feed when `feed` (an RSS or Atom feed, stored as the listing of its items; anything else
    fails as `not_feed`). A crawler parses outside its write transaction, so other writers wait less."""
    body = archive.fetches.page_body(result)
    outcome = PageOutcome(url=result.url, fetch=result)
    if body is None:
        return outcome
    url = result.final_url or result.url
    if feed:
        accept_feed(outcome, parse_feed(body, url, result.content_type))
    else:
        accept(outcome, parse_page(body, url, content_type=result.content_type, page_type=page_type))
    return outcome


def accept_feed(outcome: PageOutcome, feed: Feed) -> None:
    """Give `outcome` the listing of a feed's items, unless what came is not a feed (ErrorClass.NOT_FEED: logged
    as a failure, so no later crawl takes it for a good copy)."""
    if not feed.is_feed:
        outcome.fetch.error = "; ".join(feed.warnings) or "not a feed"
        outcome.fetch.error_class = ErrorClass.NOT_FEED
        return
    outcome.feed, outcome.record = feed, feed.as_listing()


def accept(outcome: PageOutcome, record: Record) -> None:
    """Give `outcome` the record the parser read from its page, unless the page is a refusal (a challenge or a
    login page: ErrorClass.BLOCKED, `outcome.refusal` says which) or a dossier or listing page whose list the
    parser could not read (no entry, though the page links to articles: ErrorClass.PARSE). Such a page fails:
    its fetch is logged with the error, its record is not stored, and the next run tries it again."""
    result = outcome.fetch
    refusal = None if result.not_modified else refused_page(result.status, result.headers, result.body, record)
    problem = unreadable_list(record)
    if refusal is not None:
        outcome.refusal = refusal
        result.error, result.error_class = refusal.message, ErrorClass.BLOCKED
    elif problem is not None:
        result.error, result.error_class = problem, ErrorClass.PARSE
    else:
        outcome.record = record


def store(archive: Archive, outcome: PageOutcome, *, run_id: int | None = None) -> PageOutcome:
    """The second half of `ingest`, in one transaction: log the fetch, store the record (not after a 304),
    and let the canary look at it."""
    result = outcome.fetch
    with archive.writes():
        outcome.fetch_id = archive.fetches.record(result, run_id=run_id)
        if outcome.record is not None and not result.not_modified:
            try:
                outcome.stored = archive.records.store(outcome.record, fetch_id=outcome.fetch_id,
                                                       seen_at=result.fetched_at or None, keep_better=True,
                                                       captured=result.source != "http")
            except DegradedPage as degraded:
                outcome.record, result.error = None, f"{degraded}: not stored over it"
                result.error_class = ErrorClass.PARSE
                archive.fetches.mark_failed(outcome.fetch_id, result.error, result.error_class)
                return outcome
            outcome.canary = watch(archive.canary, outcome.record, outcome.stored, fetch_id=outcome.fetch_id)
    return outcome


@dataclass
class Reread:
    """What reading a logged capture again did: its record stored (or, in a dry run, what storing would do), or
    why not (`unreadable`: a list page whose list the parser cannot read now, left as stored), and the canary's
    alert against the caller's baseline."""

    stored: StoreOutcome | None = None
    unreadable: str | None = None
    canary: CanaryAlert | None = None


def reread(archive: Archive, record: Record, *, fetch_id: int, seen_at: str, baseline: Baseline | None,
           dry_run: bool = False) -> Reread:
    """The record the current parser read from the capture `fetch_id` (made at `seen_at`), through the pipeline:
    stored when it changed (the version keeps the capture's time), the canary's flag set or cleared; nothing
    written with `dry_run`."""
    problem = unreadable_list(record)
    if problem is not None:  # storing it would empty the list the archive holds
        return Reread(unreadable=problem)
    if dry_run:
        stored = archive.records.store(record, dry_run=True)
    else:
        stored = archive.records.store(record, fetch_id=fetch_id, seen_at=seen_at, changed_only=True)
    alert = inspect(record, baseline)
    if not dry_run:
        mark(archive.canary, record, alert, stored=stored, fetch_id=fetch_id)
    return Reread(stored, None, alert)
