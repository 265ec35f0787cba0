"""The errors the library raises, as a hierarchy, so callers catch as broadly or as narrowly as they need.

ScrapeError                 the base of every error raised on purpose
├── InvalidInput            a value given to the library cannot be used
│   ├── InvalidOption       a fetch or crawl setting out of range (delay, timeout, pages, a header's text)
│   ├── InvalidDate         a date that is not YYYY-MM-DD
│   ├── InvalidURL          a URL the tool does not read (not http(s), not a dossier)
│   ├── InvalidQuery        a search query that is empty or that FTS5 refuses
│   └── SourceError         a local file that is missing, a directory, empty, not text, not a WARC, or a
│                           cookies.txt that cannot be read
├── FetchError              a page that could not be had; `error_class` (an ErrorClass) names the kind
│   ├── HTTPStatusError         the server answered 4xx/5xx
│   ├── NotHTMLError            the content type or bytes are not a web page
│   ├── TooLargeError           the body (or its decompression) went over the size cap
│   ├── RedirectError           too many redirects, or a redirect to a host that is not allowed
│   ├── RobotsDisallowed        robots.txt forbids the URL
│   └── Blocked                 a bot protection's challenge, or a login page, came in place of the page
├── FetchStopped            the fetcher was stopped (Ctrl-C) while a request waited its turn: nothing was sent
├── ArchiveError            the SQLite archive cannot be opened, read or written
│   ├── NoArchive           a command that only reads the archive was pointed at a file that does not exist,
│   │                       or at one that is not an archive (an empty file, another SQLite database)
│   ├── DamagedArchive      the file is damaged ("database disk image is malformed"): the message says what
│   │                       `scrape check` and a `.recover` can do
│   ├── ArchiveBusy         another process kept the archive locked for writing longer than the busy timeout
│   └── ArchiveFull         the disk (or file system) holding the archive is full
├── NotArchived             the archive holds no such article (`scrape history`)
├── DegradedPage            a page whose record lacks what the archived record of the same page has (dates,
│                           body, every entry): it is not stored over it
└── OutputError             a file the tool was asked to write cannot be written (bad path, no permission)
    ├── OutputExists        the file is there already and overwriting it was not asked for (--force)
    └── WriteFailed         writing failed midway (disk full, I/O error): a failure, not a usage error

The library never prints and never exits: the command line (scraper.cli) turns these into one line on stderr
and an exit code. `FetchError`s are not raised by `Fetcher.fetch()`, which returns every fault as a value
(a FetchResult with `error` and `error_class`); they travel inside the fetcher.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorClass(StrEnum):
    """The kinds of failure stored in `fetches.error_class` and `crawl_queue.last_error`: a contract of the
    archive (people group and filter by them), so the list is closed."""

    BAD_URL = "bad_url"  # not an http(s) URL, a malformed one, or a host that is not allowed
    CONNECT = "connect"  # the connection could not be opened
    TLS = "tls"  # the certificate did not verify (not retried)
    TIMEOUT = "timeout"
    RESET = "reset"  # the connection failed before the answer came
    TRUNCATED = "truncated"  # the body was cut short
    DECODE = "decode"  # a Content-Encoding that cannot be undone
    HTTP_STATUS = "http_status"  # 4xx/5xx
    TOO_LARGE = "too_large"
    REDIRECT = "redirect"  # a loop, too many, or a redirect without a Location
    OFFSITE_REDIRECT = "offsite_redirect"  # a redirect to a host that is not allowed
    ROBOTS = "robots"  # robots.txt disallows the URL
    BLOCKED = "blocked"  # a bot protection's challenge or block page, or a login page, came instead of the page
    NOT_HTML = "not_html"  # not a web page
    NOT_FEED = "not_feed"  # `scrape feed` was given something that is not an RSS or Atom feed
    PARSE = "parse"  # the page came, but the parser could not read what the crawl needs from it
    ARCHIVE = "archive"  # the archive could not give back a page it had stored
    FETCH = "fetch"  # any other fault of a fetch


class ScrapeError(Exception):
    """Base of every error this tool raises on purpose."""


class InvalidInput(ScrapeError):
    """A value given to the library cannot be used."""


class InvalidOption(InvalidInput):
    pass


class InvalidDate(InvalidInput):
    pass


class InvalidURL(InvalidInput):
    pass


class InvalidQuery(InvalidInput):
    pass


class SourceError(InvalidInput):
    pass


class FetchError(ScrapeError):
    error_class: ErrorClass = ErrorClass.FETCH

    def __init__(self, message: str, *, url: str | None = None, error_class: ErrorClass | None = None):
        super().__init__(message)
        self.url = url
        if error_class is not None:
            self.error_class = ErrorClass(error_class)


class HTTPStatusError(FetchError):
    error_class = ErrorClass.HTTP_STATUS

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        super().__init__(message, url=url)
        self.status = status


class NotHTMLError(FetchError):
    error_class = ErrorClass.NOT_HTML


class TooLargeError(FetchError):
    error_class = ErrorClass.TOO_LARGE


class RedirectError(FetchError):
    error_class = ErrorClass.REDIRECT


class RobotsDisallowed(FetchError):
    error_class = ErrorClass.ROBOTS


class Blocked(FetchError):
    error_class = ErrorClass.BLOCKED


class FetchStopped(ScrapeError):
    """Raised by `Fetcher.fetch()` when its waits were stopped before the request was sent."""


class ArchiveError(ScrapeError):
    pass


class NoArchive(ArchiveError):
    pass


class DamagedArchive(ArchiveError):
    pass


class ArchiveBusy(ArchiveError):
    """A failure of the run, not of its command line: what was stored before it is kept."""


class ArchiveFull(ArchiveError):
    """A failure of the run, not of its command line: what was stored before it is kept."""


class OutputError(ScrapeError):
    pass


class OutputExists(OutputError):
    pass


class WriteFailed(OutputError):
    pass


class NotArchived(ScrapeError):
    """The archive holds no such article."""


class DegradedPage(ScrapeError):
    """A page whose record lacks what the archived record of the same page has: not stored over it."""
