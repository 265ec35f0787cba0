"""What a page's record does to the archive: articles (with their child rows and versions), dossiers and
their tables of contents, listings and their items.

It is one cohesive module, as each kind is stored in the same two steps, a *plan* that reads what the archive
holds and decides the action (inserted, updated, unchanged) and the changed fields, then *applying* it, which
writes. `store_record(..., dry_run=True)` stops after the plan, so what a reparse previews is by construction
what storing would do.

Records are upserted on their natural key (an article's site id, else its canonical URL; a dossier's base
URL, whichever scheme it was first seen with; a listing's URL; URLs in their normal form, scraper.site), so
storing the same page twice changes nothing, and each change of an article's content leaves a row in
`article_versions` with a reverse diff of the fields that changed (scraper.archive.versions).

Each fact is stored once: an article's record is its columns and child rows (the view `article_records`
rebuilds it, and the plan compares against that); `articles.record` keeps only what has no column, the
dossier as the page named it (its title and URL may differ from the dossier's own row).

What pages repeat is stored once and named by each article that shows it: its authors and themes, the paywall's
phrases (`paywall_phrases`), the related links (`links`: section, title, URL and teaser, as pages show them).

Positions: the children of an article (authors, themes, paywall markers, related links, comments) are
numbered from 0, like `comments.in_reply_to`; dossier and listing items keep the 1-based `position` of their
record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from scraper.archive.fetchlog import to_json, utc_now
from scraper.archive.headers import key64
from scraper.archive.keeping import dated, emptied, is_older
from scraper.archive.queries import stored_record
from scraper.archive.versions import version_diff
from scraper.errors import DegradedPage
from scraper.models import Article, Dossier, Listing, ListItem, PageType, Record, RelatedLink
from scraper.site import dossier_base_url, normal_url, scheme_variants

if TYPE_CHECKING:
    from scraper.archive.db import Archive

Action = Literal["inserted", "updated", "unchanged"]

# Contract keys whose change is worth a row in `article_versions` (all but `type` and `warnings`).
VERSIONED_FIELDS = (
    "url", "site_id", "kicker", "title", "published_at", "updated_at", "authors", "teaser", "body",
    "image", "dossier", "paywall", "related", "comments_count", "comments", "themes",
)
_ITEM_COLUMNS = ("position", "url", "site_id", "title", "kicker", "teaser", "is_paywalled", "section")
_ARTICLE_CHILDREN = ("article_authors", "article_themes", "article_paywall_phrases", "article_links", "comments")
_CHILD_FIELDS = frozenset({"authors", "themes", "paywall", "related", "comments"})  # what those rows hold


@dataclass
class StoreOutcome:
    """What storing one page's record did (or, in a dry run, would do)."""

    kind: PageType
    # The article id (None in a dry run for an article not stored yet), the dossier's base URL or the listing URL.
    key: int | str | None
    action: Action
    changed_fields: list[str] = field(default_factory=list)


def store_record(archive: Archive, record: Record, *, fetch_id: int | None = None, seen_at: str | None = None,
                 dry_run: bool = False, keep_better: bool = False, captured: bool = False,
                 changed_only: bool = False) -> StoreOutcome:
    """Upsert `record` and its child rows in one transaction; with `dry_run`, write nothing and say what
    storing would do. With `keep_better`, a record that lacks what the archived one has (`degradation`) is not
    stored: DegradedPage is raised, nothing written. A page `captured` elsewhere (imported: `seen_at` is when its
    file says it was made) older than the archive's last sight of it only moves an article's first sight back.
    With `changed_only`, a record the archive holds as it is writes nothing, not even its last sight (reparse)."""
    if not isinstance(record, Article | Dossier | Listing):
        raise TypeError(f"not a record: {type(record).__name__}")
    if dry_run:
        return _plan(archive, record).outcome()
    seen_at = seen_at or utc_now()
    with archive.transaction():  # the plan is read inside it: another writer cannot slip in between
        plan = _plan(archive, record)
        problem = plan.degradation() if keep_better else None
        if problem is not None:
            raise DegradedPage(problem)
        if changed_only and plan.action == "unchanged":
            return plan.outcome()
        if captured and plan.existing is not None and is_older(seen_at, plan.existing["last_seen_at"]):
            return _kept_older(archive, plan, seen_at)
        if isinstance(plan, _ArticlePlan):
            return plan.apply(archive, fetch_id, seen_at)
        return plan.apply(archive, seen_at)


