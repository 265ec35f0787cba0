"""Reading the archive back: articles by their filters, one article by its keys, and what a crawl or a reparse
asks about the pages already archived.

The filters are SQL, written once here and shared by `scrape export`, `scrape search` and the Datasette canned
queries (scraper.datasette): a dossier given by a URL of any of its pages (http or https) or by words of its
title (case and French accents folded), and a date on or after which an article was published (else updated).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from scraper.archive.connection import Connection
from scraper.archive.keysets import KeySet
from scraper.archive.values import check_since
from scraper.errors import InvalidOption
from scraper.models import PageType, Record
from scraper.site import dossier_base_url, site_id_from_url, without_scheme

# Upper-case letters of French that SQLite's lower() leaves as they are (it folds ASCII only).
_FRENCH_CAPITALS = "ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ"


def _folded(sql: str) -> str:
    """An SQL expression: `sql` in lower case, French accented capitals included."""
    for capital in _FRENCH_CAPITALS:
        sql = f"replace({sql}, '{capital}', '{capital.lower()}')"
    return f"lower({sql})"


def _bare(sql: str) -> str:
    """An SQL expression: the URL `sql` without its scheme."""
    return f"(case when instr({sql}, '://') then substr({sql}, instr({sql}, '://') + 3) else {sql} end)"


def _dossier_match(parameter: str) -> str:
    url, given = _bare("dossiers.url"), _bare(parameter)
    return (f"({given} in ({url}, rtrim({url}, '/')) or substr({given}, 1, length({url}) + 5) = {url} || 'page/'"
            f" or instr({_folded('dossiers.title')}, {_folded(parameter)}) > 0)")


# The dossiers (a row of `dossiers`) that `:dossier` names: a URL of any of the dossier's pages, either scheme,
# or words of its title. Used in a `where` clause over `dossiers`.
DOSSIER_MATCH = _dossier_match(":dossier")
# The articles (a row of `articles`) published, else updated, on or after `:since` (YYYY-MM-DD…).
SINCE_MATCH = "coalesce(articles.published_at, articles.updated_at) >= :since"
# The articles of the dossiers whose ids are the JSON array `:dossiers`: those that name one of them, and
# those listed in their tables of contents.
IN_DOSSIERS = (
    "(articles.dossier_id in (select value from json_each(:dossiers)) or articles.id in (select article_id"
    " from dossier_articles where dossier_id in (select value from json_each(:dossiers))))"
)


def article_filters(*, dossier_ids: list[int] | None = None, since: str | None = None,
                    paywalled: bool | None = None) -> tuple[list[str], dict[str, Any]]:
    """The `where` conditions on `articles` and their parameters for the three filters of the commands:
    the articles of the dossiers `dossier_ids` (see `matching_dossier_ids`), since a date, paywalled or free."""
    wheres: list[str] = []
    params: dict[str, Any] = {}
    if dossier_ids is not None:
        wheres.append(IN_DOSSIERS)
        params["dossiers"] = json.dumps(dossier_ids)
    if since is not None:
        wheres.append(SINCE_MATCH)
        params["since"] = check_since(since)
    if paywalled is not None:
        wheres.append("articles.is_paywalled = :paywalled")
        params["paywalled"] = int(paywalled)
    return wheres, params


class Articles:
    """The archived articles as the commands read them back: by their filters, one by its keys."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def records(self, *, dossier: str | None = None, since: str | None = None, paywalled: bool | None = None,
                archived_at: bool = False, seen_at: bool = False) -> Iterator[dict[str, Any]]:
        """The stored articles as contract dicts, oldest first (published_at, else updated_at; then id); with
        `archived_at`, each also has `archived_at`: when the archive last fetched it (the date a citation
        gives); with `seen_at`, `first_seen_at` and `last_seen_at`: when the archive fetched it first and last.

        `dossier`: a dossier URL (any of its pages) or words of its title; it matches the articles that name
        the dossier and those listed in its table of contents (InvalidOption when it names none). `since`: an
        ISO date; keeps articles published (else updated) on or after it. `paywalled`: True keeps paywalled
        articles, False free ones.
        """
        wheres, params = article_filters(dossier_ids=self.named_dossier_ids(dossier), since=since,
                                         paywalled=paywalled)
        where = f"where {' and '.join(wheres)} " if wheres else ""
        # The rows come in the order of the index on the date (idx_articles_date): nothing to sort, one at a time.
        sql = (f"select (select record from article_records where article_records.id = articles.id),"
               f" first_seen_at, last_seen_at from articles {where}order by coalesce(published_at, updated_at), id")
        cursor = self.connection.execute(sql, params)  # runs now, so a bad filter fails before any output
        return (_with_dates(json.loads(record), first, last, archived_at, seen_at) for record, first, last in cursor)

    def stored_record(self, article_id: int) -> dict[str, Any]:
        """The contract dict of the archived article `article_id`, rebuilt from its columns and child rows."""
        record = self.connection.scalar("select record from article_records where id = ?", [article_id])
        return json.loads(record) if record is not None else {}

    def find(self, url: str, site_id: int | None = None) -> dict[str, Any] | None:
        """The archived article with `site_id` (else found by `url`): its id, url and is_paywalled."""
        site_id = site_id if site_id is not None else site_id_from_url(url)
        return self.connection.one("select id, url, is_paywalled from articles where site_id = ? or url = ?"
                                   " limit 1", [site_id, url])

    def dossier_url(self, article_id: int) -> str | None:
        """The URL of the dossier an archived article belongs to."""
        return self.connection.scalar("select dossiers.url from articles join dossiers"
                                      " on dossiers.id = articles.dossier_id where articles.id = ?", [article_id])

    def latest_paywalled(self) -> str | None:
        """The URL of the paywalled article seen last (to check a subscriber's cookies against)."""
        return self.connection.scalar("select url from articles where is_paywalled = 1"
                                      " order by last_seen_at desc limit 1")

    def matching_dossier_ids(self, dossier: str) -> list[int]:
        """Ids of the dossiers `dossier` names (DOSSIER_MATCH)."""
        return [int(row[0]) for row in self.connection.execute(
            f"select id from dossiers where {DOSSIER_MATCH} order by id", {"dossier": dossier})]

    def named_dossier_ids(self, dossier: str | None) -> list[int] | None:
        """Ids of the dossiers `dossier` names, None without a `dossier`; raises InvalidOption when it names none
        (an export or a search of "nomatch" must not look like an empty dossier)."""
        if dossier is None:
            return None
        ids = self.matching_dossier_ids(dossier)
        if not ids:
            raise InvalidOption(f"no dossier in the archive matches {dossier!r}")
        return ids


