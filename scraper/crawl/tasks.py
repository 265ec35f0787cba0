"""What one page task of a crawl brings back (`Got`), and the small readings the crawl loop makes of it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from scraper.errors import FetchStopped
from scraper.feed import Feed
from scraper.ingest import PageOutcome
from scraper.models import Fault, FetchResult, Record

Handled = tuple[Record | Feed | None, str, Fault | None]  # the record, the action, why it failed


@dataclass
class Got:
    """What a page task brought: a fetch and its page parsed, or a page taken from the archive (resumed
    crawls) and its record. Feeds are parsed when stored."""

    result: FetchResult | None = None
    page: PageOutcome | None = None
    reused: dict[str, Any] | None = None  # the fetches row whose body is reused
    body: bytes | None = None  # that body, read once (None: missing from the archive)
    record: Record | None = None  # the reused page's record (None: its parse went over the time bound)



def abandoned(task: asyncio.Task[Got]) -> bool:
    """Whether a page task ended without its page: cancelled, or stopped before its request was sent (the page
    stays to do)."""
    return task.cancelled() or isinstance(task.exception(), FetchStopped)
