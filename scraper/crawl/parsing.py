"""Parsing off the crawl's event loop: each page is parsed in a worker thread, within a time bound.

While a page is parsed, the crawl goes on fetching (lexbor releases the GIL while it builds the tree, and
Python code hands it over every few milliseconds). A parse that takes more than the bound fails its page
with error class `parse`, in the fetch log and the crawl queue (a re-run tries it again), and the crawl goes
on; the thread, which cannot be stopped, finishes on its own (a daemon thread: it never holds the process
at exit). The parser's own caps (scraper.parse.limits) keep the known hostile pages far below the bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from scraper.archive import Archive
from scraper.errors import ErrorClass
from scraper.feed import feed_refusal
from scraper.ingest import PageOutcome, accept
from scraper.models import FetchResult, PageType, Record
from scraper.parse import parse_page

PARSE_TIMEOUT = 30.0  # seconds for one page (a normal page takes milliseconds, 20 MB of markup a few seconds)
PARSERS = 2  # pages parsed at once


class Parser:
    """The parses of one crawl: at most PARSERS at once, each within `timeout` seconds."""

    def __init__(self, timeout: float = PARSE_TIMEOUT) -> None:
        self.timeout = timeout
        self._slots = asyncio.Semaphore(PARSERS)

    async def parse(self, body: bytes, url: str, *, content_type: str | None, page_type: PageType | None) -> Record:
        """`parse_page` in a worker thread; TimeoutError after `timeout` seconds."""
        async with self._slots:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[Record] = loop.create_future()

            def deliver(record: Record) -> None:
                if not done.done():  # not given up on
                    done.set_result(record)

            def work() -> None:
                record = parse_page(body, url, content_type=content_type, page_type=page_type)
                with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for it any more
                    loop.call_soon_threadsafe(deliver, record)

            threading.Thread(target=work, name="scrape-parse", daemon=True).start()
            async with asyncio.timeout(self.timeout):
                return await done

    async def read(self, archive: Archive, result: FetchResult, *, page_type: PageType | None) -> PageOutcome:
        """What `scraper.ingest.read` does (the page a fetch brought, or after a 304 its stored copy, parsed and
        accepted), with the parse off the event loop; a parse over the bound fails the fetch with error class
        `parse`, and a feed (what `scrape feed` reads) fails it with error class `not_html`."""
        outcome = PageOutcome(url=result.url, fetch=result)
        body = archive.page_body(result)
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
