"""Where pages come from when the user names them: local files saved from the site, and URLs fetched once
(`scrape url`, `scrape parse`). Crawls have their own loop (scraper.crawl).

The fetcher (httpx) and the archive's pipeline (scraper.ingest) are imported when first used: `scrape parse`
of a saved page needs neither."""

from __future__ import annotations

import asyncio
import mimetypes
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scraper.errors import ErrorClass, InvalidURL, SourceError
from scraper.feed import feed_refusal
from scraper.ledger import STORE_ACTIONS, RunLedger
from scraper.models import FetchResult, Record
from scraper.site import is_url, normal_url, off_site_reason

if TYPE_CHECKING:
    from scraper.archive import Archive
    from scraper.fetch import Fetcher, FetchPolicy
    from scraper.ingest import PageOutcome

# A host name where a path was expected: `www.lagazettedescommunes.com/457321/x/` is a URL without its scheme.
_HOST_FIRST = re.compile(r"^(?:www\.[a-z0-9.-]+(?::\d+)?(?:/|$)|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?/)",
                         re.IGNORECASE)
STDIN_URL = "file:///dev/stdin"
HEAD_BYTES = 65536  # what is read of a local file to tell text from binary before anything is stored


def source_list(text: str) -> list[str]:
    """The sources of a list file (`scrape url -i FILE`), as `wget -i` reads one: one URL or path a line,
    blank lines and lines starting with `#` left out, spaces around each trimmed."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def check_sources(sources: list[str]) -> None:
    """Raise InvalidURL for a URL of another scheme (ftp://, file://…), or an http(s) URL that cannot be
    requested (no host, a bad port…): only http(s) URLs and local files are read."""
    for source in sources:
        if "://" in source and not is_url(source) or source.lower().startswith(("data:", "javascript:")):
            raise InvalidURL(f"{source}: only http(s) URLs and local files can be read")
        if is_url(source):
            from scraper.fetch import url_problem

            problem = url_problem(source)
            if problem:
                raise InvalidURL(problem)


@dataclass
class SourcesRun:
    """What `store_sources` did: its run ledger, and the sources not asked because their host refused access
    (with one message per host stopped)."""

    ledger: RunLedger = field(default_factory=RunLedger)
    not_asked: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.ledger.failed or self.stopped)

    def add(self, outcome: PageOutcome) -> None:
        action, fetch, ledger = outcome.action, outcome.fetch, self.ledger
        ledger.fetched += fetch.source == "http" and not fetch.error and not fetch.not_modified
        ledger.not_modified += action == "not modified"
        ledger.failed += action == "failed"
        ledger.blocked += fetch.error_class == ErrorClass.BLOCKED
        ledger.retried += fetch.retries
        if action in STORE_ACTIONS:
            ledger.count_stored(action)
        ledger.bytes += len(fetch.body or b"")


def store_sources(archive: Archive, policy: FetchPolicy, local: Iterable[FetchResult], urls: list[str], *,
                  command: str = "scrape url", on_page: Callable[[PageOutcome], None] = lambda outcome: None
                  ) -> SourcesRun:
    """Store the pages read from local files (`read_local`; an iterator reads each only when its turn comes),
    then fetch each URL in its normal form (no fragment, `abo` or tracking parameters: scraper.site.normal_url)
    with a conditional GET when the archive holds it, and store it: what `scrape url` does, as one row of
    `runs`. What is not a page of the site (a feed, a file of another kind) is refused: a failed outcome, its
    fetch logged, nothing stored.

    Pages are stored one at a time, in the order given, as they come (a few fetches in flight ahead), each in
    its own transaction, and `on_page` is told of each once it is committed. When the site refuses access
    (scraper.fetch.stops), the URLs left are not asked: `SourcesRun.not_asked` names them. Failures are
    outcomes, not exceptions."""
    run_id = archive.runs.start(command)
    run = SourcesRun()
    try:
        for result in local:
            _stored(run, on_page, _store_page(archive, result, run_id, policy.allows))
        if urls:
            asyncio.run(_fetch_and_store(archive, policy, map(normal_url, urls), run_id, run, on_page))
    finally:
        archive.runs.finish(run_id, run.ledger)
    return run


def _stored(run: SourcesRun, on_page: Callable[[PageOutcome], None], outcome: PageOutcome) -> None:
    run.add(outcome)
    on_page(outcome)


def _store_page(archive: Archive, result: FetchResult, run_id: int, allows: Callable[[str], bool],
                fetcher: Fetcher | None = None) -> PageOutcome:
    """Read and store one page, unless it is no page of the site: a feed, a file of another kind, or a page whose
    canonical or final URL is on another site (`allows` says which origins stand for the site). A refusal read
    in a fetched page counts toward its host's stop (`fetcher`)."""
    from scraper.ingest import read, store

    page = read(archive, result)
    refusal = _not_a_page(result, page.record)
    if refusal is None and page.record is not None:
        refusal = off_site_reason(page.record.url, result.final_url or result.url, allows)
    if refusal:
        result.error, result.error_class, page.record = refusal, ErrorClass.NOT_HTML, None
    if page.refusal is not None and fetcher is not None:
        fetcher.refused(result.url, page.refusal)
    return store(archive, page, run_id=run_id)


async def _fetch_and_store(archive: Archive, policy: FetchPolicy, urls: Iterable[str], run_id: int, run: SourcesRun,
                           on_page: Callable[[PageOutcome], None]) -> None:
    """Fetch `urls` with at most `concurrency` fetches ahead of the page being stored, and store each in turn
    (`urls` is read as the fetches go: a URL is normalized only when its turn comes)."""
    from scraper.fetch import Fetcher, stop_summary

    async with Fetcher(policy) as fetcher:
        ahead: deque[asyncio.Task[FetchResult]] = deque()
        waiting = iter(urls)
        while True:
            while len(ahead) <= max(1, policy.concurrency) and (url := next(waiting, None)) is not None:
                ahead.append(asyncio.create_task(fetcher.fetch(url, **archive.fetches.validators(url))))
            if not ahead:
                break
            result = await ahead.popleft()
            for robots in fetcher.take_robots_fetches():
                archive.fetches.record(robots, run_id=run_id)  # every request is in the fetch log, robots.txt too
            if not result.asked:
                run.not_asked.append(result.url)
                continue
            _stored(run, on_page, _store_page(archive, result, run_id, policy.allows, fetcher))
        stored = run.ledger.stored + run.ledger.not_modified
        run.stopped = [stop_summary(stop, stored, len(run.not_asked)) for stop in fetcher.stops.stops()]


_MARKUP = re.compile(rb"<(!doctype html|html|head|body|title|meta|div|p|article|section|main|h1)[\s>/]", re.IGNORECASE)


def _not_a_page(result: FetchResult, record: Record | None) -> str | None:
    """Why what `result` brought is not a page of the site (an article, a dossier, a listing), or None."""
    if record is None or result.body is None:  # a failure, or a 304 of a stored page
        return None
    head = result.body[:65536]
    where = result.final_url or result.url
    feed = feed_refusal(head, where)
    if feed:
        return feed
    has_items = bool(getattr(record, "articles", None))
    if not _MARKUP.search(head) or not (record.title or has_items or getattr(record, "body", None)):
        return f"not a page of the site: {where} (no article, dossier or listing in it)"
    return None


def fetch_one(policy: FetchPolicy, url: str) -> FetchResult:
    """Fetch one URL, without an archive (`scrape parse`)."""
    from scraper.fetch import Fetcher

    async def fetch() -> FetchResult:
        async with Fetcher(policy) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(fetch())


def check_local(path: str | Path) -> Path:
    """The file a local source names, checked without keeping it (before the archive is opened; `read_local`
    reads it at its turn): it exists, is not a directory, can be read, and starts as text.

    Raises `SourceError` (one line) when the path is missing, a directory, unreadable, empty, or not text.
    """
    given = Path(path).expanduser()
    try:
        resolved = given.resolve(strict=True)
    except FileNotFoundError:
        raise SourceError(f"no such file: {path}{_scheme_hint(str(path))}") from None
    except (OSError, RuntimeError) as exc:
        raise SourceError(f"cannot open {path}: {_first_line(exc)}") from None
    if resolved.is_dir():
        raise SourceError(f"{path} is a directory, not a saved page")
    try:
        with resolved.open("rb") as file:
            _check_text(file.read(HEAD_BYTES), str(path))
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or _first_line(exc)}") from None
    return resolved


