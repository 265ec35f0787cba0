"""WARC import: the HTML pages of any WARC into the archive (`import_warc`, and the WARC reader of `scrape import`).

The reader yields, for the import loop (scraper.imports.loop), the page of each `response` record with a 200
status and each `resource` record that holds an HTML page, as a fetch with the record's WARC-Date as its time,
with the headers of its request record (linked by WARC-Concurrent-To, before or after it; the Cookie and
credentials left out). A revisit of the same payload (identical-payload-digest) is a fetch too, at its own time,
with the body of the capture it refers to (by its WARC-Refers-To-Target-URI and -Date), when the archive holds
that capture (earlier in the file, or from before). Other revisits (a 304 holds no body), revisits of captures
the archive does not hold, metadata, non-HTML payloads (images, scripts, feeds) and other statuses (redirects,
errors) are counted and skipped, and so are damaged records (cut short, or whose bytes do not match their
digest), which the command reports as a failure. The loop stores only the site's pages and skips a capture the
archive already holds (same URL, time and body), so importing a file twice changes nothing.
"""

from __future__ import annotations

import gzip
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from scraper.archive import Archive
from scraper.errors import SourceError
from scraper.imports.loop import DAMAGE, CaptureFile, Entries, FileImport, import_file, is_html_type
from scraper.models import FetchResult, public_header_pairs
from scraper.warc.writer import warc_date

MAX_PAGE_BYTES = 20 * 2**20  # like the fetcher's default cap: a bigger "page" is not an article
CHUNK = 64 * 1024
# The revisit records that stand for a body: the same payload again (WARC/1.0 and 1.1 name the profile alike).
REVISIT_PROFILE = "/revisit/identical-payload-digest"
# What warcio raises on bytes that are not (or no longer) a WARC, its own faults on broken headers included.
_UNREADABLE = (ArchiveLoadFailed, EOFError, zlib.error, OSError, ValueError, AttributeError, TypeError)

WarcImport = FileImport  # what `import_warc` did (its former name)


def import_warc(archive: Archive, path: str | Path, *, progress: Callable[[int], None] | None = None,
                allow_hosts: tuple[str, ...] | list[str] = ()) -> WarcImport:
    """Store the HTML pages of the WARC file at `path` (gzipped or not) through the import loop
    (scraper.imports.loop: only the site's pages, each through the parser), as one run in `runs`
    ("import-warc FILE", with its counts).

    `progress`, when given, is told after each record how many bytes of the file have been read.
    Raises SourceError when the file is missing or not a readable WARC.
    """
    return import_file(archive, path, read_warc, command=f"import-warc {Path(path).name}", format="WARC",
                       allow_hosts=allow_hosts, progress=progress)


def read_warc(capture: CaptureFile) -> Entries:
    """The entries of a WARC file (gzipped or not): a reader of the import loop."""
    try:
        stream = capture.path.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot read {capture.path}: {exc.strerror or exc}") from None
    with stream:
        yield from warc_entries(stream, str(capture.path), capture.archive, source="warc",
                                moved_to=lambda: capture.moved_to(stream.tell()))
    if not _gzip_members_complete(capture.path):
        yield "truncated"  # the file ends inside a record that warcio gave up quietly


def warc_entries(stream: IO[bytes], name: str, archive: Archive, *, source: Literal["warc", "wacz"],
                 moved_to: Callable[[], None]) -> Entries:
    """The entries of the WARC read from `stream`: a page for each response, resource or revisit that holds
    one (with the headers of its request record), else why not. The import loop sends back the fetch id of
    each page it stored, so a request record that comes after its response is attached to it."""
    requests = _RequestHeaders(archive)
    for record in _records(stream, name):
        if record.rec_type == "request":
            requests.take(record)
        entry = revisit_result(archive, record) if record.rec_type == "revisit" else fetch_result_from_record(record)
        if isinstance(entry, str):
            yield "truncated" if entry not in DAMAGE and _cut_short(record) else entry
        else:
            entry.source = source
            entry.request_headers = requests.headers_for(record)
            fetch_id = yield entry
            if not entry.request_headers and fetch_id is not None:
                requests.stored(record, fetch_id)
        moved_to()


def _gzip_members_complete(path: Path) -> bool:
    """Whether a gzipped file ends where one of its members ends (True for a file that is not gzipped). A
    WARC cut inside a record's member can end warcio's reading without an error: the records before the cut
    are imported, and this tells that the file was cut."""
    with path.open("rb") as stream:
        if stream.read(2) != b"\x1f\x8b":
            return True
        stream.seek(0)
        member = zlib.decompressobj(wbits=31)
        started = False
        while chunk := stream.read(CHUNK):
            while chunk:
                started = True
                try:
                    member.decompress(chunk)
                except zlib.error:
                    return False
                if not member.eof:
                    break
                chunk, member, started = member.unused_data, zlib.decompressobj(wbits=31), False
        return not started


