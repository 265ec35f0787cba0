"""WARC: the archive's raw captures out as WARC/1.1 (`export_warc`), the pages of any WARC in (`import_warc`).

Export writes, after a `warcinfo` record, one capture per successful fetch that kept a body, in the order
the archive recorded them:

- an HTTP(S) fetch with a 2xx status: a `request` record and a `response` record (linked by
  WARC-Concurrent-To). The response holds the stored status, the stored headers and the stored body,
  byte for byte as received. The archive keeps the body with its Content-Encoding undone, so the
  Content-Encoding and Transfer-Encoding headers are left out and Content-Length is the body's length.
  The status line always says HTTP/1.1 (an HTTP/2 answer too), which is what WARC readers expect. The
  request record holds the headers as they were sent (User-Agent, Accept, If-None-Match…), which the
  archive keeps without the Cookie and credentials, so a WARC never carries a subscriber's session;
  a fetch recorded before the archive kept them gets a request rebuilt from the URL (method, target, Host).
- a body already written earlier in the file (same SHA-256): a `revisit` record (identical-payload-digest
  profile) that points at the first copy, with the fetch's own headers.
- a page read from a local file (`scrape url FILE`): a `resource` record with its file: URI and content
  type, so an archive built from saved pages exports too.

WARC-Date is the fetch time; warcio computes the block and payload digests (SHA-1, base32). Failed
fetches, 304s and fetches without a body are not written.

Import reads `response` records with a 200 status and `resource` records, keeps those that hold an HTML
page, and stores each one through `ingest` (the same parser as a live fetch) as a fetch with
source "warc" and the record's WARC-Date as its time, with the headers of its request record (linked by
WARC-Concurrent-To, before or after it; the Cookie and credentials left out). Revisits, metadata, non-HTML payloads
(images, scripts, feeds) and other statuses (redirects, errors) are counted and skipped, and so are
damaged records (cut short, or whose bytes do not match their digest), which the command reports as a
failure. A capture the archive already holds (same URL, time and body) is skipped too, so importing a file
twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper import __version__
from scraper.errors import SourceError
from scraper.ingest import ingest
from scraper.models import PRIVATE_REQUEST_HEADERS, FetchResult
from scraper.store import Archive, check_since

WARC_VERSION = "1.1"
MAX_PAGE_BYTES = 20 * 2**20  # like the fetcher's default cap: a bigger "page" is not an article
CHUNK = 64 * 1024
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Headers that describe the bytes on the wire, not the decoded body the archive keeps.
WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
# A subscriber's session must not leave the archive inside a WARC someone shares: cookies are never exported.
PRIVATE_HEADERS = frozenset({"set-cookie", "set-cookie2"})
STORE_ACTIONS = ("inserted", "updated", "unchanged")
# Skip reasons that mean a page was lost to a damaged file (the import command then exits 1).
DAMAGE_REASONS = frozenset({"unreadable", "truncated", "bad digest"})
# What warcio raises on bytes that are not (or no longer) a WARC, its own faults on broken headers included.
_UNREADABLE = (ArchiveLoadFailed, EOFError, zlib.error, OSError, ValueError, AttributeError, TypeError)

_EXPORT_SQL = """
select id, url, final_url, status, fetched_at, headers, content_type, sha256, source, request_headers
from fetches
where error is null and sha256 is not null
  and (status between 200 and 299 or (status is null and source != 'http'))
  {since}
