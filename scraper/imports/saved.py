"""Saved HTML pages: a SingleFile page (the browser extension, which Zotero's snapshots use too) names the page's
URL and when it was saved in its opening comment (`url:`, `saved date:`); a page saved by the browser ("Web page,
HTML only" or "complete") may carry its URL in a `<!-- saved from url=(NNNN)URL -->` comment; any other page is
read as `scrape url FILE` reads it, from its file: URL, and its canonical link says which page of the site it is.
A page without a saved date is dated by its file's modification time (when it was saved), so a second import of
the same file is the same capture.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from scraper.errors import SourceError
from scraper.imports.loop import CaptureFile, Entries, capture_time
from scraper.models import FetchResult

HEAD_BYTES = 4096  # where the comments of SingleFile and of the browsers' "saved from" stand
SINGLEFILE_MARK = "Page saved with SingleFile"
SAVED_FROM_MARK = "<!-- saved from url=("
# JavaScript's Date.toString(), which SingleFile writes: "Mon Dec 07 2026 22:42:04 GMT+0100 (heure normale …)".
JS_DATE = "%a %b %d %Y %H:%M:%S GMT%z"


def is_singlefile(head: bytes) -> bool:
    return SINGLEFILE_MARK in _text(head)


def read_saved_page(capture: CaptureFile) -> Entries:
    """The one page of a saved HTML file: a reader of the import loop."""
    try:
        data = capture.path.read_bytes()
        modified = datetime.fromtimestamp(capture.path.stat().st_mtime, UTC)
    except OSError as error:
        raise SourceError(f"cannot read {capture.path}: {error.strerror or error}") from None
    declared = singlefile_header(data[:HEAD_BYTES])
    if declared is not None:
        url, saved = declared.get("url", ""), _js_date(declared.get("saved date", ""))
        source: Literal["singlefile", "file"] = "singlefile"
    else:
        url, saved, source = saved_from_url(data[:HEAD_BYTES]), None, "file"
    url = url or capture.url or capture.path.resolve().as_uri()
    yield FetchResult(url=url, final_url=url, status=None, fetched_at=capture_time(saved or modified), body=data,
                      content_type="text/html", source=source)
    capture.moved_to(len(data))


def singlefile_header(head: bytes) -> dict[str, str] | None:
    """The fields of SingleFile's opening comment ("url", "saved date"…), None for a page it did not save."""
    text = _text(head)
    mark = text.find(SINGLEFILE_MARK)
    if mark < 0:
        return None
    start, end = text.rfind("<!--", 0, mark), text.find("-->", mark)
    if start < 0 or end < 0:
        return None
    fields: dict[str, str] = {}
    for line in text[mark + len(SINGLEFILE_MARK):end].splitlines():
        name, colon, value = line.strip().partition(":")
        if colon:
            fields[name.strip().lower()] = value.strip()
    return fields


def saved_from_url(head: bytes) -> str:
    """The URL of a browser's `<!-- saved from url=(0071)https://… -->` comment (its length in parentheses),
    "" when the page has none."""
    text = _text(head)
    mark = text.find(SAVED_FROM_MARK)
    if mark < 0:
        return ""
    start = mark + len(SAVED_FROM_MARK)
    digits, closing, rest = text[start:].partition(")")
    if not closing or not digits.isdigit():
        return ""
    return rest[:int(digits)].strip()


def _js_date(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.split(" (", 1)[0].strip(), JS_DATE)
    except ValueError:
        return None


def _text(head: bytes) -> str:
    return head.decode("utf-8", "replace")
