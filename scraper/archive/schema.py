"""Every table, view and index of the archive, under one schema version, and how an archive is brought to it.

The schema is created and migrated with sqlite-utils (imported only then: an archive whose schema is current
is used without it). Migrations add what is missing (a table, column, index or view) and convert in place what an
older version stored in another shape, each step decided by what the file holds (not by its version number), so
an archive of any earlier version is brought up to date in place, in one transaction.

SCHEMA_VERSION is the current version; CHANGELOG.md lists what each version added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scraper.archive import convert
from scraper.archive.connection import Connection
from scraper.archive.headers import request_headers_sql, response_headers_sql
from scraper.ledger import RUN_COUNTS

if TYPE_CHECKING:
    import sqlite_utils


SCHEMA_VERSION = 10
FTS_TABLE = "articles_fts"
FTS_COLUMNS = ("title", "kicker", "teaser", "body")
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
FTS_TRIGGERS = ("articles_ai", "articles_ad", "articles_au")
# The readers' comments, searched by `scrape search` beside the articles' text (scraper.archive.search): an
# index of which comments hold a word (detail=none, columnsize=0: no positions, no lengths), which is all a search
# asks of it, at a third of a full index's size (1.2 MB against 3.9 MB for the 36,000 comments of 20,000 articles).
COMMENTS_FTS_TABLE = "comments_fts"
COMMENTS_FTS_TRIGGERS = {
    "comments_ai": "after insert on comments begin"
                   " insert into comments_fts (rowid, text) values (new.rowid, new.text); end",
    "comments_ad": "after delete on comments begin"
                   " insert into comments_fts (comments_fts, rowid, text) values ('delete', old.rowid, old.text); end",
    "comments_au": "after update on comments begin"
                   " insert into comments_fts (comments_fts, rowid, text) values ('delete', old.rowid, old.text);"
                   " insert into comments_fts (rowid, text) values (new.rowid, new.text); end",
}


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: dict[str, type]
    pk: str | tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    not_null: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    without_rowid: bool = False  # for the small rows of a table keyed by its primary key alone


_ARTICLE_CHILD_FK = (("article_id", "articles", "id"),)

TABLES: tuple[TableSpec, ...] = (
    # A run's counts: scraper.models.RUN_COUNTS says what each means.
    TableSpec("runs", {"id": int, "command": str, "started_at": str, "ended_at": str,
                       **dict.fromkeys(RUN_COUNTS, int)}, pk="id"),
    # Zstandard dictionaries trained on the archive's own pages (scraper.archive.bodies).
    TableSpec("dictionaries", {"id": int, "trained_at": str, "bytes": bytes, "samples": int},
              pk="id", not_null=("bytes",)),
    # `compression`: the codec (zstd, or zlib for bodies stored before schema 4); `dictionary_id`: the
    # dictionary a zstd body was compressed with (none for plain zstd).
    TableSpec("bodies", {"sha256": str, "size": int, "compressed": bytes, "compression": str,
                         "dictionary_id": int},
              pk="sha256", foreign_keys=(("dictionary_id", "dictionaries", "id"),),
              not_null=("size", "compressed", "compression"), indexes=(("dictionary_id",), ("size",))),
    # The headers fetches share, each set once, with null where each fetch has its own value (scraper.archive.headers).
    TableSpec("header_sets", {"id": int, "names_hash": int, "headers": str}, pk="id",
              not_null=("names_hash", "headers"), indexes=(("names_hash",),)),
    TableSpec("fetches", {
        "id": int, "run_id": int, "url": str, "final_url": str, "status": int, "fetched_at": str,
        "elapsed": float, "bytes": int, "header_set_id": int, "header_values": str, "etag": str,
        "last_modified": str, "content_type": str, "sha256": str, "error": str, "error_class": str, "retries": int,
        "cookies_sent": int, "source": str, "request_header_set_id": int, "request_header_values": str,
        "attempts": str,
    }, pk="id", foreign_keys=(("run_id", "runs", "id"), ("sha256", "bodies", "sha256"),
                              ("header_set_id", "header_sets", "id"), ("request_header_set_id", "header_sets", "id")),
        not_null=("url",),
        indexes=(("url",), ("final_url",), ("sha256",), ("fetched_at",))),
    TableSpec("dossiers", {
        "id": int, "url": str, "title": str, "intro": str, "first_seen_at": str, "last_seen_at": str,
    }, pk="id", not_null=("url",), unique=(("url",),), indexes=(("title",),)),
    TableSpec("articles", {
        "id": int, "site_id": int, "url": str, "kicker": str, "title": str, "published_at": str,
        "updated_at": str, "teaser": str, "body": str, "image_url": str, "image_alt": str,
        "image_credit": str, "dossier_id": int, "is_paywalled": int, "comments_count": int,
        "warnings": str, "record": str, "fetch_id": int, "first_seen_at": str, "last_seen_at": str,
        "changed_at": str,
    }, pk="id", foreign_keys=(("dossier_id", "dossiers", "id"), ("fetch_id", "fetches", "id")),
        not_null=("url", "record"), unique=(("site_id",), ("url",)),
        indexes=(("published_at",), ("dossier_id", "is_paywalled"), ("is_paywalled",),
                 ("fetch_id",))),
    TableSpec("dossier_articles", {
        "dossier_id": int, "page": int, "position": int, "url": str, "site_id": int, "article_id": int,
        "title": str, "kicker": str, "teaser": str, "is_paywalled": int, "section": str,
    }, pk=("dossier_id", "page", "position"),
        foreign_keys=(("dossier_id", "dossiers", "id"), ("article_id", "articles", "id")),
        indexes=(("article_id",), ("site_id",), ("url",))),
    TableSpec("listings", {"url": str, "title": str, "next_page": str, "last_seen_at": str}, pk="url"),
    TableSpec("listing_items", {
        "listing_url": str, "position": int, "url": str, "site_id": int, "article_id": int,
        "title": str, "kicker": str, "teaser": str, "is_paywalled": int, "section": str,
    }, pk=("listing_url", "position"),
        foreign_keys=(("listing_url", "listings", "url"), ("article_id", "articles", "id")),
        indexes=(("article_id",), ("site_id",), ("url",))),
    TableSpec("authors", {"id": int, "name": str}, pk="id", not_null=("name",), unique=(("name",),)),
    TableSpec("article_authors", {"article_id": int, "position": int, "author_id": int},
              pk=("article_id", "position"),
              foreign_keys=(*_ARTICLE_CHILD_FK, ("author_id", "authors", "id")),
              indexes=(("author_id",),), without_rowid=True),
    TableSpec("themes", {"id": int, "name": str}, pk="id", not_null=("name",), unique=(("name",),)),
    TableSpec("article_themes", {"article_id": int, "position": int, "theme_id": int},
              pk=("article_id", "position"),
              foreign_keys=(*_ARTICLE_CHILD_FK, ("theme_id", "themes", "id")),
              indexes=(("theme_id",),), without_rowid=True),
    # The paywall's phrases and the related links, each stored once and named by the articles that show them (the
    # views paywall_markers and related_links give them as one table each, as before schema 7).
    TableSpec("paywall_phrases", {"id": int, "phrase": str}, pk="id", not_null=("phrase",), unique=(("phrase",),)),
    TableSpec("article_paywall_phrases", {"article_id": int, "position": int, "phrase_id": int},
              pk=("article_id", "position"),
              foreign_keys=(*_ARTICLE_CHILD_FK, ("phrase_id", "paywall_phrases", "id")), without_rowid=True),
    # `key`: a hash of the link's four texts, by which a page finds it (scraper.archive.records.link_id).
    TableSpec("links", {"id": int, "key": int, "section": str, "title": str, "url": str, "teaser": str}, pk="id",
              not_null=("key",), indexes=(("key",),)),
    TableSpec("article_links", {"article_id": int, "position": int, "link_id": int},
              pk=("article_id", "position"), foreign_keys=(*_ARTICLE_CHILD_FK, ("link_id", "links", "id")),
              without_rowid=True),
    TableSpec("comments", {
        "article_id": int, "position": int, "author": str, "posted_at": str, "text": str,
        "in_reply_to": int,
    }, pk=("article_id", "position"), foreign_keys=_ARTICLE_CHILD_FK, indexes=(("posted_at",),)),
    # `diff`: how to get each changed field's previous value back from the next one (scraper.archive.versions);
    # `previous`: the whole previous values, in the rows written before schema 4.
    TableSpec("article_versions", {
        "id": int, "article_id": int, "recorded_at": str, "changed_fields": str, "previous": str, "diff": str,
    }, pk="id", foreign_keys=_ARTICLE_CHILD_FK, indexes=(("article_id",),)),
    # A row belongs to one crawl: the command that made it (`crawl_kind`: dossier, listing or feed) and its root
    # (`parent_url`); a URL two crawls reach is a row of each (scraper.archive.queue).
    TableSpec("crawl_queue", {
        "url": str, "kind": str, "parent_url": str, "state": str, "attempts": int, "last_error": str,
        "added_at": str, "updated_at": str, "crawl_kind": str, "last_error_class": str,
    }, pk=("crawl_kind", "parent_url", "url"), not_null=("kind", "state", "crawl_kind"), indexes=(("state", "kind"),)),
    # Pages the canary found lacking core fields their kind used to have (scraper.archive.canary).
    TableSpec("canary_flags", {
        "url": str, "kind": str, "article_id": int, "fetch_id": int, "missing": str, "detail": str,
        "flagged_at": str,
    }, pk="url", foreign_keys=(("article_id", "articles", "id"), ("fetch_id", "fetches", "id")),
        not_null=("kind", "missing"), indexes=(("article_id",),)),
)

TABLE_NAMES = tuple(spec.name for spec in TABLES)

# Indexes of earlier versions that no query uses any more (each cost every page stored a write, and the file
# its keys): on fetches' run and error class, articles' update date, and articles' dossier (the index on
# dossier and paywall serves those lookups).
RETIRED_INDEXES = ("idx_fetches_run_id", "idx_fetches_error_class", "idx_articles_updated_at",
                   "idx_articles_dossier_id")

# Indexes TableSpec cannot say: the date `scrape export` sorts and filters by, the few articles with parse
# warnings (`scrape stats` counts them without reading every article), the fetches retried or failed.
EXPRESSION_INDEXES = {
    "idx_articles_date": "create index if not exists idx_articles_date on articles(coalesce(published_at, updated_at))",
    "idx_articles_warned": "create index if not exists idx_articles_warned on articles(id)"
                           " where warnings is not null and warnings != '[]'",
    "idx_fetches_retried": "create index if not exists idx_fetches_retried on fetches(id) where attempts is not null",
    # The failed fetches by error class, which people filter by (`fetch_errors`, Datasette): only failures have one.
    "idx_fetches_failed": "create index if not exists idx_fetches_failed on fetches(error_class)"
                          " where error_class is not null",
}

# An article's whole record (the contract of `scrape parse`), rebuilt from its columns and child rows; only the
# dossier as the page named it comes from `articles.record`, which keeps what has no column of its own. Each
# subquery's JSON goes through json() again: SQLite drops the JSON subtype of a subquery's value.
_ORDERED = "(select {value} from (select {columns} from {owner}{join} where {owner}.article_id = articles.id" \
           " order by {owner}.position))"
ARTICLE_RECORD = """json_object(
  'type', 'article', 'url', articles.url, 'site_id', articles.site_id, 'kicker', articles.kicker,
  'title', articles.title, 'published_at', articles.published_at, 'updated_at', articles.updated_at,
  'authors', json({authors}),
  'teaser', articles.teaser, 'body', articles.body,
  'image', json(case when articles.image_url is null then null else json_object(
    'url', articles.image_url, 'alt', articles.image_alt, 'credit', articles.image_credit) end),
  'dossier', json(json_extract(articles.record, '$.dossier')),
  'paywall', json_object('is_paywalled', json(case when articles.is_paywalled then 'true' else 'false' end),
    'markers', json({markers})),
  'related', json({related}),
  'comments_count', articles.comments_count,
  'comments', json({comments}),
  'themes', json({themes}),
  'warnings', json(coalesce(articles.warnings, '[]')))""".format(
    authors=_ORDERED.format(value="json_group_array(name)", columns="authors.name", owner="article_authors",
                            join=" join authors on authors.id = article_authors.author_id"),
    markers=_ORDERED.format(value="json_group_array(phrase)", columns="phrase", owner="article_paywall_phrases",
                            join=" join paywall_phrases on paywall_phrases.id = article_paywall_phrases.phrase_id"),
    related=_ORDERED.format(
        value="json_group_array(json_object('section', section, 'title', title, 'url', url, 'teaser', teaser))",
        columns="section, title, url, teaser", owner="article_links",
        join=" join links on links.id = article_links.link_id"),
    comments=_ORDERED.format(
        value="json_group_array(json_object('author', author, 'posted_at', posted_at, 'text', text,"
              " 'in_reply_to', in_reply_to))",
        columns="author, posted_at, text, in_reply_to", owner="comments", join=""),
    themes=_ORDERED.format(value="json_group_array(name)", columns="themes.name", owner="article_themes",
                           join=" join themes on themes.id = article_themes.theme_id"),
)

VIEWS = {
    "article_details": """
