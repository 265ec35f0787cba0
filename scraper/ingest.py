"""From one fetch to the archive: record the fetch, parse what came back, store the record, let the canary look.

The one pipeline every way in shares: `scrape url`, the crawler, `import-warc` and the login probe.
"""

from __future__ import annotations

from dataclasses import dataclass

from scraper.archive import Archive, StoreOutcome
from scraper.archive.canary import CanaryAlert, watch
from scraper.errors import ErrorClass
from scraper.models import FetchResult, PageType, Record, unreadable_list
from scraper.parse import parse_page


@dataclass
class PageOutcome:
    """What happened to one page: its fetch, its record (when it could be read) and what the store did."""

    url: str
    fetch: FetchResult
    fetch_id: int | None = None
    record: Record | None = None
    stored: StoreOutcome | None = None
    canary: CanaryAlert | None = None  # the page lacks core fields its kind used to have

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
           page_type: PageType | None = None) -> PageOutcome:
    """Record `result` in the fetch log; when it carries a page (or a 304 of a stored one), parse and store it.

    A 304 reuses the body stored by the earlier fetch, so the caller still gets the record (a crawler needs
    an unchanged dossier's table of contents) without anything being downloaded. The fetch and the record
    are written in one transaction (a savepoint inside the caller's own).
    """
    return store(archive, read(archive, result, page_type=page_type), run_id=run_id)


def read(archive: Archive, result: FetchResult, *, page_type: PageType | None = None) -> PageOutcome:
    """The first half of `ingest`, which writes nothing: parse the page `result` brought (a 304: the
    stored copy). A crawler parses outside its write transaction, so other writers wait less."""
    body = archive.page_body(result)
    outcome = PageOutcome(url=result.url, fetch=result)
    if body is not None:
        url = result.final_url or result.url
        accept(outcome, parse_page(body, url, content_type=result.content_type, page_type=page_type))
    return outcome


def accept(outcome: PageOutcome, record: Record) -> None:
    """Give `outcome` the record the parser read from its page, unless it is a dossier or listing page whose
    list the parser could not read (no entry, though the page links to articles): that page fails
    (ErrorClass.PARSE), its fetch is logged with the error and its record is not stored, so the list the
    archive holds is kept and the next crawl tries the page again."""
    problem = unreadable_list(record)
    if problem is None:
        outcome.record = record
    else:
        outcome.fetch.error, outcome.fetch.error_class = problem, ErrorClass.PARSE


def store(archive: Archive, outcome: PageOutcome, *, run_id: int | None = None) -> PageOutcome:
    """The second half of `ingest`, in one transaction: log the fetch, store the record (not after a 304),
    and let the canary look at it."""
    result = outcome.fetch
    with archive.transaction():
        outcome.fetch_id = archive.record_fetch(result, run_id=run_id)
        if outcome.record is not None and not result.not_modified:
            outcome.stored = archive.store_record(outcome.record, fetch_id=outcome.fetch_id,
                                                  seen_at=result.fetched_at or None)
            outcome.canary = watch(archive, outcome.record, outcome.stored, fetch_id=outcome.fetch_id)
    return outcome
