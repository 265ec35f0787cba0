"""The `scrape` command line: thin commands that parse options, call the library and render with rich.

Exit codes: 0 every page stored; 1 some page failed (each failure is in the archive's fetch log);
2 usage error (bad option, missing file, unwritable archive).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from scraper import __version__
from scraper.cli_common import (
    AllowHostOption,
    ConcurrencyOption,
    ContactOption,
    CookiesOption,
    DbOption,
    DelayOption,
    IgnoreRobotsOption,
    JsonOption,
    MaxWaitOption,
    QuietOption,
    RefreshOption,
    RetriesOption,
    TimeoutOption,
    UserAgentOption,
    VerboseOption,
    app,
    err,
    fetch_policy,
    is_url,
    open_archive,
    out,
    reject_other_schemes,
    reported_errors,
    require_archive,
)
from scraper.errors import UsageError
from scraper.fetch import Fetcher, FetchPolicy, read_local
from scraper.ingest import PageOutcome, ingest
from scraper.models import FetchResult, to_json
from scraper.parse import parse_page
from scraper.store import Archive

# --- scrape url ---------------------------------------------------------------------------------

@app.command("url")
def url_command(
    sources: Annotated[list[str], typer.Argument(help="http(s) URLs or local HTML files.")],
    db: DbOption = Path("archive.db"),
    delay: DelayOption = 1.0,
    concurrency: ConcurrencyOption = 2,
    timeout: TimeoutOption = 30.0,
    retries: RetriesOption = 3,
    max_wait: MaxWaitOption = 120.0,
    user_agent: UserAgentOption = None,
    contact: ContactOption = None,
    cookies: CookiesOption = None,
    ignore_robots: IgnoreRobotsOption = False,
    allow_host: AllowHostOption = None,
    refresh: RefreshOption = False,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Fetch each URL (or read each local HTML file), detect its type and store it in the archive.

    Example: [bold]scrape url samples/article-smart-city-2018.html https://www.lagazettedescommunes.com/457321/x/[/bold]
    """
    with reported_errors(verbose):
        reject_other_schemes(sources)
        local = [read_local(source) for source in sources if not is_url(source)]
        policy = fetch_policy(delay, concurrency, timeout, retries, user_agent, contact, cookies, ignore_robots,
                              allow_host, sources, max_wait)
        with open_archive(db) as archive:
            outcomes = [ingest(archive, result) for result in local]
            remote = [source for source in sources if is_url(source)]
            if remote:
                results = asyncio.run(_fetch_all(archive, policy, remote, refresh))
                outcomes += [ingest(archive, result) for result in results]
        _report(outcomes, json_output, quiet)
        if any(outcome.failed for outcome in outcomes):
            raise typer.Exit(1)


async def _fetch_all(archive: Archive, policy: FetchPolicy, urls: list[str], refresh: bool) -> list[FetchResult]:
    async with Fetcher(policy) as fetcher:
        tasks = [fetcher.fetch(url, **_validators(archive, url, refresh)) for url in urls]
        results = list(await asyncio.gather(*tasks))
        for robots in fetcher.take_robots_fetches():
            archive.record_fetch(robots)  # every request is in the fetch log, robots.txt included
        return results


def _validators(archive: Archive, url: str, refresh: bool) -> dict[str, str | None]:
    """ETag / Last-Modified of the stored copy, for a conditional GET (even with --refresh)."""
    previous = archive.latest_fetch(url)
    if not previous or not previous.get("sha256"):
        return {}
    del refresh  # conditional GET is cheap and exact: --refresh only matters to crawls that skip pages
    return {"etag": previous.get("etag"), "last_modified": previous.get("last_modified")}


def _report(outcomes: list[PageOutcome], json_output: bool, quiet: bool) -> None:
    if json_output:
        out.print_json(json.dumps([_outcome_dict(outcome) for outcome in outcomes], ensure_ascii=False))
        return
    for outcome in outcomes:
        if outcome.failed:
            err.print(f"[red]failed[/red] {outcome.url}: {outcome.error or 'no page'}")
        elif not quiet:
            record = outcome.record
            out.print(f"{record.type:8} {outcome.action:12} {record.title or '(no title)'}  [dim]{record.url}[/dim]")
            for warning in record.warnings:
                err.print(f"[yellow]warning[/yellow] {record.url}: {warning}")


def _outcome_dict(outcome: PageOutcome) -> dict[str, Any]:
    record = outcome.record
    return {"source": outcome.url, "action": outcome.action, "error": outcome.error,
            "error_class": outcome.fetch.error_class, "type": record.type if record else None,
            "url": record.url if record else None, "title": record.title if record else None,
            "warnings": record.warnings if record else []}


