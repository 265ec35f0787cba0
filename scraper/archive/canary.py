"""The canary's flags (`canary_flags`), and what the recent pages of each kind yielded (the canary's rules, which
read these, are in scraper.canary).

A page is flagged (one row per page, cleared when a later fetch or a `scrape reparse` reads it again) when it lacks
a core field most recent pages of its kind had, or has article links the parser could not place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scraper.archive.connection import Connection
from scraper.archive.values import utc_now
from scraper.models import page_kind

TABLE = "canary_flags"
WINDOW = 200  # the most recent pages of a kind that make the baseline


@dataclass(frozen=True)
class _Kind:
    # The rows of this kind, newest first, but :key (the page itself) and, for articles, flagged ones.
    source: str
    fields: dict[str, str]  # core field -> SQL: 1 when a stored row has it


_TITLE = "coalesce(title, '') != ''"

# The core fields of each kind (their names are those of scraper.canary.CORE_FIELDS), counted in SQL.
KINDS: dict[str, _Kind] = {
    "article": _Kind(
        f"select * from [{page_kind('article').table}] where id is not :key{{not_flagged}} order by id desc",
        {
            "title": _TITLE,
            "date": "coalesce(published_at, updated_at) is not null",
            "teaser": "coalesce(teaser, '') != ''",
            # The paywall state is known when the page showed either its paywall or its free text.
            "paywall state": "is_paywalled = 1 or coalesce(body, '') != ''",
        },
    ),
    "dossier": _Kind(
        f"select * from [{page_kind('dossier').table}] where url is not :key and last_seen_at is not null"
        " order by id desc",
        {"title": _TITLE, "articles": "exists (select 1 from dossier_articles where dossier_id = page.id)"},
    ),
    # Listings (and feeds parsed as listings) warn about an empty list themselves; only the title here.
    "listing": _Kind(f"select * from [{page_kind('listing').table}] where url is not :key order by rowid desc",
                     {"title": _TITLE}),
}


class CanaryFlags:
    """The `canary_flags` table, and the shares of each core field among the recent pages of a kind."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def shares(self, kind: str, *, exclude: int | str | None = None) -> tuple[int, dict[str, float]]:
        """How many recent pages of `kind` there are (at most WINDOW, but `exclude`, a stored page's key), and
        the share of them that had each core field."""
        spec = KINDS[kind]
        sums = ", ".join(f"coalesce(sum({sql}), 0)" for sql in spec.fields.values())
        not_flagged = f" and id not in (select article_id from [{TABLE}] where article_id is not null)"
        source = spec.source.format(not_flagged=not_flagged)
        sql = f"select count(*), {sums} from ({source} limit {WINDOW}) as page"
        pages, *counts = self.connection.execute(sql, {"key": exclude}).fetchone()
        return pages, {name: (count / pages if pages else 0.0) for name, count in zip(spec.fields, counts, strict=True)}

    def flag(self, url: str, kind: str, article_id: int | None, fetch_id: int | None, missing: list[str],
             detail: str) -> None:
        """Flag the page at `url` (an article's flag under another URL goes)."""
        with self.connection.writes():
            if article_id is not None:
                self.connection.execute(f"delete from [{TABLE}] where article_id = ? and url != ?", [article_id, url])
            self.connection.execute(
                f"insert or replace into [{TABLE}] (url, kind, article_id, fetch_id, missing, detail, flagged_at)"
                " values (?, ?, ?, ?, ?, ?, ?)", [url, kind, article_id, fetch_id, json.dumps(missing), detail,
                                                  utc_now()])

    def clear(self, url: str, article_id: int | None) -> None:
        """Clear the page's flag, if it has one (no write otherwise)."""
        if self.is_flagged(url, article_id):
            with self.connection.writes():
                self.connection.execute(f"delete from [{TABLE}] where url = ? or article_id = ?", [url, article_id])

    def is_flagged(self, url: str, article_id: int | None = None) -> bool:
        return self.connection.scalar(f"select 1 from [{TABLE}] where url = ? or article_id = ?",
                                      [url, article_id]) is not None

    def pages(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """The flagged pages, newest flag first (the first `limit` of them)."""
        rows = self.connection.select(f"select url, kind, missing, detail, flagged_at, article_id, fetch_id"
                                      f" from [{TABLE}] order by flagged_at desc, url limit ?",
                                      [-1 if limit is None else limit])
        return [{**row, "missing": json.loads(row["missing"])} for row in rows]

    def count(self) -> int:
        return int(self.connection.scalar(f"select count(*) from [{TABLE}]"))
