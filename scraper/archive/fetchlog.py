"""The fetch log: runs, and every request and its outcome (`fetches`), with its raw body (in `bodies`, by
SHA-256: scraper.archive.bodies), which `reparse`, conditional GETs and WARC export read back, and its headers
(shared with the other fetches in `header_sets`: scraper.archive.headers)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from scraper.archive.bodies import body_store, read_body
from scraper.archive.headers import (
    request_headers_sql,
    response_headers_sql,
    store_request_headers,
    store_response_headers,
)
from scraper.errors import ArchiveError, InvalidDate
from scraper.models import FetchResult, RunLedger, public_header_pairs, public_headers

if TYPE_CHECKING:
    from scraper.archive.db import Archive

STORED_PAGES_CHUNK = 500  # rows of `stored_pages` read by one query


def utc_now() -> str:
    """The current time as ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_since(since: str | None) -> str | None:
    """`since` when it starts with an ISO date (YYYY-MM-DD), else InvalidDate; None stays None."""
    if since is None:
        return None
    try:
        date.fromisoformat(since[:10])
    except ValueError:
        raise InvalidDate(f"invalid date {since!r}: expected YYYY-MM-DD") from None
    return since


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- runs ---------------------------------------------------------------------------------------

def start_run(archive: Archive, command: str) -> int:
    with archive.transaction():
        return archive._insert("runs", {"command": command, "started_at": utc_now()})


def finish_run(archive: Archive, run_id: int, ledger: RunLedger) -> None:
    """Close the run with its counts. The columns of RUN_COUNTS an archive made before some of them lacks are
    added; a count of another name cannot be written (TypeError: only a RunLedger is taken)."""
    if not isinstance(ledger, RunLedger):
        raise TypeError(f"a run's counts are a RunLedger, not {type(ledger).__name__}")
    counts = ledger.counts()
    with archive.transaction():
        known = {row[1] for row in archive._execute("PRAGMA table_info(runs)")}
        for name in counts.keys() - known:
            archive.db.table("runs").add_column(name, int)
        if not archive._update("runs", "id", run_id, {"ended_at": utc_now(), **counts}):
            raise ArchiveError(f"archive {archive.path}: row not found: no run {run_id}")


# --- fetches and bodies -------------------------------------------------------------------------

def record_fetch(archive: Archive, result: FetchResult, *, run_id: int | None = None) -> int:
    with archive.transaction():
        sha256 = body_store(archive).store(result.body) if result.body is not None else None
        header_set_id, header_values = store_response_headers(archive, public_headers(result.headers))
        request_set_id, request_values = store_request_headers(archive, public_header_pairs(result.request_headers))
        row = {
            "run_id": run_id, "url": result.url, "final_url": result.final_url,
            "status": result.status, "fetched_at": result.fetched_at or utc_now(),
            "elapsed": result.elapsed, "bytes": len(result.body) if result.body is not None else 0,
            "header_set_id": header_set_id, "header_values": header_values, "etag": result.etag,
            "last_modified": result.last_modified, "content_type": result.content_type,
            "sha256": sha256, "error": result.error,
            "error_class": str(result.error_class) if result.error_class else None,
            "retries": result.retries, "cookies_sent": int(result.cookies_sent),
            "source": result.source,
            "request_header_set_id": request_set_id, "request_header_values": request_values,
            # every request of the fetch, when there was more than one (retries, redirect hops)
            "attempts": to_json([attempt.to_dict() for attempt in result.attempts])
            if len(result.attempts) > 1 else None,
        }
        return archive._insert("fetches", row)


def mark_failed(archive: Archive, fetch_id: int, error: str, error_class: str) -> None:
    """Say that the fetch `fetch_id`, logged as it came, failed after all (its page was not stored)."""
    archive._update("fetches", "id", fetch_id, {"error": error, "error_class": error_class})


def set_request_headers(archive: Archive, fetch_id: int, headers: list[tuple[str, str]]) -> None:
    with archive.transaction():
        set_id, values = store_request_headers(archive, public_header_pairs(headers))
        archive._update("fetches", "id", fetch_id, {"request_header_set_id": set_id, "request_header_values": values})


def latest_fetch(archive: Archive, url: str) -> dict[str, Any] | None:
    """The newest successful (200/304) fetch of `url` (as url or final_url), for a conditional GET.

    After a 304, `sha256`, `etag` and `last_modified` are filled from the newest fetch of the URL that has
    them, so the caller always gets the validators and the body it holds.
    """
    row = archive._select_one(f"select * from fetch_details where {_OF_URL} and status in (200, 304) {_NEWEST}",
                              {"url": url})
    if row is None:
        return None
    row["headers"] = json.loads(row["headers"]) if row["headers"] else {}
    row["cookies_sent"] = bool(row["cookies_sent"])
    for column in ("sha256", "etag", "last_modified"):
        if row[column] is None:
            row[column] = _newest_value(archive, url, column)
    return row