def _kept_older(archive: Archive, plan: _ArticlePlan | _DossierPlan | _ListingPlan, seen_at: str) -> StoreOutcome:
    """An older capture of a page the archive holds: only an article's first sight moves back to it."""
    existing = plan.existing or {}
    if isinstance(plan, _ArticlePlan) and is_older(seen_at, existing["first_seen_at"]):
        archive._update("articles", "id", existing["id"], {"first_seen_at": seen_at})
    return replace(plan.outcome(), action="unchanged", changed_fields=[])


def _plan(archive: Archive, record: Record) -> _ArticlePlan | _DossierPlan | _ListingPlan:
    if isinstance(record, Article):
        return _ArticlePlan.read(archive, record)
    if isinstance(record, Dossier):
        return _DossierPlan.read(archive, record)
    return _ListingPlan.read(archive, record)


# --- articles -----------------------------------------------------------------------------------

@dataclass
class _ArticlePlan:
    article: Article
    data: dict[str, Any]  # the contract dict
    existing: dict[str, Any] | None
    changed: list[str]
    previous: dict[str, Any]  # the stored record, when there is one

    @classmethod
    def read(cls, archive: Archive, article: Article) -> _ArticlePlan:
        data = article.to_dict()
        existing = _find_article_row(archive, article)
        changed: list[str] = []
        previous: dict[str, Any] = {}
        if existing is not None:
            previous = stored_record(archive, int(existing["id"]))
            changed = [key for key in (*VERSIONED_FIELDS, "warnings") if previous.get(key) != data[key]]
        return cls(article, data, existing, changed, previous)

    @property
    def action(self) -> Action:
        return _action(self.existing, self.changed)

    def degradation(self) -> str | None:
        """Why the page is not the article the archive holds (its dates gone with its text, or with its authors
        and title), or None: a genuine change (a new title, a shorter text) is not one."""
        previous, new = self.previous, self.data
        if previous and dated(previous) and not dated(new) and (
                not new["body"] and previous.get("body") or not new["authors"] and new["title"] != previous["title"]):
            return "the page has neither the dates nor the text, authors or title of the archived article"
        return None

    def outcome(self, key: int | None = None) -> StoreOutcome:
        if key is None and self.existing is not None:
            key = int(self.existing["id"])
        return StoreOutcome("article", key, self.action, self.changed)

    def apply(self, archive: Archive, fetch_id: int | None, seen_at: str) -> StoreOutcome:
        row = _article_row(archive, self.article, self.data, seen_at)
        existing = self.existing
        if existing is None:
            row.update(fetch_id=fetch_id, first_seen_at=seen_at, last_seen_at=seen_at, changed_at=seen_at)
            article_id = archive._insert("articles", row)
        else:
            article_id = int(existing["id"])
            row["last_seen_at"] = seen_at
            row["fetch_id"] = fetch_id if fetch_id is not None else existing["fetch_id"]
            content_changed = [key for key in self.changed if key != "warnings"]
            if content_changed:
                row["changed_at"] = seen_at
                diff = version_diff(self.previous, self.data, content_changed)
                archive._insert("article_versions", {
                    "article_id": article_id, "recorded_at": seen_at, "changed_fields": to_json(content_changed),
                    "diff": diff,
                })
            archive._update("articles", "id", article_id, row)
        if existing is None or any(key in _CHILD_FIELDS for key in self.changed):
            _replace_article_children(archive, article_id, self.article)
        _link_items_to_article(archive, article_id, self.article, existing)
        return self.outcome(article_id)


def _find_article_row(archive: Archive, article: Article) -> dict[str, Any] | None:
    if article.site_id is not None:
        row = archive._select_one("select * from articles where site_id = ?", [article.site_id])
        if row is not None:
            return row
    return archive._select_one("select * from articles where url = ?", [article.url])


def _article_row(archive: Archive, article: Article, data: dict[str, Any], seen_at: str) -> dict[str, Any]:
    image = article.image
    return {
        "site_id": article.site_id, "url": article.url, "kicker": article.kicker,
        "title": article.title, "published_at": article.published_at,
        "updated_at": article.updated_at, "teaser": article.teaser, "body": article.body,
        "image_url": image.url if image else None, "image_alt": image.alt if image else None,
        "image_credit": image.credit if image else None,
        "dossier_id": _dossier_for_article(archive, article, seen_at),
        "is_paywalled": int(article.paywall.is_paywalled),
        "comments_count": article.comments_count, "warnings": to_json(article.warnings),
        "record": record_residue(data),
    }


