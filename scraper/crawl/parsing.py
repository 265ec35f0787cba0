"""Parsing in a crawl, each page within a time bound: small pages on the event loop, big ones off it, in a few
persistent worker threads.

A page of at most `inline_bytes` (INLINE_BYTES_PER_SECOND for each second of the bound, at most INLINE_MAX: 512 KB
under the default bound of 30 s) is parsed at once, on the event loop. Handing a page to a thread costs more
than parsing most pages: the loop and the worker take the interpreter's lock from each other for every page (at
--concurrency 16, a crawl spent 0.6 ms of CPU a page on it, a third of its whole time). The parser's caps
(scraper.parse.limits) keep the slowest hostile pages measured (unclosed nested inline tags, headings between
links: 0.8 µs a byte) 60 times under the bound at that size; the crawl waits for that parse, and a parse that
nevertheless took longer than the bound fails its page as a worker's would.

A bigger page goes to a worker thread: while it is parsed, the crawl goes on fetching (lexbor releases the lock
while it builds the tree, and Python code hands it over every few milliseconds). The workers are started once,
on the first such page, and kept for the process (daemon threads: they never hold it at exit). A parse that takes
more than the bound fails its page with error class `parse`, in the fetch log and the crawl queue (a re-run
tries it again), and the crawl goes on: the worker stuck in it, which cannot be stopped, is retired (it ends once
that parse is over) and another takes its place, so later pages never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from scraper.archive import Archive
from scraper.errors import ErrorClass
from scraper.feed import feed_refusal
from scraper.ingest import PageOutcome, accept
from scraper.models import FetchResult, PageType, Record
from scraper.parse import parse_page

PARSE_TIMEOUT = 30.0  # seconds for one page (a normal page takes milliseconds, 20 MB of markup a few seconds)
PARSERS = 2  # pages parsed at once in worker threads, and those threads
INLINE_BYTES_PER_SECOND = 20_000  # of the time bound: the pages parsed on the event loop, at most
INLINE_MAX = 512 * 1024


@dataclass(eq=False)
class _Job:
    """One parse: `work` run by a worker, its record (or error) handed to `deliver`."""

    work: Callable[[], Record]
    deliver: Callable[[Record | BaseException], None]
    worker: _Worker | None = None  # the worker running it
    abandoned: bool = False  # its caller gave up on it (over the time bound)


@dataclass(eq=False)
class _Worker:
    retired: bool = False  # stuck in an abandoned parse: it ends after it, and another took its place
    thread: threading.Thread = field(init=False)


class _Workers:
    """`size` worker threads taking parses from one queue, started on first use; a worker stuck in an
    abandoned parse is replaced at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.started = 0  # threads started, replacements included
        self._live = 0  # workers not retired
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()

    def submit(self, job: _Job) -> None:
        with self._lock:
            while self._live < self.size:
                self._start()
        self._jobs.put(job)

    def abandon(self, job: _Job) -> None:
        """Give up on `job`: not started, it is skipped; started, its worker is retired and replaced."""
        with self._lock:
            job.abandoned = True
            worker = job.worker
            if worker is not None and not worker.retired:
                worker.retired = True
                self._live -= 1
                self._start()

    def _start(self) -> None:
        worker = _Worker()
        worker.thread = threading.Thread(target=self._serve, args=(worker,), name="scrape-parse", daemon=True)
        self._live += 1
        self.started += 1
        worker.thread.start()

    def _serve(self, worker: _Worker) -> None:
        while not worker.retired:
            job = self._jobs.get()
            with self._lock:
                if job.abandoned:
                    continue
                job.worker = worker
            try:
                result: Record | BaseException = job.work()
            except Exception as error:  # the caller's to raise
                result = error
            with self._lock:
                job.worker = None
                delivered = not job.abandoned
            if delivered:
                job.deliver(result)


_WORKERS = _Workers(PARSERS)  # one set of workers for the process, shared by its crawls


def workers_started() -> int:
    """How many parsing threads this process has started (PARSERS, plus one for each parse given up on)."""
    return _WORKERS.started


class Parser:
    """The parses of one crawl, each within `timeout` seconds: pages of at most `inline_bytes` on the event loop
    (by default, INLINE_BYTES_PER_SECOND per second of the bound, at most INLINE_MAX), the others in worker threads,
    at most PARSERS at once."""

    def __init__(self, timeout: float = PARSE_TIMEOUT, inline_bytes: int | None = None) -> None:
        self.timeout = timeout
        self.inline_bytes = (min(INLINE_MAX, int(timeout * INLINE_BYTES_PER_SECOND)) if inline_bytes is None
                             else inline_bytes)
        self._slots = asyncio.Semaphore(PARSERS)
        self.parsed_here = 0  # pages parsed on the event loop
        self.parsed_in_workers = 0  # pages given to a worker thread

    async def parse(self, body: bytes, url: str, *, content_type: str | None, page_type: PageType | None) -> Record:
        """`parse_page`, on the loop or in a worker thread; TimeoutError when it took more than `timeout`
        seconds (from a worker, as soon as the bound is reached)."""
        if len(body) <= self.inline_bytes:
            return self._parse_here(body, url, content_type=content_type, page_type=page_type)
        return await self._parse_in_worker(body, url, content_type=content_type, page_type=page_type)

    def _parse_here(self, body: bytes, url: str, *, content_type: str | None, page_type: PageType | None) -> Record:
        self.parsed_here += 1
        started = time.monotonic()
        record = parse_page(body, url, content_type=content_type, page_type=page_type)
        if time.monotonic() - started > self.timeout:
            raise TimeoutError(f"parsing {url} took more than {self.timeout:g} s")
        return record

    async def _parse_in_worker(self, body: bytes, url: str, *, content_type: str | None,
                               page_type: PageType | None) -> Record:
        self.parsed_in_workers += 1
        async with self._slots:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[Record] = loop.create_future()

            def settle(result: Record | BaseException) -> None:
                if done.done():  # given up on meanwhile
                    return
                if isinstance(result, BaseException):
                    done.set_exception(result)
                else:
                    done.set_result(result)

            def deliver(result: Record | BaseException) -> None:
                with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for it any more
                    loop.call_soon_threadsafe(settle, result)

            job = _Job(lambda: parse_page(body, url, content_type=content_type, page_type=page_type), deliver)
            _WORKERS.submit(job)
            try:
                async with asyncio.timeout(self.timeout):
                    return await done
            except BaseException:  # over the bound, or cancelled: its worker, if stuck in it, is replaced
                _WORKERS.abandon(job)
                raise

    async def read(self, archive: Archive, result: FetchResult, *, page_type: PageType | None) -> PageOutcome:
        """What `scraper.ingest.read` does (the page a fetch brought, or after a 304 its stored copy, parsed and
        accepted), with the parse off the event loop; a parse over the bound fails the fetch with error class
        `parse`, and a feed (what `scrape feed` reads) fails it with error class `not_html`."""
        outcome = PageOutcome(url=result.url, fetch=result)
        body = archive.fetches.page_body(result)
        if body is None:
            return outcome
        refusal = feed_refusal(body, result.final_url or result.url)
        if refusal:
            result.error, result.error_class = refusal, ErrorClass.NOT_HTML
            return outcome
        try:
            accept(outcome, await self.parse(body, result.final_url or result.url, content_type=result.content_type,
                                             page_type=page_type))
        except TimeoutError:
            result.error = self.overtime()
            result.error_class = ErrorClass.PARSE
        return outcome

    def overtime(self) -> str:
        return f"parsing took more than {self.timeout:g} s: page left out (a re-run tries it again)"
