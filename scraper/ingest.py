"""From one fetch to the archive: record the fetch, parse what came back, store the record."""

from __future__ import annotations

from dataclasses import dataclass

from scraper.canary import CanaryAlert, watch
from scraper.models import FetchResult, PageType, Record
from scraper.parse import parse_page
from scraper.store import Archive, StoreOutcome


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
    an unchanged dossier's table of contents) without anything being downloaded.
    """
    body = _page_body(archive, result)  # before recording: a 304 row has no body of its own
    fetch_id = archive.record_fetch(result, run_id=run_id)
    outcome = PageOutcome(url=result.url, fetch=result, fetch_id=fetch_id)
    if body is None:
        return outcome
    url = result.final_url or result.url
    outcome.record = parse_page(body, url, content_type=result.content_type, page_type=page_type)
    if not result.not_modified:
        outcome.stored = archive.store_record(outcome.record, fetch_id=fetch_id, seen_at=result.fetched_at or None)
        outcome.canary = watch(archive, outcome.record, outcome.stored, fetch_id=fetch_id)  # warns on stderr
    return outcome


def _page_body(archive: Archive, result: FetchResult) -> bytes | None:
    if result.error:
        return None
    if result.not_modified:
        previous = archive.latest_fetch(result.url)
        if previous and previous.get("sha256"):
            return archive.raw_body(previous["sha256"])
        return None
    return result.body