def record_residue(data: dict[str, Any]) -> str:
    """What `articles.record` keeps of an article's contract dict: what has no column (the dossier as the page
    named it), as JSON."""
    return to_json({"dossier": data["dossier"]}) if data.get("dossier") else "{}"


def _dossier_for_article(archive: Archive, article: Article, seen_at: str) -> int | None:
    """The id of the dossier the article names (inserted, not yet seen itself, when new)."""
    ref = article.dossier
    if ref is None:
        return None
    if ref.url is None:
        return archive._scalar("select id from dossiers where title = ? limit 1", [ref.title])
    base, _ = dossier_base_url(normal_url(ref.url))
    existing = _dossier_row(archive, base)
    if existing is not None:
        if not existing["title"] and ref.title:
            archive._update("dossiers", "id", existing["id"], {"title": ref.title})
        return int(existing["id"])
    return archive._insert("dossiers", {"url": base, "title": ref.title, "first_seen_at": seen_at,
                                        "last_seen_at": None})


def _replace_article_children(archive: Archive, article_id: int, article: Article) -> None:
    for table in _ARTICLE_CHILDREN:
        archive._execute(f"delete from [{table}] where article_id = ?", [article_id])
    archive._insert_all("article_authors", [
        {"article_id": article_id, "position": i, "author_id": _lookup(archive, "authors", name)}
        for i, name in enumerate(article.authors)
    ])
    archive._insert_all("article_themes", [
        {"article_id": article_id, "position": i, "theme_id": _lookup(archive, "themes", name)}
        for i, name in enumerate(article.themes)
    ])
    archive._insert_all("article_paywall_phrases", [
        {"article_id": article_id, "position": i, "phrase_id": _lookup(archive, "paywall_phrases", marker, "phrase")}
        for i, marker in enumerate(article.paywall.markers)
    ])
    archive._insert_all("article_links", [
        {"article_id": article_id, "position": i, "link_id": link_id(archive, link)}
        for i, link in enumerate(article.related)
    ])
    archive._insert_all("comments", [
        {"article_id": article_id, "position": i, "author": comment.author,
         "posted_at": comment.posted_at, "text": comment.text, "in_reply_to": comment.in_reply_to}
        for i, comment in enumerate(article.comments)
    ])


def _lookup(archive: Archive, table: str, name: str, column: str = "name") -> int:
    """The id of the row of `table` (authors, themes, paywall_phrases) whose `column` is `name`, inserted when
    missing."""
    found = archive._scalar(f"select id from [{table}] where [{column}] = ?", [name])
    return int(found) if found is not None else archive._insert(table, {column: name})


def _action(existing: dict[str, Any] | None, changed: list[str]) -> Action:
    """What storing a plan does: inserts a row that was not there, updates one whose fields changed."""
    if existing is None:
        return "inserted"
    return "updated" if changed else "unchanged"


def link_id(archive: Archive, link: RelatedLink) -> int:
    """The id of the row of `links` that is `link` (its section, title, URL and teaser), inserted when missing."""
    key = key64(json.dumps([link.section, link.title, link.url, link.teaser], ensure_ascii=False))
    found = archive._scalar("select id from links where key = ? and url is ? and title is ? and section is ?"
                            " and teaser is ? limit 1", [key, link.url, link.title, link.section, link.teaser])
    if found is not None:
        return int(found)
    return archive._insert("links", {"key": key, "section": link.section, "title": link.title, "url": link.url,
                                     "teaser": link.teaser})


def _link_items_to_article(archive: Archive, article_id: int, article: Article,
                           existing: dict[str, Any] | None) -> None:
    urls = {article.url} | ({existing["url"]} if existing else set())
    placeholders = ", ".join("?" for _ in urls)
    # `+article_id` keeps SQLite on the site_id / url indexes: the article_id index would visit every
    # unlinked item of the archive for each article stored (milliseconds each in a large archive).
    for table in ("dossier_articles", "listing_items"):
        archive._execute(
            f"update [{table}] set article_id = ? where +article_id is null"
            f" and (site_id = ? or url in ({placeholders}))",
            [article_id, article.site_id, *urls],
        )


# --- dossiers and listings ----------------------------------------------------------------------