select
  articles.id, articles.site_id, articles.url, articles.kicker, articles.title,
  articles.published_at, articles.updated_at,
  (select group_concat(name, '; ') from (
     select authors.name from article_authors join authors on authors.id = article_authors.author_id
     where article_authors.article_id = articles.id order by article_authors.position)) as authors,
  articles.teaser, articles.is_paywalled, articles.comments_count,
  dossiers.title as dossier_title, dossiers.url as dossier_url,
  articles.first_seen_at, articles.last_seen_at, articles.changed_at
from articles left join dossiers on dossiers.id = articles.dossier_id
""".strip(),
    "dossier_contents": """
select
  dossiers.title as dossier_title, dossiers.url as dossier_url, dossier_articles.page,
  dossier_articles.position, dossier_articles.title, dossier_articles.url, dossier_articles.site_id,
  dossier_articles.is_paywalled, dossier_articles.article_id,
  dossier_articles.article_id is not null as archived
from dossier_articles join dossiers on dossiers.id = dossier_articles.dossier_id
order by dossiers.url, dossier_articles.page, dossier_articles.position
""".strip(),
    "article_records": f"""
select articles.id, articles.site_id, articles.url, articles.published_at, articles.updated_at,
  articles.is_paywalled, articles.dossier_id, {ARTICLE_RECORD} as record
