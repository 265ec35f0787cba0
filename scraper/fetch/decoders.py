"""Reading a body under a size cap: Content-Encoding undone a chunk at a time (a decompression bomb is cut
off), a body cut short noticed, and what counts as a web page."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import suppress

from scraper.errors import ErrorClass, FetchError, TooLargeError
from scraper.fetch._httpx import httpx

WEB_PAGE_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "application/xml", "text/xml",
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
})
ACCEPT_ENCODING = "gzip, deflate"  # the codings _Inflate undoes under the size cap
CHUNK = 64 * 1024  # the most a decompression step produces at once
DRAIN_MAX_BYTES = 64 * 1024  # small unwanted bodies (redirects, errors) are read so the connection is reused


def is_web_page(content_type: str | None, body: bytes) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime:
        return mime in WEB_PAGE_TYPES or mime.endswith("+xml")
    return body.lstrip(b"\xef\xbb\xbf \t\r\n\f")[:1] == b"<"


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Stream the body, undoing its Content-Encoding, and stop as soon as either size passes `max_bytes`."""
    declared = _content_length(response.headers)
    if declared is not None and declared > max_bytes:
        raise TooLargeError(f"body of {declared} bytes is over the {max_bytes}-byte cap", url=str(response.url))
    decoder = _decoder_for(response.headers.get("content-encoding"))
    body = bytearray()
    async for raw in response.aiter_raw():
        if response.num_bytes_downloaded > max_bytes:
            raise TooLargeError(f"body is over the {max_bytes}-byte cap", url=str(response.url))
        for piece in decoder.feed(raw):
            body += piece
            if len(body) > max_bytes:
                raise TooLargeError(f"decompressed body is over the {max_bytes}-byte cap", url=str(response.url))
    decoder.finish()
    if declared is not None and response.num_bytes_downloaded < declared:
        raise FetchError(f"body cut short: {response.num_bytes_downloaded} of {declared} bytes",
                         url=str(response.url), error_class=ErrorClass.TRUNCATED)
    return bytes(body)


async def read_small_body(response: httpx.Response, max_bytes: int) -> bytes | None:
    """The body of an answer that is not a page but may say why (a refusal), when it is within `max_bytes`
    and comes whole; None otherwise."""
    with suppress(FetchError, httpx.HTTPError):
        return await read_capped(response, max_bytes)
    return None


async def drain(response: httpx.Response) -> None:
    """Read a small unwanted body so the connection can be reused; leave big or broken ones."""
    declared = _content_length(response.headers)
    if declared is None or declared > DRAIN_MAX_BYTES:
        return
    with suppress(httpx.HTTPError):
        async for _raw in response.aiter_raw():
            pass


def _content_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length", "").split(",")[0].strip()
    return int(value) if value.isdigit() else None


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data

    def finish(self) -> None:
        pass


class _Inflate:
    """gzip or deflate, undone at most CHUNK bytes at a time, so a bomb is never inflated whole."""

    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits  # None: zlib or raw deflate, told apart by the first bytes
        self._zlib: zlib._Decompress | None = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            self._zlib = zlib.decompressobj(self._wbits or (15 if _has_zlib_header(data) else -15))
        while not self._zlib.eof:
            try:
                out = self._zlib.decompress(data, CHUNK)
            except zlib.error as exc:
                raise FetchError(f"cannot decompress the body: {exc}", error_class=ErrorClass.DECODE) from None
            data = self._zlib.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < CHUNK:
                return

    def finish(self) -> None:
        if self._zlib is not None and not self._zlib.eof:
            raise FetchError("compressed body ends early", error_class=ErrorClass.TRUNCATED)


def _has_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _decoder_for(content_encoding: str | None) -> _Identity | _Inflate:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Identity()
    if codings == ["gzip"] or codings == ["x-gzip"]:
        return _Inflate(31)
    if codings == ["deflate"]:
        return _Inflate(None)
    raise FetchError(f"unsupported content-encoding: {content_encoding}", error_class=ErrorClass.DECODE)

