"""An HTTP/2 server over TLS on 127.0.0.1 for the tests, written on the `h2` protocol library (which httpx's
HTTP/2 support already brings): ALPN offers only "h2", so a client that cannot speak HTTP/2 fails instead of
silently falling back. It serves fixed routes and logs each request with its arrival time and protocol."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events

Route = tuple[int, str, bytes]  # status, content type, body


@dataclass
class H2Request:
    path: str
    at: float  # time.monotonic() when the request headers arrived
    user_agent: str


@dataclass
class H2Site:
    routes: dict[str, Route]
    requests: list[H2Request] = field(default_factory=list)
    protocols: list[str | None] = field(default_factory=list)  # ALPN result of each connection
    base: str = ""


class _Connection(asyncio.Protocol):
    """One client connection: answers each request stream, sending bodies as flow control allows."""

    def __init__(self, site: H2Site) -> None:
        self.site = site
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.pending: dict[int, bytes] = {}  # stream id -> body bytes not sent yet
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        ssl_object = transport.get_extra_info("ssl_object")
        self.site.protocols.append(ssl_object.selected_alpn_protocol() if ssl_object else None)
        self.h2.initiate_connection()
        transport.write(self.h2.data_to_send())

    def data_received(self, data: bytes) -> None:
        for event in self.h2.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                self._answer(event.stream_id, dict(event.headers))
            elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
                for stream_id in list(self.pending):
                    self._send_body(stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self.pending.pop(event.stream_id, None)
        if self.transport is not None:
            self.transport.write(self.h2.data_to_send())

    def _answer(self, stream_id: int, headers: dict[str, str]) -> None:
        path = headers.get(":path", "/").split("?")[0]
        self.site.requests.append(H2Request(path, time.monotonic(), headers.get("user-agent", "")))
        status, content_type, body = self.site.routes.get(path, (404, "text/html", b"<h1>Not found</h1>"))
        self.h2.send_headers(stream_id, [(":status", str(status)), ("content-type", content_type),
                                         ("content-length", str(len(body)))])
        self.pending[stream_id] = body
        self._send_body(stream_id)

    def _send_body(self, stream_id: int) -> None:
        body = self.pending[stream_id]
        while body:
            window = min(self.h2.local_flow_control_window(stream_id), self.h2.max_outbound_frame_size)
            if window <= 0:
                self.pending[stream_id] = body
                return  # the rest when the client opens its window
            chunk, body = body[:window], body[window:]
            self.h2.send_data(stream_id, chunk)
        self.h2.end_stream(stream_id)
        del self.pending[stream_id]


class H2Server:
    """`with H2Server(site, tls) as site:` serves `site.routes` at `site.base` (https://127.0.0.1:PORT)."""

    def __init__(self, site: H2Site, tls: ssl.SSLContext) -> None:
        tls.set_alpn_protocols(["h2"])
        self.site, self.tls = site, tls
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.Server | None = None

    def __enter__(self) -> H2Site:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        self.site.base = f"https://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self.site

    async def _start(self) -> asyncio.Server:
        return await self.loop.create_server(lambda: _Connection(self.site), "127.0.0.1", 0, ssl=self.tls)

    def __exit__(self, *exc_info: object) -> None:
        if self.server is not None:
            self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