def _with_dates(record: dict[str, Any], first: str | None, last: str | None, archived_at: bool,
                seen_at: bool) -> dict[str, Any]:
    if seen_at:
        record.update(first_seen_at=first, last_seen_at=last)
    if archived_at:
        record["archived_at"] = last
    return record


class PageTypes:
    """The type each page had in the archive when a reparse began (for it to tell which pages changed type),
    and the pages the canary had flagged then, kept in a temporary table rather than in memory."""

    def __init__(self, connection: Connection) -> None:
        url, base = _bare("url"), _bare("dossiers.url")
        self.keys = KeySet(connection, "reparse_page_types", f"""
select 'fetch ' || fetch_id as key from articles
union all select 'article ' || {url} from articles
union all select 'listing ' || {url} from listings
union all select 'dossier ' || {base} || ' ' || dossier_articles.page from dossiers
  join dossier_articles on dossier_articles.dossier_id = dossiers.id
union all select 'dossier ' || {base} || ' 1' from dossiers where last_seen_at is not null
union all select 'flagged ' || url from canary_flags""")

    def type_of(self, fetch_id: int, page_url: str, record: Record) -> PageType | None:
        """The type the page fetched as `fetch_id` from `page_url`, read now as `record`, had in the archive."""
        if f"fetch {fetch_id}" in self.keys:
            return "article"
        for url in (page_url, record.url):
            bare = without_scheme(url)
            if f"article {bare}" in self.keys:
                return "article"
            if f"listing {bare}" in self.keys:
                return "listing"
            base, number = dossier_base_url(url)
            if f"dossier {without_scheme(base)} {number}" in self.keys:
                return "dossier"
        return None

    def was_flagged(self, url: str) -> bool:
        """Whether the canary had flagged the page at `url` when the reparse began."""
        return f"flagged {url}" in self.keys

    def drop(self) -> None:
        self.keys.drop()