def read_local(path: str | Path) -> FetchResult:
    """Read a page the user saved and named on the command line.

    Raises `SourceError` (one line) when the path is missing, a directory, empty, or not text.
    """
    resolved = check_local(path)
    try:
        data = resolved.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or _first_line(exc)}") from None
    return page_from_bytes(data, str(path), resolved.as_uri(), mimetypes.guess_type(resolved.name)[0])


def page_from_bytes(data: bytes, name: str, url: str = STDIN_URL, content_type: str | None = None) -> FetchResult:
    """A page given as bytes (a saved file's, or standard input's for `scrape parse -`), as a fetch result.

    Raises `SourceError` when it is empty or not text; `name` says which in the message."""
    _check_text(data, name)
    fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # as the fetch log stamps a request
    return FetchResult(url=url, final_url=url, status=None, fetched_at=fetched_at, body=data,
                       content_type=content_type, source="file")


def _check_text(data: bytes, name: str) -> None:
    """SourceError when `data` (a file, or its first bytes) is empty or not text."""
    if not data.strip():
        raise SourceError(f"{name} is empty")
    if _looks_binary(data):
        raise SourceError(f"{name} is not a text file (binary content)")


def _first_line(exc: BaseException) -> str:
    from scraper.fetch.response import describe  # an error's path only: it imports the fetcher

    return describe(exc)


def _scheme_hint(source: str) -> str:
    if _HOST_FIRST.match(source):
        return " (a URL? add https:// in front of it)"
    return ""


def _looks_binary(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NUL bytes but is text
        try:
            data.decode("utf-16")
        except UnicodeDecodeError:
            return True
        return False
    if b"\x00" in data:
        return True
    head = data[:65536]
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f\x1b")
    return controls > len(head) // 100
