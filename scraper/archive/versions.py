"""An article's history: what `article_versions` keeps of each change, and every version rebuilt from it.

Each time an article's content changes, its row in `article_versions` keeps, in `diff`, how to get each changed
field's previous value back from the new one — a *reverse diff* (scraper.diffs computes them). Rows written
before schema 4 keep whole previous values in `previous` instead; both are read alike.

`Versions.history` starts from the article's current record (the view `article_records`) and walks its
versions from the newest, undoing one change at a time, so it rebuilds every version the archive has seen;
between two versions, a text field's change is given word by word (scraper.diffs), any other field's as its
value before and after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from scraper.archive.connection import Connection
from scraper.archive.queries import Articles
from scraper.diffs import field_change, previous_values, version_diff
from scraper.errors import NotArchived

# --- history -------------------------------------------------------------------------------------------

@dataclass
class Version:
    """One version of an article: from when the archive saw it, the record, and what changed from the one before."""

    number: int
    seen_from: str | None
    record: dict[str, Any]
    changed_fields: list[str] = field(default_factory=list)
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.number, "seen_from": self.seen_from, "changed_fields": self.changed_fields,
                "changes": self.changes, "record": self.record}


@dataclass
class ArticleHistory:
    """Every version of one article, oldest first."""

    article_id: int
    site_id: int | None
    url: str
    title: str | None
    first_seen_at: str | None
    last_seen_at: str | None
    versions: list[Version]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.article_id, "site_id": self.site_id, "url": self.url, "title": self.title,
                "first_seen_at": self.first_seen_at, "last_seen_at": self.last_seen_at,
                "versions": [version.to_dict() for version in self.versions]}


class Versions:
    """The `article_versions` table: every version of an article, rebuilt from the current record back."""

    def __init__(self, connection: Connection, articles: Articles) -> None:
        self.connection = connection
        self.articles = articles

    def history(self, article: str) -> ArticleHistory:
        """The history of the archived article `article` (its site id, or its URL). Raises NotArchived."""
        site_id = int(article) if article.strip().isdigit() else None
        found = self.articles.find(article.strip(), site_id)
        if found is None:
            raise NotArchived(f"no article {article} in archive {self.connection.path}")
        row = self.connection.one("select id, site_id, url, title, first_seen_at, last_seen_at from articles"
                                  " where id = ?", [found["id"]])
        assert row is not None
        record = self.articles.stored_record(int(row["id"]))
        versions = self._versions_back(int(row["id"]), record, row["first_seen_at"])
        return ArticleHistory(int(row["id"]), row["site_id"], row["url"], row["title"], row["first_seen_at"],
                              row["last_seen_at"], versions)

    def _versions_back(self, article_id: int, current: dict[str, Any], first_seen_at: str | None) -> list[Version]:
        """The versions from the current record back to the first, undoing the changes newest first."""
        rows = self.connection.select("select recorded_at, changed_fields, previous, diff from article_versions"
                                      " where article_id = ? order by id desc", [article_id])
        newer = Version(len(rows) + 1, None, current)
        versions = [newer]
        for row in rows:
            fields = json.loads(row["changed_fields"])
            older = {**newer.record, **previous_values(newer.record, row["diff"], row["previous"], fields)}
            newer.seen_from = row["recorded_at"]
            newer.changed_fields = fields
            newer.changes = {name: field_change(older.get(name), newer.record.get(name)) for name in fields}
            newer = Version(newer.number - 1, None, older)
            versions.append(newer)
        newer.seen_from = first_seen_at
        return versions[::-1]

    def slim(self, article_id: int) -> int:
        """Rewrite the rows of an article's history written before schema 4 (whole previous values) as reverse
        diffs; returns the rows rewritten. Inside the caller's transaction."""
        connection = self.connection
        if connection.scalar("select 1 from article_versions where article_id = ? and diff is null limit 1",
                             [article_id]) is None:
            return 0
        versions = self._versions_back(article_id, self.articles.stored_record(article_id), None)
        ids = [row_id for (row_id,) in connection.execute(
            "select id from article_versions where article_id = ? order by id", [article_id])]
        for row_id, older, newer in zip(ids, versions[:-1], versions[1:], strict=True):
            diff = version_diff(older.record, newer.record, newer.changed_fields)
            connection.update("article_versions", "id", row_id, {"diff": diff, "previous": None})
        return len(ids)
