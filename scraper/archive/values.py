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


def check_since(since: str | None) -> str | None:
    """`since` when it starts with an ISO date (YYYY-MM-DD), else InvalidDate; None stays None."""
    if since is None:
        return None
    try:
        date.fromisoformat(since[:10])
    except ValueError:
        raise InvalidDate(f"invalid date {since!r}: expected YYYY-MM-DD") from None
    return since


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
