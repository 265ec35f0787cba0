"""What storing a page's record did (or, in a dry run, would do): the action and the fields it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from scraper.models import PageType

Action = Literal["inserted", "updated", "unchanged"]


@dataclass
class StoreOutcome:
    """What storing one page's record did (or, in a dry run, would do)."""

    kind: PageType
    # The article id (None in a dry run for an article not stored yet), the dossier's base URL or the listing URL.
    key: int | str | None
    action: Action
    changed_fields: list[str] = field(default_factory=list)


def action_of(existing: dict[str, Any] | None, changed: list[str]) -> Action:
    """What storing a plan does: inserts a row that was not there, updates one whose fields changed."""
    if existing is None:
        return "inserted"
    return "updated" if changed else "unchanged"
