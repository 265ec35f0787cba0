"""The archive: one SQLite file, built with sqlite-utils, browsable with Datasette.

The per-page reads and writes are plain SQL on the archive's sqlite3 connection (`Archive.conn`); sqlite-utils
creates and migrates the schema and serves the commands that read the archive through `Archive.db`. It is
imported only then: an archive whose schema is current is crawled without it (4 MB less memory for the run).

Every page is stored in one transaction (``BEGIN IMMEDIATE``, so two processes writing at once wait
for each other instead of failing), records are upserted on their natural key so storing the same
page twice changes nothing, and each change of an article's content leaves a row in
``article_versions``: the archive keeps history.

Positions: the children of an article (authors, themes, paywall markers, related links, comments)
are numbered from 0, like ``comments.in_reply_to``; dossier and listing items keep the 1-based
``position`` of their record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scraper.errors import ArchiveError, UsageError
from scraper.models import Article, Dossier, FetchResult, Listing, ListItem, PageType, Record

if TYPE_CHECKING:
    import sqlite_utils
    from sqlite_utils.db import Table

SCHEMA_VERSION = 2  # 2: fetches.request_headers
BUSY_TIMEOUT_SECONDS = 30.0
FTS_COLUMNS = ("title", "kicker", "teaser", "body")
FTS_TOKENIZE = "unicode61 remove_diacritics 2"

# Contract keys whose change is worth a row in `article_versions` (all but `type` and `warnings`).
VERSIONED_FIELDS = (
    "url", "site_id", "kicker", "title", "published_at", "updated_at", "authors", "teaser", "body",
    "image", "dossier", "paywall", "related", "comments_count", "comments", "themes",
)

Action = Literal["inserted", "updated", "unchanged"]

_PAGE_SUFFIX = re.compile(r"page/(\d+)/?$")
_COUNT_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class StoreOutcome:
    """What `Archive.store_record` did with one page."""

    kind: PageType
    key: int | str  # the article id, the dossier's base URL or the listing URL
    action: Action
    changed_fields: list[str] = field(default_factory=list)


# --- schema -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _TableSpec:
    name: str
    columns: dict[str, type]
    pk: str | tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    not_null: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()


_ARTICLE_CHILD_FK = (("article_id", "articles", "id"),)

TABLES: tuple[_TableSpec, ...] = (
    _TableSpec("runs", {
        "id": int, "command": str, "started_at": str, "ended_at": str, "fetched": int,
        "not_modified": int, "failed": int, "retried": int, "bytes": int, "stored": int,
        "inserted": int, "updated": int, "unchanged": int,
    }, pk="id"),
    _TableSpec("bodies", {"sha256": str, "size": int, "compressed": bytes, "compression": str},
               pk="sha256", not_null=("size", "compressed", "compression")),
    _TableSpec("fetches", {
        "id": int, "run_id": int, "url": str, "final_url": str, "status": int, "fetched_at": str,
        "elapsed": float, "bytes": int, "headers": str, "etag": str, "last_modified": str,
        "content_type": str, "sha256": str, "error": str, "error_class": str, "retries": int,
        "cookies_sent": int, "source": str, "request_headers": str,
    }, pk="id", foreign_keys=(("run_id", "runs", "id"), ("sha256", "bodies", "sha256")),
        not_null=("url",),
        indexes=(("url",), ("final_url",), ("error_class",), ("run_id",), ("sha256",), ("fetched_at",))),
    _TableSpec("dossiers", {
        "id": int, "url": str, "title": str, "intro": str, "first_seen_at": str, "last_seen_at": str,
    }, pk="id", not_null=("url",), unique=(("url",),), indexes=(("title",),)),
    _TableSpec("articles", {
        "id": int, "site_id": int, "url": str, "kicker": str, "title": str, "published_at": str,
        "updated_at": str, "teaser": str, "body": str, "image_url": str, "image_alt": str,
        "image_credit": str, "dossier_id": int, "is_paywalled": int, "comments_count": int,
        "warnings": str, "record": str, "fetch_id": int, "first_seen_at": str, "last_seen_at": str,
        "changed_at": str,
    }, pk="id", foreign_keys=(("dossier_id", "dossiers", "id"), ("fetch_id", "fetches", "id")),
        not_null=("url", "record"), unique=(("site_id",), ("url",)),
        indexes=(("published_at",), ("updated_at",), ("dossier_id",), ("is_paywalled",), ("fetch_id",))),
    _TableSpec("dossier_articles", {
        "dossier_id": int, "page": int, "position": int, "url": str, "site_id": int, "article_id": int,
        "title": str, "kicker": str, "teaser": str, "is_paywalled": int,
    }, pk=("dossier_id", "page", "position"),
        foreign_keys=(("dossier_id", "dossiers", "id"), ("article_id", "articles", "id")),
        indexes=(("article_id",), ("site_id",), ("url",))),
    _TableSpec("listings", {"url": str, "title": str, "next_page": str, "last_seen_at": str}, pk="url"),
    _TableSpec("listing_items", {
        "listing_url": str, "position": int, "url": str, "site_id": int, "article_id": int,
        "title": str, "kicker": str, "teaser": str, "is_paywalled": int,
    }, pk=("listing_url", "position"),
        foreign_keys=(("listing_url", "listings", "url"), ("article_id", "articles", "id")),
        indexes=(("article_id",), ("site_id",), ("url",))),
    _TableSpec("authors", {"id": int, "name": str}, pk="id", not_null=("name",), unique=(("name",),)),
    _TableSpec("article_authors", {"article_id": int, "position": int, "author_id": int},
               pk=("article_id", "position"),
               foreign_keys=(*_ARTICLE_CHILD_FK, ("author_id", "authors", "id")),
               indexes=(("author_id",),)),
    _TableSpec("themes", {"id": int, "name": str}, pk="id", not_null=("name",), unique=(("name",),)),
    _TableSpec("article_themes", {"article_id": int, "position": int, "theme_id": int},
               pk=("article_id", "position"),
               foreign_keys=(*_ARTICLE_CHILD_FK, ("theme_id", "themes", "id")),
               indexes=(("theme_id",),)),
    _TableSpec("paywall_markers", {"article_id": int, "position": int, "marker": str},
               pk=("article_id", "position"), foreign_keys=_ARTICLE_CHILD_FK, indexes=(("marker",),)),
    _TableSpec("related_links", {
        "article_id": int, "position": int, "section": str, "title": str, "url": str, "teaser": str,
    }, pk=("article_id", "position"), foreign_keys=_ARTICLE_CHILD_FK, indexes=(("url",),)),
    _TableSpec("comments", {
        "article_id": int, "position": int, "author": str, "posted_at": str, "text": str,
        "in_reply_to": int,
    }, pk=("article_id", "position"), foreign_keys=_ARTICLE_CHILD_FK, indexes=(("posted_at",),)),
    _TableSpec("article_versions", {
        "id": int, "article_id": int, "recorded_at": str, "changed_fields": str, "previous": str,
    }, pk="id", foreign_keys=_ARTICLE_CHILD_FK, indexes=(("article_id",),)),
    _TableSpec("crawl_queue", {
        "url": str, "kind": str, "parent_url": str, "state": str, "attempts": int, "last_error": str,
        "added_at": str, "updated_at": str,
    }, pk="url", not_null=("kind", "state"), indexes=(("state", "kind"),)),
)

TABLE_NAMES = tuple(spec.name for spec in TABLES)

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
    "fetch_errors": """
