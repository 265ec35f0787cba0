"""What storing a page keeps of what the archive holds: a record is never replaced by one that lacks its core
(a challenge or an error page parsed as the article: its dates gone with its text; a list page gone empty), and a
capture older than what the archive has seen (an old WARC imported after a newer fetch) never replaces what the
newer one stored: it only tells since when the page was known. No SQL: the rules `records` applies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def dated(data: dict[str, Any]) -> bool:
    """Whether a record (a contract dict) shows a date."""
    return bool(data.get("published_at") or data.get("updated_at"))


def emptied(kind: str, stored: int, items: list[dict[str, Any]]) -> str | None:
    """Why a list page that now has no entry is not stored over the `stored` entries the archive holds."""
    return f"the {kind} page lists no article where the archive holds {stored}" if stored and not items else None


def instant(value: str) -> datetime:
    """A time of the archive ('…Z' or '…+00:00', with or without a fraction) as an aware datetime."""
    when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def is_older(seen_at: str, stored: str | None) -> bool:
    """Whether a capture made at `seen_at` is older than the time `stored` the archive last saw the page at."""
    try:
        return stored is not None and instant(seen_at) < instant(stored)
    except ValueError:
        return False