def check_warc_file(path: str | Path) -> None:
    """SourceError unless `path` is a file that starts like a WARC (or an ARC), gzipped or not: what
    import-warc checks before it opens the archive."""
    source = Path(path)
    if not source.is_file():
        raise SourceError(f"no such file: {path}")
    try:
        with source.open("rb") as stream:
            head = stream.read(64)
            if head.startswith(b"\x1f\x8b"):
                stream.seek(0)
                with gzip.GzipFile(fileobj=stream) as unzipped:
                    head = unzipped.read(64)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"{path}: not a WARC file ({exc})") from None
    if not head.lstrip().startswith((b"WARC/", b"filedesc://")):
        raise SourceError(f"{path}: not a WARC file (it does not start with a WARC record)")


def _records(stream: IO[bytes], name: str) -> Iterator[ArcWarcRecord]:
    """The records of a WARC; a file that stops making sense is one SourceError."""
    records = iter(ArchiveIterator(stream, check_digests=True))
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except _UNREADABLE as exc:
            raise SourceError(f"{name}: not a readable WARC file: {exc or type(exc).__name__}") from None
        yield record


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
        headers = public_header_pairs(request.http_headers.headers)
        keys = _linked_ids(request)
        fetch_id = next((self.fetches.pop(key) for key in keys if key in self.fetches), None)
        if fetch_id is not None:
            self.archive.fetches.set_request_headers(fetch_id, headers)
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
    head = _page_head(record)
    if isinstance(head, str):
        return head
    uri, status, headers = head
    content_type = headers.get("content-type") if record.http_headers else record.content_type
    if not is_html_type(content_type):
        return "not html"
    body = _payload(record)
    if isinstance(body, str):
        return body
    if not body.strip():
        return "empty"
    return _warc_fetch(record, uri, status, headers, body, content_type)


def revisit_result(archive: Archive, record: ArcWarcRecord) -> FetchResult | str:
    """The page a revisit record says was fetched again, unchanged, as a fetch from source "warc" at the revisit's
    time with the body of the capture it refers to; or why there is none: a revisit of another profile (a 304,
    which holds no body), or one whose capture the archive does not hold (a deduplicated crawl's earlier file)."""
    if not (record.rec_headers.get_header("WARC-Profile") or "").rstrip("/").endswith(REVISIT_PROFILE):
        return "revisit"
    head = _page_head(record)
    if isinstance(head, str):
        return head
    uri, status, headers = head
    refers_to = _target_uri(record, "WARC-Refers-To-Target-URI") or uri
    refers_date = _fetch_time(record, "WARC-Refers-To-Date")
    captured = archive.fetches.captured_body(refers_to, refers_date) if refers_date else None
    if captured is None:
        return "revisit of a capture not in the archive"
    body, stored_type = captured
    content_type = headers.get("content-type") or stored_type
    if not is_html_type(content_type):
        return "not html"
    return _warc_fetch(record, uri, 200 if status is None else status, headers, body, content_type)


def _page_head(record: ArcWarcRecord) -> tuple[str, int | None, dict[str, str]] | str:
    """The target URI, HTTP status and headers of a record that may hold a page, or why it holds none."""
    uri = _target_uri(record)
    if not uri:
        return "no target URI"
    status, headers = _http_part(record)
    if status is not None and status != 200:
        return f"status {status}"
    return uri, status, headers


def _warc_fetch(record: ArcWarcRecord, uri: str, status: int | None, headers: dict[str, str], body: bytes,
                content_type: str | None) -> FetchResult:
    return FetchResult(
        url=uri, final_url=uri, status=status, fetched_at=_fetch_time(record), headers=headers, body=body,
        etag=headers.get("etag"), last_modified=headers.get("last-modified"), content_type=content_type,
        source="warc",
    )


def _target_uri(record: ArcWarcRecord, header: str = "WARC-Target-URI") -> str:
    return (record.rec_headers.get_header(header) or "").strip().strip("<>")


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


def _cut_short(record: ArcWarcRecord) -> bool:
    """Whether a record that is skipped (a warcinfo, a request, an image…) ends before its declared length:
    the file was cut there."""
    try:
        while record.raw_stream.read(CHUNK):
            pass
    except _UNREADABLE:
        return True
    return getattr(record.raw_stream, "limit", 0) > 0


def _http_part(record: ArcWarcRecord) -> tuple[int | None, dict[str, str]]:
    """The HTTP status and headers (names in lower case, repeats joined by ", " like httpx) of a record."""
    if record.http_headers is None or record.rec_type not in ("response", "revisit"):
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


def _fetch_time(record: ArcWarcRecord, header: str = "WARC-Date") -> str:
    """The record's WARC-Date (or another date `header`) in the fetcher's format (UTC, Z), microseconds kept when
    given; "" when it has none."""
    text = record.rec_headers.get_header(header) or ""
    try:
        return warc_date(text.replace("Z", "+00:00"))
    except ValueError:
        return ""  # the archive stamps it with the import time