select id, run_id, url, status, fetched_at, error_class, error, retries
from fetches where error is not null or status >= 400
order by fetched_at desc, id desc
""".strip(),
}


# --- small helpers ------------------------------------------------------------------------------

def utc_now() -> str:
    """The current time as ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def dossier_base_url(url: str) -> tuple[str, int]:
    """A dossier page URL split into the dossier's base URL and the page number (1 when absent)."""
    match = _PAGE_SUFFIX.search(url)
    if not match or not url[: match.start()].endswith("/"):
        return url, 1
    return url[: match.start()], int(match.group(1))


def dossier_action(existing: dict[str, Any], changed: list[str]) -> Action:
    """A dossier known only from an article's dossier box (never seen itself) is inserted by its first page."""
    if existing["last_seen_at"] is None:
        return "inserted"
    return "updated" if changed else "unchanged"


def scheme_variants(url: str) -> list[str]:
    """The http and https spellings of one URL (the same page on the site)."""
    for scheme, other in (("https://", "http://"), ("http://", "https://")):
        if url.startswith(scheme):
            return [url, other + url[len(scheme):]]
    return [url]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _item_rows(items: list[ListItem]) -> list[dict[str, Any]]:
    return [
        {"position": item.position, "url": item.url, "site_id": item.site_id, "title": item.title,
         "kicker": item.kicker, "teaser": item.teaser, "is_paywalled": int(item.is_paywalled)}
        for item in items
    ]


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise ArchiveError(f"cannot open archive {path}: it is a directory, not a file")
    parent = path.parent
    if not parent.exists():
        raise ArchiveError(f"cannot open archive {path}: directory {parent} does not exist")
    if not parent.is_dir():
        raise ArchiveError(f"cannot open archive {path}: {parent} is not a directory")
    if not path.exists() and not os.access(parent, os.W_OK):
        raise ArchiveError(f"cannot create archive {path}: directory {parent} is not writable")


