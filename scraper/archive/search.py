"""Full-text search over the archived articles (FTS5, accents and case folded), best matches first.

The index is `articles_fts` (title, kicker, teaser, body; tokenizer `unicode61 remove_diacritics 2`), kept
in sync by triggers, so "eclairage" finds "éclairage" and "ville" finds "Ville". Queries use the FTS5
syntax: words (all must match), "a phrase", prefix*, OR, NOT, NEAR(a b), title:word. Ranking is bm25
with a title match worth most, then the teaser, the kicker and the body.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from scraper.archive.db import Archive
from scraper.archive.queries import article_filters, named_dossier_ids
from scraper.errors import ArchiveError, InvalidOption, InvalidQuery

# bm25 weights, in the order of the FTS columns (title, kicker, teaser, body).
WEIGHTS = (10.0, 2.0, 5.0, 1.0)
MARK_START, MARK_END = "\x02", "\x03"  # around each matched word in `Hit.snippet`
SNIPPET_TOKENS = 16

# What SQLite says when the archive itself is at fault; any other error of a MATCH is the query's.
_ARCHIVE_ERROR = re.compile(r"no such table|locked|disk image|readonly|unable to open|out of memory|I/O")


@dataclass
class Hit:
    """One article that matches, with a snippet whose matched words sit between MARK_START and MARK_END."""

    id: int
    site_id: int | None
    url: str
    title: str | None
    published_at: str | None
    dossier: str | None
    is_paywalled: bool
    snippet: str
    rank: float

    def to_dict(self, mark: tuple[str, str] = ("<mark>", "</mark>")) -> dict[str, Any]:
        """The hit as JSON-ready data, with the matched words of the snippet between `mark`."""
        data = asdict(self)
        data["snippet"] = marked(self.snippet, *mark)
        return data


def marked(snippet: str, start: str, end: str) -> str:
    """`snippet` with its match marks replaced by `start` and `end`."""
    return snippet.replace(MARK_START, start).replace(MARK_END, end)


def literal(query: str) -> str:
    """`query` as plain words: each one quoted, so no character of it is FTS5 syntax."""
    words = re.findall(r"\w+", query)
    return " ".join(f'"{word}"' for word in words)


def search(archive: Archive, query: str, *, dossier: str | None = None, since: str | None = None,
           limit: int = 20) -> list[Hit]:
    """The articles matching `query` (FTS5 syntax), best first.

    `dossier`: a dossier URL (any page) or words of its title (any case); `since`: YYYY-MM-DD, articles
    published (else updated) on or after it. A malformed query raises InvalidQuery, a dossier that matches
    none InvalidOption.
    """
    if not query.strip():
        raise InvalidQuery("empty search query")
    if limit < 1:
        raise InvalidOption(f"invalid limit {limit}: at least 1")
    wheres, params = article_filters(dossier_ids=named_dossier_ids(archive, dossier), since=since)
    where = "".join(f" and {condition}" for condition in wheres)
    params.update(query=query, limit=limit)
    weights = ", ".join(str(weight) for weight in WEIGHTS)
    sql = f"""
select articles.id, articles.site_id, articles.url, articles.title, articles.published_at,
  dossiers.title as dossier, articles.is_paywalled,
  snippet(articles_fts, -1, '{MARK_START}', '{MARK_END}', '…', {SNIPPET_TOKENS}) as snippet,
  bm25(articles_fts, {weights}) as rank
from articles_fts
  join articles on articles.rowid = articles_fts.rowid
  left join dossiers on dossiers.id = articles.dossier_id
where articles_fts match :query{where}
order by rank, articles.id
limit :limit"""
    try:
        rows = archive._execute(sql, params).fetchall()
    except sqlite3.OperationalError as error:
        raise _query_error(query, error) from None
    return [Hit(*row[:6], bool(row[6]), row[7] or "", row[8]) for row in rows]


def _query_error(query: str, error: sqlite3.OperationalError) -> Exception:
    message = str(error)
    if _ARCHIVE_ERROR.search(message):
        return ArchiveError(f"search failed: {message}")
    detail = message.removeprefix("fts5: ")
    return InvalidQuery(f"invalid search query {query!r}: {detail} (FTS5 syntax; --literal searches the words"
                      " as typed)")
