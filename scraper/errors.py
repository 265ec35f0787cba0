"""Errors as a hierarchy, so callers catch as broadly or as narrowly as they need.

ScrapeError
├── UsageError          bad input named by the user (exit code 2)
│   └── SourceError     a local path that is missing, a directory, empty or not HTML
├── FetchError          a page that could not be fetched (exit code 1); `error_class` names the kind
│   ├── HTTPStatusError     the server answered 4xx/5xx
│   ├── NotHTMLError        the content type or bytes are not a web page
│   ├── TooLargeError       the body (or its decompression) went over the size cap
│   ├── RedirectError       too many redirects, or a redirect to a host that is not allowed
│   └── RobotsDisallowed    robots.txt forbids the URL
└── ArchiveError        the SQLite archive cannot be opened or written
"""

from __future__ import annotations


class ScrapeError(Exception):
    """Base of every error this tool raises on purpose."""

    exit_code = 1


class UsageError(ScrapeError):
    exit_code = 2


class SourceError(UsageError):
    pass


class FetchError(ScrapeError):
    error_class = "fetch"

    def __init__(self, message: str, *, url: str | None = None, error_class: str | None = None):
        super().__init__(message)
        self.url = url
        if error_class:
            self.error_class = error_class


class HTTPStatusError(FetchError):
    error_class = "http_status"

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        super().__init__(message, url=url)
        self.status = status


class NotHTMLError(FetchError):
    error_class = "not_html"


class TooLargeError(FetchError):
    error_class = "too_large"


class RedirectError(FetchError):
    error_class = "redirect"


class RobotsDisallowed(FetchError):
    error_class = "robots"


class ArchiveError(ScrapeError):
    exit_code = 2
