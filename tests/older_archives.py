"""Archives of schemas 6 and 7, made from one of the current schema: what the tools of those schemas left.

Schema 6 kept each article's related links and paywall markers whole in tables of their own (`related_links`,
`paywall_markers`) and each fetch's headers whole in `fetches.headers` and `fetches.request_headers` (JSON);
schema 7 stores what pages repeat once. Up to schema 7 the crawl queue was keyed by URL alone; schema 8 keys it
by its crawl (`crawl_kind`, `parent_url`) and URL. `rewind_to_schema_6` and `rewind_queue_to_schema_7` put an
archive's rows back in the old shapes (the DDL below is what sqlite-utils made then), for the tests of the
migrations and of older schemas.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

FETCHES_6 = """CREATE TABLE "fetches" (
   "id" INTEGER PRIMARY KEY,
   "run_id" INTEGER REFERENCES "runs"("id"),
   "url" TEXT NOT NULL,
   "final_url" TEXT,
   "status" INTEGER,
   "fetched_at" TEXT,
   "elapsed" REAL,
   "bytes" INTEGER,
   "headers" TEXT,
   "etag" TEXT,
   "last_modified" TEXT,
   "content_type" TEXT,
   "sha256" TEXT REFERENCES "bodies"("sha256"),
   "error" TEXT,
   "error_class" TEXT,
   "retries" INTEGER,
   "cookies_sent" INTEGER,
   "source" TEXT,
   "request_headers" TEXT,
   "attempts" TEXT
)"""
FETCHES_6_INDEXES = ("url", "final_url", "error_class", "run_id", "sha256", "fetched_at")
FETCH_COLUMNS_6 = ("id", "run_id", "url", "final_url", "status", "fetched_at", "elapsed", "bytes", "headers", "etag",
                   "last_modified", "content_type", "sha256", "error", "error_class", "retries", "cookies_sent",
                   "source", "request_headers", "attempts")
RELATED_LINKS_6 = """CREATE TABLE "related_links" (
   "article_id" INTEGER REFERENCES "articles"("id"),
   "position" INTEGER,
   "section" TEXT,
   "title" TEXT,
   "url" TEXT,
   "teaser" TEXT,
   PRIMARY KEY ("article_id", "position")
)"""
PAYWALL_MARKERS_6 = """CREATE TABLE "paywall_markers" (
   "article_id" INTEGER REFERENCES "articles"("id"),
   "position" INTEGER,
   "marker" TEXT,
   PRIMARY KEY ("article_id", "position")
)"""

NAMED_CHILDREN_6 = {"article_authors": ("author_id", "authors"), "article_themes": ("theme_id", "themes")}


CRAWL_QUEUE_7 = """CREATE TABLE "crawl_queue" (
   "url" TEXT PRIMARY KEY,
   "kind" TEXT NOT NULL,
   "parent_url" TEXT,
   "state" TEXT NOT NULL,
   "attempts" INTEGER,
   "last_error" TEXT,
   "added_at" TEXT,
   "updated_at" TEXT
)"""
QUEUE_COLUMNS_7 = "url, kind, parent_url, state, attempts, last_error, added_at, updated_at"


def rewind_queue_to_schema_7(db: Path) -> None:
    """Turn the crawl queue of the archive at `db` (current schema) into what the tool of schema 7 stored: keyed by
    URL alone (a URL in two crawls keeps the row queued last)."""
    connection = sqlite3.connect(db)
    with connection:
        connection.execute("alter table crawl_queue rename to new_crawl_queue")
        connection.execute("drop index if exists idx_crawl_queue_state_kind")
        connection.execute(CRAWL_QUEUE_7)
        connection.execute(f"insert or replace into crawl_queue ({QUEUE_COLUMNS_7}) select {QUEUE_COLUMNS_7}"
                           " from new_crawl_queue order by rowid")
        connection.execute("drop table new_crawl_queue")
        connection.execute('CREATE INDEX "idx_crawl_queue_state_kind"\n    ON "crawl_queue" ("state", "kind")')
    connection.execute("pragma user_version = 7")
    connection.close()


def rewind_to_schema_6(db: Path) -> None:
    """Turn the archive at `db` (current schema) into what the tool of schema 6 would have stored."""
    rewind_queue_to_schema_7(db)
    connection = sqlite3.connect(db)
    connection.execute("pragma foreign_keys = off")
    with connection:
        columns = ", ".join(FETCH_COLUMNS_6)
        connection.execute(f"create table old_fetches as select {columns} from fetch_details")
        connection.execute("create table old_related_links as select * from related_links")
        connection.execute("create table old_paywall_markers as select * from paywall_markers")
        for view in ("related_links", "paywall_markers", "fetch_details", "article_records", "fetch_errors"):
            connection.execute(f"drop view {view}")
        for table in ("fetches", "article_links", "links", "article_paywall_phrases", "paywall_phrases",
                      "header_sets"):
            connection.execute(f"drop table {table}")
        connection.execute(FETCHES_6)
        connection.execute(f"insert into fetches ({columns}) select {columns} from old_fetches order by id")
        for column in FETCHES_6_INDEXES:
            connection.execute(f'CREATE INDEX "idx_fetches_{column}" ON "fetches" ("{column}")')
        connection.execute("create index idx_fetches_retried on fetches(id) where attempts is not null")
        connection.execute(RELATED_LINKS_6)
        connection.execute("insert into related_links select * from old_related_links order by article_id, position")
        connection.execute('CREATE INDEX "idx_related_links_url" ON "related_links" ("url")')
        connection.execute(PAYWALL_MARKERS_6)
        connection.execute("insert into paywall_markers select * from old_paywall_markers"
                           " order by article_id, position")
        connection.execute('CREATE INDEX "idx_paywall_markers_marker" ON "paywall_markers" ("marker")')
        for table in ("old_fetches", "old_related_links", "old_paywall_markers"):
            connection.execute(f"drop table {table}")
        connection.execute("pragma legacy_alter_table = on")  # the views that read them are left as they are
        for table, (key, names) in NAMED_CHILDREN_6.items():  # tables with rowids, and a primary key index
            connection.execute(f"alter table {table} rename to old_{table}")
            connection.execute(f'CREATE TABLE "{table}" (\n   "article_id" INTEGER REFERENCES "articles"("id"),\n'
                               f'   "position" INTEGER,\n   "{key}" INTEGER REFERENCES "{names}"("id"),\n'
                               '   PRIMARY KEY ("article_id", "position")\n)')
            connection.execute(f"insert into {table} select * from old_{table}")
            connection.execute(f"drop table old_{table}")
            connection.execute(f'CREATE INDEX "idx_{table}_{key}" ON "{table}" ("{key}")')
        connection.execute('CREATE INDEX "idx_articles_updated_at" ON "articles" ("updated_at")')
    connection.execute("pragma user_version = 6")
    connection.close()