order by id
"""


# --- export ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Written:
    """The first record that holds a body, for the revisit records of its later copies."""

    uri: str
    date: str
    record_id: str
    payload_digest: str


def export_warc(archive: Archive, out: IO[bytes], *, since: str | None = None, filename: str | None = None) -> int:
    """Write the archive's successful captures to `out` as gzipped WARC/1.1; returns the captures written.

    `since`: an ISO date; keeps the fetches made on or after it. `filename` goes in the warcinfo record.
    Raises UsageError for a bad date.
    """
    writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
    writer.write_record(_warcinfo(writer, filename))
    written: dict[str, _Written] = {}  # sha256 -> its first record
    count = 0
    for row in _exportable_fetches(archive, since):
        if row["sha256"] in written:
            writer.write_record(_revisit_record(writer, row, written[row["sha256"]]))
        else:
            body = archive.raw_body(row["sha256"])
            if body is None:
                continue
            written[row["sha256"]] = _write_first_copy(writer, row, body)
        count += 1
    return count


def _exportable_fetches(archive: Archive, since: str | None) -> Iterator[dict[str, Any]]:
    params: dict[str, Any] = {}
    condition = ""
    if since is not None:
        condition = "and fetched_at >= :since"
        params["since"] = check_since(since)
    yield from archive.db.query(_EXPORT_SQL.format(since=condition), params)


def _warcinfo(writer: WARCWriter, filename: str | None) -> ArcWarcRecord:
    info = {
        "software": f"scrape/{__version__} (warcio)",
        "format": f"WARC File Format {WARC_VERSION}",
        "description": "Pages archived by scrape (Club Techni.Cités, La Gazette des communes)",
    }
    return writer.create_warcinfo_record(filename or "", info)


def _target(row: dict[str, Any]) -> str:
    return row["final_url"] or row["url"]


def _write_first_copy(writer: WARCWriter, row: dict[str, Any], body: bytes) -> _Written:
    uri, date = _target(row), warc_date(row["fetched_at"])
    if row["status"] is None:
        record = writer.create_warc_record(
            uri, "resource", payload=BytesIO(body), length=len(body),
            warc_content_type=row["content_type"] or "text/html", warc_headers_dict={"WARC-Date": date},
        )
        writer.write_record(record)
    else:
        http_headers = response_headers(row["status"], _stored_headers(row), len(body))
        record = writer.create_warc_record(uri, "response", payload=BytesIO(body), length=len(body),
                                           http_headers=http_headers, warc_headers_dict={"WARC-Date": date})
        writer.write_request_response_pair(_request_record(writer, uri, date, row["request_headers"]), record)
    headers = record.rec_headers
    return _Written(uri, date, headers.get_header("WARC-Record-ID"), headers.get_header("WARC-Payload-Digest"))


def _request_record(writer: WARCWriter, uri: str, date: str, sent: str | None) -> ArcWarcRecord:
    """The request as it was sent (its stored headers), or, for a fetch recorded before the archive kept
    them, rebuilt from the URL (method, target, Host)."""
    parts = urlsplit(uri)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [(name, value) for name, value in json.loads(sent)] if sent else [("Host", parts.netloc)]
    http_headers = StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True)
    return writer.create_warc_record(uri, "request", http_headers=http_headers, warc_headers_dict={"WARC-Date": date})


def _revisit_record(writer: WARCWriter, row: dict[str, Any], first: _Written) -> ArcWarcRecord:
    http_headers = None
    if row["status"] is not None:
        http_headers = response_headers(row["status"], _stored_headers(row), None)
    return writer.create_revisit_record(
        _target(row), digest=first.payload_digest, refers_to_uri=first.uri, refers_to_date=first.date,
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": warc_date(row["fetched_at"]), "WARC-Refers-To": first.record_id},
    )


def _stored_headers(row: dict[str, Any]) -> dict[str, str]:
    return json.loads(row["headers"] or "{}")


def response_headers(status: int, headers: dict[str, str], length: int | None) -> StatusAndHeaders:
    """The HTTP status line and headers of a response record, from the stored status and headers.

    The wire-level headers (Content-Encoding, Transfer-Encoding, Content-Length) are dropped; with a
    `length`, Content-Length is set to it. Set-Cookie is dropped too (PRIVATE_HEADERS).
    """
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    kept = [(name, value) for name, value in headers.items()
            if name.lower() not in WIRE_HEADERS and name.lower() not in PRIVATE_HEADERS]
    if length is not None:
        kept.append(("Content-Length", str(length)))
    return StatusAndHeaders(f"{status} {reason}".strip(), kept, protocol="HTTP/1.1")


def warc_date(fetched_at: str) -> str:
    """A stored fetch time (ISO 8601) as a WARC-Date: UTC, ending in Z, with microseconds only if it had any."""
    moment = _parse_time(fetched_at)
    timespec = "microseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- import ---------------------------------------------------------------------------------------

@dataclass
class WarcImport:
    """What `import_warc` did: pages stored (by store action) and records skipped (by reason)."""

    records: int = 0
    stored: Counter[str] = field(default_factory=Counter)  # "inserted", "updated", "unchanged"
    skipped: Counter[str] = field(default_factory=Counter)  # e.g. "request", "not html", "status 301"
    warnings: int = 0  # pages stored with parser warnings
    bytes: int = 0  # size of the pages read

    @property
    def pages(self) -> int:
        return sum(self.stored.values())

    @property
    def damaged(self) -> int:
        """Records that could not be read whole (truncated, bad digest, undecodable): pages lost."""
        return sum(count for reason, count in self.skipped.items() if reason in DAMAGE_REASONS)


def import_warc(archive: Archive, path: str | Path, *, progress: Callable[[int], None] | None = None) -> WarcImport:
    """Store the HTML pages of the WARC file at `path` (gzipped or not) through the parser.

    `progress`, when given, is told after each record how many bytes of the file have been read.

    The import is one run in `runs` ("import-warc FILE", with its counts). Each page is stored in its own
    transaction, so what was stored stays stored if the file turns out to be damaged further on.
    Raises SourceError when the file is missing or not a readable WARC.
    """
    source = Path(path)
    try:
        stream = source.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    outcome = WarcImport()
    requests = _RequestHeaders(archive)
    run_id = archive.start_run(f"import-warc {source.name}")
    try:
        with stream:
            for record in _records(stream, path, outcome):
                outcome.records += 1
                if record.rec_type == "request":
                    requests.take(record)
                _import_record(archive, record, outcome, run_id, requests)
                if progress is not None:
                    progress(stream.tell())
    finally:
        archive.finish_run(run_id, {"stored": outcome.pages, "bytes": outcome.bytes,
                                    "failed": outcome.damaged,
                                    **{action: outcome.stored[action] for action in STORE_ACTIONS}})
    return outcome


def _records(stream: IO[bytes], path: str | Path, outcome: WarcImport) -> Iterator[ArcWarcRecord]:
    """The records of a WARC; a file that stops making sense is one SourceError."""
    records = iter(ArchiveIterator(stream, check_digests=True))
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except _UNREADABLE as exc:
            stored = f" ({outcome.pages} pages stored before the damage)" if outcome.pages else ""
            raise SourceError(f"{path}: not a readable WARC file: {exc or type(exc).__name__}{stored}") from None
        yield record


def _import_record(archive: Archive, record: ArcWarcRecord, outcome: WarcImport, run_id: int | None,
                   requests: _RequestHeaders) -> None:
    result = fetch_result_from_record(record)
    if isinstance(result, str):
        outcome.skipped[result] += 1
        return
    if _already_archived(archive, result):
        outcome.skipped["already archived"] += 1
        return
    outcome.bytes += len(result.body or b"")
    result.request_headers = requests.headers_for(record)
    page = ingest(archive, result, run_id=run_id)
    if not result.request_headers and page.fetch_id is not None:
        requests.stored(record, page.fetch_id)
    if page.stored is not None:
        outcome.stored[page.stored.action] += 1
        outcome.warnings += bool(page.record and page.record.warnings)


class _RequestHeaders:
    """The headers of the WARC's request records, kept with the fetch of the response of the same capture.

    A request and its response are linked by WARC-Concurrent-To, set on either of them, and come in either
    order (most crawlers write the request first; warcio's pairs, so scrape's own exports, write it after).
    Each side is remembered under its own record id and the ids it names; only the last `WINDOW` of each,
    since the two records of a capture stand close together and a WARC may hold millions.
    """

    WINDOW = 1000

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.requests: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()  # linked id -> headers
        self.fetches: OrderedDict[str, int] = OrderedDict()  # linked id -> fetch id of a stored response

    def take(self, request: ArcWarcRecord) -> None:
        if request.http_headers is None:
            return
        headers = [(name, value) for name, value in request.http_headers.headers
                   if name.lower() not in PRIVATE_REQUEST_HEADERS]
        keys = _linked_ids(request)
        fetch_id = next((self.fetches.pop(key) for key in keys if key in self.fetches), None)
        if fetch_id is not None:
            self.archive.set_request_headers(fetch_id, headers)
            return
        for key in keys:
            _remember(self.requests, key, headers, self.WINDOW)

    def headers_for(self, response: ArcWarcRecord) -> list[tuple[str, str]]:
        """The headers of the request of `response` if it came first, else [] (and `stored` will wait)."""
        keys = _linked_ids(response)
        return next((self.requests.pop(key) for key in keys if key in self.requests), [])

    def stored(self, response: ArcWarcRecord, fetch_id: int) -> None:
        """`response` became `fetch_id` without its request's headers: they may come after it."""
        for key in _linked_ids(response):
            _remember(self.fetches, key, fetch_id, self.WINDOW)


