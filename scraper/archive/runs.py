"""The runs (`runs`): one row per command that fetched, imported or reparsed pages, with its counts (a
RunLedger: each count has one meaning for every command, scraper.models.RUN_COUNTS)."""

from __future__ import annotations

from scraper.archive.connection import Connection
from scraper.archive.values import utc_now
from scraper.errors import ArchiveError
from scraper.ledger import RunLedger


class Runs:
    """The `runs` table: a row opened when a command starts and closed with its counts when it ends."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def start(self, command: str) -> int:
        """Open a row for one command; returns its id."""
        with self.connection.transaction():
            return self.connection.insert("runs", {"command": command, "started_at": utc_now()})

    def finish(self, run_id: int, ledger: RunLedger) -> None:
        """Close the run with its counts. The columns of RUN_COUNTS an archive made before some of them lacks are
        added; a count of another name cannot be written (TypeError: only a RunLedger is taken)."""
        if not isinstance(ledger, RunLedger):
            raise TypeError(f"a run's counts are a RunLedger, not {type(ledger).__name__}")
        counts = ledger.counts()
        connection = self.connection
        with connection.transaction():
            known = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
            for name in counts.keys() - known:
                connection.db.table("runs").add_column(name, int)
            if not connection.update("runs", "id", run_id, {"ended_at": utc_now(), **counts}):
                raise ArchiveError(f"archive {connection.path}: row not found: no run {run_id}")
