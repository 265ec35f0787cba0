"""What a page's record does to the archive: articles (with their child rows and versions), dossiers and
their tables of contents, listings and their items.

Each kind is stored in two steps: a *plan* reads what the archive holds and decides the action (inserted,
updated, unchanged) and the changed fields; *applying* it writes. `Records.store(..., dry_run=True)` stops
after the plan, so what a reparse previews is by construction what storing would do.

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
from dataclasses import dataclass, replace
from typing import Any

from scraper.archive.connection import Connection
from scraper.archive.headers import key64
from scraper.archive.keeping import dated, is_older
from scraper.archive.lists import DossierPlan, ListingPlan, dossier_row
from scraper.archive.outcome import Action, StoreOutcome, action_of
from scraper.archive.queries import Articles
from scraper.archive.values import archive_time, json_text, utc_now
from scraper.diffs import version_diff
from scraper.errors import DegradedPage
from scraper.models import Article, Dossier, Record, RelatedLink, is_record, plain
from scraper.site import dossier_base_url, normal_url

# Contract keys whose change is worth a row in `article_versions` (all but `type` and `warnings`).
VERSIONED_FIELDS = (
    "url", "site_id", "kicker", "title", "published_at", "updated_at", "authors", "teaser", "body",
    "image", "dossier", "paywall", "related", "comments_count", "comments", "themes",
)
_ARTICLE_CHILDREN = ("article_authors", "article_themes", "article_paywall_phrases", "article_links", "comments")
_CHILD_FIELDS = frozenset({"authors", "themes", "paywall", "related", "comments"})  # what those rows hold


class Records:
    """What a page's record does to the archive's tables: articles, dossiers, listings and their child rows."""

    def __init__(self, connection: Connection, articles: Articles) -> None:
        self.connection = connection
        self.articles = articles  # the stored record an article is compared with

    def store(self, record: Record, *, fetch_id: int | None = None, seen_at: str | None = None,
              dry_run: bool = False, keep_better: bool = False, captured: bool = False,
              changed_only: bool = False) -> StoreOutcome:
        """Upsert `record` and its child rows in one transaction (a part of the caller's, when one is open); with
        `dry_run`, write nothing and say what storing would do. With `keep_better`, a record that lacks what the
        archived one has (`degradation`) is not stored: DegradedPage is raised before anything is written, so a
        caller's transaction may go on. A page `captured` elsewhere (imported: `seen_at` is when its file says it
        was made) older than the archive's last sight of it only moves an article's first sight back. With
        `changed_only`, a record the archive holds as it is writes nothing, not even its last sight (reparse)."""
        if not is_record(record):  # of a type in the registry of page types (scraper.models.PAGE_TYPES)
            raise TypeError(f"not a record: {type(record).__name__}")
        if dry_run:
            return self._plan(record).outcome()
        seen_at = archive_time(seen_at) if seen_at else utc_now()
        with self.connection.writes():  # the plan is read inside it: another writer cannot slip in between
            plan = self._plan(record)
            problem = plan.degradation() if keep_better else None
            if problem is not None:
                raise DegradedPage(problem)
            if changed_only and plan.action == "unchanged":
                return plan.outcome()
            if captured and plan.existing is not None and is_older(seen_at, plan.existing["last_seen_at"]):
                return _kept_older(self.connection, plan, seen_at)
            if isinstance(plan, _ArticlePlan):
                return plan.apply(self.connection, fetch_id, seen_at)
            return plan.apply(self.connection, seen_at)

    def _plan(self, record: Record) -> _ArticlePlan | DossierPlan | ListingPlan:
        if isinstance(record, Article):
            return _ArticlePlan.read(self.connection, record, self.articles)
        if isinstance(record, Dossier):
            return DossierPlan.read(self.connection, record)
        return ListingPlan.read(self.connection, record)


def _kept_older(connection: Connection, plan: _ArticlePlan | DossierPlan | ListingPlan, seen_at: str) -> StoreOutcome:
    """An older capture of a page the archive holds: only an article's first sight moves back to it."""
    existing = plan.existing or {}
    if isinstance(plan, _ArticlePlan) and is_older(seen_at, existing["first_seen_at"]):
        connection.update("articles", "id", existing["id"], {"first_seen_at": seen_at})
    return replace(plan.outcome(), action="unchanged", changed_fields=[])




