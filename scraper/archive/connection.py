"""`Connection`: one open SQLite file, and plain SQL on it. The bottom of the archive package: it imports nothing
else of it, and every table object of the package (scraper.archive.bodies, fetchlog, records, …) is bound to one.

It opens the file (created when missing, or read-only), sets it up (WAL, busy timeout, page size and cache, foreign
keys), runs transactions (``BEGIN IMMEDIATE``, so two processes writing at once wait for each other instead of
failing; nested ones are savepoints, or with `writes()` plain parts of the outer one) with what each learnt of the
file (`memo`), turns SQLite's errors into the tool's (`ArchiveError` and its kinds), and gives plain SQL:
`execute`, `execute_many`, `select`, `one`, `scalar`, `insert`, `insert_all`, `update`. The sqlite-utils Database
on the same connection (`db`) serves schema work and the services.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

from scraper.errors import ArchiveBusy, ArchiveError, ArchiveFull, DamagedArchive, NoArchive

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_SECONDS = 30.0
PAGE_SIZE = 8192  # an article's row or a raw body takes 2 to 3 KB: 8 KB pages waste less around them than 4 KB
CACHE_KIB = 1024  # SQLite's page cache: as fast as its 2 MiB default on a crawl, and 1 MB less memory


class Connection:
    """One open SQLite file: its connection, its settings, its transactions and its errors, and plain SQL on it.

    Use one per thread (or process), as a context manager. The archive (scraper.archive.db.Archive) is one, with
    its schema checked and its tables bound to it."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, read_only: bool = False) -> None:
        """Open the file at `path` (created when missing, unless `create` is False) in WAL mode; when it must
        already exist, `check_contents()` looks at it before anything is written; then `prepare()` (the two hooks
        a subclass fills: the archive checks and migrates its schema there).

        `read_only`: for the commands that only read. The file is opened read-only (an SQLite `mode=ro` URI)
        and never written, so a read-only file can be read.

        Raises NoArchive when `create` is False (or `read_only`) and there is no file; DamagedArchive when the
        file is damaged; ArchiveError when the path is a directory, cannot be written, or is not SQLite.
        """
        self.path = str(path)
        self.read_only = read_only
        self._depth = 0  # open transactions: 1 inside `transaction()`, more inside nested ones (savepoints)
        self._memos: dict[str, dict[Any, Any]] = {}  # `memo()`: what the open transaction learnt, by name
        self._db: sqlite_utils.Database | None = None
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
                self.check_contents()  # before anything is written: an empty file stays empty
            self._configure()
            self.prepare()
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

    def check_contents(self) -> None:
        """Raise NoArchive when the file holds something else than what this connection is for: a hook, called
        before anything is written when the file must already exist (nothing to check here)."""

    def prepare(self) -> None:
        """Bring the file's contents up to date once it is open and set up: a hook (nothing to do here)."""

    def table_names(self) -> set[str]:
        return {name for (name,) in self._conn.execute("select name from sqlite_master where type = 'table'")}

    @property
    def db(self) -> sqlite_utils.Database:
        """The archive as a sqlite-utils Database on the same connection (sqlite-utils imported on first use),
        for schema work and the services of this package, and for tests."""
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

    # --- transactions -----------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction of this connection is open (`transaction()`, `begin()`)."""
        return self._depth > 0

    @contextlib.contextmanager
    def transaction(self, *, immediate: bool = True) -> Iterator[None]:
        """One transaction, a write transaction taken with BEGIN IMMEDIATE so concurrent writers queue up (a
        deferred one when `immediate` is False: it takes no lock until it writes the archive's own file, so one
        that writes only temporary tables waits for no writer and works on a read-only archive).

        Inside another one it is a savepoint: its writes commit with the outer transaction, and an error
        undoes them alone, for a caller that catches the error and goes on with the outer transaction (the steps
        of storing a page take `writes()`, which adds no savepoint).
        """
        if self._depth:
            with self._savepoint():
                yield
            return
        self.begin(immediate=immediate)
        try:
            yield
        except sqlite3.Error as exc:
            self.end("rollback")
            raise self.error(exc) from exc
        except BaseException:
            self.end("rollback")
            raise
        self.end("commit")

    @contextlib.contextmanager
    def writes(self) -> Iterator[None]:
        """The writes of one step (log a fetch, store a record, mark a queued page), whole or not at all: a
        transaction of their own when none is open; inside one, a part of it, with no savepoint. An error inside
        goes on to the code that opened the transaction, which rolls all of it back (`transaction()`, a commit
        group): nothing catches it in between, so nothing needs to undo the step's writes alone."""
        if self._depth:
            yield
            return
        with self.transaction():
            yield

    def begin(self, *, immediate: bool = True) -> None:
        """Open the outermost transaction, held until `end()`: `transaction()` inside it is a savepoint."""
        try:
            self._conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except sqlite3.Error as exc:
            raise self.error(exc) from exc
        self._depth = 1
        self._memos.clear()

    def end(self, verb: Literal["commit", "rollback"]) -> None:
        """Commit or roll back the transaction `begin()` opened (nothing when none is open); an error while
        committing rolls it back and raises the tool's error."""
        self._depth = 0
        self._memos.clear()
        conn = self._conn
        try:
            if conn.in_transaction:
                conn.execute(verb)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("rollback")
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
            self._memos.clear()  # a row the memos name may be gone with the savepoint's writes
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        conn.execute(f"RELEASE {name}")

    def memo(self, name: str) -> dict[Any, Any]:
        """What the open transaction learnt of the archive under `name` (the ids of shared rows it read or wrote,
        the current dictionary…), for its later steps to reuse instead of asking SQLite again: a transaction sees
        the file as it began plus its own writes (a write transaction keeps the other writers out), so what it
        read stays true until it ends.

        Every memo is emptied when the transaction commits or rolls back, and when one of its savepoints rolls
        back (a row a memo names may be gone with it). Outside a transaction, a new empty dict that keeps nothing.
        A step that changes or deletes a row a memo names forgets it (`memo(name).clear()`)."""
        if not self._depth:
            return {}
        found = self._memos.get(name)
        if found is None:
            found = self._memos[name] = {}
        return found

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: object) -> None:
        """Close; an SQLite error met inside the `with` block becomes the tool's own (ArchiveError)."""
        self.close()
        if isinstance(exc, sqlite3.Error):
            raise self.error(exc) from exc

    # --- plain SQL -----------------------------------------------------------------------------------

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def execute_many(self, sql: str, rows: list[Any]) -> None:
        if rows:
            self._conn.executemany(sql, rows)

    def select(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """The rows of a query as dicts."""
        cursor = self._conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self.select(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert `row` (column -> value) into `table`; returns its rowid."""
        cursor = self._conn.execute(_insert_sql(table, tuple(row)), list(row.values()))
        return int(cursor.lastrowid or 0)

    def insert_all(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert `rows`, which all have the columns of the first one."""
        if rows:
            columns = tuple(rows[0])
            self._conn.executemany(_insert_sql(table, columns), [[row[column] for column in columns] for row in rows])

    def update(self, table: str, key: str, value: Any, row: dict[str, Any]) -> int:
        """Set the columns of `row` in the row of `table` whose `key` column is `value`; returns the rows
        changed."""
        if not row:
            return 0
        assignments = ", ".join(f"[{column}] = ?" for column in row)
        cursor = self._conn.execute(f"update [{table}] set {assignments} where [{key}] = ?", [*row.values(), value])
        return cursor.rowcount



@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """The INSERT of `columns` into `table`, written once for all the rows of that shape."""
    names = ", ".join(f"[{column}]" for column in columns)
    return f"insert into [{table}] ({names}) values ({', '.join('?' for _ in columns)})"


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
