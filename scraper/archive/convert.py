"""What archives made by older versions stored in other shapes, converted in place when they are opened
(scraper.archive.schema's migration calls each step; each looks at what the file holds and does nothing the
second time).

- schema 5: the headers that carry a session or credentials scrubbed from the fetches stored whole;
- schema 7: the tables of an article's authors and themes made WITHOUT ROWID; the related links and paywall
  markers (a table each, every text once per article that shows it) as rows stored once and named by the
  articles (`links` + `article_links`, `paywall_phrases` + `article_paywall_phrases`); the headers of each
  fetch (whole JSON in `fetches.headers` and `fetches.request_headers`) as header sets and each fetch's own
  values (scraper.archive.headers), and those two columns dropped;
- schema 8: the crawl queue, keyed by URL alone, keyed by its crawl: each row gets the kind of its root's row (the
  command that queued it); a row whose root row is gone keeps its own kind (no command resumes it).
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from scraper.archive.connection import Connection
from scraper.archive.headers import Headers
from scraper.archive.records import link_id
from scraper.archive.values import ARCHIVE_TIME_GLOB, ARCHIVE_TIME_SQL, ARCHIVE_TIMES
from scraper.errors import ErrorClass
from scraper.models import PRIVATE_HEADERS, RelatedLink, public_headers

if TYPE_CHECKING:
    import sqlite_utils



def related_links(archive: Connection) -> None:
    """The related links of an archive made before schema 7 (the table related_links: every link's texts once per
    article that shows it) as rows of `links`, stored once, that `article_links` names."""
    db = archive.db
    if not _is_table(db, "related_links"):
        return
    last = -1
    while rows := db.execute("select rowid, article_id, position, section, title, url, teaser from related_links"
                             " where rowid > ? order by rowid limit 1000", [last]).fetchall():
        archive.execute_many("insert or replace into article_links (article_id, position, link_id) values (?, ?, ?)",
                             [(article_id, position, link_id(archive, RelatedLink(section, title, url, teaser)))
                              for _, article_id, position, section, title, url, teaser in rows])
        last = rows[-1][0]
    db.execute("drop table related_links")


def paywall_markers(db: sqlite_utils.Database) -> None:
    """The paywall markers of an archive made before schema 7 (the table paywall_markers: each phrase once per
    article) as rows of `paywall_phrases`, stored once, that `article_paywall_phrases` names."""
    if not _is_table(db, "paywall_markers"):
        return
    db.execute("insert into paywall_phrases (phrase) select marker from paywall_markers where marker is not null"
               " and marker not in (select phrase from paywall_phrases) group by marker order by min(rowid)")
    db.execute("insert or replace into article_paywall_phrases (article_id, position, phrase_id)"
               " select article_id, position, (select id from paywall_phrases where phrase = marker)"
               " from paywall_markers where marker is not null")
    db.execute("drop table paywall_markers")


def _is_table(db: sqlite_utils.Database, name: str) -> bool:
    return db.execute("select 1 from sqlite_master where type = 'table' and name = ?", [name]).fetchone() is not None


def header_sets(archive: Connection) -> None:
    """The headers of the fetches of an archive made before schema 7 (whole JSON in each row: `headers`,
    `request_headers`) as header sets and each fetch's own values; the old columns are then dropped."""
    db = archive.db
    columns = db["fetches"].columns_dict
    old = [name for name in ("headers", "request_headers") if name in columns]
    if not old:
        return
    stored = Headers(archive)
    selected = ", ".join(name if name in columns else "null" for name in ("headers", "request_headers"))
    last = -1
    unconverted = " or ".join(f"[{name}] is not null" for name in old)  # (emptied when it could not be dropped)
    while rows := db.execute(f"select id, {selected} from fetches where id > ? and ({unconverted})"
                             " order by id limit 500", [last]).fetchall():
        updates = []
        for fetch_id, headers, request_headers in rows:
            updates.append((*stored.store_text("response", headers), *stored.store_text("request", request_headers),
                            fetch_id))
        archive.execute_many("update fetches set header_set_id = ?, header_values = ?, request_header_set_id = ?,"
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


def crawl_queue_by_crawl(db: sqlite_utils.Database, create: str) -> None:
    """The crawl queue of an archive made before schema 8 (keyed by URL alone) made again with `create` (the CREATE
    TABLE of `crawl_queue_by_crawl`, keyed by crawl and URL) and its rows, in their order; its index goes with the old
    table (the schema's migration creates it again)."""
    if not _is_table(db, "crawl_queue") or "crawl_kind" in db["crawl_queue"].columns_dict:
        return
    columns = "url, kind, parent_url, state, attempts, last_error, added_at, updated_at"
    db.execute(create)
    db.execute(f"insert into crawl_queue_by_crawl ({columns}, crawl_kind)"
               f" select {', '.join(f'row.{name}' for name in columns.split(', '))}, coalesce(root.kind, row.kind)"
               " from crawl_queue as row left join crawl_queue as root"
               " on root.url = row.parent_url and root.parent_url = root.url order by row.rowid")
    db.execute("drop table crawl_queue")
    # In legacy mode the rename leaves the views that read the queue (the user's own) as they are.
    db.execute("pragma legacy_alter_table = on")
    try:
        db.execute("alter table crawl_queue_by_crawl rename to crawl_queue")
    finally:
        db.execute("pragma legacy_alter_table = off")


def archive_times(db: sqlite_utils.Database) -> None:
    """The archive's own times written before schema 10 (`+00:00` to the second, `Z` to the millisecond or the
    microsecond) in its one format, `2026-12-07T23:54:48.123Z` (SQLite reads the offset and gives UTC)."""
    for table, columns in ARCHIVE_TIMES.items():
        present = db[table].columns_dict if _is_table(db, table) else {}
        for column in (name for name in columns if name in present):
            db.execute(f"update [{table}] set [{column}] = coalesce(strftime(?, [{column}]), [{column}])"
                       f" where [{column}] is not null and [{column}] not glob ?",
                       [ARCHIVE_TIME_SQL, ARCHIVE_TIME_GLOB])


def queue_errors(db: sqlite_utils.Database) -> None:
    """The crawl queue's failures written before schema 10 as one text, "<error class>: <message>", as their
    class (`last_error_class`) and message."""
    classes = [str(error_class) for error_class in ErrorClass]
    marks = ", ".join("?" for _ in classes)
    db.execute("update crawl_queue set last_error_class = substr(last_error, 1, instr(last_error, ': ') - 1),"
               " last_error = substr(last_error, instr(last_error, ': ') + 2)"
               f" where last_error_class is null and substr(last_error, 1, instr(last_error, ': ') - 1) in ({marks})",
               classes)


def without_rowid(db: sqlite_utils.Database, table: str, create: str, columns: list[str]) -> None:
    """The table `table`, when it still has rowids, made again as WITHOUT ROWID (`create`: its CREATE TABLE) with
    its rows; its indexes go with the old table (the schema's migration creates them again)."""
    sql = db.execute("select sql from sqlite_master where type = 'table' and name = ?", [table]).fetchone()[0]
    if "WITHOUT ROWID" in sql.upper():
        return
    listed = ", ".join(f"[{column}]" for column in columns)
    db.execute(create.replace(f"CREATE TABLE [{table}]", f"CREATE TABLE [{table}_without_rowid]", 1))
    db.execute(f"insert into [{table}_without_rowid] ({listed}) select {listed} from [{table}]")
    db.execute(f"drop table [{table}]")
    # In legacy mode the rename leaves the views that read `table` (the user's own too) as they are, reading the
    # new table, instead of checking them while `table` is missing.
    db.execute("pragma legacy_alter_table = on")
    try:
        db.execute(f"alter table [{table}_without_rowid] rename to [{table}]")
    finally:
        db.execute("pragma legacy_alter_table = off")
