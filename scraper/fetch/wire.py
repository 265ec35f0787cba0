"""A lane's own HTTP/1.1 transport: one keep-alive connection on asyncio's streams, framed by h11.

httpx's default transport goes through httpcore's connection pool, which runs on anyio: each request takes
pool and connection locks, shielded cancel scopes and a timeout scope per read and write, and each of them asks
sniffio which event loop runs. A lane holds one connection and is used by one request at a time (scraper.fetch
.lanes), so none of that is needed: on a crawl at --delay 0 it was more CPU than reading the answer. `WireTransport`
does what a lane needs and no more: it opens a connection (TLS with ALPN `http/1.1` for https), sends the request
with h11, hands the answer's body out as it arrives, keeps the connection for the next request when the answer
was read to its end (and the server did not close it), and says each fault as httpx's own error
(`ConnectError`, `ConnectTimeout`, `ReadTimeout`, `ReadError`, `WriteError`, `RemoteProtocolError`…).

It speaks HTTP/1.1 only, without proxies: the fetcher uses it for an origin once that origin has answered
over HTTP/1.1 (plain http always does), and not at all when a proxy is set in the environment.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import h11

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
        self.connections_opened = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        connection = await self._connection_for(request, timeouts.get("connect"))
        try:
            await connection.send(request, timeouts.get("write"))
            head = await connection.receive_head(timeouts.get("read"))
        except BaseException:
            self.discard(connection)
            raise
        return httpx.Response(head.status_code, headers=head.headers, stream=_Body(self, connection, timeouts),
                              extensions={"http_version": b"HTTP/" + head.http_version, "reason_phrase": head.reason})

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
        self.connections_opened += 1
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
        when both sides may go on, else close it."""
        if not connection.next_cycle():
            self.discard(connection)


class _Reader(asyncio.StreamReader):
    """asyncio's stream reader, which can say whether it holds bytes not yet read."""

    def holds_bytes(self) -> bool:
        return bool(self._buffer)  # a bytearray in every version of asyncio's streams


class _Connection:
    """One connection: its streams and its h11 state."""

    def __init__(self, origin: Origin, reader: _Reader, writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
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
        target = request.url.raw_path
        event = h11.Request(method=request.method, target=target, headers=request.headers.raw)
        await self._write(self.h11.send(event), timeout, request)
        trace: Callable[[str, dict[str, Any]], Awaitable[None]] | None = request.extensions.get("trace")
        if trace is not None:
            await trace(SENT_HEAD, {"request": request})
        async for chunk in request.stream:  # type: ignore[union-attr]
            await self._write(self.h11.send(h11.Data(data=chunk)), timeout, request)
        await self._write(self.h11.send(h11.EndOfMessage()), timeout, request)

    async def receive_head(self, timeout: float | None) -> h11.Response:
        while True:
            event = await self.next_event(timeout)
            if isinstance(event, h11.Response):
                return event
            if not isinstance(event, h11.InformationalResponse):  # a 1xx comes before the answer: skipped
                raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} before the answer's head")

    async def next_event(self, timeout: float | None) -> Any:
        """h11's next event of the answer, reading from the connection as it needs."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            data = await self._read(timeout)
            if not data and self.h11.their_state is h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            self.h11.receive_data(data)

    def next_cycle(self) -> bool:
        """Make the connection ready for another request, if both sides have finished this one and may go on, and
        nothing came after the answer (bytes read with it that nobody asked for)."""
        done = self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE
        if done and not self.h11.trailing_data[0]:
            self.h11.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()

    async def _write(self, data: bytes | None, timeout: float | None, request: httpx.Request) -> None:
        if not data:
            return
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
            while True:
                event = await self._connection.next_event(self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    return
        except BaseException:
            self._transport.discard(self._connection)
            raise

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._transport.release(self._connection)
