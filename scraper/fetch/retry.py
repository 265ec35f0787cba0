"""When to try a request again, and how long to wait first (exponential backoff with jitter, Retry-After)."""

from __future__ import annotations

import email.utils
import math
import random
from contextlib import suppress
from datetime import UTC, datetime

from scraper.errors import ErrorClass

RETRYABLE_ERRORS = frozenset({ErrorClass.CONNECT, ErrorClass.TIMEOUT, ErrorClass.RESET, ErrorClass.TRUNCATED})


def retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (delta-seconds or HTTP-date form), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    with suppress(ValueError):
        seconds = float(value)  # the standard says an integer; some servers send "1.5"
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return seconds if seconds > 0 else 0.0  # "-0" is a wait of 0.0, not -0.0
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())



def backoff_wait(attempt: int, retry_after: str | None, *, backoff: float, max_wait: float) -> tuple[float, bool]:
    """Seconds to wait before attempt `attempt + 1`, and whether the server asked for it (its Retry-After
    header, capped at `max_wait`); otherwise a random wait up to backoff * 2**attempt (full jitter)."""
    asked = retry_after_seconds(retry_after)
    if asked is not None:
        return min(asked, max_wait), True
    return random.uniform(0, min(max_wait, backoff * 2**attempt)), False
