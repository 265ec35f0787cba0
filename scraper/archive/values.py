"""The values the archive writes beside its rows' own: its one format of time (UTC, ISO 8601, to the millisecond,
ending in Z), the dates its filters take, and JSON. No SQL here."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from scraper.errors import InvalidDate


def utc_now() -> str:
    """The current time in the archive's format: `2026-12-07T23:54:48.123Z`."""
    return utc_text(datetime.now(UTC))


def utc_text(moment: datetime) -> str:
    """`moment` (aware) in the archive's format of time."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def archive_time(text: str) -> str:
    """An ISO 8601 time given to the archive (`Z` or an offset; UTC when it has none) in the archive's format;
    what is not such a time is kept as it is."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return utc_text(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# The columns that hold the archive's own times (when it fetched, saw, changed, queued…), in the format of utc_text();
# the site's times (published_at, updated_at, posted_at) stay as the page gave them.
ARCHIVE_TIMES = {
    "runs": ("started_at", "ended_at"), "dictionaries": ("trained_at",), "fetches": ("fetched_at",),
    "dossiers": ("first_seen_at", "last_seen_at"), "articles": ("first_seen_at", "last_seen_at", "changed_at"),
    "listings": ("last_seen_at",), "article_versions": ("recorded_at",), "crawl_queue": ("added_at", "updated_at"),
    "canary_flags": ("flagged_at",),
}
# SQLite's strftime() for the same format, and a GLOB that only a time in it matches.
ARCHIVE_TIME_SQL = "%Y-%m-%dT%H:%M:%fZ"
ARCHIVE_TIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z"


def check_since(since: str | None) -> str | None:
    """`since` when it starts with an ISO date (YYYY-MM-DD), else InvalidDate; None stays None."""
    if since is None:
        return None
    try:
        date.fromisoformat(since[:10])
    except ValueError:
        raise InvalidDate(f"invalid date {since!r}: expected YYYY-MM-DD") from None
    return since


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
