"""What the archive holds: counts, dossiers, the paywalled share, the last runs, fetch errors by class, the
faults that were retried (how the site behaved), the pages crawls gave up, pages with parse warnings and pages
flagged by the canary. Plain data, so the CLI can render it as rich tables or print it as JSON.

Every figure comes from an index (counts, sums, minima and maxima over indexed columns, aggregates grouped by
an indexed key), never from reading the articles or the raw bodies themselves, so `scrape stats` answers in
about the same time for 1,000 articles or 100,000; the lists (dossiers, authors, pages) hold their top
`limit` rows, or all of them with `limit=None`, and their totals are exact either way.
"""

from __future__ import annotations

import json
import os
from typing import Any

from scraper.archive.compact import bodies_to_compact
from scraper.archive.db import Archive
from scraper.archive.queue import MAX_ATTEMPTS
from scraper.models import PAGE_TYPES

COMMAND_CHARS = 120  # of a run's command shown by stats
RUN_COLUMNS = ("id", "command", "started_at", "ended_at", "fetched", "not_modified", "failed", "blocked", "retried",
               "stored", "inserted", "updated", "unchanged")


def archive_stats(archive: Archive, *, runs: int = 10, limit: int | None = 20) -> dict[str, Any]:
    """Every section of `scrape stats`; the lists hold their top `limit` rows (None: all; totals are exact)."""
    return {
        "archive": _totals(archive),
        "paywall": _paywall(archive),
        "dossiers": _dossiers(archive, limit),
        "authors": _top_authors(archive, limit),
        "runs": _runs(archive, runs),
        "errors": _errors_by_class(archive),
        "retries": _retried_faults(archive),
        "given_up": _given_up(archive, limit),
        "warnings": _pages_with_warnings(archive, limit),
        "canary": _flagged(archive, limit),
    }


def _totals(archive: Archive) -> dict[str, Any]:
    counts = archive.counts()
    size = os.path.getsize(archive.path) if os.path.exists(archive.path) else 0
    return {
        "path": archive.path, "bytes": size,
        **{kind.table: counts[kind.table] for kind in PAGE_TYPES.values()},  # articles, dossiers, listings
        "authors": counts["authors"], "themes": counts["themes"], "comments": counts["comments"],
        "article_versions": counts["article_versions"],
        "fetches": counts["fetches"], "raw_bodies": counts["bodies"],
        "raw_bytes": archive.scalar("select coalesce(sum(size), 0) from bodies"),  # idx_bodies_size
        "bodies_to_compact": bodies_to_compact(archive),  # idx_bodies_dictionary_id
        "first_fetch": archive.scalar("select min(fetched_at) from fetches"),
        "last_fetch": archive.scalar("select max(fetched_at) from fetches"),
    }


def _paywall(archive: Archive) -> dict[str, Any]:
    total, paywalled = archive.execute("select count(*), coalesce(sum(is_paywalled), 0) from articles").fetchone()
    return {"articles": total, "paywalled": paywalled, "free": total - paywalled,
            "share": round(paywalled / total, 4) if total else 0.0}


def _dossiers(archive: Archive, limit: int | None) -> list[dict[str, Any]]:
    """The dossiers with the most articles (those naming them, then those listed in their contents)."""
    sql = """
with listed as (select dossier_id, count(*) as listed, count(article_id) as archived from dossier_articles
                group by dossier_id),
  named as (select dossier_id, count(*) as articles, sum(is_paywalled) as paywalled from articles
            where dossier_id is not null group by dossier_id)
select dossiers.id, dossiers.title, dossiers.url, coalesce(listed.listed, 0) as listed,
  coalesce(listed.archived, 0) as archived, coalesce(named.articles, 0) as articles,
  coalesce(named.paywalled, 0) as paywalled
from dossiers left join listed on listed.dossier_id = dossiers.id left join named on named.dossier_id = dossiers.id
order by articles desc, listed desc, dossiers.title, dossiers.id limit ?"""
    return archive.select(sql, [_sql_limit(limit)])


def _top_authors(archive: Archive, limit: int | None) -> list[dict[str, Any]]:
    sql = """
select authors.name, signed.articles from (
  select author_id, count(*) as articles from article_authors group by author_id) as signed
join authors on authors.id = signed.author_id order by signed.articles desc, authors.name limit ?"""
    return archive.select(sql, [_sql_limit(limit)])


def _sql_limit(limit: int | None) -> int:
    return -1 if limit is None else limit


def _runs(archive: Archive, count: int) -> list[dict[str, Any]]:
    """The last `count` runs, each command cut to COMMAND_CHARS (an older `scrape url` of 1,500 files named
    them all)."""
    present = {row["name"] for row in archive.select("pragma table_info(runs)")}
    columns = ", ".join(column for column in RUN_COLUMNS if column in present)
    runs = archive.select(f"select {columns} from runs order by id desc limit ?", [count])
    for run in runs:
        command = run.get("command") or ""
        if len(command) > COMMAND_CHARS:
            run["command"] = command[:COMMAND_CHARS].rsplit(" ", 1)[0] + f" … ({len(command.split()):,} words)"
    return runs


def _errors_by_class(archive: Archive) -> list[dict[str, Any]]:
    sql = """
select coalesce(error_class, 'http_' || status) as error_class, count(*) as fetches,
  count(distinct url) as urls, max(fetched_at) as last_at
from fetches where error is not null or status >= 400
group by 1 order by fetches desc, error_class"""
    return archive.select(sql)


def _retried_faults(archive: Archive) -> list[dict[str, Any]]:
    """How the site behaved: the faults that were retried (from `fetches.attempts`), by status or error class,
    with the fetches they hit and how many of those a retry saved."""
    sql = """
select coalesce(json_extract(attempt.value, '$.error_class'), 'http_' || json_extract(attempt.value, '$.status'))
    as fault,
  count(*) as retried, count(distinct fetches.id) as fetches,
  count(distinct case when fetches.error is null then fetches.id end) as recovered
from fetches, json_each(fetches.attempts) as attempt
where fetches.attempts is not null  -- idx_fetches_retried
  and json_extract(attempt.value, '$.waited') is not null
group by 1 order by retried desc, fault"""
    return archive.select(sql)


def _given_up(archive: Archive, limit: int | None) -> dict[str, Any]:
    """The pages crawls gave up after MAX_ATTEMPTS failed runs (tried again by a run with --refresh)."""
    where = "from crawl_queue where state = 'failed' and attempts >= ?"
    rows = archive.select(f"select url, kind, attempts, last_error_class, last_error, updated_at {where}"
                          " order by updated_at desc limit ?", [MAX_ATTEMPTS, _sql_limit(limit)])
    return {"total": archive.scalar(f"select count(*) {where}", [MAX_ATTEMPTS]), "pages": rows}


def _pages_with_warnings(archive: Archive, limit: int | None) -> dict[str, Any]:
    where = "from articles where warnings is not null and warnings != '[]'"  # idx_articles_warned
    rows = archive.select(f"select id, url, title, warnings {where} order by id desc limit ?", [_sql_limit(limit)])
    return {"total": archive.scalar(f"select count(*) {where}"),
            "pages": [{**row, "warnings": json.loads(row["warnings"])} for row in rows]}


def _flagged(archive: Archive, limit: int | None) -> dict[str, Any]:
    return {"total": archive.canary.count(), "pages": archive.canary.pages(limit=limit)}
