"""The fetch log: every request and its outcome (`fetches`), with its raw body (in `bodies`, by SHA-256:
scraper.archive.bodies), which `reparse`, conditional GETs and WARC export read back, and its headers (shared
with the other fetches in `header_sets`: scraper.archive.headers)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scraper.archive.bodies import Bodies
from scraper.archive.connection import Connection
from scraper.archive.headers import Headers, request_headers_sql, response_headers_sql
from scraper.archive.queries import Articles
from scraper.archive.values import archive_time, check_since, json_text, utc_now
from scraper.models import FetchResult, public_header_pairs, public_headers

STORED_PAGES_CHUNK = 500  # rows of `Fetches.stored_pages` read by one query


_OF_URL = "(url = :url or final_url = :url) and error is null"
_NEWEST = "order by fetched_at desc, id desc limit 1"


# --- what reparse and WARC export read ----------------------------------------------------------

@dataclass(frozen=True)
class StoredPage:
    """The newest successful fetch of one page that kept its body."""

    fetch_id: int
    url: str  # the fetch's final URL (else its URL)
    fetched_at: str
    content_type: str | None
    sha256: str


def _has_body(table: str) -> str:
    """SQL: the fetch `table` brought a page and kept its body."""
    return (f"{table}.sha256 is not null and {table}.error is null"
            f" and ({table}.status is null or {table}.status between 200 and 299)")


def _newer_of_page(page_url: str) -> str:
    """SQL: a fetch that kept a body of the page `page_url` (its final URL, else its URL), newer than `fetches`.
    Two lookups, by the index on final_url and by the one on url, instead of an index on coalesce()."""
    newer = f"{_has_body('newer')} and (newer.fetched_at, newer.id) > (fetches.fetched_at, fetches.id)"
    return (f"(exists (select 1 from fetches as newer where newer.final_url = {page_url} and {newer})"
            f" or exists (select 1 from fetches as newer where newer.url = {page_url} and newer.final_url is null"
            f" and {newer}))")


# The newest body-carrying fetch of each page, read newest first along the index on fetched_at: nothing to
# sort or to remember, so a reparse of a large archive streams.
_LATEST_BODIES = f"""
select id, coalesce(final_url, url) as page_url, fetched_at, content_type, sha256 from fetches
where {_has_body("fetches")} and (:since is null or fetched_at >= :since)
  and not {_newer_of_page("coalesce(fetches.final_url, fetches.url)")}
"""


def _is_capture(table: str) -> str:
    """SQL: the fetch `table` is a capture a WARC export writes (fetched on or after :since)."""
    return (f"{table}.error is null and {table}.sha256 is not null and ({table}.status between 200 and 299"
            f" or ({table}.status is null and {table}.source != 'http'))"
            f" and (:since is null or {table}.fetched_at >= :since)")


_CAPTURE_COLUMNS = (f"id, url, final_url, status, fetched_at, {response_headers_sql('fetches')} as headers,"
                    f" content_type, sha256, source, {request_headers_sql('fetches')} as request_headers")
_CAPTURES = f"""
select {_CAPTURE_COLUMNS},
  (select min(first.id) from fetches as first where first.sha256 = fetches.sha256 and {_is_capture("first")})
    as first_id
