"""MHTML (a browser's "Save page as… Web page, single file", the DevTools protocol's `Page.captureSnapshot`): a
`multipart/related` message, read with the standard library's email parser. Each HTML part (the page, and the
frames it holds) is a capture at its `Content-Location`, dated by the message's `Date`; the page's URL is also
in `Snapshot-Content-Location`. The other parts (style sheets, images) are counted. A file that ends before its
closing boundary has its last part cut: that part is a page lost, never stored.
"""

from __future__ import annotations

from email import policy
from email.errors import CloseBoundaryNotFoundDefect, StartBoundaryNotFoundDefect
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from scraper.errors import SourceError
from scraper.imports.loop import NOT_HTML, CaptureFile, Entries, capture_time, is_html_type
from scraper.models import FetchResult


def read_mhtml(capture: CaptureFile) -> Entries:
    """The entries of an MHTML file: a reader of the import loop."""
    message = _message(capture)
    parts = list(message.iter_parts()) if isinstance(message, EmailMessage) else []
    if not parts:
        raise SourceError(f"{capture.path}: not a readable MHTML file (no part in its multipart/related body)")
    moment = _date(message)
    cut = any(isinstance(defect, CloseBoundaryNotFoundDefect | StartBoundaryNotFoundDefect)
              for defect in message.defects)
    for number, part in enumerate(parts, 1):
        yield "truncated" if cut and number == len(parts) else mhtml_capture(part, moment)
    capture.moved_to(capture.path.stat().st_size)


def _message(capture: CaptureFile) -> Message:
    try:
        with capture.path.open("rb") as stream:
            message = BytesParser(policy=policy.default).parse(stream)
    except OSError as error:
        raise SourceError(f"cannot read {capture.path}: {error.strerror or error}") from None
    if message.get_content_type() != "multipart/related":
        raise SourceError(f"{capture.path}: not an MHTML file (it is {message.get_content_type()})")
    return message


def mhtml_capture(part: Message, moment: str) -> FetchResult | str:
    """One part of an MHTML message as a capture from source "mhtml", or why it holds none."""
    if not is_html_type(part.get_content_type()):
        return NOT_HTML
    url = str(part.get("Content-Location") or "").strip()
    if not url:
        return "no Content-Location"
    try:
        body = part.get_payload(decode=True)
    except (ValueError, LookupError):
        return "unreadable"
    if not isinstance(body, bytes) or not body.strip():
        return "empty"
    return FetchResult(url=url, final_url=url, status=None, fetched_at=moment, body=body,
                       content_type=str(part.get("Content-Type") or part.get_content_type()), source="mhtml")


def _date(message: Message) -> str:
    """The message's Date (when the page was saved) as a capture time; "" when it has none (the import's time)."""
    try:
        return capture_time(parsedate_to_datetime(str(message["Date"])))
    except (TypeError, ValueError, IndexError):
        return ""
