"""`Archive`: one SQLite archive file, its connection and its transactions, and the doors to what it keeps.

The per-page reads and writes are plain SQL on the archive's sqlite3 connection; sqlite-utils creates and
migrates the schema (scraper.archive.schema) and serves the services that read through it (`Archive.db`).
It is imported only then.

Every page is stored in one transaction (``BEGIN IMMEDIATE``, so two processes writing at once wait for each
other instead of failing); transactions nest as savepoints. SQLite errors become `ArchiveError`.

The methods of `Archive` are the archive's public doors; the modules of this package implement them
(fetchlog: runs, fetches and raw bodies; records: what a page's record does to the tables; queries: reading
articles back; queue: the crawl frontier). Code outside the package never writes SQL: it calls these.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scraper.archive import fetchlog, queries, records
from scraper.archive.bodies import BodyStore, read_body
from scraper.archive.schema import SCHEMA_VERSION, TABLE_NAMES, create_or_migrate
from scraper.errors import ArchiveBusy, ArchiveError, ArchiveFull, DamagedArchive, NoArchive
from scraper.models import FetchResult, Record

if TYPE_CHECKING:
    import sqlite_utils

    from scraper.archive.queue import CrawlQueue, EntryKind
    from scraper.archive.records import StoreOutcome

BUSY_TIMEOUT_SECONDS = 30.0
PAGE_SIZE = 8192  # an article's row or a raw body takes 2 to 3 KB: 8 KB pages waste less around them than 4 KB
CACHE_KIB = 1024  # SQLite's page cache: as fast as its 2 MiB default on a crawl, and 1 MB less memory


class Archive:
    """One SQLite archive file. Use one `Archive` per thread (or process), as a context manager."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, read_only: bool = False) -> None:
        """Open the archive at `path` (created when missing, unless `create` is False), in WAL mode, and bring
        its schema up to date.

        `read_only`: for the commands that only read. The file is opened read-only (an SQLite `mode=ro` URI)
        and never written, so a read-only file can be read; it must exist, be an archive, and be of the
        current schema (an older one is brought up to date by any command that stores).

        Raises NoArchive when `create` is False (or `read_only`) and there is no file, or a file that is not
        an archive (an empty file is not turned into one); DamagedArchive when the file is damaged;
        ArchiveError when the path is a directory, cannot be written, or is not SQLite.
        """
        self.path = str(path)
        self.read_only = read_only
        self._depth = 0  # open transactions: 1 inside `transaction()`, more inside nested ones (savepoints)
        self._db: sqlite_utils.Database | None = None
        self._bodies = BodyStore(self)
        if self.path != ":memory:":
            _check_path(Path(self.path), create and not read_only)
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            raise self.error(exc) from exc
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot open archive {self.path}: {exc}") from exc
        try:
            if not create or read_only:
                self._check_is_archive()  # before anything is written: an empty file stays empty
            self._configure()
            self._ensure_schema()
        except (sqlite3.DatabaseError, ArchiveError) as exc:
            self._conn.close()
            if isinstance(exc, ArchiveError):
                raise
            raise self.error(exc) from exc

    def _connect(self) -> sqlite3.Connection:
        if not self.read_only:
            return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
        uri = Path(self.path).resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            conn.execute("select count(*) from sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            # A WAL archive needs its -shm file, which a read-only directory cannot hold: without a write-ahead
            # log left over, the file itself is the whole archive and is read as it is (immutable).
            conn.close()
            if "readonly" not in str(exc) and "unable to open" not in str(exc):
                raise
            wal = Path(f"{self.path}-wal")
            if wal.exists() and wal.stat().st_size:
                raise ArchiveError(f"cannot read archive {self.path}: it is read-only and its write-ahead log"
                                   f" {wal} holds unfinished writes (open it once with write access)") from None
            return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=BUSY_TIMEOUT_SECONDS)

    def error(self, exc: sqlite3.Error) -> ArchiveError:
        """An SQLite error as the tool's error in one line naming the archive: ArchiveFull, ArchiveBusy (locked
        by another writer past the busy timeout), DamagedArchive (with what can be done), else ArchiveError."""
        message = str(exc)
        if "database or disk is full" in message:
            return ArchiveFull(f"archive {self.path}: the disk is full ({message})")
        if "database is locked" in message:
            return ArchiveBusy(f"archive {self.path}: locked by another writer past {BUSY_TIMEOUT_SECONDS:g} s")
        if "malformed" in message or "disk I/O error" in message:
            return DamagedArchive(f"archive {self.path} is damaged ({message}); `scrape check --fix` rebuilds only"
                                  " the full-text index: restore a backup, or copy what can be read with"
                                  f" `sqlite3 {self.path} .recover | sqlite3 recovered.db`")
        return ArchiveError(self.describe(exc))

    def describe(self, exc: sqlite3.Error) -> str:
        """An SQLite error as one line naming the archive."""
        if "not a database" in str(exc):
            return f"cannot open archive {self.path}: not an SQLite database"
        return f"archive {self.path}: {exc}"

    def _check_is_archive(self) -> None:
        """NoArchive when the file holds no archive: empty, or another SQLite database."""
        if self.path == ":memory:" or self.schema_version():
            return
        tables = {name for (name,) in self._conn.execute("select name from sqlite_master where type = 'table'")}
        if not tables:
            raise NoArchive(f"{self.path} is not an archive (an empty database): only the commands that store"
                            " pages (scrape url, dossier, listing, feed, import-warc) create one")
        if not {"articles", "fetches"} <= tables:
            raise NoArchive(f"{self.path} is not an archive of scrape (an SQLite database of something else)")

    @property
    def db(self) -> sqlite_utils.Database:
        """The archive as a sqlite-utils Database on the same connection (sqlite-utils imported on first use),
        for the services of this package and for tests; the library outside it goes through the methods."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self._conn)
        return self._db

    # --- opening ----------------------------------------------------------------------------------

    def _configure(self) -> None:
        isolation_level, self._conn.isolation_level = self._conn.isolation_level, None  # no implicit transaction
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA recursive_triggers = ON")  # as sqlite-utils sets it: a REPLACE fires deletes
            self._conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._conn.execute("PRAGMA temp_store = MEMORY")  # savepoints' journals: not in temporary files
            if self.read_only:  # opened with mode=ro: SQLite refuses any write to the file
                return
            if self._conn.execute("PRAGMA page_count").fetchone()[0] == 0:  # a new file: before its first page
                self._conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() not in ("wal", "memory"):
                self._switch_to_wal()
        finally:
            self._conn.isolation_level = isolation_level

    def _switch_to_wal(self) -> None:
        """Switch to WAL, waiting for other processes: SQLite answers "locked" at once (no busy handler)
        when another connection is using a new archive, e.g. two crawls started together."""
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.02)

    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _ensure_schema(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise ArchiveError(f"archive {self.path} has schema version {version}, newer than this tool's"
                               f" ({SCHEMA_VERSION}): upgrade scrape")
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise ArchiveError(f"archive {self.path} has schema version {version}, older than this tool's"
                               f" ({SCHEMA_VERSION}): a command that stores (or `scrape check --fix`) brings it"
                               " up to date; this one only reads")
        with self.transaction():
            if self.schema_version() != SCHEMA_VERSION:  # another process may have migrated it meanwhile
                create_or_migrate(self)

    # --- transactions -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, taken with BEGIN IMMEDIATE so concurrent writers queue up.

        Inside another one it is a savepoint: its writes commit with the outer transaction, and an error
        undoes them alone. A crawler stores a page, logs its fetch and updates its queue this way, at once.
        """
        if self._depth:
            with self._savepoint():
                yield
            return
        conn = self._conn
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
            raise self.error(exc) from exc

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        conn = self._conn
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

    @contextlib.contextmanager
    def relaxed_sync(self) -> Iterator[None]:
        """WAL with synchronous=NORMAL: no fsync per commit; a power cut may lose the last commits, never the
        file. For work that can be run again (a reparse); the setting is restored afterwards."""
        previous = self._conn.execute("pragma synchronous").fetchone()[0]
        self._conn.execute("pragma synchronous = normal")
        try:
            yield
        finally:
            self._conn.execute(f"pragma synchronous = {int(previous)}")

    def file_size(self) -> int:
        """The archive's size in bytes (its pages, whether in the file or still in the WAL)."""
        page_count = self._conn.execute("pragma page_count").fetchone()[0]
        return int(page_count * self._conn.execute("pragma page_size").fetchone()[0])

    def vacuum(self) -> None:
        """Rewrite the file without its free pages (VACUUM: needs as much free disk as the archive's size), in
        pages of PAGE_SIZE when no other process has the archive open (older archives have 4 KB pages, which
        VACUUM changes only out of WAL mode), and fold the WAL back into it."""
        conn = self._conn
        try:
            resized = False
            if conn.execute("pragma page_size").fetchone()[0] < PAGE_SIZE:
                resized = conn.execute("pragma journal_mode = delete").fetchone()[0].lower() == "delete"
                if resized:
                    conn.execute(f"pragma page_size = {PAGE_SIZE}")
            conn.execute("vacuum")
            if resized:
                conn.execute("pragma journal_mode = wal")
            conn.execute("pragma wal_checkpoint(truncate)")
        except sqlite3.Error as exc:
            raise self.error(exc) from exc

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: object) -> None:
        """Close; an SQLite error met inside the `with` block becomes the tool's own (ArchiveError)."""
        self.close()
        if isinstance(exc, sqlite3.Error):
            raise self.error(exc) from exc

    # --- plain SQL, for the modules of this package only -----------------------------------------------

    def _execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def _execute_many(self, sql: str, rows: list[Any]) -> None:
        if rows:
            self._conn.executemany(sql, rows)

    def _select(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """The rows of a query as dicts."""
        cursor = self._conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _select_one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self._select(sql, params)
        return rows[0] if rows else None

    def _scalar(self, sql: str, params: Any = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert `row` (column -> value) into `table`; returns its rowid."""
        columns = ", ".join(f"[{column}]" for column in row)
        marks = ", ".join("?" for _ in row)
        cursor = self._conn.execute(f"insert into [{table}] ({columns}) values ({marks})", list(row.values()))
        return int(cursor.lastrowid or 0)

    def _insert_all(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert `rows`, which all have the columns of the first one."""
        if rows:
            columns = list(rows[0])
            names = ", ".join(f"[{column}]" for column in columns)
            marks = ", ".join("?" for _ in columns)
            self._conn.executemany(f"insert into [{table}] ({names}) values ({marks})",
                                   [[row[column] for column in columns] for row in rows])

    def _update(self, table: str, key: str, value: Any, row: dict[str, Any]) -> int:
        """Set the columns of `row` in the row of `table` whose `key` column is `value`; returns the rows
        changed."""
        if not row:
            return 0
        assignments = ", ".join(f"[{column}] = ?" for column in row)
        cursor = self._conn.execute(f"update [{table}] set {assignments} where [{key}] = ?", [*row.values(), value])
        return cursor.rowcount

    # --- the doors --------------------------------------------------------------------------------

    def start_run(self, command: str) -> int:
        """Open a row in `runs` for one command; returns its id."""
        return fetchlog.start_run(self, command)

    def finish_run(self, run_id: int, counts: dict[str, int]) -> None:
        """Close a run with its counts (fetched, not_modified, failed, …); unknown names become columns."""
        fetchlog.finish_run(self, run_id, counts)

    def record_fetch(self, result: FetchResult, *, run_id: int | None = None) -> int:
        """Log one fetch in `fetches` (its raw body compressed, deduplicated, in `bodies`); returns its id."""
        return fetchlog.record_fetch(self, result, run_id=run_id)

    def mark_failed(self, fetch_id: int, error: str, error_class: str) -> None:
        """Say that a logged fetch failed after all: its page was not stored (`error`, `error_class`)."""
        fetchlog.mark_failed(self, fetch_id, error, error_class)

    def set_request_headers(self, fetch_id: int, headers: list[tuple[str, str]]) -> None:
        """Record the request headers of a fetch logged before they were known."""
        fetchlog.set_request_headers(self, fetch_id, headers)

    def read_body(self, sha256: str) -> bytes | None:
        """The raw bytes stored under `sha256`, byte for byte as received, or None (scraper.archive.bodies)."""
        return read_body(self, sha256)

    def latest_fetch(self, url: str) -> dict[str, Any] | None:
        """The newest successful (200/304) fetch of `url`, with the validators and body it holds."""
        return fetchlog.latest_fetch(self, url)

    def validators(self, url: str) -> dict[str, str | None]:
        """The ETag / Last-Modified of the stored copy of `url`, for a conditional GET."""
        return fetchlog.validators(self, url)

    def page_body(self, result: FetchResult) -> bytes | None:
        """The page a fetch brought: its body, or after a 304 the body stored by the earlier fetch."""
        return fetchlog.page_body(self, result)

    def store_record(self, record: Record, **options: Any) -> StoreOutcome:
        """Upsert one page's record and its child rows in one transaction; `options` (fetch_id, seen_at, dry_run,
        keep_better, captured, changed_only) as records.store_record takes them."""
        return records.store_record(self, record, **options)

    def find_article(self, url: str, site_id: int | None = None) -> dict[str, Any] | None:
        """The archived article with this site id (else this URL): its id, url and is_paywalled."""
        return queries.find_article(self, url, site_id)

    def dossier_of_article(self, article_id: int) -> str | None:
        """The URL of the dossier an archived article belongs to."""
        return queries.dossier_url_of_article(self, article_id)

    def latest_paywalled_article(self) -> str | None:
        """The URL of the paywalled article seen last."""
        return queries.latest_paywalled_article(self)

    def article_records(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """The stored articles as contract dicts, oldest first, filtered (dossier, since, paywalled) and with
        what asked (archived_at, seen_at): see queries.article_records."""
        return queries.article_records(self, **filters)

    def crawl_queue(self, kind: EntryKind, root: str) -> CrawlQueue:
        """The rows of `crawl_queue` of the crawl `kind` (the command: dossier, listing, feed) from `root`."""
        from scraper.archive.queue import CrawlQueue

        return CrawlQueue(self, kind, root)

    def counts(self) -> dict[str, int]:
        """Rows per table of the archive."""
        return {name: int(self._scalar(f"select count(*) from [{name}]")) for name in TABLE_NAMES}


def _check_path(path: Path, create: bool) -> None:
    if path.is_dir():
        raise ArchiveError(f"cannot open archive {path}: it is a directory, not a file")
    if not create and not path.exists():
        raise NoArchive(f"{path}: no such archive (run `scrape url` first, or pass --db)")
    parent = path.parent
    if not parent.exists():
        raise ArchiveError(f"cannot open archive {path}: directory {parent} does not exist")
    if not parent.is_dir():
        raise ArchiveError(f"cannot open archive {path}: {parent} is not a directory")
    if not path.exists() and not os.access(parent, os.W_OK):
        raise ArchiveError(f"cannot create archive {path}: directory {parent} is not writable")
