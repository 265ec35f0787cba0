"""What a dossier's page or a listing does to the archive: its row and its entries (`dossiers` and
`dossier_articles`, `listings` and `listing_items`), each entry linked to its article when the archive has it.
The plans of scraper.archive.records for these two kinds: read what the archive holds, then apply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scraper.archive.connection import Connection
from scraper.archive.keeping import emptied
from scraper.archive.outcome import Action, StoreOutcome, action_of
from scraper.models import Dossier, Listing, ListItem
from scraper.site import dossier_base_url, normal_url, scheme_variants

_ITEM_COLUMNS = ("position", "url", "site_id", "title", "kicker", "teaser", "is_paywalled", "section")


def _item_rows(items: list[ListItem]) -> list[dict[str, Any]]:
    return [
        {"position": item.position, "url": item.url, "site_id": item.site_id, "title": item.title,
         "kicker": item.kicker, "teaser": item.teaser, "is_paywalled": int(item.is_paywalled),
         "section": item.section}
        for item in items
    ]


def _stored_item_rows(connection: Connection, table: str, where: str, args: list[Any]) -> list[dict[str, Any]]:
    return connection.select(f"select {', '.join(_ITEM_COLUMNS)} from [{table}] where {where} order by position",
                             args)


def _article_id_for_item(connection: Connection, item: ListItem) -> int | None:
    if item.site_id is not None:
        found = connection.scalar("select id from articles where site_id = ?", [item.site_id])
        if found is not None:
            return int(found)
    found = connection.scalar("select id from articles where url = ?", [item.url])
    return int(found) if found is not None else None


def dossier_row(connection: Connection, base_url: str) -> dict[str, Any] | None:
    """The dossier at `base_url`, whichever scheme it was first seen with (the site moved to https)."""
    variants = scheme_variants(base_url)
    placeholders = ", ".join("?" for _ in variants)
    return connection.one(f"select * from dossiers where url in ({placeholders}) order by url = ? desc",
                          [*variants, base_url])


@dataclass
class DossierPlan:
    dossier: Dossier
    base: str
    page: int
    items: list[dict[str, Any]]
    existing: dict[str, Any] | None
    updates: dict[str, Any]
    action: Action
    changed: list[str]
    stored_items: int = 0  # the entries the archive holds for this page

    @classmethod
    def read(cls, connection: Connection, dossier: Dossier) -> DossierPlan:
        base, page = dossier_base_url(normal_url(dossier.url))
        existing = dossier_row(connection, base)
        items = _item_rows(dossier.articles)
        if existing is None:
            return cls(dossier, base, page, items, None, {}, "inserted", [])
        updates = _dossier_updates(existing, dossier, page)
        changed = [key for key in updates if updates[key] != existing[key]]
        stored = _stored_item_rows(connection, "dossier_articles", "dossier_id = ? and page = ?",
                                   [existing["id"], page])
        if stored != items:
            changed.append("articles")
        # A dossier known only from an article's dossier box (never seen itself) is inserted by its first page.
        action: Action = "inserted" if existing["last_seen_at"] is None else ("updated" if changed else "unchanged")
        return cls(dossier, base, page, items, existing, updates, action, changed if action == "updated" else [],
                   len(stored))

    def degradation(self) -> str | None:
        return emptied("dossier", self.stored_items, self.items)

    def outcome(self) -> StoreOutcome:
        return StoreOutcome("dossier", self.base, self.action, self.changed)

    def apply(self, connection: Connection, seen_at: str) -> StoreOutcome:
        dossier = self.dossier
        connection.memo("dossiers").clear()  # its title may change: what storing articles learnt of it goes
        if self.existing is None:
            dossier_id = connection.insert("dossiers", {
                "url": self.base, "title": dossier.title, "intro": dossier.intro,
                "first_seen_at": seen_at, "last_seen_at": seen_at,
            })
        else:
            dossier_id = int(self.existing["id"])
            connection.update("dossiers", "id", dossier_id, {**self.updates, "last_seen_at": seen_at})
        connection.execute("delete from dossier_articles where dossier_id = ? and page = ?", [dossier_id, self.page])
        connection.insert_all("dossier_articles", [
            {"dossier_id": dossier_id, "page": self.page, **row, "article_id": _article_id_for_item(connection, item)}
            for row, item in zip(self.items, dossier.articles, strict=True)
        ])
        return self.outcome()


def _dossier_updates(existing: dict[str, Any], dossier: Dossier, page: int) -> dict[str, Any]:
    """Page 1 is authoritative for title and intro; later pages only fill what is missing."""
    if page == 1:
        return {"title": dossier.title, "intro": dossier.intro}
    updates: dict[str, Any] = {}
    if not existing["title"] and dossier.title:
        updates["title"] = dossier.title
    if existing["intro"] is None and dossier.intro is not None:
        updates["intro"] = dossier.intro
    return updates


@dataclass
class ListingPlan:
    listing: Listing
    row: dict[str, Any]
    items: list[dict[str, Any]]
    existing: dict[str, Any] | None
    changed: list[str]
    stored_items: int = 0  # the entries the archive holds for this page

    @classmethod
    def read(cls, connection: Connection, listing: Listing) -> ListingPlan:
        row = {"url": normal_url(listing.url), "title": listing.title, "next_page": listing.next_page}
        items = _item_rows(listing.articles)
        existing = connection.one("select * from listings where url = ?", [row["url"]])
        changed: list[str] = []
        stored: list[dict[str, Any]] = []
        if existing is not None:
            changed = [key for key in ("title", "next_page") if existing[key] != row[key]]
            stored = _stored_item_rows(connection, "listing_items", "listing_url = ?", [row["url"]])
            if stored != items:
                changed.append("articles")
        return cls(listing, row, items, existing, changed, len(stored))

    def degradation(self) -> str | None:
        return emptied("listing", self.stored_items, self.items)

    @property
    def action(self) -> Action:
        return action_of(self.existing, self.changed)

    def outcome(self) -> StoreOutcome:
        return StoreOutcome("listing", self.row["url"], self.action, self.changed)

    def apply(self, connection: Connection, seen_at: str) -> StoreOutcome:
        url = self.row["url"]
        if self.existing is None:
            connection.insert("listings", {**self.row, "last_seen_at": seen_at})
        else:
            connection.update("listings", "url", url, {**self.row, "last_seen_at": seen_at})
        connection.execute("delete from listing_items where listing_url = ?", [url])
        connection.insert_all("listing_items", [
            {"listing_url": url, **row, "article_id": _article_id_for_item(connection, item)}
            for row, item in zip(self.items, self.listing.articles, strict=True)
        ])
        return self.outcome()
