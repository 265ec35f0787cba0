"""HAR 1.2 (a browser's DevTools "Save all as HAR with content", Playwright's `record_har_path`): each entry of
`log.entries` is a capture: `request.url` and its headers, `response.status` and headers, `startedDateTime`,
and the body in `response.content.text` (base64 when `content.encoding` says so, else the text the browser
decoded, stored as UTF-8). A browser may leave a body out or cut it short (`content.size` says how long it
was): such an entry is a page lost, reported, never stored.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from scraper.errors import SourceError
from scraper.imports.loop import CaptureFile, Entries, capture_time
from scraper.models import FetchResult, public_header_pairs

NO_BODY = "no body"
CUT_BODY = "body cut short"


def read_har(capture: CaptureFile) -> Entries:
    """The entries of a HAR file: a reader of the import loop."""
    entries = _entries(capture)
    size = capture.path.stat().st_size
    for number, entry in enumerate(entries, 1):
        yield har_capture(entry) if isinstance(entry, dict) else "unreadable"
        capture.moved_to(size * number // len(entries))


def _entries(capture: CaptureFile) -> list[Any]:
    try:
        with capture.path.open("rb") as stream:
            entries = json.load(stream)["log"]["entries"]
    except OSError as error:
        raise SourceError(f"cannot read {capture.path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise SourceError(f"{capture.path}: not a readable HAR file ({type(error).__name__}: {error})") from None
    if not isinstance(entries, list):
        raise SourceError(f"{capture.path}: not a readable HAR file (log.entries is not a list)")
    return entries


def har_capture(entry: dict[str, Any]) -> FetchResult | str:
    """One HAR entry as a capture from source "har", or why it holds none."""
    request, response = entry.get("request") or {}, entry.get("response") or {}
    url = request.get("url")
    if not isinstance(url, str) or not url:
        return "no URL"
    if str(request.get("method", "GET")).upper() != "GET":
        return f"{request.get('method')} request"
    headers = _headers(response.get("headers"))
    content = response.get("content") or {}
    content_type = headers.get("content-type") or content.get("mimeType")
    body, error = _body(content)
    if body is not None and not error and content.get("encoding") != "base64":
        content_type = _utf8(content_type)  # the browser decoded the text: it is stored as UTF-8
    status = response.get("status")
    return FetchResult(url=url, final_url=url, status=status if isinstance(status, int) else 0,
                       fetched_at=_started(entry.get("startedDateTime")), headers=headers, body=body,
                       etag=headers.get("etag"), last_modified=headers.get("last-modified"),
                       content_type=content_type, error=error, source="har",
                       request_headers=public_header_pairs(_pairs(request.get("headers"))))


def _body(content: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """The body an entry holds and, when it lost it, why (NO_BODY, CUT_BODY)."""
    text, size = content.get("text"), content.get("size")
    if not isinstance(text, str) or (not text and size != 0):
        return None, NO_BODY
    if content.get("encoding") == "base64":
        try:
            body = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None, "unreadable"
    else:
        body = text.encode("utf-8", "surrogatepass")
    if isinstance(size, int) and len(body) < size:
        return None, CUT_BODY
    return body, None


def _utf8(content_type: str | None) -> str:
    """`content_type` saying charset=utf-8 (whatever charset it named)."""
    media = (content_type or "text/html").split(";", 1)[0].strip()
    return f"{media}; charset=utf-8"


def _pairs(headers: Any) -> list[tuple[str, str]]:
    """HAR headers ([{name, value}]) as pairs, without HTTP/2's pseudo-headers (:status, :authority…)."""
    if not isinstance(headers, list):
        return []
    return [(str(item["name"]), str(item["value"])) for item in headers
            if isinstance(item, dict) and "name" in item and "value" in item and not str(item["name"]).startswith(":")]


def _headers(headers: Any) -> dict[str, str]:
    """Response headers as the fetcher keeps them: names in lower case, repeats joined by ", "."""
    joined: dict[str, str] = {}
    for name, value in _pairs(headers):
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


def _started(text: Any) -> str:
    try:
        return capture_time(datetime.fromisoformat(str(text)))
    except ValueError:
        return ""
