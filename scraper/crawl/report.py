"""What a crawl tells the outside: events as it goes (for a progress bar or log lines), a summary at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from scraper.ledger import RunLedger
from scraper.models import Failure

CrawlKind = Literal["dossier", "listing", "feed"]


@dataclass(frozen=True)
class CrawlEvent:
    """What a crawl tells its reporter (the CLI's progress bar or log lines).

    `type`: `queued` (`count` more pages to do), `started` (a page is in flight), `finished` (`action`:
    inserted, updated, unchanged, not modified, reused, skipped or failed, with `detail` the error),
    `note` (`detail` says something about the whole run), `alert` (`detail`: the canary's alert about the
    page at `url`: the site's markup may have changed).
    """

    type: Literal["queued", "started", "finished", "note", "alert"]
    url: str = ""
    kind: str = ""
    action: str = ""
    detail: str = ""
    count: int = 0


Reporter = Callable[[CrawlEvent], None]


@dataclass
class CrawlSummary:
    """The outcome of one run: page actions, request counts (as in `runs`), what failed, what remains."""

    kind: CrawlKind
    url: str
    root: str | None = None
    run_id: int | None = None
    resumed: bool = False
    interrupted: bool = False
    pages: Counter[str] = field(default_factory=Counter)  # action -> pages
    fetched: int = 0  # requests that brought a body (2xx)
    not_modified: int = 0  # requests answered 304
    failed: int = 0  # requests that failed
    refused: int = 0  # of which refused by the site (a bot protection's challenge, a login page)
    retried: int = 0  # retries made inside those requests
    bytes: int = 0  # body bytes downloaded (after decompression)
    remaining: int = 0  # pages still pending in the queue
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # the canary's: pages lacking what their kind had
    read_with_loss: list[str] = field(default_factory=list)  # pages stored with article links the parser put nowhere
    login: str | None = None  # with --cookies: whether the session looks logged in
    stopped: list[str] = field(default_factory=list)  # hosts asked nothing more (refusals): one message each
    stopped_by: str | None = None  # the archive's error that ended the run (locked too long, disk full)

    @property
    def exit_code(self) -> int:
        """130 when interrupted, 1 when some page failed in the end, a host was stopped or the archive stopped the
        run, else 0."""
        if self.interrupted:
            return 130
        return 1 if self.failures or self.stopped or self.stopped_by else 0

    def ledger(self) -> RunLedger:
        """The counts of the archive's `runs` row: `failed` counts the pages not stored for any failure (a request
        that failed, a page that could not be read or stored), as every command counts it."""
        return RunLedger(fetched=self.fetched, not_modified=self.not_modified, failed=self.pages["failed"],
                         blocked=self.refused, retried=self.retried, bytes=self.bytes,
                         inserted=self.pages["inserted"], updated=self.pages["updated"],
                         unchanged=self.pages["unchanged"], skipped=self.pages["skipped"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "url": self.url, "root": self.root, "run_id": self.run_id,
            "resumed": self.resumed, "interrupted": self.interrupted, "exit_code": self.exit_code,
            "pages": dict(sorted(self.pages.items())),
            "requests": {"fetched": self.fetched, "not_modified": self.not_modified, "failed": self.failed,
                         "blocked": self.refused, "retried": self.retried, "bytes": self.bytes},
            "remaining": self.remaining,
            "failures": [vars(failure) for failure in self.failures],
            "notes": list(self.notes), "alerts": list(self.alerts), "read_with_loss": list(self.read_with_loss),
            "login": self.login, "stopped": list(self.stopped), "stopped_by": self.stopped_by,
        }
