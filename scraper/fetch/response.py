"""One HTTP answer (`Response`) and what it means for the FetchResult being filled; small shared helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scraper.errors import HTTPStatusError, NotHTMLError
from scraper.fetch._httpx import httpx
from scraper.fetch.decoders import is_web_page
from scraper.models import FetchResult, public_header_pairs, public_headers


@dataclass
class Response:
    """One HTTP answer, its body read (2xx) or not."""

    url: str
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes | None = None
    request_headers: list[tuple[str, str]] = field(default_factory=list)


def sent_headers(request: httpx.Request) -> list[tuple[str, str]]:
    """The request's headers as they left, in order and case, without the ones that carry credentials."""
    return public_header_pairs([(name.decode("latin-1"), value.decode("latin-1"))
                                for name, value in request.headers.raw])


def record(result: FetchResult, response: Response) -> None:
    """Copy what `response` says into `result` (its status, headers and validators; not its body)."""
    result.final_url = response.url
    result.request_headers = response.request_headers
    result.status = response.status
    result.headers = public_headers(response.headers)
    result.etag = response.headers.get("etag")
    result.last_modified = response.headers.get("last-modified")
    result.content_type = response.headers.get("content-type")


def check_outcome(response: Response, result: FetchResult) -> None:
    """Keep the body of a good answer; raise FetchError for the others."""
    if response.status == 304:
        return
    if not 200 <= response.status < 300:
        raise HTTPStatusError(f"HTTP {response.status} {response.reason}".strip(), url=response.url,
                              status=response.status)
    result.body = response.body
    if not is_web_page(result.content_type, response.body or b""):
        raise NotHTMLError(f"not a web page (content type {result.content_type or 'missing'})",
                           url=response.url)


def origin(url: str) -> str:
    """scheme://host[:port] of `url`."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{host_key(url)}"


def host_key(url: str) -> str:
    """host[:port] of `url`: what politeness is counted per."""
    parts = urlsplit(url)
    host = bracketed(parts.hostname or "")
    return f"{host}:{parts.port}" if parts.port else host


def bracketed(host: str) -> str:
    """A host name in lower case; an IPv6 address in brackets, as it is written before a port."""
    host = host.lower()
    return f"[{host}]" if ":" in host else host


def describe(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def utc_stamp() -> str:
    """Now, as the fetch log stamps a request: ISO 8601 in UTC, to the millisecond, with a Z (two fetches of a
    page in one second are two captures, in a WARC as in the archive)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
