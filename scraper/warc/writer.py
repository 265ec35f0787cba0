"""WARC export: the archive's raw captures out as WARC/1.1 (`export_warc`).

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
  profile) that points at the first copy, with the fetch's own headers (and its `request` record). The
  archive names each capture's first copy, and record ids are derived from the fetch ids (UUID5 in a
  namespace drawn for each export), so the export remembers nothing from one capture to the next: its memory
  does not grow with the archive.
- a page read from a local file (`scrape url FILE`): a `resource` record with its file: URI and content
  type, so an archive built from saved pages exports too.

WARC-Date is the fetch time; warcio computes the block and payload digests (SHA-1, base32). Failed
fetches, 304s and fetches without a body are not written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper import __version__
from scraper.archive import Archive
from scraper.models import PRIVATE_HEADERS

WARC_VERSION = "1.1"
# Headers that describe the bytes on the wire, not the decoded body the archive keeps.
WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


@dataclass(frozen=True)
class _Written:
    """The first record that holds a body, as the revisit records of its later copies name it."""

    uri: str
    date: str
    record_id: str
    payload_digest: str


def export_warc(archive: Archive, out: IO[bytes], *, since: str | None = None, filename: str | None = None) -> int:
    """Write the archive's successful captures to `out` as gzipped WARC/1.1; returns the captures written.

    `since`: an ISO date; keeps the fetches made on or after it. `filename` goes in the warcinfo record.
    Raises InvalidDate for a bad date.
    """
    writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
    writer.write_record(_warcinfo(writer, filename))
    namespace = uuid.uuid4()
    count = 0
    for row in archive.fetches.captures(since=since):
        body = archive.bodies.read(row["sha256"])
        if body is None:
            continue
        if row["first_id"] == row["id"]:
            _write_first_copy(writer, row, body, _record_id(namespace, row["id"]))
        else:
            first = archive.fetches.capture(row["first_id"])
            assert first is not None  # `captures` found it
            written = _Written(_target(first), warc_date(first["fetched_at"]), _record_id(namespace, first["id"]),
                               payload_digest(body))
            _write_revisit(writer, row, written)
        count += 1
    return count


def _record_id(namespace: uuid.UUID, fetch_id: int) -> str:
    """The WARC-Record-ID of the response (or resource) record of a fetch, in this export."""
    return f"<urn:uuid:{uuid.uuid5(namespace, str(fetch_id))}>"


def payload_digest(body: bytes) -> str:
    """A body's WARC-Payload-Digest as warcio writes it: SHA-1, base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _warcinfo(writer: WARCWriter, filename: str | None) -> ArcWarcRecord:
    info = {
        "software": f"scrape/{__version__} (warcio)",
        "format": f"WARC File Format {WARC_VERSION}",
        "description": "Pages archived by scrape (Club Techni.Cités, La Gazette des communes)",
    }
    return writer.create_warcinfo_record(filename or "", info)


def _target(row: dict[str, Any]) -> str:
    return row["final_url"] or row["url"]


def _write_first_copy(writer: WARCWriter, row: dict[str, Any], body: bytes, record_id: str) -> None:
    uri, date = _target(row), warc_date(row["fetched_at"])
    warc_headers = {"WARC-Date": date, "WARC-Record-ID": record_id}
    if row["status"] is None:
        record = writer.create_warc_record(
            uri, "resource", payload=BytesIO(body), length=len(body),
            warc_content_type=row["content_type"] or "text/html", warc_headers_dict=warc_headers,
        )
        writer.write_record(record)
    else:
        http_headers = response_headers(row["status"], _stored_headers(row), len(body))
        record = writer.create_warc_record(uri, "response", payload=BytesIO(body), length=len(body),
                                           http_headers=http_headers, warc_headers_dict=warc_headers)
        writer.write_request_response_pair(_request_record(writer, uri, date, row["request_headers"]), record)


def _request_record(writer: WARCWriter, uri: str, date: str, sent: str | None) -> ArcWarcRecord:
    """The request as it was sent (its stored headers), or, for a fetch recorded before the archive kept
    them, rebuilt from the URL (method, target, Host)."""
    parts = urlsplit(uri)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [(name, value) for name, value in json.loads(sent)] if sent else [("Host", parts.netloc)]
    http_headers = StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True)
    return writer.create_warc_record(uri, "request", http_headers=http_headers, warc_headers_dict={"WARC-Date": date})


def _write_revisit(writer: WARCWriter, row: dict[str, Any], first: _Written) -> None:
    """A revisit record; for an HTTP(S) fetch, with its request record, as a first copy has."""
    revisit = _revisit_record(writer, row, first)
    if row["status"] is None:
        writer.write_record(revisit)
        return
    request = _request_record(writer, _target(row), warc_date(row["fetched_at"]), row["request_headers"])
    writer.write_request_response_pair(request, revisit)


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
    `length`, Content-Length is set to it. Set-Cookie is dropped too (models.PRIVATE_HEADERS: a subscriber's
    session must not leave the archive inside a WARC someone shares).
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
    """A stored fetch time (ISO 8601) as a WARC-Date: UTC, ending in Z, with the fraction of a second it was
    written with (milliseconds, as the fetcher stamps, or microseconds), none if it had none."""
    moment = _parse_time(fetched_at)
    fraction = re.search(r"\.(\d+)", fetched_at)
    timespec = "seconds" if not moment.microsecond else "milliseconds" if fraction and len(fraction[1]) <= 3 \
        else "microseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
