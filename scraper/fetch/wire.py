"""A lane's own HTTP/1.1 transport: one keep-alive connection on asyncio's streams, answers read by httptools.

httpx's default transport goes through httpcore's connection pool, which runs on anyio: each request takes
pool and connection locks, shielded cancel scopes and a timeout scope per read and write, and each of them asks
sniffio which event loop runs; its HTTP/1.1 is h11, which reads an answer in Python (some 50 µs an answer). A lane
holds one connection and is used by one request at a time (scraper.fetch.lanes), so none of the pool is needed:
on a crawl at --delay 0 it was more CPU than reading the answer. `WireTransport` does what a lane needs and no
more: it opens a connection (TLS with ALPN `http/1.1` for https), sends the request's head, has the answer read
by httptools (llhttp, Node's HTTP parser, in C: lengths, chunks, keep-alive), hands the body out as it arrives,
keeps the connection for the next request when the answer was read to its end and nothing came after it (and
the server did not close it), and says each fault as httpx's own error (`ConnectError`, `ConnectTimeout`,
`ReadTimeout`, `ReadError`, `WriteError`, `RemoteProtocolError`…).

It speaks HTTP/1.1 only, without proxies: the fetcher uses it for an origin once that origin has answered
over HTTP/1.x (plain http always does), and not for an origin the environment sends through a proxy.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httptools

from scraper.fetch._httpx import httpx
from scraper.fetch.sockets import poll_for_reading

READ_SIZE = 64 * 1024
MAX_HEAD_BYTES = 100 * 1024  # what httpcore allows an answer's head
DEFAULT_PORTS = {"http": 80, "https": 443}
SENT_HEAD = "http11.send_request_headers.complete"  # the trace event httpcore reports once a request's head is sent

Origin = tuple[str, str, int]  # scheme, host (ASCII), port


class WireTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over one keep-alive connection at a time; `tls()` gives the TLS context for https, asked at each
    TLS connection (its ALPN is set to http/1.1 here: give the transport a context of its own)."""

    def __init__(self, tls: Callable[[], ssl.SSLContext]) -> None:
        self._tls = tls
        self._connection: _Connection | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        connection = await self._connection_for(request, timeouts.get("connect"))
        try:
            await connection.send(request, timeouts.get("write"))
            status, headers, reason, version = await connection.receive_head(timeouts.get("read"))
        except BaseException:
            self.discard(connection)
            raise
        return httpx.Response(status, headers=headers, stream=_Body(self, connection, timeouts),
                              extensions={"http_version": version, "reason_phrase": reason})

    async def aclose(self) -> None:
        if self._connection is not None:
            self.discard(self._connection)

    async def _connection_for(self, request: httpx.Request, timeout: float | None) -> _Connection:
        """The kept connection when it serves the request's origin and is still open, else a new one."""
        url = request.url
        origin = (url.scheme, url.raw_host.decode("ascii"), url.port or DEFAULT_PORTS.get(url.scheme, 80))
        kept = self._connection
        if kept is not None:
            if kept.origin == origin and kept.reusable():
                return kept
            self.discard(kept)
        connection = await _Connection.open(origin, self._tls_context() if origin[0] == "https" else None, timeout,
                                            request)
        self._connection = connection
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        context = self._tls()
        context.set_alpn_protocols(["http/1.1"])
        return context

    def discard(self, connection: _Connection) -> None:
        """Close `connection` (its answer failed, or was not read to its end): the next request opens another."""
        connection.close()
        if self._connection is connection:
            self._connection = None

    def release(self, connection: _Connection) -> None:
        """The answer on `connection` was read to its end or given up: keep the connection for the next request
        when it may carry one, else close it."""
        if not connection.next_cycle():
            self.discard(connection)


class _Reader(asyncio.StreamReader):
    """asyncio's stream reader, which can say whether it holds bytes not yet read."""

    def holds_bytes(self) -> bool:
        return bool(self._buffer)  # a bytearray in every version of asyncio's streams