# --- the archive --------------------------------------------------------------------------------

class Archive:
    """One SQLite archive file. Use one `Archive` per thread (or process)."""

    conn: sqlite3.Connection

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open (or create) the archive at `path`, in WAL mode, and bring its schema up to date.

        Raises ArchiveError when the path is a directory, cannot be written, or is not SQLite.
        """
        self.path = str(path)
        self._depth = 0  # open transactions: 1 inside `transaction()`, more inside nested ones (savepoints)
        self._tables: dict[str, Table] = {}
        self._db: sqlite_utils.Database | None = None
        if self.path != ":memory:":
            _check_path(Path(self.path))
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot open archive {self.path}: {exc}") from exc
        self.conn = conn
        try:
            self._configure()
            self._ensure_schema()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ArchiveError(self._describe(exc)) from exc

    def _describe(self, exc: sqlite3.Error) -> str:
        message = str(exc)
        if "not a database" in message:
            return f"cannot open archive {self.path}: not an SQLite database"
        return f"archive {self.path}: {message}"

    @property
    def db(self) -> sqlite_utils.Database:
        """The archive as a sqlite-utils Database on the same connection, made (and sqlite-utils imported) on
        first use."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def _configure(self) -> None:
        busy_ms = int(BUSY_TIMEOUT_SECONDS * 1000)
        isolation_level, self.conn.isolation_level = self.conn.isolation_level, None  # no implicit transaction
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA recursive_triggers = ON")  # as sqlite-utils sets it: a REPLACE fires deletes
            mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() not in ("wal", "memory"):
                self._switch_to_wal()
        finally:
            self.conn.isolation_level = isolation_level

    def _switch_to_wal(self) -> None:
        """Switch to WAL, waiting for other processes: SQLite answers "locked" at once (no busy handler)
        when another connection is using a new archive, e.g. two crawls started together."""
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.02)

    def _schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _ensure_schema(self) -> None:
        version = self._schema_version()
        if version > SCHEMA_VERSION:
            raise ArchiveError(
                f"archive {self.path} has schema version {version}, newer than this tool's "
                f"({SCHEMA_VERSION}): upgrade scrape"
            )
        if version == SCHEMA_VERSION:
            return
        with self._transaction():
            if self._schema_version() == SCHEMA_VERSION:  # another process migrated it meanwhile
                return
            for spec in TABLES:
                self._ensure_table(spec)
            if not self.db["articles_fts"].exists():
                self._table("articles").enable_fts(
                    FTS_COLUMNS, tokenize=FTS_TOKENIZE, create_triggers=True
                )
            for name, sql in VIEWS.items():
                self.db.create_view(name, sql, replace=True)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _ensure_table(self, spec: _TableSpec) -> None:
        table = self._table(spec.name)
        if table.exists():
            existing = table.columns_dict
            for column, column_type in spec.columns.items():
                if column not in existing:
                    table.add_column(column, column_type)
        else:
            table.create(
                spec.columns, pk=spec.pk, foreign_keys=list(spec.foreign_keys),
                not_null=list(spec.not_null) or None,
            )
        for columns in spec.unique:
            table.create_index(columns, unique=True, if_not_exists=True)
        for columns in spec.indexes:
            table.create_index(columns, if_not_exists=True)

    def _table(self, name: str) -> Table:
        """The sqlite-utils table (kept: `db.table()` asks SQLite for the view names at each call)."""
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = self.db.table(name)
        return table

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, taken with BEGIN IMMEDIATE so concurrent writers queue up.

        Inside another one it is a savepoint: its writes commit with the outer transaction, and an error
        undoes them alone. A crawler stores a page, logs its fetch and updates its queue this way, at once.
        """
        if self._depth:
            with self._savepoint():
                yield
            return
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise ArchiveError(self._describe(exc)) from exc
        except Exception as exc:
            if self._db is None or not _is_row_not_found(exc):  # raised by sqlite-utils' get and update
                raise
            raise ArchiveError(f"archive {self.path}: row not found: {exc}") from exc

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        conn = self.conn
        name = f"scrape_{self._depth}"
        conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        conn.execute(f"RELEASE {name}")

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """A write transaction (BEGIN IMMEDIATE) for callers that write their own rows (the crawler's
        `crawl_queue`), or that group several writes (a page, its fetch and its queue row) into one;
        nested ones are savepoints. SQLite errors become ArchiveError."""
        return self._transaction()

    # --- plain SQL for the per-page writes (sqlite-utils inspects the schema at each call) ----------

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert `row` (column -> value) into `table`; returns its rowid."""
        columns = ", ".join(f"[{column}]" for column in row)
        marks = ", ".join("?" for _ in row)
        cursor = self.conn.execute(f"insert into [{table}] ({columns}) values ({marks})", list(row.values()))
        return int(cursor.lastrowid or 0)

    def _update(self, table: str, key: str, value: Any, row: dict[str, Any]) -> int:
        """Set the columns of `row` in the row of `table` whose `key` column is `value`; returns the rows
        changed."""
        if not row:
            return 0
        assignments = ", ".join(f"[{column}] = ?" for column in row)
        cursor = self.conn.execute(f"update [{table}] set {assignments} where [{key}] = ?", [*row.values(), value])
        return cursor.rowcount

    def _select(self, sql: str, params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
        """The rows of a query as dicts."""
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- runs and fetches -----------------------------------------------------------------------

    def start_run(self, command: str) -> int:
        """Open a row in `runs` for one command; returns its id."""
        with self._transaction():
            return self._insert("runs", {"command": command, "started_at": utc_now()})

    def finish_run(self, run_id: int, counts: dict[str, int]) -> None:
        """Close a run with its counts (fetched, not_modified, failed, retried, bytes, ...).

        Unknown count names become new columns of `runs`.
        """
        for name in counts:
            if not _COUNT_NAME.match(name):
                raise ValueError(f"invalid run count name: {name!r}")
        with self._transaction():
            known = {row[1] for row in self.conn.execute("PRAGMA table_info(runs)")}
            for name in counts:
                if name not in known:
                    self._table("runs").add_column(name, int)
            if not self._update("runs", "id", run_id, {"ended_at": utc_now(), **counts}):
                raise ArchiveError(f"archive {self.path}: row not found: no run {run_id}")

    def record_fetch(self, result: FetchResult, *, run_id: int | None = None) -> int:
        """Log one fetch in `fetches` (its raw body compressed, deduplicated, in `bodies`); returns its id."""
        with self._transaction():
            sha256 = self._store_body(result.body) if result.body is not None else None
            row = {
                "run_id": run_id, "url": result.url, "final_url": result.final_url,
                "status": result.status, "fetched_at": result.fetched_at or utc_now(),
                "elapsed": result.elapsed, "bytes": len(result.body) if result.body is not None else 0,
                "headers": _json(result.headers), "etag": result.etag,
                "last_modified": result.last_modified, "content_type": result.content_type,
                "sha256": sha256, "error": result.error, "error_class": result.error_class,
                "retries": result.retries, "cookies_sent": int(result.cookies_sent),
                "source": result.source,
                "request_headers": _json(result.request_headers) if result.request_headers else None,
            }
            return self._insert("fetches", row)

    def set_request_headers(self, fetch_id: int, headers: list[tuple[str, str]]) -> None:
        """Record the request headers of a fetch logged before they were known (a WARC's request record
        that follows its response)."""
        with self._transaction():
            self._update("fetches", "id", fetch_id, {"request_headers": _json(headers) if headers else None})

    def _store_body(self, body: bytes) -> str:
        sha256 = hashlib.sha256(body).hexdigest()
        known = self.conn.execute("select 1 from bodies where sha256 = ?", [sha256]).fetchone()
        if known is None:  # a body seen before (e.g. refetched unchanged) is not compressed again
            self._insert("bodies", {"sha256": sha256, "size": len(body), "compressed": zlib.compress(body),
                                    "compression": "zlib"})
        return sha256

    def raw_body(self, sha256: str) -> bytes | None:
        """The raw bytes stored under `sha256`, or None."""
        row = self.conn.execute(
            "select compressed, compression from bodies where sha256 = ?", [sha256]
        ).fetchone()
        if row is None:
            return None
        compressed, compression = row
        if compression != "zlib":
            raise ArchiveError(f"archive {self.path}: body {sha256} uses unknown compression {compression!r}")
        return zlib.decompress(compressed)

    def latest_fetch(self, url: str) -> dict[str, Any] | None:
        """The newest successful (200/304) fetch of `url` (as url or final_url), for a conditional GET.

        After a 304, `sha256`, `etag` and `last_modified` are filled from the newest fetch of the URL
        that has them, so the caller always gets the validators and the body it holds.
        """
        where = "(url = :url or final_url = :url) and error is null"
        order = "order by fetched_at desc, id desc limit 1"
        row = self._fetch_row(f"{where} and status in (200, 304)", order, url)
        if row is None:
            return None
        for column in ("sha256", "etag", "last_modified"):
            if row[column] is None:
                earlier = self._fetch_row(f"{where} and status = 200 and {column} is not null", order, url)
                if earlier is not None:
                    row[column] = earlier[column]
        return row

    def _fetch_row(self, where: str, order: str, url: str) -> dict[str, Any] | None:
        rows = self._select(f"select * from fetches where {where} {order}", {"url": url})
        if not rows:
            return None
        row = rows[0]
        row["headers"] = json.loads(row["headers"]) if row["headers"] else {}
        row["cookies_sent"] = bool(row["cookies_sent"])
        return row

    # --- records --------------------------------------------------------------------------------

    def store_record(
        self, record: Record, *, fetch_id: int | None = None, seen_at: str | None = None
    ) -> StoreOutcome:
        """Upsert one page's record and all its child rows in one transaction."""
        if not isinstance(record, Article | Dossier | Listing):
            raise TypeError(f"not a record: {type(record).__name__}")
        seen_at = seen_at or utc_now()
        with self._transaction():
            if isinstance(record, Article):
                return self._store_article(record, fetch_id, seen_at)
            if isinstance(record, Dossier):
                return self._store_dossier(record, seen_at)
            return self._store_listing(record, seen_at)

    def _find_article(self, article: Article) -> dict[str, Any] | None:
        if article.site_id is not None:
            rows = self._select("select * from articles where site_id = ?", [article.site_id])
            if rows:
                return rows[0]
        rows = self._select("select * from articles where url = ?", [article.url])
        return rows[0] if rows else None

    def _store_article(self, article: Article, fetch_id: int | None, seen_at: str) -> StoreOutcome:
        data = article.to_dict()
        existing = self._find_article(article)
        row = self._article_row(article, data, seen_at)
        if existing is None:
            row.update(fetch_id=fetch_id, first_seen_at=seen_at, last_seen_at=seen_at, changed_at=seen_at)
            article_id = self._insert("articles", row)
            action: Action = "inserted"
            changed: list[str] = []
        else:
            article_id = existing["id"]
            previous = json.loads(existing["record"])
            changed = [key for key in (*VERSIONED_FIELDS, "warnings") if previous.get(key) != data[key]]
            action = "updated" if changed else "unchanged"
            row["last_seen_at"] = seen_at
            row["fetch_id"] = fetch_id if fetch_id is not None else existing["fetch_id"]
            content_changed = [key for key in changed if key != "warnings"]
            if content_changed:
                row["changed_at"] = seen_at
                self._insert("article_versions", {
                    "article_id": article_id, "recorded_at": seen_at,
                    "changed_fields": _json(content_changed),
                    "previous": _json({key: previous.get(key) for key in content_changed}),
                })
            self._update("articles", "id", article_id, row)
        self._replace_article_children(article_id, article)
        self._link_items_to_article(article_id, article, existing)
        return StoreOutcome("article", article_id, action, changed)

    def _article_row(self, article: Article, data: dict[str, Any], seen_at: str) -> dict[str, Any]:
        image = article.image
        return {
            "site_id": article.site_id, "url": article.url, "kicker": article.kicker,
            "title": article.title, "published_at": article.published_at,
            "updated_at": article.updated_at, "teaser": article.teaser, "body": article.body,
            "image_url": image.url if image else None, "image_alt": image.alt if image else None,
            "image_credit": image.credit if image else None,
            "dossier_id": self._dossier_for_article(article, seen_at),
            "is_paywalled": int(article.paywall.is_paywalled),
            "comments_count": article.comments_count, "warnings": _json(article.warnings),
            "record": _json(data),
        }

    def _dossier_for_article(self, article: Article, seen_at: str) -> int | None:
        ref = article.dossier
        if ref is None:
            return None
        if ref.url is None:
            found = self.conn.execute("select id from dossiers where title = ? limit 1", [ref.title]).fetchone()
            return found[0] if found else None
        base, _ = dossier_base_url(ref.url)
        existing = self._dossier_row(base)
        if existing is not None:
            if not existing["title"] and ref.title:
                self._update("dossiers", "id", existing["id"], {"title": ref.title})
            return int(existing["id"])
        return self._insert("dossiers", {"url": base, "title": ref.title, "first_seen_at": seen_at,
                                         "last_seen_at": None})

    def _replace_article_children(self, article_id: int, article: Article) -> None:
        for table in ("article_authors", "article_themes", "paywall_markers", "related_links", "comments"):
            self.conn.execute(f"delete from [{table}] where article_id = ?", [article_id])
        self._insert_all("article_authors", [
            {"article_id": article_id, "position": i, "author_id": self._lookup("authors", name)}
            for i, name in enumerate(article.authors)
        ])
        self._insert_all("article_themes", [
            {"article_id": article_id, "position": i, "theme_id": self._lookup("themes", name)}
            for i, name in enumerate(article.themes)
        ])
        self._insert_all("paywall_markers", [
            {"article_id": article_id, "position": i, "marker": marker}
            for i, marker in enumerate(article.paywall.markers)
        ])
        self._insert_all("related_links", [
            {"article_id": article_id, "position": i, "section": link.section, "title": link.title,
             "url": link.url, "teaser": link.teaser}
            for i, link in enumerate(article.related)
        ])
        self._insert_all("comments", [
            {"article_id": article_id, "position": i, "author": comment.author,
             "posted_at": comment.posted_at, "text": comment.text, "in_reply_to": comment.in_reply_to}
            for i, comment in enumerate(article.comments)
        ])

    def _insert_all(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert `rows`, which all have the columns of the first one."""
        if rows:
            columns = list(rows[0])
            names = ", ".join(f"[{column}]" for column in columns)
            marks = ", ".join("?" for _ in columns)
            self.conn.executemany(f"insert into [{table}] ({names}) values ({marks})",
                                     [[row[column] for column in columns] for row in rows])

    def _lookup(self, table: str, name: str) -> int:
        """The id of the row of `table` (authors, themes) named `name`, inserted when missing."""
        found = self.conn.execute(f"select id from [{table}] where name = ?", [name]).fetchone()
        if found is not None:
            return int(found[0])
        return self._insert(table, {"name": name})

    def _link_items_to_article(
        self, article_id: int, article: Article, existing: dict[str, Any] | None
    ) -> None:
        urls = {article.url} | ({existing["url"]} if existing else set())
        placeholders = ", ".join("?" for _ in urls)
        # `+article_id` keeps SQLite on the site_id / url indexes: the article_id index would visit every
        # unlinked item of the archive for each article stored (milliseconds each in a large archive).
        for table in ("dossier_articles", "listing_items"):
            self.conn.execute(
                f"update [{table}] set article_id = ? where +article_id is null"
                f" and (site_id = ? or url in ({placeholders}))",
                [article_id, article.site_id, *urls],
            )

    def _article_id_for_item(self, item: ListItem) -> int | None:
        if item.site_id is not None:
            row = self.conn.execute("select id from articles where site_id = ?", [item.site_id]).fetchone()
            if row:
                return int(row[0])
        row = self.conn.execute("select id from articles where url = ?", [item.url]).fetchone()
        return int(row[0]) if row else None

    def _dossier_row(self, base_url: str) -> dict[str, Any] | None:
        """The dossier at `base_url`, whichever scheme it was first seen with (the site moved to https)."""
        variants = scheme_variants(base_url)
        placeholders = ", ".join("?" for _ in variants)
        rows = self._select(f"select * from dossiers where url in ({placeholders}) order by url = ? desc",
                            [*variants, base_url])
        return rows[0] if rows else None

    def _store_dossier(self, dossier: Dossier, seen_at: str) -> StoreOutcome:
        base, page = dossier_base_url(dossier.url)
        existing = self._dossier_row(base)
        items = _item_rows(dossier.articles)
        if existing is None:
            dossier_id = self._insert("dossiers", {
                "url": base, "title": dossier.title, "intro": dossier.intro,
                "first_seen_at": seen_at, "last_seen_at": seen_at,
            })
            action: Action = "inserted"
            changed: list[str] = []
        else:
            dossier_id = existing["id"]
            updates = self._dossier_updates(existing, dossier, page)
            changed = [key for key in updates if updates[key] != existing[key]]
            if self._item_rows_stored("dossier_articles", "dossier_id = ? and page = ?",
                                      [dossier_id, page]) != items:
                changed.append("articles")
            action = dossier_action(existing, changed)
            changed = changed if action == "updated" else []
            self._update("dossiers", "id", dossier_id, {**updates, "last_seen_at": seen_at})
        self.conn.execute("delete from dossier_articles where dossier_id = ? and page = ?", [dossier_id, page])
        self._insert_all("dossier_articles", [
            {"dossier_id": dossier_id, "page": page, **row, "article_id": self._article_id_for_item(item)}
            for row, item in zip(items, dossier.articles, strict=True)
        ])
        return StoreOutcome("dossier", base, action, changed)

    @staticmethod
    def _dossier_updates(existing: dict[str, Any], dossier: Dossier, page: int) -> dict[str, Any]:
        """Page 1 is authoritative for title and intro; later pages only fill what is missing."""
        if page == 1:
            return {"title": dossier.title, "intro": dossier.intro}
        updates: dict[str, Any] = {}
        if not existing["title"] and dossier.title:
            updates["title"] = dossier.title
        if existing["intro"] is None and dossier.intro is not None:
            updates["intro"] = dossier.intro
        return updates

    def _item_rows_stored(self, table: str, where: str, args: list[Any]) -> list[dict[str, Any]]:
        columns = "position, url, site_id, title, kicker, teaser, is_paywalled"
        return self._select(f"select {columns} from [{table}] where {where} order by position", args)

    def _store_listing(self, listing: Listing, seen_at: str) -> StoreOutcome:
        items = _item_rows(listing.articles)
        row = {"url": listing.url, "title": listing.title, "next_page": listing.next_page}
        found = self._select("select * from listings where url = ?", [listing.url])
        existing = found[0] if found else None
        changed: list[str] = []
        if existing is None:
            action: Action = "inserted"
        else:
            changed = [key for key in ("title", "next_page") if existing[key] != row[key]]
            if self._item_rows_stored("listing_items", "listing_url = ?", [listing.url]) != items:
                changed.append("articles")
            action = "updated" if changed else "unchanged"
        if existing is None:
            self._insert("listings", {**row, "last_seen_at": seen_at})
        else:
            self._update("listings", "url", listing.url, {**row, "last_seen_at": seen_at})
        self.conn.execute("delete from listing_items where listing_url = ?", [listing.url])
        self._insert_all("listing_items", [
            {"listing_url": listing.url, **item_row, "article_id": self._article_id_for_item(item)}
            for item_row, item in zip(items, listing.articles, strict=True)
        ])
        return StoreOutcome("listing", listing.url, action, changed)

    # --- reading --------------------------------------------------------------------------------

    def article_records(
        self, *, dossier: str | None = None, since: str | None = None, paywalled: bool | None = None
    ) -> Iterator[dict[str, Any]]:
        """The stored articles as contract dicts, oldest first (published_at, else updated_at; then id).

        `dossier`: a dossier URL (any of its pages) or a case-insensitive substring of its title; it
        matches the articles that name the dossier and those listed in its table of contents.
        `since`: an ISO date; keeps articles published (else updated) on or after it.
        `paywalled`: True keeps paywalled articles, False free ones.
        """
        wheres: list[str] = []
        params: dict[str, Any] = {}
        if dossier is not None:
            wheres.append(
                "(dossier_id in (select value from json_each(:dossiers)) or id in (select article_id"
                " from dossier_articles where dossier_id in (select value from json_each(:dossiers))))"
            )
            params["dossiers"] = json.dumps(self._matching_dossiers(dossier))
        if since is not None:
            wheres.append("coalesce(published_at, updated_at) >= :since")
            params["since"] = check_since(since)
        if paywalled is not None:
            wheres.append("is_paywalled = :paywalled")
            params["paywalled"] = int(paywalled)
        where = f"where {' and '.join(wheres)} " if wheres else ""
        sql = f"select record from articles {where}order by coalesce(published_at, updated_at), id"
        cursor = self.conn.execute(sql, params)  # runs now, so a bad filter fails before any output
        return (json.loads(record) for (record,) in cursor)

    def _matching_dossiers(self, dossier: str) -> list[int]:
        """Ids of the dossiers whose URL is `dossier` (any page) or whose title contains it (any case)."""
        base = dossier_base_url(dossier)[0]
        wanted = dossier.casefold()
        return [
            row["id"] for row in self._select("select id, url, title from dossiers", [])
            if row["url"] == base or wanted in (row["title"] or "").casefold()
        ]

    def counts(self) -> dict[str, int]:
        """Rows per table of the archive."""
        return {
            name: int(self.conn.execute(f"select count(*) from [{name}]").fetchone()[0])
            for name in TABLE_NAMES
        }


def _is_row_not_found(exc: Exception) -> bool:
    """Whether `exc` is sqlite-utils' NotFoundError (only asked once sqlite-utils is loaded)."""
    from sqlite_utils.db import NotFoundError

    return isinstance(exc, NotFoundError)


def check_since(since: str | None) -> str | None:
    """`since` when it starts with an ISO date (YYYY-MM-DD), else a UsageError: the --since of the commands
    that read the archive (export, search, reparse, WARC export). None stays None."""
    if since is None:
        return None
    try:
        date.fromisoformat(since[:10])
    except ValueError:
        raise UsageError(f"invalid date {since!r}: expected YYYY-MM-DD") from None
    return since