def _linked_ids(record: ArcWarcRecord) -> list[str]:
    """The record's own id and the ids of the records of the same capture it names."""
    return [value for name, value in record.rec_headers.headers
            if name.lower() in ("warc-record-id", "warc-concurrent-to") and value]


def _remember(window: OrderedDict[str, Any], key: str, value: Any, size: int) -> None:
    window[key] = value
    if len(window) > size:
        window.popitem(last=False)


def fetch_result_from_record(record: ArcWarcRecord) -> FetchResult | str:
    """The page a WARC record holds, as a fetch from source "warc"; or, when it holds none, why (a short reason)."""
    if record.length is None:  # its headers were cut short: no Content-Length
        return "unreadable"
    if record.rec_type not in ("response", "resource"):
        return record.rec_type
    uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")
    if not uri:
        return "no target URI"
    status, headers = _http_part(record)
    if status is not None and status != 200:
        return f"status {status}"
    content_type = headers.get("content-type") if record.http_headers else record.content_type
    if not _is_html_type(content_type):
        return "not html"
    body = _payload(record)
    if isinstance(body, str):
        return body
    if not body.strip():
        return "empty"
    return FetchResult(
        url=uri, final_url=uri, status=status, fetched_at=_fetch_time(record), headers=headers, body=body,
        etag=headers.get("etag"), last_modified=headers.get("last-modified"), content_type=content_type,
        source="warc",
    )


