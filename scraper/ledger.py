"""What a run did: the counts of its row of `runs` (RUN_COUNTS, each with the one meaning it has for every command)
and the RunLedger that holds them while the run goes."""

from __future__ import annotations

from dataclasses import dataclass

# The counts of a run, as its row of `runs` keeps them, each with the one meaning it has for every command (crawls,
# `scrape url`, imports, reparse): RunLedger holds them, the archive refuses any other name, docs/archive.md and
# Datasette's column descriptions say the same.
RUN_COUNTS: dict[str, str] = {
    "fetched": "Requests that brought a page (not 304 answers, not failures)",
    "not_modified": "Requests answered 304 Not Modified",
    "failed": "Pages not stored for a failure: the request failed or was refused, the page could not be read or "
              "stored, the file lost it",
    "retried": "Retries made inside the requests",
    "bytes": "Bytes of the pages read (downloaded, or read from files)",
    "stored": "Pages stored: inserted + updated + unchanged",
    "inserted": "Pages whose record was new to the archive",
    "updated": "Pages whose record changed",
    "unchanged": "Pages whose record the archive already held as it is",
    "blocked": "Of the failures, the pages a bot protection or a login refused",
    "skipped": "Pages or entries left out on purpose: already archived, not a page of the site, not HTML…",
}
STORE_ACTIONS = ("inserted", "updated", "unchanged")


@dataclass
class RunLedger:
    """What one run did, in the counts of its row of `runs` (RUN_COUNTS says what each means). `stored` is not
    kept but summed: inserted + updated + unchanged, whatever the command."""

    fetched: int = 0
    not_modified: int = 0
    failed: int = 0
    retried: int = 0
    bytes: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    blocked: int = 0
    skipped: int = 0

    @property
    def stored(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def count_stored(self, action: str, pages: int = 1) -> None:
        """Count `pages` stored with a store action (inserted, updated, unchanged); ValueError for another."""
        if action not in STORE_ACTIONS:
            raise ValueError(f"not a store action: {action!r}")
        setattr(self, action, getattr(self, action) + pages)

    def counts(self) -> dict[str, int]:
        """Every count by its name in RUN_COUNTS, in that order."""
        return {name: getattr(self, name) for name in RUN_COUNTS}
