"""The crawl loop: one run over one root (a dossier, a listing, a feed), resumable through `crawl_queue`.

A page's fetch log row, its record, its `done` mark and the URLs it leads to are written in one transaction
shared with the pages stored around it (scraper.archive.group: a commit every 500 pages or second), so a crawl
killed at any moment leaves no half page and loses at most the last second's pages: the same command again
*resumes* it (the queue's rules are in scraper.archive.queue, what a page leads to in scraper.crawl.rules).

Politeness (delay, concurrency, robots.txt, retries) is the Fetcher's; the crawl keeps at most `concurrency`
pages in flight, parses them in worker threads within a time bound (scraper.crawl.parsing), and does every
SQLite write from the event-loop thread. `stop()` (Ctrl-C, SIGTERM: see
scraper.crawl.run) finishes the pages being downloaded and ends every wait at once (a page waiting for its turn
stays to do); a second one abandons them all.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from typing import Any

from scraper.archive import Archive
from scraper.archive.group import CommitGroup
from scraper.archive.queue import CrawlQueue, Entry
from scraper.crawl.parsing import Parser
from scraper.crawl.report import CrawlEvent, CrawlKind, CrawlSummary, Reporter
from scraper.crawl.rules import CrawlOptions, LoginCheck, Rules
from scraper.crawl.tasks import Got, Handled, abandoned
from scraper.errors import ErrorClass, FetchStopped, InvalidURL
from scraper.feed import Feed, parse_feed
from scraper.fetch import Fetcher, stop_summary
from scraper.ingest import PageOutcome, read, store
from scraper.models import Article, Dossier, Failure, Fault, FetchResult, PageType, Record, page_kind, unreadable_list
from scraper.site import dossier_base_url, is_dossier_url, normal_url


class Crawl:
    """One run over one root. Use `run_crawl` (synchronous) or `await Crawl(...).run()`."""

    def __init__(self, archive: Archive, fetcher: Fetcher, kind: CrawlKind, url: str, *,
                 options: CrawlOptions | None = None, reporter: Reporter | None = None,
                 run_id: int | None = None) -> None:
        self.archive = archive
        self.fetcher = fetcher
        self.kind = kind
        self.url = url
        self.options = options or CrawlOptions()
        self.report = reporter or (lambda event: None)
        self.summary = CrawlSummary(kind=kind, url=url, run_id=run_id)
        self.queue: CrawlQueue | None = None
        self.rules = Rules(archive, fetcher.policy, kind, self.options, note=self._note, skip=self._skip)
        self.login = LoginCheck()
        self.parser = Parser(self.options.parse_timeout)
        self.group = CommitGroup(archive)
        self._commits, self._uncommitted = 0, Counter[str]()  # the pages done since the group's last commit
        self._waiting: dict[str, deque[Entry]] = {kind: deque() for kind in ("dossier", "feed", "article", "listing")}
        self._in_flight: dict[asyncio.Task[Got], Entry] = {}
        self._stopping = 0
        fetcher.robots.on_line = self._note  # a warning (a Crawl-delay capped) is said before any wait it makes

    # -- the run ----------------------------------------------------------------------------------

    async def run(self) -> CrawlSummary:
        """Crawl to the end, or until `stop()`; the summary says what happened and what remains."""
        if not self.fetcher.policy.obey_robots:
            self._note("robots.txt is ignored (--ignore-robots)")
        try:
            root = await self._root()
        except FetchStopped:  # stopped while the root waited for its turn
            root = None
        if root is None:
            self._finish()
            return self.summary
        self.summary.root = root
        self.queue = self.archive.queue(self.kind, root)
        self.summary.resumed = self.queue.open(self.options.refresh)
        pending = self.queue.pending()
        self._queue(pending)
        if self.summary.resumed:
            self._note(f"resuming the crawl of {root} started at {self.queue.session_start}: "
                       f"{len(pending)} page(s) to do")
        await self._loop()
        if self.fetcher.policy.cookies_file is not None and not self._stopping:
            await self._check_login()
        self._finish()
        return self.summary

    def stop(self) -> None:
        """First call: start nothing new, end every wait, finish the pages being downloaded. Second call: abandon
        them too."""
        self._stopping += 1
        if self._stopping == 1:
            self.fetcher.stop_waiting()
            self._note("stopping after the pages being downloaded (interrupt again to stop at once)")
        else:
            for task in self._in_flight:
                task.cancel()

    async def _loop(self) -> None:
        try:
            await self._pages()
        except BaseException:
            self._forget_uncommitted()
            raise

    async def _pages(self) -> None:
        with self.group:  # committed when due, whether pages come in or not, and at the end
            while True:
                if not self._stopping:
                    self._launch_ready()
                if not self._in_flight:
                    return
                done = await self.group.wait(self._in_flight)
                if self.group.commits != self._commits:
                    self._commits, self._uncommitted = self.group.commits, Counter()
                finished = [(self._in_flight.pop(task), task) for task in done]
                self._handle([(entry, task.result()) for entry, task in finished if not abandoned(task)])

    def _launch_ready(self) -> None:
        slots = max(1, self.fetcher.policy.concurrency)
        while len(self._in_flight) < slots:
            entry = self._next_entry()
            if entry is None:
                return
            if self.fetcher.stop_for(entry.url) is not None:
                continue  # its host is asked nothing more: the page stays in the queue for the next run
            task = asyncio.create_task(self._obtain(entry))
            self._in_flight[task] = entry
            self.report(CrawlEvent("started", entry.url, entry.kind))

    def _next_entry(self) -> Entry | None:
        """Index pages (dossier, feed) first; articles next; a listing's next page only once no article
        is left, so that --since and the incremental stop can be decided before going further."""
        for kind in ("dossier", "feed", "article"):
            if self._waiting[kind]:
                return self._waiting[kind].popleft()
        busy_with_articles = any(entry.kind == "article" for entry in self._in_flight.values())
        if busy_with_articles or not self._waiting["listing"]:
            return None
        return self._waiting["listing"].popleft()

    def _queue(self, entries: list[Entry]) -> None:
        for entry in entries:
            self._waiting[entry.kind].append(entry)
        if entries:
            self.report(CrawlEvent("queued", count=len(entries)))

    # -- one page ---------------------------------------------------------------------------------

    async def _obtain(self, entry: Entry) -> Got:
        """Fetch the page (or take it from the archive) and parse it, off the event loop: other pages are
        fetched meanwhile."""
        assert self.queue is not None
        retrying = entry.url in self.queue.retrying
        reusable = self._reusable_fetch(entry.url) if self.summary.resumed and not retrying else None
        if reusable is not None:
            body = self.archive.bodies.read(reusable["sha256"])
            return Got(reused=reusable, body=body, record=await self._parse_stored(entry, reusable, body))
        result = await self.fetcher.fetch(entry.url, **self.archive.fetches.validators(entry.url))
        if entry.kind == "feed" or not result.asked:
            return Got(result=result)
        page = await self.parser.read(self.archive, result, page_type=_page_type(entry.kind))
        self._refused(page)
        return Got(result=result, page=page)

    def _refused(self, page: PageOutcome) -> None:
        """A page that, once read, is a challenge or a login page counts toward stopping its host."""
        if page.refusal is None:
            return
        self.fetcher.refused(page.url, page.refusal)
        if page.refusal.login and page.fetch.cookies_sent:
            self.login.saw_login_page()

    async def _parse_stored(self, entry: Entry, row: dict[str, Any], body: bytes | None) -> Record | None:
        if entry.kind == "feed" or body is None:
            return None
        try:
            return await self.parser.parse(body, row.get("final_url") or row["url"],
                                           content_type=row.get("content_type"), page_type=_page_type(entry.kind))
        except TimeoutError:
            return None

    def _reusable_fetch(self, url: str) -> dict[str, Any] | None:
        """A good fetch of `url` made since the crawl started (before an interruption), with its body."""
        assert self.queue is not None
        row = self.archive.fetches.latest(url)
        if row is None or not row.get("sha256") or not row.get("fetched_at"):
            return None
        return row if row["fetched_at"] >= self.queue.session_start else None  # one format of time: as text

    def _handle(self, pages: list[tuple[Entry, Got]]) -> None:
        """Store the pages that came in together, in the open commit group: for each, log its fetch, store it, mark
        it done (or failed) and queue what it leads to; a crash leaves each page wholly done or still to do."""
        if not pages:
            return
        read_pages = [(entry, got, self._known_paywalled(entry)) for entry, got in pages
                      if got.result is None or got.result.asked]  # a page not asked stays to do
        with self.group.page(len(read_pages)):
            self._robots_notes()
            stored = [self._store_page(entry, got, known_paywalled) for entry, got, known_paywalled in read_pages]
        self._uncommitted.update(action for _entry, action, _fault, _queued in stored)
        for entry, action, fault, queued in stored:
            if fault is not None:
                self._finished(entry, action, str(fault))
            else:
                self._queue(queued)
                self._finished(entry, action)

    def _forget_uncommitted(self) -> None:
        """The open commit group was rolled back (an error of the archive: locked, full): its pages are not
        counted as done (the next run does them again)."""
        if self.group.commits == self._commits and self._uncommitted:
            self.summary.pages.subtract(self._uncommitted)
            self._note(f"the last {self._uncommitted.total()} page(s) were not committed: the next run does them"
                       " again")
        self._uncommitted = Counter()

    def _known_paywalled(self, entry: Entry) -> bool:
        return entry.kind == "article" and self.rules.known_paywalled(entry.url)

    def _store_page(self, entry: Entry, got: Got, known_paywalled: bool
                    ) -> tuple[Entry, str, Fault | None, list[Entry]]:
        """One page's writes, in the open commit group (no savepoint of its own: an error rolls back the
        group): (entry, action, why it failed, queued)."""
        assert self.queue is not None
        if got.reused is not None:
            record, action, fault = self._from_archive(entry, got.reused, got.body, got.record)
        else:
            assert got.result is not None
            self._count_request(got.result)
            record, action, fault = self._ingest(got.result, got.page)
        if record is None:
            assert fault is not None
            self.queue.fail(entry.url, fault, attempt=fault.error_class != ErrorClass.BLOCKED)
            return entry, "failed", fault, []
        if not isinstance(record, Feed) and record.unread_links:
            self.summary.read_with_loss.append(entry.url)
        if entry.kind == "article" and isinstance(record, Article):
            self._after_article(record, got.result, known_paywalled)
        elif not isinstance(record, Article):
            for warning in record.warnings:  # an index page the parser cannot read is worth saying
                self._note(f"warning: {entry.url}: {warning}")
        return entry, action, None, self.queue.complete(entry.url, self.rules.children(record, self._listing_pages))

    def _ingest(self, result: FetchResult, page: PageOutcome | None) -> Handled:
        if page is None:
            return self._ingest_feed(result)
        outcome = store(self.archive, page, run_id=self.summary.run_id)
        if outcome.failed:
            return None, "failed", Fault.of(result)
        if outcome.canary is not None:
            self._alert(outcome.canary.url, outcome.canary.message)
        return outcome.record, outcome.action, None

    def _ingest_feed(self, result: FetchResult) -> Handled:
        """A feed through the pipeline every page takes (scraper.ingest): logged, read, stored as the listing of
        its items (never over a fuller one), looked at by the canary."""
        outcome = store(self.archive, read(self.archive, result, feed=True), run_id=self.summary.run_id)
        if outcome.failed:
            return None, "failed", Fault.of(result)
        if outcome.canary is not None:
            self._alert(outcome.canary.url, outcome.canary.message)
        return outcome.feed, outcome.action, None

    def _from_archive(self, entry: Entry, row: dict[str, Any], body: bytes | None, record: Record | None
                      ) -> Handled:
        """A page fetched before the interruption, its stored `body` parsed (`record`): store it (idempotent)."""
        if body is None:
            return None, "failed", Fault(ErrorClass.ARCHIVE, "stored body missing")
        if entry.kind == "feed":
            feed = parse_feed(body, row.get("final_url") or row["url"], row.get("content_type"))
            self.archive.records.store(feed.as_listing(), fetch_id=row["id"])
            return feed, "reused", None
        if record is None:
            return None, "failed", Fault(ErrorClass.PARSE, self.parser.overtime())
        problem = unreadable_list(record)
        if problem is not None:
            return None, "failed", Fault(ErrorClass.PARSE, problem)
        self.archive.records.store(record, fetch_id=row["id"] if row.get("status") == 200 else None)
        return record, "reused", None

    def _after_article(self, article: Article, result: FetchResult | None, known_paywalled: bool) -> None:
        if self.rules.older_than_since(article):
            self._drop_listing_pages()
        self.login.saw(article, result, known_paywalled)

    def _drop_listing_pages(self) -> None:
        pages = self._waiting["listing"]
        if pages and self.queue is not None:
            self.queue.drop([entry.url for entry in pages])
            pages.clear()

    def _listing_pages(self) -> int:
        """How many listing pages the crawl has queued (a walk over every URL it knows: asked only under --pages)."""
        return sum(1 for kind in self.queue.known.values() if kind == "listing")

    def _count_request(self, result: FetchResult) -> None:
        self.summary.retried += result.retries
        if result.error and result.error_class != ErrorClass.PARSE:  # a page that came but cannot be read
            self.summary.failed += 1
            self.summary.refused += result.error_class == ErrorClass.BLOCKED
        elif result.not_modified:
            self.summary.not_modified += 1
        else:
            self.summary.fetched += 1
            self.summary.bytes += len(result.body or b"")

    def _finished(self, entry: Entry, action: str, detail: str = "") -> None:
        self.summary.pages[action] += 1
        self.report(CrawlEvent("finished", entry.url, entry.kind, action, detail))

    def _skip(self, url: str) -> None:
        self.summary.pages["skipped"] += 1
        self.report(CrawlEvent("finished", url, "article", "skipped", "already archived"))

    # -- the root ---------------------------------------------------------------------------------

    async def _root(self) -> str | None:
        """The crawl's root URL; for a dossier given by one of its articles, the dossier's first page."""
        url = normal_url(self.url)
        if self.kind != "dossier" or is_dossier_url(url):
            return dossier_base_url(url)[0] if self.kind == "dossier" else url
        article = self.archive.articles.find(url)
        if article is not None:
            dossier = self.archive.articles.dossier_url(article["id"])
            if dossier:
                self._note(f"{url} belongs to the dossier {dossier}")
                return dossier_base_url(dossier)[0]
        return await self._root_from_page(url)

    async def _root_from_page(self, url: str) -> str | None:
        self.report(CrawlEvent("started", url, "article"))
        result, outcome = await self._fetch_and_store(url, None, conditional=True)
        record = outcome.record
        if record is None:
            fault = Fault.of(result)
            self.summary.failures.append(Failure(url, "article", fault.error_class, fault.message, 1))
            self._finished(Entry(url, "article"), "failed", str(fault))
            return None
        self._finished(Entry(url, "article"), outcome.action)
        if isinstance(record, Dossier):
            return dossier_base_url(url)[0]
        if isinstance(record, Article) and record.dossier is not None and record.dossier.url:
            self._note(f"{url} belongs to the dossier {record.dossier.url}")
            return dossier_base_url(normal_url(record.dossier.url))[0]
        raise InvalidURL(f"{url} is not a dossier, nor an article that names its dossier")

    # -- the end ----------------------------------------------------------------------------------

    async def _check_login(self) -> None:
        """With --cookies: a known paywalled article served without its paywall means logged in."""
        if not self.login.seen and not self.login.login_pages and not self.fetcher.stops.stops():
            probe = self.login.probe(self.archive, self.rules.paywalled)
            if probe is None:
                self.summary.login = "unknown: no known paywalled article to check the cookies against"
                self._note(f"cookies: {self.summary.login}")
                return
            result, outcome = await self._fetch_and_store(probe, "article")
            if isinstance(outcome.record, Article):
                self._after_article(outcome.record, result, known_paywalled=True)
        self.summary.login = self.login.verdict()
        self._note(f"cookies: {self.summary.login}")

    async def _fetch_and_store(self, url: str, page_type: PageType | None, *, conditional: bool = False
                               ) -> tuple[FetchResult, PageOutcome]:
        """A page outside the crawl's queue (its root, the login probe): fetched (with the stored copy's
        validators when `conditional`), parsed, stored, counted."""
        validators = self.archive.fetches.validators(url) if conditional else {}
        result = await self.fetcher.fetch(url, **validators)
        if not result.asked:
            return result, PageOutcome(url=url, fetch=result)
        page = await self.parser.read(self.archive, result, page_type=page_type)
        self._refused(page)
        outcome = store(self.archive, page, run_id=self.summary.run_id)
        self._count_request(result)
        return result, outcome

    def _robots_notes(self) -> None:
        """Log each robots.txt request in `fetches` (what it said is a note as soon as it is read: __init__)."""
        for robots in self.fetcher.take_robots_fetches():
            self.archive.fetches.record(robots, run_id=self.summary.run_id)

    def _finish(self) -> None:
        self._robots_notes()
        offsite = self.rules.offsite_note()
        if offsite:
            self._note(offsite)
        if self._stopping:
            self.summary.interrupted = True
        if self.queue is None:
            return
        self.summary.failures = self.queue.failures()
        self.summary.remaining = self.queue.count("pending")
        self._stopped_hosts()
        if self._stopping:
            self._note(f"interrupted: {self.summary.remaining} page(s) remain; run the same command again"
                       " to resume")

    def _stopped_hosts(self) -> None:
        """Say which hosts refused access (or asked for too long a wait) and what is left for the next run."""
        archived = sum(self.summary.pages[action] for action in ("inserted", "updated", "unchanged", "not modified"))
        for stop in self.fetcher.stops.stops():
            self.summary.stopped.append(stop_summary(stop, archived, self.summary.remaining))

    def _note(self, message: str) -> None:
        self.summary.notes.append(message)
        self.report(CrawlEvent("note", detail=message))

    def _alert(self, url: str, message: str) -> None:
        self.summary.alerts.append(message)
        self.report(CrawlEvent("alert", url, detail=message))


def _page_type(kind: str) -> PageType:
    """The type of page (scraper.models.PAGE_TYPES) a queued page of `kind` is read as."""
    return page_kind(kind).name  # type: ignore[return-value]
