"""A fault-injecting HTTP/1.1 server on 127.0.0.1 for tests.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length and chunked bodies) to be a real peer for
httpx, and can misbehave on purpose: answer slowly, trickle an answer a few bytes at a time, reset the
connection, close before the end of the body, stream a body far bigger than it claims, or pick its answer
from the request::

    with FaultServer() as server:
        server.route("/flaky", Respond(503), Respond(503), Respond(200, "<html>ok</html>"))
        server.route("/gone", Reset())
        server.route("/echo", lambda request: Respond(200, request.headers.get("cookie", "")))
        fetch(server.url("/flaky"))
        assert len(server.hits("/flaky")) == 3

A route's behaviours are used one per request, in order; the last one repeats. A behaviour may be a
function of the `Request` that returns the behaviour to use. Unknown paths answer 404.

Everything the server saw is in `server.requests` (with the monotonic time each request head arrived,
so tests can measure the gaps between request starts on the server side), and `server.max_in_flight` /
`server.max_connections` are the most requests being answered / connections open at once.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import BinaryIO, Protocol

MAX_HEAD_BYTES = 64 * 1024


@dataclass
class Request:
    """One request as the server received it."""

    method: str
    target: str  # the path and query, as sent
    headers: dict[str, str]  # lower-case names
    started: float  # time.monotonic() when the request head had arrived
    connection: int  # serial number of the TCP connection it came on
    wall: float = 0.0  # time.time() when the request head had arrived (to compare with HTTP dates)
    body: bytes = b""
    finished: float | None = None
    bytes_sent: int = 0  # response body bytes written
    aborted: bool = False  # the client went away while the answer was being written

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class Exchange:
    """What a behaviour works with: the request, and the connection to answer on."""

    def __init__(self, server: FaultServer, sock: socket.socket, reader: BinaryIO, request: Request) -> None:
        self.server = server
        self.sock = sock
        self.request = request
        self._reader = reader

    def sleep(self, seconds: float) -> None:
        """Wait, but wake up at once when the server stops."""
        self.server._stopping.wait(seconds)

    def send_head(self, status: int, headers: dict[str, str]) -> None:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send_body(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.request.bytes_sent += len(data)

    def reset(self) -> None:
        """Close the connection with a TCP RST instead of a clean FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._reader.close()  # the socket's file holds the descriptor open until it is closed too
        self.sock.close()


class Behaviour(Protocol):
    def serve(self, exchange: Exchange) -> bool:
        """Answer the request; return True when the connection may serve another request."""
        ...


Handler = Behaviour | Callable[[Request], Behaviour]


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


