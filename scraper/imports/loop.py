"""The one loop every import shares: captures in → ingest → run ledger.

A reader (one a format: scraper.imports.formats) turns a file into entries: each is a capture (a FetchResult
with the capture's own URL, status, headers, body, time and a `source` naming the format) or the short reason
why an entry holds no page ("request", "not html", "status 404"…). The loop decides what is stored:

- only pages of the site: a capture whose URL is an http(s) URL of another host (or a malformed one) is
  counted as "other site" (`--allow-host` adds a host, as for fetches), and so is a page whose own URL (its
  canonical link, which keys articles by post id) is not the site's;
- only pages: another status than 200 (or none, for a saved file), a type that is not HTML, are counted;
  a bot protection's challenge saved with its refusal status (403 and cf-mitigated: challenge…) is a page
  refused, like one the pipeline refuses;
- a page the file lost (no body, a body cut short, a damaged record) is counted as lost: the import fails;
- a capture dated more than FUTURE_SKEW after now is refused (a clock or a file's claim that would win over
  every later fetch for ever): lost too;
- a capture the archive already holds (same URL, time and body) is skipped, so an import done twice changes
  nothing;
- every other page goes through `scraper.ingest` (read, then store) like a fetched one: fetch log, parser,
  records, canary. A page the pipeline refuses (a list it cannot read, a challenge page) is logged and lost.

A reader is a generator: the loop sends back, for each capture, the id of its fetch in the archive (None when
it was not stored), which WARC needs to attach a request record that comes after its response.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scraper.archive import Archive
from scraper.archive.values import utc_text
from scraper.errors import ErrorClass, SourceError
from scraper.fetch import FetchPolicy
from scraper.ingest import read, store
from scraper.ledger import RunLedger
from scraper.models import FetchResult
from scraper.refusal import refusal_of
from scraper.site import SITE_HOSTS, split

Entry = FetchResult | str
Entries = Generator[Entry, "int | None", None]

FUTURE_SKEW = timedelta(days=1)  # clocks and time zones wrongly set: beyond a day, a capture's date is not believed
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Why an entry holds no page (counted, the import goes on): other reasons are the readers' own.
OTHER_SITE = "other site"
OTHER_SITE_PAGE = "page of another site (its canonical URL)"
MALFORMED_URL = "malformed URL"
NOT_HTML = "not html"
NO_RESPONSE = "no response"
ALREADY_ARCHIVED = "already archived"
# Pages lost: the file holds a page that could not be stored whole, or the pipeline refused it (exit 1).
DAMAGE = frozenset({"unreadable", "truncated", "bad digest", "no body", "body cut short"})
FUTURE = "dated in the future"
REFUSED = "refused"  # "refused (<error class>)": logged in the fetch log with its error
BLOCKED = f"{REFUSED} ({ErrorClass.BLOCKED})"  # a bot protection's challenge (scraper.refusal)


@dataclass
class CaptureFile:
    """What a reader is given: the file, the archive (read only: a WARC revisit names a capture stored before),
    where to say how far it has read (in bytes of the file), and the URL a saved page without one of its own is
    read from (its file: URL when None; standard input's, `file:///dev/stdin`, when it was copied from there)."""

    path: Path
    archive: Archive
    moved_to: Callable[[int], None] = lambda position: None
    url: str | None = None


Reader = Callable[[CaptureFile], Entries]


@dataclass
class FileImport:
    """What the import of one file did: entries read, pages stored (by store action), entries skipped (by reason,
    lost pages included)."""

    format: str = ""
    records: int = 0  # entries read: WARC records, HAR entries, MHTML parts, one for a saved page
    stored: Counter[str] = field(default_factory=Counter)  # "inserted", "updated", "unchanged"
    skipped: Counter[str] = field(default_factory=Counter)  # e.g. "request", "not html", "status 301"
    warnings: int = 0  # pages stored with parser warnings
    alerts: list[str] = field(default_factory=list)  # the canary's: pages lacking what their kind had
    bytes: int = 0  # size of the pages read

    @property
    def pages(self) -> int:
        return sum(self.stored.values())

    @property
    def damaged(self) -> int:
        """Entries the file could not give whole (truncated, bad digest, no body…): pages lost to the file."""
        return sum(count for reason, count in self.skipped.items() if reason in DAMAGE)

    @property
    def failed(self) -> int:
        """Pages of the site not stored: damaged, dated in the future, or refused."""
        return sum(self.lost().values())

    def lost(self) -> Counter[str]:
        """The reasons of the pages of the site not stored, with their counts."""
        return Counter({reason: count for reason, count in self.skipped.items()
                        if reason in DAMAGE or reason == FUTURE or reason.startswith(REFUSED)})


class SitePages:
    """Which URLs are the site's: its hosts (scraper.site.SITE_HOSTS) and the ones the user allows, with the
    same meaning as for fetches (HOST at its default ports, HOST:PORT)."""

    def __init__(self, allow_hosts: tuple[str, ...] | list[str] = ()) -> None:
        self.policy = FetchPolicy(allowed_hosts=SITE_HOSTS).allowing(*allow_hosts)

    def why_not(self, url: str) -> str | None:
        """Why a capture's URL is not one of the site's pages, or None. URLs that are not web addresses (a saved
        file's file:, a WARC resource's urn:) pass: the page's own canonical URL decides after parsing."""
        parts = split(url)
        if parts is None or (parts.scheme.lower() in ("http", "https") and not parts.hostname):
            return MALFORMED_URL
        if parts.scheme.lower() not in ("http", "https"):
            return None
        return None if self.policy.allows(url) else OTHER_SITE

    def holds(self, url: str) -> bool:
        return split(url) is not None and self.policy.allows(url)


class ImportRun:
    """One import: one row in `runs` (`command`, with its counts when done), any number of files through
    `import_file`. Use as a context manager; each page is stored in its own transaction, so what was stored
    stays stored if a file turns out to be damaged further on."""

    def __init__(self, archive: Archive, command: str, *, allow_hosts: tuple[str, ...] | list[str] = (),
                 now: datetime | None = None) -> None:
        self.archive = archive
        self.command = command
        self.site = SitePages(allow_hosts)
        self.latest = (now or datetime.now(UTC)) + FUTURE_SKEW
        self.files: list[FileImport] = []
        self.run_id: int | None = None

    def __enter__(self) -> ImportRun:
        self.run_id = self.archive.runs.start(self.command)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.run_id is not None:
            self.archive.runs.finish(self.run_id, self.ledger())

    def ledger(self) -> RunLedger:
        """The counts of the run's row in `runs`: its files' pages stored, lost (failed, blocked) and skipped."""
        ledger = RunLedger()
        for result in self.files:
            for action, pages in result.stored.items():
                ledger.count_stored(action, pages)
            ledger.bytes += result.bytes
            ledger.failed += result.failed
            ledger.blocked += result.skipped[BLOCKED]
            ledger.skipped += sum(result.skipped.values()) - result.failed
        return ledger

    def import_file(self, path: str | Path, reader: Reader, *, format: str = "",
                    progress: Callable[[int], None] | None = None, url: str | None = None) -> FileImport:
        """Store the pages of the file at `path`, read by `reader`. Raises SourceError when the file cannot be
        read at all (what was stored before the damage stays, and the message says how much)."""
        outcome = FileImport(format=format)
        self.files.append(outcome)
        entries = reader(CaptureFile(Path(path), self.archive, progress or (lambda position: None), url))
        try:
            entry = next(entries)
            while True:
                entry = entries.send(self._take(entry, outcome))
        except StopIteration:
            pass
        except SourceError as error:
            stored = f" ({outcome.pages} pages stored before the damage)" if outcome.pages else ""
            raise SourceError(f"{error}{stored}") from None
        return outcome

    def _take(self, entry: Entry, outcome: FileImport) -> int | None:
        """Store one entry when it is a new page of the site; its fetch id, else None (the reason counted)."""
        outcome.records += 1
        reason = entry if isinstance(entry, str) else self._refusal(entry)
        if reason is not None:
            outcome.skipped[reason] += 1
            return None
        assert isinstance(entry, FetchResult)
        if self.archive.fetches.has_capture(entry.url, entry.fetched_at, entry.body or b""):
            outcome.skipped[ALREADY_ARCHIVED] += 1
            return None
        page = read(self.archive, entry)
        if page.record is not None and not self.site.holds(page.record.url):
            outcome.skipped[OTHER_SITE_PAGE] += 1  # articles are keyed by post id: another site's must not count
            return None
        outcome.bytes += len(entry.body or b"")
        page = store(self.archive, page, run_id=self.run_id)
        if page.record is None:
            outcome.skipped[f"{REFUSED} ({entry.error_class or 'error'})"] += 1
        elif page.stored is not None:
            outcome.stored[page.stored.action] += 1
            outcome.warnings += bool(page.record.warnings)
        if page.canary is not None:
            outcome.alerts.append(page.canary.message)
        return page.fetch_id

    def _refusal(self, capture: FetchResult) -> str | None:
        """Why a capture is not stored, before it is parsed; None for a page to store."""
        site = self.site.why_not(capture.url)
        if site is not None:
            return site
        if capture.status is not None and capture.status <= 0:
            return NO_RESPONSE  # a request that failed in the browser (HAR status 0 or -1)
        if capture.status not in (200, None):  # a challenge saved with its refusal status is named as one
            blocked = refusal_of(capture.status, capture.headers, capture.body) is not None
            return BLOCKED if blocked else f"status {capture.status}"
        if not is_html_type(capture.content_type):
            return NOT_HTML
        if capture.error:
            return capture.error  # a page the file lost (DAMAGE)
        if capture.fetched_at and parse_moment(capture.fetched_at) > self.latest:
            return FUTURE
        return None


def is_html_type(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() in HTML_TYPES


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time as an aware datetime (UTC when it names no offset); the epoch when it is not a time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def capture_time(moment: datetime) -> str:
    """A capture's time in the archive's one format of time (UTC when the file names no offset)."""
    return utc_text(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))


def import_file(archive: Archive, path: str | Path, reader: Reader, *, command: str, format: str = "",
                allow_hosts: tuple[str, ...] | list[str] = (), progress: Callable[[int], None] | None = None,
                **options: Any) -> FileImport:
    """Import one file as one run of its own (`command` in `runs`)."""
    with ImportRun(archive, command, allow_hosts=allow_hosts, **options) as run:
        return run.import_file(path, reader, format=format, progress=progress)
