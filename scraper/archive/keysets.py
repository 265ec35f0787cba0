"""Sets of keys a long pass over the archive remembers, kept in a temporary table of the archive's connection
(on disk, in SQLite's temporary file, with its own small page cache) instead of in memory, so that the pass
takes the same memory for 1,000 pages as for 100,000. The table lives as long as the connection, or until
`drop()`.

A temporary table is written even on a connection that only reads the archive (`mode=ro`: the archive's own
file cannot be written, its temporary database can). Not `PRAGMA query_only`, which forbids the temporary
database too, and whose toggling aborts a query in progress that has correlated subqueries.
"""

from __future__ import annotations

import re
from typing import Any

from scraper.archive.connection import Connection

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
TEMP_CACHE_KIB = 512  # the temporary tables' page cache (SQLite's default is 2 MiB)
TEMP_STORE_MEMORY = 2  # `pragma temp_store`: 0 default, 1 file, 2 memory


class KeySet:
    """A set of text keys in the temporary table `name`, filled at first with the keys `select` gives."""

    def __init__(self, connection: Connection, name: str, select: str | None = None) -> None:
        if not _NAME.match(name):
            raise ValueError(f"invalid key set name: {name!r}")
        self.connection = connection
        self.table = f"temp.[{name}]"
        if connection.scalar("pragma temp_store") == TEMP_STORE_MEMORY:  # the archive keeps its journals in memory
            connection.execute("pragma temp_store = file")  # (changing it drops temporary tables: none yet)
        connection.execute(f"pragma temp.cache_size = -{TEMP_CACHE_KIB}")
        connection.execute(f"drop table if exists {self.table}")
        connection.execute(f"create temp table [{name}] (key text primary key) without rowid")
        if select is not None:
            self._write(f"insert or ignore into {self.table} (key) select key from ({select}) where key is not null",
                        ())

    def __contains__(self, key: object) -> bool:
        return self.connection.scalar(f"select 1 from {self.table} where key = ?", [key]) is not None

    def add(self, key: str) -> bool:
        """Add `key`; returns whether it was new."""
        return self._write(f"insert or ignore into {self.table} (key) values (?)", [key]).rowcount == 1

    def _write(self, sql: str, params: Any) -> Any:
        """Run `sql`, which writes the temporary table only: in the caller's transaction when there is one, else
        in a deferred one of its own, which takes no lock on the archive (a dry run waits for no writer, and
        works on an archive it may not write)."""
        with self.connection.transaction(immediate=False):
            return self.connection.execute(sql, params)

    def drop(self) -> None:
        self.connection.execute(f"drop table if exists {self.table}")