# --- articles -----------------------------------------------------------------------------------

@dataclass
class _ArticlePlan:
    article: Article
    data: dict[str, Any]  # the contract dict, compared with the stored one (empty for a new article: none is)
    existing: dict[str, Any] | None
    changed: list[str]
    previous: dict[str, Any]  # the stored record, when there is one

    @classmethod
    def read(cls, connection: Connection, article: Article, articles: Articles) -> _ArticlePlan:
        existing = _find_article_row(connection, article)
        changed: list[str] = []
        data: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        if existing is not None:
            data = article.to_dict()
            previous = articles.stored_record(int(existing["id"]))
            changed = [key for key in (*VERSIONED_FIELDS, "warnings") if previous.get(key) != data[key]]
        return cls(article, data, existing, changed, previous)

    @property
    def action(self) -> Action:
        return action_of(self.existing, self.changed)

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

    def apply(self, connection: Connection, fetch_id: int | None, seen_at: str) -> StoreOutcome:
        row = _article_row(connection, self.article, seen_at)
        existing = self.existing
        if existing is None:
            row.update(fetch_id=fetch_id, first_seen_at=seen_at, last_seen_at=seen_at, changed_at=seen_at)
            article_id = connection.insert("articles", row)
        else:
            article_id = int(existing["id"])
            row["last_seen_at"] = seen_at
            row["fetch_id"] = fetch_id if fetch_id is not None else existing["fetch_id"]
            content_changed = [key for key in self.changed if key != "warnings"]
            if content_changed:
                row["changed_at"] = seen_at
                diff = version_diff(self.previous, self.data, content_changed)
                connection.insert("article_versions", {
                    "article_id": article_id, "recorded_at": seen_at, "changed_fields": json_text(content_changed),
                    "diff": diff,
                })
            connection.update("articles", "id", article_id, row)
        if existing is None or any(key in _CHILD_FIELDS for key in self.changed):
            _replace_article_children(connection, article_id, self.article, new=existing is None)
        _link_items_to_article(connection, article_id, self.article, existing)
        return self.outcome(article_id)


def _find_article_row(connection: Connection, article: Article) -> dict[str, Any] | None:
    """The stored article with the site id of `article`, else with its URL (one query: both indexes)."""
    if article.site_id is None:
        return connection.one("select * from articles where url = ?", [article.url])
    return connection.one("select * from articles where site_id = ? or url = ? order by site_id = ? desc limit 1",
                          [article.site_id, article.url, article.site_id])


def _article_row(connection: Connection, article: Article, seen_at: str) -> dict[str, Any]:
    image = article.image
    return {
        "site_id": article.site_id, "url": article.url, "kicker": article.kicker,
        "title": article.title, "published_at": article.published_at,
        "updated_at": article.updated_at, "teaser": article.teaser, "body": article.body,
        "image_url": image.url if image else None, "image_alt": image.alt if image else None,
        "image_credit": image.credit if image else None,
        "dossier_id": _dossier_for_article(connection, article, seen_at),
        "is_paywalled": int(article.paywall.is_paywalled),
        "comments_count": article.comments_count, "warnings": json_text(article.warnings),
        "record": record_residue({"dossier": plain(article.dossier)}),
    }


def record_residue(data: dict[str, Any]) -> str:
    """What `articles.record` keeps of an article's contract dict: what has no column (the dossier as the page
    named it), as JSON."""
    return json_text({"dossier": data["dossier"]}) if data.get("dossier") else "{}"