_OF_URL = "(url = :url or final_url = :url) and error is null"
_NEWEST = "order by fetched_at desc, id desc limit 1"


def _newest_value(archive: Archive, url: str, column: str) -> Any:
    """`column` of the newest good fetch (200) of `url` that has one (None: none has)."""
    return archive._scalar(f"select [{column}] from fetches where {_OF_URL} and status = 200"
                           f" and [{column}] is not null {_NEWEST}", {"url": url})


def validators(archive: Archive, url: str) -> dict[str, str | None]:
    """ETag / Last-Modified of the stored copy of `url` (else of the archived article it names, stored under
    another URL), for a conditional GET; empty when the archive holds no body to fall back on."""
    from scraper.archive.queries import find_article

    row = latest_fetch(archive, url)
    if row is None:
        article = find_article(archive, url)
        if article is not None and article["url"] != url:
            row = latest_fetch(archive, article["url"])
    if row is None or not row.get("sha256"):
        return {}
    return {"etag": row.get("etag"), "last_modified": row.get("last_modified")}


def page_body(archive: Archive, result: FetchResult) -> bytes | None:
    """The page `result` brought: its body; after a 304, the body stored by the earlier fetch (so the caller
    still reads an unchanged page without downloading it); None for a failure."""
    if result.error:
        return None
    if result.not_modified:  # a 304 keeps no body: the page's is the newest 200's
        sha256 = _newest_value(archive, result.url, "sha256")
        return read_body(archive, sha256) if sha256 else None
    return result.body


def captured_body(archive: Archive, url: str, fetched_at: str) -> tuple[bytes, str | None] | None:
    """The body and content type of the capture of `url` (as its URL or final URL) made at `fetched_at` (UTC,
    written with Z or +00:00), when the archive holds one with its body: what a WARC revisit record names."""
    moments = {fetched_at, re.sub(r"(Z|\+00:00)$", "Z", fetched_at), re.sub(r"(Z|\+00:00)$", "+00:00", fetched_at)}
    marks = ", ".join("?" for _ in moments)
    row = archive._execute(
        f"select sha256, content_type from fetches where (url = ? or final_url = ?) and fetched_at in ({marks})"
        f" and {_has_body('fetches')} order by id desc limit 1", [url, url, *moments]).fetchone()
    if row is None:
        return None
    body = read_body(archive, row[0])
    return None if body is None else (body, row[1])


def has_capture(archive: Archive, url: str, fetched_at: str, body: bytes) -> bool:
    """Whether the archive already holds this capture: the same URL, time and body."""
    sha256 = hashlib.sha256(body).hexdigest()
    return archive._scalar("select 1 from fetches where url = ? and fetched_at = ? and sha256 = ? limit 1",
                           [url, fetched_at, sha256]) is not None


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


def stored_pages(archive: Archive, *, since: str | None = None, chunk: int = STORED_PAGES_CHUNK
                 ) -> Iterator[StoredPage]:
    """The newest body-carrying fetch of each page (fetched on or after `since`), newest first.

    Read `chunk` rows at a time, each query finished before the rows are handed out: a statement left open
    across the caller's commits (a reparse writes as it reads) keeps the write-ahead log from being reused,
    and it grew to several times the archive."""
    params: dict[str, Any] = {"since": check_since(since), "chunk": chunk, "before_at": None, "before_id": None}
    sql = (f"{_LATEST_BODIES} and (:before_at is null or (fetched_at, id) < (:before_at, :before_id))"
           " order by fetched_at desc, id desc limit :chunk")
    while rows := archive._execute(sql, params).fetchall():
        for row in rows:
            yield StoredPage(*row)
        params["before_at"], params["before_id"] = rows[-1][2], rows[-1][0]


def count_stored_pages(archive: Archive, *, since: str | None = None) -> int:
    """How many pages `stored_pages` yields."""
    return int(archive._scalar(f"select count(*) from ({_LATEST_BODIES})", {"since": check_since(since)}))


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


def captures(archive: Archive, *, since: str | None = None) -> Iterator[dict[str, Any]]:
    """The successful fetches that kept a body (fetched on or after `since`), in the order they were made:
    what a WARC export writes. Each names in `first_id` the first of them with the same body (itself, or
    an earlier capture the export writes first), so the export needs to remember nothing to write revisits."""
    cursor = archive._execute(_CAPTURES, {"since": check_since(since)})
    names = [column[0] for column in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def capture(archive: Archive, fetch_id: int) -> dict[str, Any] | None:
    """One fetch as `captures` gives it (without `first_id`)."""
    return archive._select_one(f"select {_CAPTURE_COLUMNS} from fetches where id = ?", [fetch_id])
