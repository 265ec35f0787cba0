"""What archives made by older versions stored in other shapes, converted in place when they are opened
(scraper.archive.schema's migration calls each step; each looks at what the file holds and does nothing the
second time).

- schema 5: the headers that carry a session or credentials scrubbed from the fetches stored whole;
- schema 7: the related links and paywall markers (a table each, every text once per article) as rows stored
  once and named by the articles (`links` + `article_links`, `paywall_phrases` + `article_paywall_phrases`);
  the headers of each fetch (whole JSON in `fetches.headers` and `fetches.request_headers`) as header sets and
  each fetch's own values (scraper.archive.headers), and those two columns dropped.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from scraper.archive.headers import store_headers_text
from scraper.models import PRIVATE_HEADERS, public_headers

if TYPE_CHECKING:
    import sqlite_utils

    from scraper.archive.db import Archive


# What the tables related_links and paywall_markers held before schema 7, and where their rows go: (old table,
# its columns, the table of rows stored once, its columns for them, the table of what each article shows, its key).
_SHARED_ROWS = (
    ("related_links", ("section", "title", "url", "teaser"), "links", ("section", "title", "url", "teaser"),
     "article_links", "link_id"),
    ("paywall_markers", ("marker",), "paywall_phrases", ("phrase",), "article_paywall_phrases", "phrase_id"),
)


def shared_rows(db: sqlite_utils.Database) -> None:
    """The related links and paywall markers of an archive made before schema 7 (a table each, every text once
    per article) as rows stored once (links, paywall_phrases) that the articles name."""
    for old, columns, shared, targets, named_by, key in _SHARED_ROWS:
        if db.execute("select 1 from sqlite_master where type = 'table' and name = ?", [old]).fetchone() is None:
            continue
        same = " and ".join(f"shared.[{target}] is old.[{column}]"
                            for target, column in zip(targets, columns, strict=True))
        listed = ", ".join(f"old.[{column}]" for column in columns)
        db.execute(f"insert into [{shared}] ({', '.join(f'[{target}]' for target in targets)})"
                   f" select {listed} from [{old}] as old where not exists (select 1 from [{shared}] as shared"
                   f" where {same}) group by {listed} order by min(old.rowid)")
        db.execute(f"insert or replace into [{named_by}] (article_id, position, [{key}])"
                   f" select old.article_id, old.position, (select min(shared.id) from [{shared}] as shared"
                   f" where {same}) from [{old}] as old")
        db.execute(f"drop table [{old}]")


def header_sets(archive: Archive) -> None:
    """The headers of the fetches of an archive made before schema 7 (whole JSON in each row: `headers`,
    `request_headers`) as header sets and each fetch's own values; the old columns are then dropped."""
    db = archive.db
    columns = db["fetches"].columns_dict
    old = [name for name in ("headers", "request_headers") if name in columns]
    if not old:
        return
    selected = ", ".join(name if name in columns else "null" for name in ("headers", "request_headers"))
    last = -1
    unconverted = " or ".join(f"[{name}] is not null" for name in old)  # (emptied when it could not be dropped)
    while rows := db.execute(f"select id, {selected} from fetches where id > ? and ({unconverted})"
                             " order by id limit 500", [last]).fetchall():
        updates = []
        for fetch_id, headers, request_headers in rows:
            updates.append((*store_headers_text(archive, "response", headers),
                            *store_headers_text(archive, "request", request_headers), fetch_id))
        archive._execute_many("update fetches set header_set_id = ?, header_values = ?, request_header_set_id = ?,"
                              " request_header_values = ? where id = ?", updates)
        last = rows[-1][0]
    for name in old:
        try:
            db.execute(f"alter table fetches drop column [{name}]")
        except sqlite3.OperationalError:  # a view of the user's still reads it: emptied, not dropped
            db.execute(f"update fetches set [{name}] = null")


def scrub_private_headers(db: sqlite_utils.Database) -> int:
    """Remove the headers that carry a session or credentials from every fetch stored whole by an archive made
    before schema 7 (before its headers are converted into header sets); returns the rows rewritten (none the
    second time)."""
    if "headers" not in db["fetches"].columns_dict:
        return 0
    if "request_headers" not in db["fetches"].columns_dict:
        db.execute("alter table fetches add column request_headers text")  # schema 1: dropped with headers below
    suspects = db.execute("select id, headers, request_headers from fetches where headers like '%cookie%'"
                          " or headers like '%authorization%' or request_headers like '%cookie%'"
                          " or request_headers like '%authorization%'").fetchall()
    changed = 0
    for fetch_id, headers, request_headers in suspects:
        stored = json.loads(headers) if headers else None
        pairs = json.loads(request_headers) if request_headers else []
        kept = public_headers(stored) if stored is not None else None
        kept_pairs = [pair for pair in pairs if pair[0].lower() not in PRIVATE_HEADERS]
        if kept == stored and kept_pairs == pairs:
            continue
        db.execute("update fetches set headers = ?, request_headers = ? where id = ?",
                   [headers if kept is None else json.dumps(kept, ensure_ascii=False),
                    json.dumps(kept_pairs, ensure_ascii=False) if kept_pairs else None, fetch_id])
        changed += 1
    return changed