from articles
""".strip(),
    "fetch_errors": """
select id, run_id, url, status, fetched_at, error_class, error, retries
from fetches where error is not null or status >= 400
order by fetched_at desc, id desc
""".strip(),
    # The shapes of before schema 7, for people's queries: what were tables of their own.
    "related_links": """
select article_links.article_id, article_links.position, links.section, links.title, links.url, links.teaser
from article_links join links on links.id = article_links.link_id
""".strip(),
    "paywall_markers": """
select article_paywall_phrases.article_id, article_paywall_phrases.position, paywall_phrases.phrase as marker
from article_paywall_phrases join paywall_phrases on paywall_phrases.id = article_paywall_phrases.phrase_id
""".strip(),
    "fetch_details": f"""
select id, run_id, url, final_url, status, fetched_at, elapsed, bytes, {response_headers_sql("fetches")} as headers,
  etag, last_modified, content_type, sha256, error, error_class, retries, cookies_sent, source,
  {request_headers_sql("fetches")} as request_headers, attempts
from fetches
""".strip(),
}


def create_or_migrate(archive: Connection) -> None:
    """Bring the schema of `archive` to SCHEMA_VERSION (inside the caller's transaction): what is missing is
    created, and what an older version stored in another shape is converted (see the module's docstring)."""
    db = archive.db
    present_views = {name for (name,) in db.execute("select name from sqlite_master where type = 'view'")}
    for name in VIEWS.keys() & present_views:  # made again below, after the tables some of them replace
        db.execute(f"drop view [{name}]")
    queue = next(spec for spec in TABLES if spec.name == "crawl_queue")
    convert.crawl_queue_by_crawl(db, db.create_table_sql("crawl_queue_by_crawl", queue.columns, pk=queue.pk,
                                                         not_null=queue.not_null))
    for spec in TABLES:
        _ensure_table(db, spec)
    if not db[FTS_TABLE].exists():
        _enable_fts(db)
    if not db[COMMENTS_FTS_TABLE].exists():
        _enable_comments_fts(db)
    for sql in EXPRESSION_INDEXES.values():
        db.execute(sql)
    for name in RETIRED_INDEXES:
        db.execute(f"drop index if exists [{name}]")
    convert.scrub_private_headers(db)
    convert.related_links(archive)
    convert.paywall_markers(db)
    convert.header_sets(archive)
    convert.archive_times(db)
    convert.queue_errors(db)
    for name, sql in VIEWS.items():
        db.create_view(name, sql, replace=True)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def recreate_fts(db: sqlite_utils.Database) -> None:
    """Drop the full-text index and its triggers, whatever is left of them, and create them again, filled."""
    with db.conn:
        for trigger in FTS_TRIGGERS:
            db.execute(f"drop trigger if exists [{trigger}]")
        db.execute(f"drop table if exists [{FTS_TABLE}]")
    _enable_fts(db)


def _enable_fts(db: sqlite_utils.Database) -> None:
    """The full-text index over the articles (FTS_COLUMNS, accents folded), filled, and its triggers."""
    db.table("articles").enable_fts(FTS_COLUMNS, tokenize=FTS_TOKENIZE, create_triggers=True)


def _enable_comments_fts(db: sqlite_utils.Database) -> None:
    """The index of the comments' words, filled, and the triggers that keep it in sync (as sqlite-utils makes
    them for articles_fts)."""
    db.execute(f"create virtual table [{COMMENTS_FTS_TABLE}] using fts5(text, content='comments',"
               f" tokenize='{FTS_TOKENIZE}', detail=none, columnsize=0)")
    db.execute(f"insert into [{COMMENTS_FTS_TABLE}] ([{COMMENTS_FTS_TABLE}]) values ('rebuild')")
    for name, sql in COMMENTS_FTS_TRIGGERS.items():
        db.execute(f"create trigger if not exists [{name}] {sql}")


def _ensure_table(db: sqlite_utils.Database, spec: TableSpec) -> None:
    table = db.table(spec.name)
    if table.exists():
        existing = table.columns_dict
        references = {column: (other, key) for column, other, key in spec.foreign_keys}
        for column, column_type in spec.columns.items():
            if column in existing:
                continue
            if column in references:  # ALTER TABLE declares the reference; sqlite-utils would rebuild the table
                other, key = references[column]
                db.execute(f"alter table [{spec.name}] add column [{column}] integer references [{other}]([{key}])")
            else:
                table.add_column(column, column_type)
        if spec.without_rowid:
            convert.without_rowid(db, spec.name, _without_rowid_table(spec), list(spec.columns))
    elif spec.without_rowid:
        db.execute(_without_rowid_table(spec))
    else:
        table.create(spec.columns, pk=spec.pk, foreign_keys=list(spec.foreign_keys),
                     not_null=list(spec.not_null) or None)
    for columns in spec.unique:
        table.create_index(columns, unique=True, if_not_exists=True)
    for columns in spec.indexes:
        table.create_index(columns, if_not_exists=True)


_SQL_TYPES = {int: "INTEGER", str: "TEXT", float: "FLOAT", bytes: "BLOB"}


def _without_rowid_table(spec: TableSpec) -> str:
    """The CREATE TABLE of a WITHOUT ROWID table (sqlite-utils makes none): its rows are stored in its primary
    key's b-tree alone, not in a table and an index of the same columns."""
    references = {column: (other, key) for column, other, key in spec.foreign_keys}
    keys = (spec.pk,) if isinstance(spec.pk, str) else spec.pk
    lines = []
    for column, column_type in spec.columns.items():
        line = f"[{column}] {_SQL_TYPES[column_type]}"
        if column in keys or column in spec.not_null:
            line += " NOT NULL"
        if column in references:
            line += f" REFERENCES [{references[column][0]}]([{references[column][1]}])"
        lines.append(line)
    lines.append(f"PRIMARY KEY ({', '.join(f'[{key}]' for key in keys)})")
    return f"CREATE TABLE [{spec.name}] (\n   " + ",\n   ".join(lines) + "\n) WITHOUT ROWID"
