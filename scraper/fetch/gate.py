"""Per-host politeness: at most `concurrency` requests in flight, request starts at least `interval` apart.

One clock end to end: every stamp and every wait is `time.monotonic()` (asyncio's own clock), so a change of
the wall clock never shortens a gap. A request is stamped when its head has left (handed to the network), and
the next one may start `interval` after that, plus `margin(interval)`: what the receiving side adds when it
stamps requests late (a busy server notes the arrival of one request a little late and of the next one on
time), so that the server, too, never sees two starts closer than the delay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from scraper.errors import FetchStopped

MARGIN_SHARE = 0.02  # of the interval
MARGIN_MAX = 0.01  # seconds


def margin(interval: float) -> float:
    """What is added to a non-zero interval between two starts: 2 % of it, at most 10 ms."""
    return min(interval * MARGIN_SHARE, MARGIN_MAX) if interval > 0 else 0.0


class GateClosed(Exception):
    """The host is asked for nothing more in this run (it refused access): no slot is given."""


class Waits:
    """The waits of one fetcher (a host's turn, a delay, a Crawl-delay, a Retry-After, a backoff), which `stop()`
    ends at once: a stopped fetcher sends nothing more."""

    def __init__(self) -> None:
        self.stopped = False
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self.stopped = True
        self._stop.set()

    async def wait(self, seconds: float, until: asyncio.Event | None = None) -> bool:
        """Sleep `seconds`, or less when `until` is set meanwhile; False at once when stopped (before or during
        the wait), True otherwise."""
        if seconds > 0 and not self.stopped and not (until is not None and until.is_set()):
            events = [self._stop, *([until] if until is not None else [])]
            waiters = [asyncio.ensure_future(event.wait()) for event in events]
            try:
                await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        return not self.stopped


class HostGate:
    """Per-host politeness: at most `concurrency` requests in flight, starts at least `interval` apart."""

    def __init__(self, concurrency: int, interval: float, waits: Waits | None = None) -> None:
        self.interval = interval
        self.waits = waits or Waits()
        self._slots = asyncio.Semaphore(concurrency)
        self._turn = asyncio.Lock()
        self._last_start = float("-inf")
        self._next_start = 0.0
        self._closed = asyncio.Event()

    def close(self) -> None:
        """Give no slot any more: the requests waiting for one, and those to come, get GateClosed at once."""
        self._closed.set()

    def slow_down(self, interval: float) -> None:
        """Keep starts at least `interval` apart from now on (e.g. robots.txt Crawl-delay)."""
        self.interval = max(self.interval, interval)
        self._next_start = max(self._next_start, self._last_start + self._spacing())

    def _spacing(self) -> float:
        return self.interval + margin(self.interval)

    def hold_off(self, seconds: float) -> None:
        """Start nothing on this host for `seconds` (e.g. Retry-After)."""
        self._next_start = max(self._next_start, time.monotonic() + seconds)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Callable[[], None]]:
        """Wait for a slot and for this host's turn; yield `sent`, to call when the request head has left.

        A start is stamped when the request head has been sent, not when the slot is given: opening a
        connection can take a while, and the server must see starts `interval` apart. With an interval, the
        turn is held until then, so the next request cannot slip in while this one connects.

        FetchStopped when the waits are stopped before the request could start (nothing was sent).
        """
        async with self._slots:
            if self._closed.is_set():
                raise GateClosed
            await self._turn.acquire()
            stamped = False

            def sent() -> None:
                nonlocal stamped
                if not stamped:
                    stamped = True
                    self._last_start = time.monotonic()
                    self._next_start = max(self._next_start, self._last_start + self._spacing())
                    self._turn.release()

            try:
                while (wait := self._next_start - time.monotonic()) > 0 or self.waits.stopped:
                    if self._closed.is_set():
                        break
                    if not await self.waits.wait(wait, until=self._closed):
                        raise FetchStopped("stopped while waiting for the host's turn: nothing was sent")
                if self._closed.is_set():
                    stamped = True  # nothing is sent: the next start is not pushed back
                    self._turn.release()
                    raise GateClosed
                if self.interval <= 0:
                    sent()  # nothing to space out: do not serialise connection set-ups
                yield sent
            finally:
                sent()  # never sent (a fault before the headers left): the attempt counts from now