def _item_rows(items: list[ListItem]) -> list[dict[str, Any]]:
    return [
        {"position": item.position, "url": item.url, "site_id": item.site_id, "title": item.title,
         "kicker": item.kicker, "teaser": item.teaser, "is_paywalled": int(item.is_paywalled),
         "section": item.section}
        for item in items
    ]


def _stored_item_rows(archive: Archive, table: str, where: str, args: list[Any]) -> list[dict[str, Any]]:
    return archive._select(f"select {', '.join(_ITEM_COLUMNS)} from [{table}] where {where} order by position",
                           args)


def _article_id_for_item(archive: Archive, item: ListItem) -> int | None:
    if item.site_id is not None:
        found = archive._scalar("select id from articles where site_id = ?", [item.site_id])
        if found is not None:
            return int(found)
    found = archive._scalar("select id from articles where url = ?", [item.url])
    return int(found) if found is not None else None


def _dossier_row(archive: Archive, base_url: str) -> dict[str, Any] | None:
    """The dossier at `base_url`, whichever scheme it was first seen with (the site moved to https)."""
    variants = scheme_variants(base_url)
    placeholders = ", ".join("?" for _ in variants)
    return archive._select_one(f"select * from dossiers where url in ({placeholders}) order by url = ? desc",
                               [*variants, base_url])


@dataclass
class _DossierPlan:
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
    def read(cls, archive: Archive, dossier: Dossier) -> _DossierPlan:
        base, page = dossier_base_url(normal_url(dossier.url))
        existing = _dossier_row(archive, base)
        items = _item_rows(dossier.articles)
        if existing is None:
            return cls(dossier, base, page, items, None, {}, "inserted", [])
        updates = _dossier_updates(existing, dossier, page)
        changed = [key for key in updates if updates[key] != existing[key]]
        stored = _stored_item_rows(archive, "dossier_articles", "dossier_id = ? and page = ?", [existing["id"], page])
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

    def apply(self, archive: Archive, seen_at: str) -> StoreOutcome:
        dossier = self.dossier
        if self.existing is None:
            dossier_id = archive._insert("dossiers", {
                "url": self.base, "title": dossier.title, "intro": dossier.intro,
                "first_seen_at": seen_at, "last_seen_at": seen_at,
            })
        else:
            dossier_id = int(self.existing["id"])
            archive._update("dossiers", "id", dossier_id, {**self.updates, "last_seen_at": seen_at})
        archive._execute("delete from dossier_articles where dossier_id = ? and page = ?", [dossier_id, self.page])
        archive._insert_all("dossier_articles", [
            {"dossier_id": dossier_id, "page": self.page, **row, "article_id": _article_id_for_item(archive, item)}
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
class _ListingPlan:
    listing: Listing
    row: dict[str, Any]
    items: list[dict[str, Any]]
    existing: dict[str, Any] | None
    changed: list[str]
    stored_items: int = 0  # the entries the archive holds for this page

    @classmethod
    def read(cls, archive: Archive, listing: Listing) -> _ListingPlan:
        row = {"url": normal_url(listing.url), "title": listing.title, "next_page": listing.next_page}
        items = _item_rows(listing.articles)
        existing = archive._select_one("select * from listings where url = ?", [row["url"]])
        changed: list[str] = []
        stored: list[dict[str, Any]] = []
        if existing is not None:
            changed = [key for key in ("title", "next_page") if existing[key] != row[key]]
            stored = _stored_item_rows(archive, "listing_items", "listing_url = ?", [row["url"]])
            if stored != items:
                changed.append("articles")
        return cls(listing, row, items, existing, changed, len(stored))

    def degradation(self) -> str | None:
        return emptied("listing", self.stored_items, self.items)

    @property
    def action(self) -> Action:
        return _action(self.existing, self.changed)

    def outcome(self) -> StoreOutcome:
        return StoreOutcome("listing", self.row["url"], self.action, self.changed)

    def apply(self, archive: Archive, seen_at: str) -> StoreOutcome:
        url = self.row["url"]
        if self.existing is None:
            archive._insert("listings", {**self.row, "last_seen_at": seen_at})
        else:
            archive._update("listings", "url", url, {**self.row, "last_seen_at": seen_at})
        archive._execute("delete from listing_items where listing_url = ?", [url])
        archive._insert_all("listing_items", [
            {"listing_url": url, **row, "article_id": _article_id_for_item(archive, item)}
            for row, item in zip(self.items, self.listing.articles, strict=True)
        ])
        return self.outcome()
