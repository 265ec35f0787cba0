"""The crawl frontier: the rows of `crawl_queue` that belong to one crawl, so an interrupted crawl resumes.

A crawl is a command (`scrape dossier`, `listing` or `feed`) run on a root URL (a dossier's first page, a
rubrique listing, a feed); each of its pages is a row whose `crawl_kind` names the command and `parent_url` the
root, with a `state`: pending, done or failed, and the `attempts` made over the runs. A URL two crawls reach is a
row of each: `scrape listing` of a page never resumes what `scrape feed` of it left. The rules of a run, per
crawl:

- A run resumes when the root's crawl has pending rows (it was interrupted) or failed rows tried fewer than
  MAX_ATTEMPTS times; it then works only on those (a re-run retries only what failed).
- Otherwise the run is a new pass: the done rows are dropped and the root is queued again.
- A run with `refresh` is always a new pass, from the root, every row of the crawl dropped.
- A page that failed MAX_ATTEMPTS runs in a row is given up until a run with `refresh`: the run that gives it up
  reports it; later runs leave it out and do not report it (`scrape stats` lists the pages given up).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from scraper.archive.connection import Connection
from scraper.archive.values import utc_now
from scraper.errors import ErrorClass
from scraper.models import Failure, Fault

EntryKind = Literal["dossier", "listing", "feed", "article"]
MAX_ATTEMPTS = 3  # runs in a row that may try a failing page before it is given up


@dataclass
class Entry:
    """A page of a crawl: its URL and what the crawl expects it to be."""

    url: str
    kind: EntryKind


# The rows of one crawl: its command and its root.
_CRAWL = "crawl_kind = ? and parent_url = ?"


class CrawlQueue:
    """The rows of `crawl_queue` of the crawl `kind` (the command) from `root`, and what this run knows of them."""

    def __init__(self, connection: Connection, kind: EntryKind, root: str) -> None:
        self.connection = connection
        self.kind = kind
        self.root = root
        self._crawl = [kind, root]
        self.known: dict[str, EntryKind] = {}  # every URL of this crawl, any state
        self.retrying: set[str] = set()  # failed pages this run tries again
        self.failed_now: set[str] = set()  # pages that failed in this run
        self.session_start = utc_now()

    def open(self, refresh: bool) -> bool:
        """Resume the root's unfinished crawl, or start a new pass at the root; True when resuming.

        Failed pages put back in the queue to be retried are in `retrying`.
        """
        now = utc_now()
        with self.connection.transaction():
            rows = self._rows()
            by_url = {row["url"]: row for row in rows}
            retry = [row["url"] for row in rows if row["state"] == "failed" and row["attempts"] < MAX_ATTEMPTS]
            pending = [row for row in rows if row["state"] == "pending"]
            resumed = not refresh and self.root in by_url and bool(pending or retry)
            self.retrying = set(retry) if resumed else set()
            if resumed:
                self.session_start = by_url[self.root]["added_at"] or now
                self.connection.execute_many(f"update crawl_queue set state = 'pending', updated_at = ?"
                                             f" where {_CRAWL} and url = ?",
                                             [(now, *self._crawl, url) for url in retry])
            else:
                dropped = "('done', 'failed', 'pending')" if refresh else "('done')"
                self.connection.execute(f"delete from crawl_queue where {_CRAWL} and state in {dropped}", self._crawl)
                self.session_start = now
                self._upsert([(self.root, self.kind)], now)
        self.known = {row["url"]: row["kind"] for row in self._rows()}
        return resumed

    def _rows(self, state: str | None = None) -> list[dict[str, Any]]:
        """The crawl's rows in the order they were queued (those in `state` only, when given)."""
        where = _CRAWL + (" and state = ?" if state else "")
        return self.connection.select("select url, kind, state, attempts, added_at, last_error_class, last_error"
                                      f" from crawl_queue where {where} order by rowid",
                                      [*self._crawl, *([state] if state else [])])

    def _upsert(self, entries: Iterable[tuple[str, str]], now: str) -> None:
        self.connection.execute_many(
            "insert into crawl_queue (crawl_kind, parent_url, url, kind, state, attempts, added_at, updated_at)"
            " values (?, ?, ?, ?, 'pending', 0, ?, ?)"
            " on conflict(crawl_kind, parent_url, url) do update set kind = excluded.kind, state = 'pending',"
            " last_error_class = null, last_error = null, attempts = 0, added_at = excluded.added_at,"
            " updated_at = excluded.updated_at"
            # the root starts a new pass; another row of this crawl that another process queued meanwhile is left
            " where crawl_queue.url = crawl_queue.parent_url",
            [(*self._crawl, url, kind, now, now) for url, kind in entries],
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
        with self.connection.writes():
            self._upsert(fresh, now)
            self.connection.execute("update crawl_queue set state = 'done', attempts = attempts + 1,"
                                    " last_error_class = null, last_error = null, updated_at = ?"
                                    f" where {_CRAWL} and url = ?", [now, *self._crawl, url])
        self.known.update(fresh)
        return [Entry(child, kind) for child, kind in fresh]

    def fail(self, url: str, fault: Fault, *, attempt: bool = True) -> None:
        """Mark `url` failed for `fault`, one more attempt unless `attempt` is False (a page the site refused to
        serve: it is never given up for that)."""
        self.failed_now.add(url)
        with self.connection.writes():
            self.connection.execute("update crawl_queue set state = 'failed', attempts = attempts + ?,"
                                    f" last_error_class = ?, last_error = ?, updated_at = ? where {_CRAWL} and url = ?",
                                    [int(attempt), str(fault.error_class), fault.message, utc_now(), *self._crawl, url])

    def drop(self, urls: list[str]) -> None:
        """Forget pending `urls` (e.g. listing pages past --since)."""
        with self.connection.transaction():
            self.connection.execute_many(f"delete from crawl_queue where {_CRAWL} and url = ? and state = 'pending'",
                                         [(*self._crawl, url) for url in urls])
        for url in urls:
            self.known.pop(url, None)

    def failures(self) -> list[Failure]:
        """The pages that failed and are still to be retried, and those given up by this run (a page given up
        by an earlier run is not tried, and not reported again)."""
        result = []
        for row in self._rows("failed"):
            if (row["attempts"] or 0) >= MAX_ATTEMPTS and row["url"] not in self.failed_now:
                continue
            error_class = ErrorClass(row["last_error_class"]) if row["last_error_class"] else None
            result.append(Failure(row["url"], row["kind"], error_class, row["last_error"] or "", row["attempts"] or 0))
        return result

    def count(self, state: str) -> int:
        return int(self.connection.scalar(f"select count(*) from crawl_queue where {_CRAWL} and state = ?",
                                          [*self._crawl, state]))
