"""robots.txt, per origin: fetched once per run (every request logged), obeyed, its Crawl-delay applied.

As RFC 9309 says: a robots.txt that is not there (4xx), unreachable or unparsable allows every URL; one that
answers 5xx disallows every URL for this run (the site is in trouble: the pages are failures, tried again by the
next run). A robots.txt refused by a bot protection is neither: it is reported as a refusal (`refused`), and the
fetcher asks that host for nothing more. `log()` says for each origin what was found. A Crawl-delay above the
larger of MAX_CRAWL_DELAY and --delay is capped there, with a warning naming the value asked for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from protego import Protego

from scraper.errors import ErrorClass, FetchError, FetchStopped, RobotsDisallowed
from scraper.fetch.response import Response, describe, origin, record, utc_stamp
from scraper.models import FetchResult
from scraper.refusal import Refusal, refusal_of

ROBOTS_MAX_BYTES = 500 * 1024  # what Google reads of a robots.txt
# The longest Crawl-delay obeyed (unless --delay is longer): a minute a request is already 17 hours for a 1,000-page
# crawl; a longer one (`Crawl-delay: 1000000000`) stalls a run for good, a mistake or a trap rather than a rate.
MAX_CRAWL_DELAY = 60.0


class RobotsRules:
    """The robots.txt of each origin a run visits.

    `get(robots_url)` makes the one GET of a robots.txt; `slow_down(robots_url, seconds)` applies a
    Crawl-delay to that host and returns the interval now kept between its requests; a Crawl-delay is capped at
    `max_crawl_delay` seconds; `refused(robots_url, refusal)` is told when a bot protection answered in place of
    the robots.txt.
    """

    def __init__(self, *, obey: bool, agent: str, get: Callable[[str], Awaitable[Response]],
                 slow_down: Callable[[str, float], float],
                 refused: Callable[[str, Refusal], None] = lambda url, refusal: None,
                 max_crawl_delay: float = MAX_CRAWL_DELAY) -> None:
        self.obey = obey
        self.max_crawl_delay = max_crawl_delay
        self.agent = agent
        self._get = get
        self._slow_down = slow_down
        self._refused = refused
        self._rules: dict[str, Protego | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._log: list[str] = []
        self._fetches: list[FetchResult] = []
        self.on_line: Callable[[str], None] = lambda line: None  # told of each line of the log as it is written

    def take_fetches(self) -> list[FetchResult]:
        """The robots.txt requests made since the last call, as fetch-log rows (every request is logged)."""
        taken, self._fetches = self._fetches, []
        return taken

    def log(self) -> list[str]:
        """One line per origin: what its robots.txt said (or why it was not used)."""
        return list(self._log)

    def _say(self, line: str) -> None:
        """Keep a line of the log, and tell `on_line` at once (a crawl says it before its first page is done)."""
        self._log.append(line)
        self.on_line(line)

    async def check(self, url: str) -> None:
        """Raise RobotsDisallowed when the robots.txt of `url`'s origin forbids it."""
        key = origin(url)
        if not self.obey:
            if key not in self._rules:
                self._rules[key] = None
                self._say(f"{key}/robots.txt: not consulted (robots.txt is ignored)")
            return
        parser = await self._rules_for(key)
        if parser is not None and not parser.can_fetch(url, self.agent):
            raise RobotsDisallowed(f"robots.txt of {urlsplit(url).hostname} disallows {url}", url=url)

    async def _rules_for(self, key: str) -> Protego | None:
        if key in self._rules:
            return self._rules[key]
        async with self._locks.setdefault(key, asyncio.Lock()):
            if key not in self._rules:
                self._rules[key] = await self._load(key)
        return self._rules[key]

    async def _load(self, key: str) -> Protego | None:
        robots_url = f"{key}/robots.txt"
        logged = FetchResult(url=robots_url, fetched_at=utc_stamp())
        self._fetches.append(logged)
        started = time.monotonic()
        try:
            response = await self._get(robots_url)
        except FetchStopped:
            self._fetches.remove(logged)  # nothing was sent
            raise
        except FetchError as exc:
            logged.error, logged.error_class = str(exc), exc.error_class
            logged.elapsed = round(time.monotonic() - started, 3)
            self._say(f"{robots_url}: unreachable ({exc.error_class}: {exc}); all URLs allowed")
            return None
        record(logged, response)  # no body kept: the rules are in the run log, and it is not a page
        logged.elapsed = round(time.monotonic() - started, 3)
        refusal = refusal_of(response.status, response.headers, response.body)
        if refusal is not None:
            logged.error, logged.error_class = refusal.message, ErrorClass.BLOCKED
            self._say(f"{robots_url}: refused ({refusal.message}); nothing more is asked of this host")
            self._refused(robots_url, refusal)
            return None
        if 400 <= response.status < 500:
            self._say(f"{robots_url}: HTTP {response.status}, no rules; all URLs allowed")
            return None
        if response.status >= 500:
            self._say(f"{robots_url}: HTTP {response.status}; every URL disallowed for this run (RFC 9309):"
                             " the pages are tried again by the next run")
            return Protego.parse("User-agent: *\nDisallow: /")
        if response.status >= 300 or response.body is None:
            self._say(f"{robots_url}: HTTP {response.status}; treated as allowing all URLs")
            return None
        try:
            parser = Protego.parse(response.body.decode("utf-8", errors="replace"))
        except Exception as exc:  # noqa: BLE001 - a robots.txt that breaks the parser must not stop the run
            self._say(f"{robots_url}: unreadable ({describe(exc)}); all URLs allowed")
            return None
        self._say(self._apply_crawl_delay(robots_url, parser))
        return parser

    def _apply_crawl_delay(self, robots_url: str, parser: Protego) -> str:
        crawl_delay = parser.crawl_delay(self.agent)
        if not crawl_delay:
            return f"{robots_url}: rules loaded (no Crawl-delay for {self.agent})"
        if crawl_delay > self.max_crawl_delay:
            interval = self._slow_down(robots_url, self.max_crawl_delay)
            return (f"warning: {robots_url}: Crawl-delay {crawl_delay:.15g}s is more than {self.max_crawl_delay:g}s:"
                    f" capped (requests {interval:g}s apart)")
        interval = self._slow_down(robots_url, crawl_delay)
        return f"{robots_url}: rules loaded, Crawl-delay {crawl_delay:g}s (requests {interval:g}s apart)"


def product_token(user_agent: str) -> str:
    """The name robots.txt rules are matched against: `scrape` for `scrape/0.1.0 (...)`."""
    return (user_agent.split("/", 1)[0].split() or ["scrape"])[0]
