"""Running a crawl: the entry points (`run_crawl` for the command line, `crawl` for async callers), with a row
in `runs` and the signals that stop it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

from scraper.archive import Archive
from scraper.crawl.engine import Crawl
from scraper.crawl.report import CrawlKind, CrawlSummary, Reporter
from scraper.crawl.rules import CrawlOptions
from scraper.errors import ArchiveBusy, ArchiveError, ArchiveFull, InvalidURL
from scraper.fetch import Fetcher, FetchPolicy, url_problem
from scraper.site import is_url


async def crawl(archive: Archive, policy: FetchPolicy, kind: CrawlKind, url: str, *,
                options: CrawlOptions | None = None, reporter: Reporter | None = None,
                run_id: int | None = None) -> CrawlSummary:
    """Crawl `url` (a dossier, listing or feed) into `archive`; Ctrl-C (SIGINT) and SIGTERM stop it
    cleanly: every wait ends at once and the pages being downloaded are finished (a second Ctrl-C abandons them)."""
    check_crawl_url(kind, url)
    async with Fetcher(policy.allowing(url)) as fetcher:
        job = Crawl(archive, fetcher, kind, url, options=options, reporter=reporter, run_id=run_id)
        with _stopped_by_signals(job):
            try:
                return await job.run()
            except (ArchiveBusy, ArchiveFull) as error:
                return await _stopped_by_archive(job, error)


async def _stopped_by_archive(job: Crawl, error: ArchiveBusy | ArchiveFull) -> CrawlSummary:
    """The summary of a crawl the archive stopped (locked by another writer too long, or a full disk): the
    pages committed before are kept, those in flight are abandoned, and the queue says what remains."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    summary = job.summary
    summary.stopped_by = str(error)
    if job.queue is not None:  # reading needs no lock and no free disk
        with contextlib.suppress(ArchiveError):
            summary.failures = job.queue.failures()
            summary.remaining = job.queue.count("pending")
    return summary


def check_crawl_url(kind: CrawlKind, url: str) -> None:
    """InvalidURL when `url` cannot start a crawl: not http(s), or an http(s) URL that cannot be requested."""
    if not is_url(url):
        raise InvalidURL(f"{url}: give the {kind}'s http(s) URL")
    problem = url_problem(url)
    if problem:
        raise InvalidURL(problem)


def run_crawl(archive: Archive, policy: FetchPolicy, kind: CrawlKind, url: str, *,
              options: CrawlOptions | None = None, reporter: Reporter | None = None,
              command: str | None = None) -> CrawlSummary:
    """Run one crawl to its end (or to an interruption) with a row in `runs`; the CLI's entry point."""
    options = options or CrawlOptions()
    check_crawl_url(kind, url)  # a usage error writes nothing, not even a run
    run_id = archive.runs.start(command or f"scrape {kind} {url}")
    summary = CrawlSummary(kind=kind, url=url, run_id=run_id)
    try:
        summary = asyncio.run(crawl(archive, policy, kind, url, options=options, reporter=reporter,
                                    run_id=run_id))
    finally:
        if summary.stopped_by is None:  # else its run stays open, as a killed one's does
            archive.runs.finish(run_id, summary.ledger())
    return summary


@contextlib.contextmanager
def _stopped_by_signals(job: Crawl) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, job.stop)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
