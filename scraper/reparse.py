"""Offline reparse: run the current parser over the raw pages the archive holds, without the network.

Each page (a fetch's final URL) is reparsed from its newest successful fetch that kept a body. Pages are
taken newest first, and when two pages give the same record (the http and https copies of one article),
only the newest is stored, so a reparse never makes an article flip between two captures. Records go
through the pipeline every capture takes (`scraper.ingest.reread`: a capture the fetch log already holds),
whose store (`archive.records.store`) records a version of every article whose content changes; an
article whose reparsed record equals the stored one is not written at all. `dry_run` only reads.
A record stored by a reparse keeps the time of its capture: `last_seen_at`, `changed_at` and the new
version's `recorded_at` are the fetch's `fetched_at` (the reparse itself is a row of `runs`).

The canary judges each reparsed page against the archive as it was before the reparse, and sets or clears
its flag, so a parser fix clears the flags of the pages it can read again. A dossier or listing page whose list
the parser can no longer read (no entry, though it links to articles) is reported and left as stored.

Memory does not grow with the archive: pages and their bodies are read one at a time, what the reparse must
remember (the pages' types before it, the records already stored) is kept in temporary tables
(scraper.archive.keysets), and the report lists at most LISTED pages of each kind (its counts are exact).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import islice
from multiprocessing.connection import Connection
from typing import Any

from scraper import canary
from scraper.archive import Action, Archive
from scraper.archive.fetchlog import StoredPage
from scraper.archive.group import CommitGroup
from scraper.archive.queries import PageTypes
from scraper.errors import DamagedArchive
from scraper.ingest import reread
from scraper.ledger import RunLedger
from scraper.models import Article, PageType, Record
from scraper.parse import parse_page
from scraper.site import without_scheme

BATCH = 32  # pages per task sent to a parsing process
PARALLEL_FROM = 400  # pages: below this, starting parsing processes costs more than it saves
MAX_JOBS = 4
LISTED = 1000  # pages listed in each list of the report

Progress = Callable[[int], None]  # called with the number of pages just done


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
    missing_bodies: int = 0  # fetches whose body is not in the archive, or damaged
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    fields: Counter[str] = field(default_factory=Counter)  # changed field -> records
    # The first LISTED pages of each kind; the counts below (and inserted + updated) are exact.
    changes: list[PageChange] = field(default_factory=list)
    type_changes: list[TypeChange] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # pages the canary flags after the reparse
    unflagged: list[str] = field(default_factory=list)  # pages whose canary flag the reparse clears
    unreadable: list[str] = field(default_factory=list)  # list pages the parser now cannot read: kept as stored
    type_changed: int = 0
    flagged_count: int = 0
    unflagged_count: int = 0
    unreadable_count: int = 0
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


def count_pages(archive: Archive, *, since: str | None = None) -> int:
    """How many pages a reparse (since `since`) reads."""
    return archive.fetches.count_stored_pages(since=since)


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
        jobs = auto_jobs(archive.fetches.count_stored_pages(since=since))
    report = ReparseReport(dry_run=dry_run)
    known = archive.page_types()
    baselines = {kind: canary.baseline(archive.canary, kind) for kind in canary.CORE_FIELDS}
    run_id = None if dry_run else archive.runs.start("reparse")
    seen = archive.key_set("reparse_seen")
    with archive.relaxed_sync(), _writes(archive, dry_run) as group:
        for page, record in _parsed(archive, archive.fetches.stored_pages(since=since), jobs, report):
            report.pages += 1
            with group.page() if group else contextlib.nullcontext():
                if seen.add(_identity(record)):
                    _reparse_one(archive, page, record, report, known, baselines)
                else:
                    report.superseded += 1
            if progress:
                progress(1)
    seen.drop()
    known.drop()
    if run_id is not None:
        archive.runs.finish(run_id, RunLedger(inserted=report.inserted, updated=report.updated,
                                              unchanged=report.unchanged))
    report.seconds = time.perf_counter() - started
    return report


@contextlib.contextmanager
def _writes(archive: Archive, dry_run: bool) -> Iterator[CommitGroup | None]:
    """The reparse's writes, many pages to a commit (scraper.archive.group: a commit every second or so, not one
    per page); None for a dry run, which writes nothing and takes no lock."""
    if dry_run:
        yield None
        return
    with CommitGroup(archive) as group:
        yield group


def auto_jobs(pages: int) -> int:
    """Parsing processes for `pages` pages: one per CPU (at most MAX_JOBS), or none for a few pages."""
    return min(os.cpu_count() or 1, MAX_JOBS) if pages >= PARALLEL_FROM else 1


def _reparse_one(archive: Archive, page: StoredPage, record: Record, report: ReparseReport,
                 known: PageTypes, baselines: dict[str, canary.Baseline]) -> None:
    before = known.type_of(page.fetch_id, page.url, record)
    if before is not None and before != record.type:
        report.type_changed += 1
        _listed(report.type_changes, TypeChange(page.url, before, record.type))
    done = reread(archive, record, fetch_id=page.fetch_id, seen_at=page.fetched_at, baseline=baselines[record.type],
                  dry_run=report.dry_run)
    if done.stored is None:
        report.unreadable_count += 1
        _listed(report.unreadable, page.url)
        return
    _count(report, record, done.stored.action, done.stored.changed_fields)
    if done.canary is not None:
        report.flagged_count += 1
        _listed(report.flagged, record.url)
    elif known.was_flagged(record.url):
        report.unflagged_count += 1
        _listed(report.unflagged, record.url)


def _count(report: ReparseReport, record: Record, action: Action, fields: list[str]) -> None:
    setattr(report, action, getattr(report, action) + 1)
    if action != "unchanged":
        report.fields.update(fields)
        _listed(report.changes, PageChange(record.url, record.type, action, fields))


def _listed(pages: list[Any], page: Any) -> None:
    if len(pages) < LISTED:
        pages.append(page)


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
        try:
            body = archive.bodies.read(page.sha256)
        except DamagedArchive:
            body = None
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
    context = multiprocessing.get_context("forkserver")
    alive, held = context.Pipe(duplex=False)  # `held` is this process's alone: it closes when it ends
    with held, alive, ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_die_with_parent,
                                          initargs=(alive,)) as pool:
        while batch := list(islice(pages, BATCH)):
            work = [(body, page.url, page.content_type) for page, body in batch]
            pending.append(([page for page, _ in batch], pool.submit(_parse_batch, work)))
            if len(pending) > 2 * jobs:
                yield from _results(*pending.popleft())
        while pending:
            yield from _results(*pending.popleft())


def _die_with_parent(alive: Connection) -> None:
    """In a parsing process: end it as soon as the reparse that started it is gone (its end of the `alive`
    pipe closed, as when it is killed by SIGTERM or SIGKILL), so a killed reparse leaves no process behind,
    nor its stdout held open. (The fork server and resource tracker end once the parsing processes have.)"""

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            alive.recv()
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _results(pages: list[StoredPage], future: Future[list[Record]]) -> Iterator[tuple[StoredPage, Record]]:
    yield from zip(pages, future.result(), strict=True)


# --- identities -----------------------------------------------------------------------------------

def _identity(record: Record) -> str:
    """What makes two records the same page: an article's site id, else the URL whatever its scheme."""
    if isinstance(record, Article) and record.site_id is not None:
        return f"article {record.site_id}"
    return f"{record.type} {without_scheme(record.url)}"
