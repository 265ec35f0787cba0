"""What to fetch next, and the crawl loop: dossiers, listings and feeds, resumable through `crawl_queue`.

A crawl starts from a root URL (a dossier's first page, a rubrique listing, a feed) and keeps its
frontier in the archive's `crawl_queue`: one row per URL, `parent_url` naming the root of the crawl it
belongs to, `state` pending, done or failed. A page's fetch log row, its record, its `done` mark and the
URLs it leads to are written in one transaction (with the other pages that came in at the same moment:
one commit for several pages), so a crawl killed at any moment loses nothing and leaves no half page:
running the same command again *resumes* it.

The rules, per root:

- A run resumes when the root's crawl has pending rows (it was interrupted) or failed rows tried fewer
  than MAX_ATTEMPTS times; it then works only on those (a re-run retries only what failed). A page
  already fetched in the interrupted run is taken from the archive, not fetched again.
- Otherwise the run is a new pass: the root is fetched again (conditional GET), and the articles it
  lists are queued unless already archived (`refresh` queues them all; still a conditional GET).
- A page that failed MAX_ATTEMPTS runs in a row is given up (still reported, exit code 1) until a run
  with `refresh`.

Politeness (delay, concurrency, robots.txt, retries) is the Fetcher's; the crawl keeps at most
`concurrency` pages in flight and does every SQLite write from the event-loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from scraper.errors import UsageError
from scraper.feed import Feed, parse_feed
from scraper.fetch import Fetcher, FetchPolicy
from scraper.ingest import PageOutcome, ingest, read, store
from scraper.models import Article, Dossier, FetchResult, Listing, ListItem, PageType, Record
from scraper.parse import parse_page
from scraper.parse.structured import site_id_from_url
from scraper.store import Archive, dossier_base_url, utc_now

CrawlKind = Literal["dossier", "listing", "feed"]
EntryKind = Literal["dossier", "listing", "feed", "article"]
MAX_ATTEMPTS = 3  # runs in a row that may try a failing page before it is given up
NOT_SHOWN_LIMIT = 20

_PAGE_TYPES: dict[str, PageType] = {"dossier": "dossier", "listing": "listing", "article": "article"}


@dataclass
class CrawlOptions:
    """What to crawl beyond the root, from the command line."""

    refresh: bool = False  # fetch again what is archived (with conditional GET), retry given-up pages
    since: str | None = None  # YYYY-MM-DD: listings and feeds stop at older articles
    max_pages: int | None = None  # listings: at most this many pages

    def __post_init__(self) -> None:
        if self.since is not None:
            try:
                date.fromisoformat(self.since)
            except ValueError:
                raise UsageError(f"invalid date {self.since!r}: expected YYYY-MM-DD") from None
        if self.max_pages is not None and self.max_pages < 1:
            raise UsageError("--pages must be at least 1")


@dataclass(frozen=True)
class CrawlEvent:
    """What a crawl tells its reporter (the CLI's progress bar or log lines).

    `type`: `queued` (`count` more pages to do), `started` (a page is in flight), `finished` (`action`:
    inserted, updated, unchanged, not modified, reused, skipped or failed, with `detail` the error),
    `note` (`detail` says something about the whole run).
    """

    type: Literal["queued", "started", "finished", "note"]
    url: str = ""
    kind: str = ""
    action: str = ""
    detail: str = ""
    count: int = 0


Reporter = Callable[[CrawlEvent], None]


@dataclass
class Failure:
    url: str
    kind: str
    error_class: str | None
    error: str
    attempts: int = 0


@dataclass
class CrawlSummary:
    """The outcome of one run: page actions, request counts (as in `runs`), what failed, what remains."""

    kind: CrawlKind
    url: str
    root: str | None = None
    run_id: int | None = None
    resumed: bool = False
    interrupted: bool = False
    pages: Counter[str] = field(default_factory=Counter)  # action -> pages
    fetched: int = 0  # requests that brought a body (2xx)
    not_modified: int = 0  # requests answered 304
    failed: int = 0  # requests that failed
    retried: int = 0  # retries made inside those requests
    bytes: int = 0  # body bytes downloaded (after decompression)
    remaining: int = 0  # pages still pending in the queue
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    login: str | None = None  # with --cookies: whether the session looks logged in

    @property
    def exit_code(self) -> int:
        """130 when interrupted, 1 when some page failed in the end, else 0."""
        if self.interrupted:
            return 130
        return 1 if self.failures else 0

    def run_counts(self) -> dict[str, int]:
        """The counts of the archive's `runs` row."""
        stored = self.pages["inserted"] + self.pages["updated"] + self.pages["unchanged"]
        return {"fetched": self.fetched, "not_modified": self.not_modified, "failed": self.failed,
                "retried": self.retried, "bytes": self.bytes, "stored": stored,
                "inserted": self.pages["inserted"], "updated": self.pages["updated"],
                "unchanged": self.pages["unchanged"]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "url": self.url, "root": self.root, "run_id": self.run_id,
            "resumed": self.resumed, "interrupted": self.interrupted, "exit_code": self.exit_code,
            "pages": dict(sorted(self.pages.items())),
            "requests": {"fetched": self.fetched, "not_modified": self.not_modified, "failed": self.failed,
                         "retried": self.retried, "bytes": self.bytes},
            "remaining": self.remaining,
            "failures": [vars(failure) for failure in self.failures],
            "notes": list(self.notes), "login": self.login,
        }


@dataclass
class Entry:
    url: str
    kind: EntryKind


# --- the frontier -------------------------------------------------------------------------------

class Frontier:
    """The rows of `crawl_queue` that belong to one root (their `parent_url`)."""

    def __init__(self, archive: Archive, root: str) -> None:
        self.archive = archive
        self.root = root
        self.known: dict[str, EntryKind] = {}  # every URL of this crawl, any state
        self.retrying: set[str] = set()  # failed pages this run tries again
        self.session_start = utc_now()

    def open(self, kind: EntryKind, refresh: bool) -> bool:
        """Resume the root's unfinished crawl, or start a new pass at the root; True when resuming.

        Failed pages put back in the queue to be retried are in `retrying`.
        """
        now = utc_now()
        with self.archive.transaction():
            rows = self._rows()
            by_url = {row["url"]: row for row in rows}
            retry = [row["url"] for row in rows if row["state"] == "failed"
                     and (refresh or row["attempts"] < MAX_ATTEMPTS)]
            pending = [row for row in rows if row["state"] == "pending"]
            resumed = self.root in by_url and bool(pending or retry)
            self.retrying = set(retry) if resumed else set()
            if resumed:
                self.session_start = by_url[self.root]["added_at"] or now
                self._execute_many("update crawl_queue set state = 'pending', updated_at = ?"
                                   " where url = ? and parent_url = ?", [(now, url, self.root) for url in retry])
            else:
                dropped = "('done', 'failed')" if refresh else "('done')"
                self.archive.conn.execute(f"delete from crawl_queue where parent_url = ? and state in {dropped}",
                                        [self.root])
                self.session_start = now
                self._upsert([(self.root, kind)], now)
                self.archive.conn.execute("update crawl_queue set attempts = 0 where url = ?", [self.root])
        self.known = {row["url"]: row["kind"] for row in self._rows()}
        return resumed

    def _rows(self, state: str | None = None) -> list[dict[str, Any]]:
        """The crawl's rows in the order they were queued (those in `state` only, when given)."""
        where = "parent_url = ?" + (" and state = ?" if state else "")
        cursor = self.archive.conn.execute(
            "select url, kind, state, attempts, added_at, last_error from crawl_queue"
            f" where {where} order by rowid", [self.root, *([state] if state else [])])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _execute_many(self, sql: str, params: list[tuple[Any, ...]]) -> None:
        if params:
            self.archive.conn.executemany(sql, params)

    def _upsert(self, entries: Iterable[tuple[str, str]], now: str) -> None:
        self._execute_many(
            "insert into crawl_queue (url, kind, parent_url, state, attempts, added_at, updated_at)"
            " values (?, ?, ?, 'pending', 0, ?, ?)"
            " on conflict(url) do update set kind = excluded.kind, state = 'pending', last_error = null,"
            " attempts = case when crawl_queue.parent_url = excluded.parent_url then crawl_queue.attempts"
            " else 0 end, parent_url = excluded.parent_url, added_at = excluded.added_at,"
            " updated_at = excluded.updated_at"
            # a row of this crawl that another process queued meanwhile is left as it is
            " where crawl_queue.parent_url is not excluded.parent_url or crawl_queue.url = excluded.parent_url",
            [(url, kind, self.root, now, now) for url, kind in entries],
        )

    def pending(self) -> list[Entry]:
        return [Entry(row["url"], row["kind"]) for row in self._rows("pending")]

    def is_new(self, url: str) -> bool:
        return url not in self.known

    def complete(self, url: str, children: list[tuple[str, EntryKind]]) -> list[Entry]:
        """Mark `url` done (one more attempt) and queue its new `children`, in one transaction; returns the
        queued entries."""
        fresh = [(child, kind) for child, kind in dict(children).items() if self.is_new(child)]
        now = utc_now()
        with self.archive.transaction():
            self._upsert(fresh, now)
            self.archive.conn.execute(
                "update crawl_queue set state = 'done', attempts = attempts + 1, last_error = null,"
                " updated_at = ? where url = ?",
                [now, url])
        self.known.update(fresh)
        return [Entry(child, kind) for child, kind in fresh]

    def fail(self, url: str, error: str) -> None:
        """Mark `url` failed (one more attempt) with `error` ("<error class>: <message>")."""
        with self.archive.transaction():
            self.archive.conn.execute(
                "update crawl_queue set state = 'failed', attempts = attempts + 1, last_error = ?,"
                " updated_at = ? where url = ?",
                [error, utc_now(), url])

    def drop(self, urls: list[str]) -> None:
        """Forget pending `urls` (e.g. listing pages past --since)."""
        with self.archive.transaction():
            self._execute_many("delete from crawl_queue where url = ? and parent_url = ? and state = 'pending'",
                               [(url, self.root) for url in urls])
        for url in urls:
            self.known.pop(url, None)

    def failures(self) -> list[Failure]:
        result = []
        for row in self._rows("failed"):
            error_class, _, message = (row["last_error"] or "").partition(": ")
            result.append(Failure(row["url"], row["kind"], error_class or None, message or error_class,
                                  row["attempts"] or 0))
        return result

    def count(self, state: str) -> int:
        found = self.archive.conn.execute(
            "select count(*) from crawl_queue where parent_url = ? and state = ?", [self.root, state]).fetchone()
        return int(found[0])


# --- the crawl ----------------------------------------------------------------------------------

@dataclass
class _Got:
    """What a page task brought: a fetch, or a page taken from the archive (resumed crawls)."""

    result: FetchResult | None = None
    reused: dict[str, Any] | None = None  # the fetches row whose body is reused


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
        self.frontier: Frontier | None = None
        self._waiting: dict[str, deque[Entry]] = {kind: deque() for kind in ("dossier", "feed", "article", "listing")}
        self._in_flight: dict[asyncio.Task[_Got], Entry] = {}
        self._stopping = 0
        self._paywalled: set[str] = set()  # article URLs their dossier or listing marks paywalled
        self._login: Counter[str] = Counter()  # "full" / "locked" paywalled articles served with cookies
        self._locked_example: str | None = None
        self._older_seen = False
        self._offsite: list[str] = []
        self._robots_said = 0

    # -- the run ----------------------------------------------------------------------------------

    async def run(self) -> CrawlSummary:
        """Crawl to the end, or until `stop()`; the summary says what happened and what remains."""
        if not self.fetcher.policy.obey_robots:
            self._note("robots.txt is ignored (--ignore-robots)")
        root = await self._root()
        if root is None:
            self._finish()
            return self.summary
        self.summary.root = root
        self.frontier = Frontier(self.archive, root)
        root_kind: EntryKind = self.kind
        self.summary.resumed = self.frontier.open(root_kind, self.options.refresh)
        pending = self.frontier.pending()
        self._queue(pending)
        if self.summary.resumed:
            self._note(f"resuming the crawl of {root} started at {self.frontier.session_start}: "
                       f"{len(pending)} page(s) to do")
        await self._loop()
        if self.fetcher.policy.cookies_file is not None and not self._stopping:
            await self._check_login()
        self._finish()
        return self.summary

    def stop(self) -> None:
        """First call: start nothing new, finish the pages in flight. Second call: abandon them too."""
        self._stopping += 1
        if self._stopping == 1:
            self._note("stopping after the pages in flight (interrupt again to stop at once)")
        else:
            for task in self._in_flight:
                task.cancel()

    async def _loop(self) -> None:
        while True:
            if not self._stopping:
                self._launch_ready()
            if not self._in_flight:
                return
            done, _ = await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            finished = [(self._in_flight.pop(task), task) for task in done]
            self._handle([(entry, task.result()) for entry, task in finished if not task.cancelled()])

    def _launch_ready(self) -> None:
        slots = max(1, self.fetcher.policy.concurrency)
        while len(self._in_flight) < slots:
            entry = self._next_entry()
            if entry is None:
                return
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

    async def _obtain(self, entry: Entry) -> _Got:
        assert self.frontier is not None
        retrying = entry.url in self.frontier.retrying
        reusable = self._reusable_fetch(entry.url) if self.summary.resumed and not retrying else None
        if reusable is not None:
            return _Got(reused=reusable)
        return _Got(result=await self.fetcher.fetch(entry.url, **self._validators(entry.url)))

    def _reusable_fetch(self, url: str) -> dict[str, Any] | None:
        """A good fetch of `url` made since the crawl started (before an interruption), with its body."""
        assert self.frontier is not None
        row = self.archive.latest_fetch(url)
        if row is None or not row.get("sha256") or not row.get("fetched_at"):
            return None
        return row if _instant(row["fetched_at"]) >= _instant(self.frontier.session_start) else None

    def _validators(self, url: str) -> dict[str, str | None]:
        """ETag / Last-Modified of the stored copy (of the URL, else of the archived article it names)."""
        row = self.archive.latest_fetch(url)
        if row is None:
            article = self._archived_article(url, None)
            if article is not None and article["url"] != url:
                row = self.archive.latest_fetch(article["url"])
        if row is None or not row.get("sha256"):
            return {}
        return {"etag": row.get("etag"), "last_modified": row.get("last_modified")}

    def _handle(self, pages: list[tuple[Entry, _Got]]) -> None:
        """Store the pages that came in together, in one transaction: for each, log its fetch, store it,
        mark it done (or failed) and queue what it leads to. They are parsed before the transaction, and a
        crash leaves each page either wholly done or still to do. One commit for several pages: a commit
        costs more than a page's rows (it writes and syncs the log, and flushes the full-text index)."""
        if not pages:
            return
        self._robots_notes()
        read_pages = [(entry, got, self._read(entry, got)) for entry, got in pages]  # no write yet
        with self.archive.transaction():
            stored = [self._store_page(entry, got, known_paywalled, page)
                      for entry, got, (known_paywalled, page) in read_pages]
        for entry, action, error, queued in stored:
            if action == "failed":
                self._finished(entry, action, error)
            else:
                self._queue(queued)
                self._finished(entry, action)

    def _read(self, entry: Entry, got: _Got) -> tuple[bool, PageOutcome | None]:
        """Whether the page is known paywalled, and the page parsed (feeds are parsed when stored)."""
        known_paywalled = entry.kind == "article" and self._known_paywalled(entry.url)
        if got.result is None or entry.kind == "feed":
            return known_paywalled, None
        return known_paywalled, read(self.archive, got.result, page_type=_PAGE_TYPES[entry.kind])

    def _store_page(self, entry: Entry, got: _Got, known_paywalled: bool,
                    page: PageOutcome | None) -> tuple[Entry, str, str, list[Entry]]:
        """One page's writes (a savepoint of the batch's transaction): (entry, action, error, queued)."""
        assert self.frontier is not None
        with self.archive.transaction():
            if got.reused is not None:
                record, action, error = self._from_archive(entry, got.reused)
            else:
                assert got.result is not None
                self._count_request(got.result)
                record, action, error = self._ingest(entry, got.result, page)
            if record is None:
                self.frontier.fail(entry.url, error)
                return entry, "failed", error, []
            if entry.kind == "article" and isinstance(record, Article):
                self._after_article(record, got.result, known_paywalled)
            elif not isinstance(record, Article):
                for warning in record.warnings:  # an index page the parser cannot read is worth saying
                    self._note(f"warning: {entry.url}: {warning}")
            return entry, action, "", self.frontier.complete(entry.url, self._children(entry, record))

    def _ingest(self, entry: Entry, result: FetchResult,
                page: PageOutcome | None) -> tuple[Record | Feed | None, str, str]:
        if page is None:
            return self._ingest_feed(result)
        outcome = store(self.archive, page, run_id=self.summary.run_id)
        if outcome.failed:
            return None, "failed", _error_text(result)
        return outcome.record, outcome.action, ""

    def _ingest_feed(self, result: FetchResult) -> tuple[Feed | None, str, str]:
        body = None
        if not result.error and result.not_modified:
            previous = self.archive.latest_fetch(result.url)
            body = self.archive.raw_body(previous["sha256"]) if previous and previous.get("sha256") else None
        elif not result.error:
            body = result.body
        fetch_id = self.archive.record_fetch(result, run_id=self.summary.run_id)
        if body is None:
            return None, "failed", _error_text(result)
        feed = parse_feed(body, result.final_url or result.url, result.content_type)
        if not feed.is_feed:
            return None, "failed", f"not_feed: {'; '.join(feed.warnings)}"
        if result.not_modified:
            return feed, "not modified", ""
        stored = self.archive.store_record(feed.as_listing(), fetch_id=fetch_id,
                                           seen_at=result.fetched_at or None)
        return feed, stored.action, ""

    def _from_archive(self, entry: Entry, row: dict[str, Any]) -> tuple[Record | Feed | None, str, str]:
        """A page fetched before the interruption: parse its stored body and store it (idempotent)."""
        body = self.archive.raw_body(row["sha256"])
        if body is None:
            return None, "failed", "archive: stored body missing"
        url = row.get("final_url") or row["url"]
        if entry.kind == "feed":
            feed = parse_feed(body, url, row.get("content_type"))
            self.archive.store_record(feed.as_listing(), fetch_id=row["id"])
            return feed, "reused", ""
        record = parse_page(body, url, content_type=row.get("content_type"), page_type=_PAGE_TYPES[entry.kind])
        self.archive.store_record(record, fetch_id=row["id"] if row.get("status") == 200 else None)
        return record, "reused", ""

    def _count_request(self, result: FetchResult) -> None:
        self.summary.retried += result.retries
        if result.error:
            self.summary.failed += 1
        elif result.not_modified:
            self.summary.not_modified += 1
        else:
            self.summary.fetched += 1
            self.summary.bytes += len(result.body or b"")

    def _finished(self, entry: Entry, action: str, detail: str = "") -> None:
        self.summary.pages[action] += 1
        self.report(CrawlEvent("finished", entry.url, entry.kind, action, detail))

    # -- what a page leads to ---------------------------------------------------------------------

    def _children(self, entry: Entry, record: Record | Feed) -> list[tuple[str, EntryKind]]:
        if isinstance(record, Feed):
            return self._feed_children(record)
        if isinstance(record, Dossier):
            children = self._article_children(record.articles)
            if record.next_page and self._follows(record.next_page):
                children.append((_clean_url(record.next_page), "dossier"))
            return children
        if isinstance(record, Listing):
            return self._listing_children(entry, record)
        return []

    def _article_children(self, items: list[ListItem]) -> list[tuple[str, EntryKind]]:
        children: list[tuple[str, EntryKind]] = []
        for item in items:
            url = _clean_url(item.url)
            if item.is_paywalled:
                self._paywalled.add(url)
            if not self._follows(url):
                continue
            if not self.options.refresh and self._archived_article(url, item.site_id) is not None:
                self._skip(url)
                continue
            children.append((url, "article"))
        return children

    def _listing_children(self, entry: Entry, listing: Listing) -> list[tuple[str, EntryKind]]:
        children = self._article_children(listing.articles)
        if not listing.next_page or not self._follows(listing.next_page):
            return children
        if listing.articles and not children and not self.options.refresh:
            self._note(f"every article of {entry.url} is already archived: no further listing pages"
                       " (--refresh goes further)")
            return children
        if self._older_seen:
            return children
        assert self.frontier is not None
        pages = sum(1 for kind in self.frontier.known.values() if kind == "listing")
        if self.options.max_pages is not None and pages >= self.options.max_pages:
            self._note(f"stopped after {pages} listing page(s) (--pages {self.options.max_pages})")
            return children
        return [*children, (_clean_url(listing.next_page), "listing")]

    def _feed_children(self, feed: Feed) -> list[tuple[str, EntryKind]]:
        since = self.options.since
        items = [item for item in feed.items if not (since and item.published_at and item.published_at[:10] < since)]
        if len(items) < len(feed.items):
            self._note(f"{len(feed.items) - len(items)} feed item(s) older than {since} left out")
        return self._article_children([
            ListItem(position=i, title=item.title, url=item.url, site_id=item.site_id)
            for i, item in enumerate(items, start=1)
        ])

    def _after_article(self, article: Article, result: FetchResult | None, known_paywalled: bool) -> None:
        since = self.options.since
        published = article.published_at or article.updated_at
        if self.kind == "listing" and since and published and published[:10] < since and not self._older_seen:
            self._older_seen = True
            self._note(f"{article.url} was published {published[:10]}, before --since {since}:"
                       " no further listing pages")
            self._drop_listing_pages()
        if result is not None and result.cookies_sent and known_paywalled and not result.not_modified:
            locked = article.paywall.is_paywalled or bool(article.paywall.markers)
            self._login["locked" if locked else "full"] += 1
            if locked and self._locked_example is None:
                self._locked_example = article.url

    def _drop_listing_pages(self) -> None:
        pages = self._waiting["listing"]
        if pages and self.frontier is not None:
            self.frontier.drop([entry.url for entry in pages])
            pages.clear()

    def _follows(self, url: str) -> bool:
        """Only http(s) links to allowed hosts are taken from pages."""
        if self.fetcher.policy.allows(url):
            return True
        if url not in self._offsite:
            self._offsite.append(url)
        return False

    def _skip(self, url: str) -> None:
        self.summary.pages["skipped"] += 1
        self.report(CrawlEvent("finished", url, "article", "skipped", "already archived"))

    # -- archive look-ups -------------------------------------------------------------------------

    def _archived_article(self, url: str, site_id: int | None) -> dict[str, Any] | None:
        site_id = site_id if site_id is not None else site_id_from_url(url)
        rows = self.archive.conn.execute(
            "select id, url, is_paywalled from articles where site_id = ? or url = ? limit 1",
            [site_id, url]).fetchall()
        return {"id": rows[0][0], "url": rows[0][1], "is_paywalled": rows[0][2]} if rows else None

    def _known_paywalled(self, url: str) -> bool:
        if url in self._paywalled:
            return True
        if self.fetcher.policy.cookies_file is None:
            return False
        article = self._archived_article(url, None)
        return bool(article and article["is_paywalled"])

    # -- the root ---------------------------------------------------------------------------------

    async def _root(self) -> str | None:
        """The crawl's root URL; for a dossier given by one of its articles, the dossier's first page."""
        url = _clean_url(self.url)
        if self.kind != "dossier" or _is_dossier_url(url):
            return dossier_base_url(url)[0] if self.kind == "dossier" else url
        article = self._archived_article(url, None)
        if article is not None:
            row = self.archive.conn.execute(
                "select dossiers.url from articles join dossiers on dossiers.id = articles.dossier_id"
                " where articles.id = ?", [article["id"]]).fetchone()
            if row and row[0]:
                self._note(f"{url} belongs to the dossier {row[0]}")
                return dossier_base_url(row[0])[0]
        return await self._root_from_page(url)

    async def _root_from_page(self, url: str) -> str | None:
        self.report(CrawlEvent("started", url, "article"))
        result = await self.fetcher.fetch(url, **self._validators(url))
        self._count_request(result)
        outcome = ingest(self.archive, result, run_id=self.summary.run_id)
        record = outcome.record
        if record is None:
            error = _error_text(result)
            self.summary.failures.append(Failure(url, "article", result.error_class, result.error or error, 1))
            self._finished(Entry(url, "article"), "failed", error)
            return None
        self._finished(Entry(url, "article"), outcome.action)
        if isinstance(record, Dossier):
            return dossier_base_url(url)[0]
        if isinstance(record, Article) and record.dossier is not None and record.dossier.url:
            self._note(f"{url} belongs to the dossier {record.dossier.url}")
            return dossier_base_url(_clean_url(record.dossier.url))[0]
        raise UsageError(f"{url} is not a dossier, nor an article that names its dossier")

    # -- the end ----------------------------------------------------------------------------------

    async def _check_login(self) -> None:
        """With --cookies: a known paywalled article served without its paywall means logged in."""
        if not self._login:
            probe = self._login_probe()
            if probe is None:
                self.summary.login = "unknown: no known paywalled article to check the cookies against"
                self._note(f"cookies: {self.summary.login}")
                return
            result = await self.fetcher.fetch(probe)
            self._count_request(result)
            outcome = ingest(self.archive, result, run_id=self.summary.run_id, page_type="article")
            if isinstance(outcome.record, Article):
                self._after_article(outcome.record, result, known_paywalled=True)
        if self._login["full"]:
            self.summary.login = f"logged in: {self._login['full']} paywalled article(s) served in full"
        elif self._login["locked"]:
            self.summary.login = (f"NOT logged in: {self._locked_example} still shows its paywall"
                                  " (cookies expired or for another site?)")
        else:
            self.summary.login = "unknown: the paywalled article to check could not be fetched"
        self._note(f"cookies: {self.summary.login}")

    def _login_probe(self) -> str | None:
        if self._paywalled:
            return sorted(self._paywalled)[0]
        row = self.archive.conn.execute(
            "select url from articles where is_paywalled = 1 order by last_seen_at desc limit 1").fetchone()
        return row[0] if row else None

    def _robots_notes(self) -> None:
        """Log each robots.txt request in `fetches`, and say what it said, once, as soon as it was read."""
        for robots in self.fetcher.take_robots_fetches():
            self.archive.record_fetch(robots, run_id=self.summary.run_id)
        lines = self.fetcher.robots_log()
        for line in lines[self._robots_said:]:
            self._note(line)
        self._robots_said = len(lines)

    def _finish(self) -> None:
        self._robots_notes()
        if self._offsite:
            shown = ", ".join(self._offsite[:3])
            self._note(f"{len(self._offsite)} link(s) to hosts that are not allowed were not followed"
                       f" (e.g. {shown}); --allow-host adds a host")
        if self.frontier is None:
            return
        self.summary.failures = self.frontier.failures()
        self.summary.remaining = self.frontier.count("pending")
        if self._stopping:
            self.summary.interrupted = True
            self._note(f"interrupted: {self.summary.remaining} page(s) remain; run the same command again"
                       " to resume")

    def _note(self, message: str) -> None:
        self.summary.notes.append(message)
        self.report(CrawlEvent("note", detail=message))


# --- entry points -------------------------------------------------------------------------------

async def crawl(archive: Archive, policy: FetchPolicy, kind: CrawlKind, url: str, *,
                options: CrawlOptions | None = None, reporter: Reporter | None = None,
                run_id: int | None = None) -> CrawlSummary:
    """Crawl `url` (a dossier, listing or feed) into `archive`; Ctrl-C (SIGINT) and SIGTERM stop it
    cleanly after the pages in flight (a second Ctrl-C at once)."""
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"{url}: give the {kind}'s http(s) URL")
    async with Fetcher(policy.allowing(url)) as fetcher:
        job = Crawl(archive, fetcher, kind, url, options=options, reporter=reporter, run_id=run_id)
        with _stopped_by_signals(job):
            return await job.run()


