"""The runs (`runs`): one row per command that fetched, imported or reparsed pages, with its counts."""

from __future__ import annotations

import re

from scraper.archive.connection import Connection
from scraper.archive.values import utc_now
from scraper.errors import ArchiveError

_COUNT_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class Runs:
    """The `runs` table: a row opened when a command starts and closed with its counts when it ends."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def start(self, command: str) -> int:
        """Open a row for one command; returns its id."""
        with self.connection.transaction():
            return self.connection.insert("runs", {"command": command, "started_at": utc_now()})

    def finish(self, run_id: int, counts: dict[str, int]) -> None:
        """Close a run with its counts (fetched, not_modified, failed, …); unknown names become columns."""
        for name in counts:
            if not _COUNT_NAME.match(name):
                raise ValueError(f"invalid run count name: {name!r}")
        connection = self.connection
        with connection.transaction():
            known = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
            for name in counts:
                if name not in known:
                    connection.db.table("runs").add_column(name, int)
            if not connection.update("runs", "id", run_id, {"ended_at": utc_now(), **counts}):
                raise ArchiveError(f"archive {connection.path}: row not found: no run {run_id}")
