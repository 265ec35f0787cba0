"""Where pages come from when the user names them: local files saved from the site, and URLs fetched once
(`scrape url`, `scrape parse`). Crawls have their own loop (scraper.crawl)."""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path

from scraper.archive import Archive
from scraper.errors import InvalidURL, SourceError
from scraper.fetch import Fetcher, FetchPolicy, url_problem
from scraper.fetch.response import describe, utc_stamp
from scraper.ingest import PageOutcome, ingest
from scraper.models import FetchResult


def is_url(source: str) -> bool:
    """Whether `source` is an http(s) URL (anything else is read as a local path)."""
    return source.startswith(("http://", "https://"))


def check_sources(sources: list[str]) -> None:
    """Raise InvalidURL for a URL of another scheme (ftp://, file://…), or an http(s) URL that cannot be
    requested (no host, a bad port…): only http(s) URLs and local files are read."""
    for source in sources:
        if "://" in source and not is_url(source) or source.lower().startswith(("data:", "javascript:")):
            raise InvalidURL(f"{source}: only http(s) URLs and local files can be read")
        problem = url_problem(source) if is_url(source) else None
        if problem:
            raise InvalidURL(problem)


def store_sources(archive: Archive, policy: FetchPolicy, local: list[FetchResult], urls: list[str]
                  ) -> list[PageOutcome]:
    """Store the pages read from local files (`read_local`), then fetch each URL (a conditional GET when
    the archive holds it) and store it: what `scrape url` does. Failures are outcomes, not exceptions."""
    outcomes = [ingest(archive, result) for result in local]
    if urls:
        results = asyncio.run(_fetch_all(archive, policy, urls))
        outcomes += [ingest(archive, result) for result in results]
    return outcomes


async def _fetch_all(archive: Archive, policy: FetchPolicy, urls: list[str]) -> list[FetchResult]:
    async with Fetcher(policy) as fetcher:
        results = list(await asyncio.gather(*(fetcher.fetch(url, **archive.validators(url)) for url in urls)))
        for robots in fetcher.take_robots_fetches():
            archive.record_fetch(robots)  # every request is in the fetch log, robots.txt included
        return results


def fetch_one(policy: FetchPolicy, url: str) -> FetchResult:
    """Fetch one URL, without an archive (`scrape parse`)."""
    async def fetch() -> FetchResult:
        async with Fetcher(policy) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(fetch())


def read_local(path: str | Path) -> FetchResult:
    """Read a page the user saved and named on the command line.

    Raises `SourceError` (one line) when the path is missing, a directory, empty, or not text.
    """
    given = Path(path).expanduser()
    try:
        resolved = given.resolve(strict=True)
    except FileNotFoundError:
        raise SourceError(f"no such file: {path}") from None
    except (OSError, RuntimeError) as exc:
        raise SourceError(f"cannot open {path}: {describe(exc)}") from None
    if resolved.is_dir():
        raise SourceError(f"{path} is a directory, not a saved page")
    try:
        data = resolved.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or describe(exc)}") from None
    if not data.strip():
        raise SourceError(f"{path} is empty")
    if _looks_binary(data):
        raise SourceError(f"{path} is not a text file (binary content)")
    url = resolved.as_uri()
    return FetchResult(url=url, final_url=url, status=None, fetched_at=utc_stamp(), body=data,
                       content_type=mimetypes.guess_type(resolved.name)[0], source="file")


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