from fetches
where {_is_capture("fetches")}
order by id
"""


class Fetches:
    """The `fetches` table, the fetch log: each request and its outcome, its body in `bodies`, its headers in
    `header_sets`."""

    def __init__(self, connection: Connection, bodies: Bodies, headers: Headers, articles: Articles) -> None:
        self.connection = connection
        self.bodies = bodies
        self.headers = headers
        self.articles = articles

    def record(self, result: FetchResult, *, run_id: int | None = None) -> int:
        with self.connection.writes():
            sha256 = self.bodies.store(result.body) if result.body is not None else None
            header_set_id, header_values = self.headers.store_response(public_headers(result.headers))
            request_set_id, request_values = self.headers.store_request(public_header_pairs(result.request_headers))
            row = {
                "run_id": run_id, "url": result.url, "final_url": result.final_url,
                "status": result.status,
                "fetched_at": archive_time(result.fetched_at) if result.fetched_at else utc_now(),
                "elapsed": result.elapsed, "bytes": len(result.body) if result.body is not None else 0,
                "header_set_id": header_set_id, "header_values": header_values, "etag": result.etag,
                "last_modified": result.last_modified, "content_type": result.content_type,
                "sha256": sha256, "error": result.error,
                "error_class": str(result.error_class) if result.error_class else None,
                "retries": result.retries, "cookies_sent": int(result.cookies_sent),
                "source": result.source,
                "request_header_set_id": request_set_id, "request_header_values": request_values,
                # every request of the fetch, when there was more than one (retries, redirect hops)
                "attempts": json_text([attempt.to_dict() for attempt in result.attempts])
                if len(result.attempts) > 1 else None,
            }
            return self.connection.insert("fetches", row)


    def mark_failed(self, fetch_id: int, error: str, error_class: str) -> None:
        """Say that the fetch `fetch_id`, logged as it came, failed after all (its page was not stored)."""
        self.connection.update("fetches", "id", fetch_id, {"error": error, "error_class": error_class})


    def set_request_headers(self, fetch_id: int, headers: list[tuple[str, str]]) -> None:
        with self.connection.transaction():
            set_id, values = self.headers.store_request(public_header_pairs(headers))
            self.connection.update("fetches", "id", fetch_id,
                                   {"request_header_set_id": set_id, "request_header_values": values})


    def latest(self, url: str) -> dict[str, Any] | None:
        """The newest successful (200/304) fetch of `url` (as url or final_url), for a conditional GET.

        After a 304, `sha256`, `etag` and `last_modified` are filled from the newest fetch of the URL that has
        them, so the caller always gets the validators and the body it holds.
        """
        row = self.connection.one(f"select * from fetch_details where {_OF_URL} and status in (200, 304) {_NEWEST}",
                                  {"url": url})
        if row is None:
            return None
        row["headers"] = json.loads(row["headers"]) if row["headers"] else {}
        row["cookies_sent"] = bool(row["cookies_sent"])
        return self._with_validators(url, row)

    def _latest_validators(self, url: str) -> dict[str, Any] | None:
        """`sha256`, `etag` and `last_modified` of `latest(url)`, without the rest of its row."""
        row = self.connection.one(f"select sha256, etag, last_modified from fetches where {_OF_URL}"
                                  f" and status in (200, 304) {_NEWEST}", {"url": url})
        return None if row is None else self._with_validators(url, row)

    def _with_validators(self, url: str, row: dict[str, Any]) -> dict[str, Any]:
        """`row` (a fetch of `url`), each of its missing validators and body taken from the newest fetch that has
        one (a 304 keeps none of them)."""
        for column in ("sha256", "etag", "last_modified"):
            if row[column] is None:
                row[column] = self._newest_value(url, column)
        return row


    def _newest_value(self, url: str, column: str) -> Any:
        """`column` of the newest good fetch (200) of `url` that has one (None: none has)."""
        return self.connection.scalar(f"select [{column}] from fetches where {_OF_URL} and status = 200"
                                      f" and [{column}] is not null {_NEWEST}", {"url": url})


    def validators(self, url: str) -> dict[str, str | None]:
        """ETag / Last-Modified of the stored copy of `url` (else of the archived article it names, stored under
        another URL), for a conditional GET; empty when the archive holds no body to fall back on."""
        row = self._latest_validators(url)
        if row is None:
            article = self.articles.find(url)
            if article is not None and article["url"] != url:
                row = self._latest_validators(article["url"])
        if row is None or not row.get("sha256"):
            return {}
        return {"etag": row.get("etag"), "last_modified": row.get("last_modified")}


    def page_body(self, result: FetchResult) -> bytes | None:
        """The page `result` brought: its body; after a 304, the body stored by the earlier fetch (so the caller
        still reads an unchanged page without downloading it); None for a failure."""
        if result.error:
            return None
        if result.not_modified:  # a 304 keeps no body: the page's is the newest 200's
            sha256 = self._newest_value(result.url, "sha256")
            return self.bodies.read(sha256) if sha256 else None
        return result.body


    def captured_body(self, url: str, fetched_at: str) -> tuple[bytes, str | None] | None:
        """The body and content type of the capture of `url` (as its URL or final URL) made at `fetched_at` (any
        ISO time), when the archive holds one with its body: what a WARC revisit record names."""
        row = self.connection.execute(
            "select sha256, content_type from fetches where (url = ? or final_url = ?) and fetched_at = ?"
            f" and {_has_body('fetches')} order by id desc limit 1", [url, url, archive_time(fetched_at)]).fetchone()
        if row is None:
            return None
        body = self.bodies.read(row[0])
        return None if body is None else (body, row[1])


    def has_capture(self, url: str, fetched_at: str, body: bytes) -> bool:
        """Whether the archive already holds this capture: the same URL, time and body."""
        sha256 = hashlib.sha256(body).hexdigest()
        return self.connection.scalar("select 1 from fetches where url = ? and fetched_at = ? and sha256 = ? limit 1",
                                      [url, archive_time(fetched_at), sha256]) is not None


    def stored_pages(self, *, since: str | None = None, chunk: int = STORED_PAGES_CHUNK
                     ) -> Iterator[StoredPage]:
        """The newest body-carrying fetch of each page (fetched on or after `since`), newest first.

        Read `chunk` rows at a time, each query finished before the rows are handed out: a statement left open
        across the caller's commits (a reparse writes as it reads) keeps the write-ahead log from being reused,
        and it grew to several times the archive."""
        params: dict[str, Any] = {"since": check_since(since), "chunk": chunk, "before_at": None, "before_id": None}
        sql = (f"{_LATEST_BODIES} and (:before_at is null or (fetched_at, id) < (:before_at, :before_id))"
               " order by fetched_at desc, id desc limit :chunk")
        while rows := self.connection.execute(sql, params).fetchall():
            for row in rows:
                yield StoredPage(*row)
            params["before_at"], params["before_id"] = rows[-1][2], rows[-1][0]


    def count_stored_pages(self, *, since: str | None = None) -> int:
        """How many pages `stored_pages` yields."""
        return int(self.connection.scalar(f"select count(*) from ({_LATEST_BODIES})", {"since": check_since(since)}))


    def captures(self, *, since: str | None = None) -> Iterator[dict[str, Any]]:
        """The successful fetches that kept a body (fetched on or after `since`), in the order they were made:
        what a WARC export writes. Each names in `first_id` the first of them with the same body (itself, or
        an earlier capture the export writes first), so the export needs to remember nothing to write revisits."""
        cursor = self.connection.execute(_CAPTURES, {"since": check_since(since)})
        names = [column[0] for column in cursor.description]
        for row in cursor:
            yield dict(zip(names, row, strict=True))


    def capture(self, fetch_id: int) -> dict[str, Any] | None:
        """One fetch as `captures` gives it (without `first_id`)."""
        return self.connection.one(f"select {_CAPTURE_COLUMNS} from fetches where id = ?", [fetch_id])