def _payload(record: ArcWarcRecord) -> bytes | str:
    """The record's payload, decoded (chunks, gzip), or why it cannot be used: too large, or damaged."""
    chunks: list[bytes] = []
    size = 0
    try:
        content = record.content_stream()
        while chunk := content.read(CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_PAGE_BYTES:
                return "too large"
        record.raw_stream.read()  # what decoding left unread (a chunked trailer), so the digest is checked
    except _UNREADABLE:
        return "unreadable"
    if getattr(record.raw_stream, "limit", 0) > 0:
        return "truncated"  # the file ended before the record's declared length
    problems = record.digest_checker.problems if record.digest_checker is not None else []
    if any("digest failed" in problem for problem in problems):  # an unknown algorithm is no proof of damage
        return "bad digest"
    return b"".join(chunks)


def _http_part(record: ArcWarcRecord) -> tuple[int | None, dict[str, str]]:
    """The HTTP status and headers (names in lower case, repeats joined by ", " like httpx) of a record."""
    if record.http_headers is None or record.rec_type != "response":
        return None, {}
    try:
        status = int(record.http_headers.get_statuscode())
    except (TypeError, ValueError):
        status = 0
    headers: dict[str, str] = {}
    for name, value in record.http_headers.headers:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return status, headers


def _is_html_type(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() in HTML_TYPES


def _fetch_time(record: ArcWarcRecord) -> str:
    """The record's WARC-Date in the fetcher's format (UTC, Z), microseconds kept when given."""
    text = record.rec_headers.get_header("WARC-Date") or ""
    try:
        return warc_date(text.replace("Z", "+00:00"))
    except ValueError:
        return ""  # the archive stamps it with the import time


def _already_archived(archive: Archive, result: FetchResult) -> bool:
    sha256 = hashlib.sha256(result.body or b"").hexdigest()
    row = archive.db.execute(
        "select 1 from fetches where url = ? and fetched_at = ? and sha256 = ? limit 1",
        [result.url, result.fetched_at, sha256],
    ).fetchone()
    return row is not None