def _dossier_for_article(connection: Connection, article: Article, seen_at: str) -> int | None:
    """The id of the dossier the article names (inserted, not yet seen itself, when new)."""
    ref = article.dossier
    if ref is None:
        return None
    if ref.url is None:
        return connection.scalar("select id from dossiers where title = ? limit 1", [ref.title])
    titled = connection.memo("dossiers")  # URL named -> id of a dossier with a title (storing a dossier forgets it)
    if ref.url in titled:
        return int(titled[ref.url])
    base, _ = dossier_base_url(normal_url(ref.url))
    existing = dossier_row(connection, base)
    if existing is not None:
        dossier_id, title = int(existing["id"]), existing["title"]
        if not title and ref.title:
            connection.update("dossiers", "id", dossier_id, {"title": ref.title})
            title = ref.title
    else:
        dossier_id, title = connection.insert("dossiers", {"url": base, "title": ref.title, "first_seen_at": seen_at,
                                                           "last_seen_at": None}), ref.title
    if title:
        titled[ref.url] = dossier_id
    return dossier_id


def _replace_article_children(connection: Connection, article_id: int, article: Article, *, new: bool) -> None:
    """Write the child rows of `article` in place of those it had (a `new` article, just inserted, has none)."""
    if not new:
        for table in _ARTICLE_CHILDREN:
            connection.execute(f"delete from [{table}] where article_id = ?", [article_id])
    connection.insert_all("article_authors", [
        {"article_id": article_id, "position": i, "author_id": _lookup(connection, "authors", name)}
        for i, name in enumerate(article.authors)
    ])
    connection.insert_all("article_themes", [
        {"article_id": article_id, "position": i, "theme_id": _lookup(connection, "themes", name)}
        for i, name in enumerate(article.themes)
    ])
    connection.insert_all("article_paywall_phrases", [
        {"article_id": article_id, "position": i, "phrase_id": _lookup(connection, "paywall_phrases", marker, "phrase")}
        for i, marker in enumerate(article.paywall.markers)
    ])
    connection.insert_all("article_links", [
        {"article_id": article_id, "position": i, "link_id": link_id(connection, link)}
        for i, link in enumerate(article.related)
    ])
    connection.insert_all("comments", [
        {"article_id": article_id, "position": i, "author": comment.author,
         "posted_at": comment.posted_at, "text": comment.text, "in_reply_to": comment.in_reply_to}
        for i, comment in enumerate(article.comments)
    ])


def _lookup(connection: Connection, table: str, name: str, column: str = "name") -> int:
    """The id of the row of `table` (authors, themes, paywall_phrases) whose `column` is `name`, inserted when
    missing (asked once per transaction: these rows are never changed or deleted)."""
    ids = connection.memo(table)
    found = ids.get(name)
    if found is None:
        found = connection.scalar(f"select id from [{table}] where [{column}] = ?", [name])
        found = ids[name] = int(found) if found is not None else connection.insert(table, {column: name})
    return found


def link_id(connection: Connection, link: RelatedLink) -> int:
    """The id of the row of `links` that is `link` (its section, title, URL and teaser), inserted when missing."""
    key = key64(json.dumps([link.section, link.title, link.url, link.teaser], ensure_ascii=False))
    found = connection.scalar("select id from links where key = ? and url is ? and title is ? and section is ?"
                              " and teaser is ? limit 1", [key, link.url, link.title, link.section, link.teaser])
    if found is not None:
        return int(found)
    return connection.insert("links", {"key": key, "section": link.section, "title": link.title, "url": link.url,
                                       "teaser": link.teaser})


def _link_items_to_article(connection: Connection, article_id: int, article: Article,
                           existing: dict[str, Any] | None) -> None:
    urls = {article.url} | ({existing["url"]} if existing else set())
    placeholders = ", ".join("?" for _ in urls)
    # `+article_id` keeps SQLite on the site_id / url indexes: the article_id index would visit every
    # unlinked item of the archive for each article stored (milliseconds each in a large archive).
    for table in ("dossier_articles", "listing_items"):
        connection.execute(
            f"update [{table}] set article_id = ? where +article_id is null"
            f" and (site_id = ? or url in ({placeholders}))",
            [article_id, article.site_id, *urls],
        )