def run_crawl(archive: Archive, policy: FetchPolicy, kind: CrawlKind, url: str, *,
              options: CrawlOptions | None = None, reporter: Reporter | None = None,
              command: str | None = None) -> CrawlSummary:
    """Run one crawl to its end (or to an interruption) with a row in `runs`; the CLI's entry point."""
    options = options or CrawlOptions()
    run_id = archive.start_run(command or f"scrape {kind} {url}")
    summary = CrawlSummary(kind=kind, url=url, run_id=run_id)
    try:
        summary = asyncio.run(crawl(archive, policy, kind, url, options=options, reporter=reporter,
                                    run_id=run_id))
    finally:
        archive.finish_run(run_id, summary.run_counts())
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


# --- helpers ------------------------------------------------------------------------------------

def _clean_url(url: str) -> str:
    """The URL without its fragment."""
    parts = urlsplit(url.strip())
    return urlunsplit(parts._replace(fragment=""))


def _is_dossier_url(url: str) -> bool:
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    return len(segments) >= 2 and segments[0] in ("dossiers", "dossier")


def _error_text(result: FetchResult) -> str:
    if result.error:
        return f"{result.error_class or 'fetch'}: {result.error}"
    return "fetch: nothing to parse (a 304 without a stored copy)"


def _instant(value: str) -> datetime:
    """An ISO 8601 time from the archive ('...Z' or '...+00:00') as an aware datetime."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