# --- scrape parse -------------------------------------------------------------------------------

@app.command("parse")
def parse_command(
    source: Annotated[str, typer.Argument(help="An http(s) URL or a local HTML file.")],
    url: Annotated[str | None, typer.Option(help="The URL the file was saved from (for relative links).")] = None,
    timeout: TimeoutOption = 30.0,
    user_agent: UserAgentOption = None,
    ignore_robots: IgnoreRobotsOption = False,
    compact: Annotated[bool, typer.Option("--compact", help="One line of JSON.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Parse one page and print its JSON record, without touching the archive.

    Example: [bold]scrape parse samples/article-smart-city-2018.html | jq .paywall[/bold]
    """
    with reported_errors(verbose):
        reject_other_schemes([source])
        if is_url(source):
            policy = fetch_policy(0.0, 1, timeout, 1, user_agent, None, None, ignore_robots, None, [source])
            result = asyncio.run(_fetch_one(policy, source))
            if result.error:
                err.print(f"[red]error:[/red] {source}: {result.error}")
                raise typer.Exit(1)
        else:
            result = read_local(source)
        record = parse_page(result.body or b"", url or result.final_url or result.url,
                            content_type=result.content_type)
        sys.stdout.write(to_json(record, indent=None if compact else 2) + "\n")


async def _fetch_one(policy: FetchPolicy, url: str) -> FetchResult:
    async with Fetcher(policy) as fetcher:
        return await fetcher.fetch(url)


# --- scrape export ------------------------------------------------------------------------------

@app.command("export")
def export_command(
    db: DbOption = Path("archive.db"),
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="json, jsonl, csv, or warc (the raw pages; needs --output).")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    dossier: Annotated[str | None, typer.Option(help="Only articles of this dossier (URL or title words).")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles published (or updated) on or after YYYY-MM-DD.")]
    = None,
    paywalled: Annotated[bool | None, typer.Option("--paywalled/--free", help="Only paywalled / free articles.")]
    = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the archived articles as JSON, JSON Lines or CSV records, or the raw pages as WARC.

    JSON is one array of contract records, JSON Lines one record a line, CSV flat columns.
    --format warc writes the raw pages as fetched instead, as a WARC/1.1 file (--output FILE.warc.gz;
    --since is then the fetch date).

    Example: [bold]scrape export --format csv --free --output articles.csv[/bold]
    """
    from scraper.export import ALL_FORMATS, BINARY_FORMATS, export_articles

    with reported_errors(verbose):
        if format not in ALL_FORMATS:
            raise UsageError(f"unknown format {format!r}: choose one of {', '.join(ALL_FORMATS)}")
        require_archive(db)
        if format in BINARY_FORMATS:
            from scraper.cli_interop import export_warc_file

            with open_archive(db) as archive:
                count = export_warc_file(archive, output, since=since,
                                         article_filters=dossier is not None or paywalled is not None)
            if not quiet:
                err.print(f"{count} pages written to {output}")
            return
        with open_archive(db) as archive, _output(output) as stream:
            count = export_articles(archive, stream, format, dossier=dossier, since=since, paywalled=paywalled)
        if output and not quiet:
            err.print(f"{count} articles written to {output}")


@contextmanager
def _output(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield sys.stdout
        return
    try:
        stream = path.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise UsageError(f"{path}: cannot write ({error.strerror})") from None
    with stream:
        yield stream


@app.command("version")
def version_command() -> None:
    """Print the version."""
    out.print(f"scrape {__version__}")


# Commands of the other areas: each module defines its commands on `app` when imported (one line each).
# --- command areas (keep this block last but for main) ---
import scraper.cli_archive  # noqa: E402,F401
import scraper.cli_crawl  # noqa: E402,F401
import scraper.cli_interop  # noqa: E402,F401

# --- end of command areas ---


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: like `app()`, but a usage error is one line on stderr and exit code 2."""
    try:
        code = app(args=argv, prog_name="scrape", standalone_mode=False)
    except typer.Abort:
        err.print("interrupted")
        sys.exit(130)
    except typer.TyperException as error:
        sys.exit(_report_usage_error(error))
    sys.exit(code if isinstance(code, int) else 0)


def _report_usage_error(error: typer.TyperException) -> int:
    context = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
        out.print(context.get_help())
        return 2
    message = error.format_message() if hasattr(error, "format_message") else str(error)
    err.print(f"[red]error:[/red] {message}")
    if context is not None and context.command is not None and context.command.name != "scrape":
        err.print(f"see: scrape {context.command.name} --help", style="dim")
    return getattr(error, "exit_code", 2)