@dataclass
class Respond:
    """A complete answer, after `delay` seconds (the head is sent only after the delay)."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"
    delay: float = 0.0

    def serve(self, exchange: Exchange) -> bool:
        if self.delay:
            exchange.sleep(self.delay)
        body = _as_bytes(self.body)
        headers = _base_headers(self.content_type, self.headers)
        if self.status == 304 or self.status < 200 or self.status == 204:
            exchange.send_head(self.status, headers)
            return True
        headers.setdefault("Content-Length", str(len(body)))
        exchange.send_head(self.status, headers)
        exchange.send_body(body)
        return True


def Redirect(location: str, status: int = 302) -> Respond:  # noqa: N802 - reads like the other behaviours
    """An answer that sends the client to `location`."""
    return Respond(status, b"", {"Location": location}, content_type=None)


@dataclass
class Stream:
    """A body written piece by piece from `chunks()` (called once per request, so it can be a generator).

    With `content_length` the head announces that length; without it the body is chunked. Writing stops
    quietly when the client goes away (the request is then marked `aborted`).
    """

    chunks: Callable[[], Iterable[bytes]]
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"
    content_length: int | None = None

    def serve(self, exchange: Exchange) -> bool:
        headers = _base_headers(self.content_type, self.headers)
        if self.content_length is None:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(self.content_length)
        exchange.send_head(200, headers)
        for chunk in self.chunks():
            if exchange.server._stopping.is_set():
                return False
            if self.content_length is None:
                exchange.sock.sendall(f"{len(chunk):x}\r\n".encode())
                exchange.send_body(chunk)
                exchange.sock.sendall(b"\r\n")
            else:
                exchange.send_body(chunk)
        if self.content_length is None:
            exchange.sock.sendall(b"0\r\n\r\n")
        return True


@dataclass
class Trickle:
    """A whole answer (head and body) sent in `pieces` slices, one every `every` seconds: each read of the
    client gets something in time, while the answer as a whole takes (pieces - 1) * every seconds. With
    `head_only`, the head is sliced and the body follows it at once."""

    body: bytes | str
    pieces: int
    every: float
    head_only: bool = False
    content_type: str | None = "text/html; charset=utf-8"

    def serve(self, exchange: Exchange) -> bool:
        body = _as_bytes(self.body)
        headers = _base_headers(self.content_type, {"Content-Length": str(len(body))})
        head = ("HTTP/1.1 200 OK\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
                + "\r\n").encode("latin-1")
        sliced = head if self.head_only else head + body
        size = -(-len(sliced) // self.pieces)
        for start in range(0, len(sliced), size):
            if start:
                exchange.sleep(self.every)
            if exchange.server._stopping.is_set():
                return False
            exchange.sock.sendall(sliced[start:start + size])
        if self.head_only:
            exchange.send_body(body)
        return True


@dataclass
class Truncated:
    """Announce `declared_length` bytes, send only `body`, then close the connection."""

    body: bytes | str
    declared_length: int
    content_type: str | None = "text/html; charset=utf-8"

    def serve(self, exchange: Exchange) -> bool:
        headers = _base_headers(self.content_type, {"Content-Length": str(self.declared_length)})
        exchange.send_head(200, headers)
        exchange.send_body(_as_bytes(self.body))
        return False


@dataclass
class Reset:
    """Read the request, then reset the connection without answering."""

    def serve(self, exchange: Exchange) -> bool:
        exchange.reset()
        return False


def _base_headers(content_type: str | None, extra: dict[str, str]) -> dict[str, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(extra)
    return headers


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, fault: FaultServer) -> None:
        self.fault = fault
        super().__init__(("127.0.0.1", 0), _ConnectionHandler)


class _ConnectionHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: _TCPServer = self.server  # type: ignore[assignment]
        server.fault._serve_connection(self.request)


class FaultServer:
    """A threaded HTTP/1.1 server on 127.0.0.1, on a free port, whose routes misbehave on demand."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.max_in_flight = 0
        self.max_connections = 0
        self._routes: dict[str, list[Handler]] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._in_flight = 0
        self._open: set[socket.socket] = set()
        self._connection_serial = 0
        self._tcp: _TCPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> FaultServer:
        """Start listening on 127.0.0.1 (port chosen by the system) in a background thread."""
        self._tcp = _TCPServer(self)
        self._thread = threading.Thread(target=self._tcp.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="faultserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, cut the open connections and wait (briefly) for their threads."""
        if self._tcp is None:
            return
        self._stopping.set()
        self._tcp.shutdown()
        self._tcp.server_close()
        with self._lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 2.0
        while self._open and time.monotonic() < deadline:
            time.sleep(0.01)
        self._tcp = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- configuration and inspection -------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._tcp is not None, "server not started"
        return self._tcp.server_address[1]

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def route(self, path: str, *behaviours: Handler) -> None:
        """Answer requests for `path` (with or without its query) with `behaviours`, in order."""
        if not behaviours:
            raise ValueError("route() needs at least one behaviour")
        with self._lock:
            self._routes[path] = list(behaviours)
            self._served[path] = 0

    def hits(self, path: str) -> list[Request]:
        """The requests received for `path` (compared with the query when `path` has one)."""
        with self._lock:
            return [r for r in self.requests if path in (r.target, r.path)]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being answered (e.g. a body the client gave up on); True if so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False

    # -- serving ----------------------------------------------------------------------------------

    def _serve_connection(self, sock: socket.socket) -> None:
        # Heads and bodies go out in separate writes: without this, Nagle's algorithm and the client's
        # delayed ACK add 40 ms to every answer.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._connection_serial += 1
            serial = self._connection_serial
            self._open.add(sock)
            self.max_connections = max(self.max_connections, len(self._open))
        reader = sock.makefile("rb")
        try:
            while not self._stopping.is_set():
                request = _read_request(reader, serial)
                if request is None:
                    break
                if not self._answer(sock, request, reader):
                    break
        except OSError:
            pass
        finally:
            reader.close()
            with self._lock:
                self._open.discard(sock)

    def _answer(self, sock: socket.socket, request: Request, reader: BinaryIO) -> bool:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        keep_alive = False
        try:
            behaviour = self._behaviour_for(request)
            keep_alive = behaviour.serve(Exchange(self, sock, reader, request))
        except OSError:
            request.aborted = True
        finally:
            request.finished = time.monotonic()
            with self._lock:
                self._in_flight -= 1
        return keep_alive and request.headers.get("connection", "").lower() != "close"

    def _behaviour_for(self, request: Request) -> Behaviour:
        with self._lock:
            key = request.target if request.target in self._routes else request.path
            handlers = self._routes.get(key)
            if handlers is None:
                return Respond(404, "not found", content_type="text/plain")
            index = min(self._served[key], len(handlers) - 1)
            self._served[key] += 1
        handler = handlers[index]
        return handler if hasattr(handler, "serve") else handler(request)  # type: ignore[operator,return-value]


def _read_request(reader: BinaryIO, serial: int) -> Request | None:
    """Read one request head (and its Content-Length body); None at the end of the connection."""
    line = reader.readline(MAX_HEAD_BYTES)
    while line in (b"\r\n", b"\n"):
        line = reader.readline(MAX_HEAD_BYTES)
    if not line:
        return None
    method, target, _version = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        header_line = reader.readline(MAX_HEAD_BYTES)
        if header_line in (b"\r\n", b"\n", b""):
            break
        name, _, value = header_line.decode("latin-1").partition(":")
        name = name.strip().lower()
        headers[name] = f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
    request = Request(method, target, headers, time.monotonic(), serial, wall=time.time())
    length = int(headers.get("content-length", "0") or 0)
    if length:
        request.body = reader.read(length)
    return request