class _Answer:
    """What the parser has read of the answer to the request in progress: httptools' callbacks, which it calls as
    bytes are fed to it. A 1xx (100 Continue, 103 Early Hints) before the answer is forgotten once read."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self._forget_head()
        self.body: list[bytes] = []  # read since the body's reader last took it
        self.complete = False
        self.keep_alive = False  # the server may go on after this answer (as the parser says once it is read)
        self.more = False  # something began after this answer: bytes nobody asked for

    def _forget_head(self) -> None:
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_read = False

    def on_message_begin(self) -> None:
        self.more = self.complete

    def on_status(self, status: bytes) -> None:
        if not self.more:
            self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.more:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if not self.more:
            self.head_read = True

    def on_body(self, body: bytes) -> None:
        if not self.more:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.more:
            return
        if self.informational:
            self._forget_head()
        else:
            self.complete = True
            self.keep_alive = self.parser.should_keep_alive()

    @property
    def informational(self) -> bool:
        """Whether the head read is a 1xx that comes before the answer (not a 101, which ends HTTP)."""
        status = self.parser.get_status_code()
        return self.head_read and 100 <= status < 200 and status != 101

    def take_body(self) -> bytes:
        chunk = b"".join(self.body)
        self.body.clear()
        return chunk


class _Connection:
    """One connection: its streams, and the parser of the answers that come on it (httptools: llhttp, Node's HTTP
    parser, in C)."""

    def __init__(self, origin: Origin, reader: _Reader, writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.answer = _Answer()
        self._poll = poll_for_reading(writer.get_extra_info("socket"))

    @classmethod
    async def open(cls, origin: Origin, tls: ssl.SSLContext | None, timeout: float | None,
                   request: httpx.Request) -> _Connection:
        _scheme, host, port = origin
        loop = asyncio.get_running_loop()
        reader = _Reader(limit=READ_SIZE, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        try:
            async with asyncio.timeout(timeout):  # what asyncio.open_connection does, with a reader of our own
                socket, _ = await loop.create_connection(lambda: protocol, host, port, ssl=tls,
                                                         server_hostname=host if tls else None)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}", request=request) from None
        except (OSError, ssl.SSLError) as exc:  # refused, unreachable, no such host, TLS handshake failed
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return cls(origin, reader, asyncio.StreamWriter(socket, protocol, reader, loop))

    def reusable(self) -> bool:
        """Whether the server has not closed the kept connection, nor sent anything unasked on it: what the event
        loop has seen of it, and its socket, polled (the loop may not have run since the server closed it)."""
        if self.writer.is_closing() or self.reader.at_eof() or self.reader.holds_bytes():
            return False
        return self._poll is None or not self._poll.poll(0)

    async def send(self, request: httpx.Request, timeout: float | None) -> None:
        """Send the request's head (then tell the request's trace hook, as httpcore does) and its body."""
        self.answer = _Answer()
        await self._write(request_head(request), timeout, request)
        trace: Callable[[str, dict[str, Any]], Awaitable[None]] | None = request.extensions.get("trace")
        if trace is not None:
            await trace(SENT_HEAD, {"request": request})
        body = await request.aread()
        if body:
            await self._write(body, timeout, request)

    async def receive_head(self, timeout: float | None) -> tuple[int, list[tuple[bytes, bytes]], bytes, bytes]:
        """The answer's status, headers, reason phrase and HTTP version, once its head has come."""
        answer = self.answer
        read = 0
        while not answer.head_read or answer.informational:
            data = await self._read(timeout)
            if not data:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            self._feed(data)
            read += len(data)
            if not answer.head_read and read > MAX_HEAD_BYTES:
                raise httpx.RemoteProtocolError(f"the answer's head is over {MAX_HEAD_BYTES} bytes")
        version = answer.parser.get_http_version().encode("ascii")
        return answer.parser.get_status_code(), answer.headers, answer.reason, b"HTTP/" + version

    async def body(self, timeout: float | None) -> AsyncIterator[bytes]:
        """The answer's body as it comes, to its end (which a body without a length or chunks reaches when the
        server closes the connection)."""
        answer = self.answer
        while True:
            if answer.body:
                yield answer.take_body()
            if answer.complete:
                return
            data = await self._read(timeout)
            if not data:
                if self._ends_at_close():
                    answer.complete = True
                    continue
                raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
            self._feed(data)

    def next_cycle(self) -> bool:
        """Whether the connection may carry another request: the answer was read to its end, the server did not say
        it would close, and nothing came after the answer (bytes read with it that nobody asked for)."""
        answer = self.answer
        return answer.complete and answer.keep_alive and not answer.more

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()

    def _feed(self, data: bytes) -> None:
        try:
            self.answer.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # a 101 switching protocols: what follows is not HTTP
            self.answer.more = True
        except httptools.HttpParserError as exc:
            if not self.answer.complete:
                raise httpx.RemoteProtocolError(f"malformed answer: {exc}") from exc
            self.answer.more = True  # the answer is whole; what came after it is not HTTP

    def _ends_at_close(self) -> bool:
        """Whether the answer's body is the bytes up to the end of the connection (no length, no chunks)."""
        names = {name.lower() for name, _ in self.answer.headers}
        return self.answer.head_read and b"content-length" not in names and b"transfer-encoding" not in names

    async def _write(self, data: bytes, timeout: float | None, request: httpx.Request) -> None:
        try:
            self.writer.write(data)
            if self.writer.transport.get_write_buffer_size():  # most requests go out at once, without a wait
                async with asyncio.timeout(timeout):
                    await self.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("timed out sending the request", request=request) from None
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc

    async def _read(self, timeout: float | None) -> bytes:
        try:
            if timeout is None:  # the caller bounds the whole exchange (the fetcher does)
                return await self.reader.read(READ_SIZE)
            async with asyncio.timeout(timeout):
                return await self.reader.read(READ_SIZE)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the answer") from None
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc


def request_head(request: httpx.Request) -> bytes:
    """The request line and headers, as sent. A header that would break the head (a CR or LF in it) is refused."""
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    lines += [b"%s: %s" % (name, value) for name, value in request.headers.raw]
    head = b"\r\n".join(lines)
    breaks = len(lines) - 1  # the ones between the lines
    if head.count(b"\n") != breaks or head.count(b"\r") != breaks:
        raise httpx.LocalProtocolError("a request header holds a line break", request=request)
    return head + b"\r\n\r\n"


class _Body(httpx.AsyncByteStream):
    """An answer's body as it arrives; closing it gives the connection back to its transport (or closes it, when
    the body was not read to its end)."""

    def __init__(self, transport: WireTransport, connection: _Connection, timeouts: dict[str, float | None]) -> None:
        self._transport = transport
        self._connection = connection
        self._timeout = timeouts.get("read")
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._connection.body(self._timeout):
                yield chunk
        except BaseException:
            self._transport.discard(self._connection)
            raise

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._transport.release(self._connection)
