"""`scrape url`, `scrape parse`, `scrape export`, `scrape version`: pages in, records out."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from scraper import __version__
from scraper.archive import Archive
from scraper.cli import lazy
from scraper.cli.common import (
    DbOption,
    FetchOptions,
    IgnoreRobotsOption,
    JsonOption,
    QuietOption,
    TimeoutOption,
    UserAgentOption,
    VerboseOption,
    app,
    err,
    fetch_options,
    open_archive,
    out,
    reported_errors,
    warn_alerts,
)
from scraper.errors import InvalidOption, OutputError
from scraper.ingest import PageOutcome
from scraper.models import to_json
from scraper.parse import parse_page
from scraper.sources import check_sources, fetch_one, is_url, read_local, store_sources

# --- scrape url ---------------------------------------------------------------------------------


@app.command("url")
@fetch_options
def url_command(
    sources: Annotated[list[str], typer.Argument(help="http(s) URLs or local HTML files.")],
    fetch: FetchOptions,
    db: DbOption = Path("archive.db"),
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Fetch each URL (or read each local HTML file), detect its type and store it in the archive.

    Example: [bold]scrape url samples/article-smart-city-2018.html https://www.lagazettedescommunes.com/457321/x/[/bold]
    """
    with reported_errors(verbose):
        check_sources(sources)
        local = [read_local(source) for source in sources if not is_url(source)]
        policy = fetch.policy(sources)
        with open_archive(db) as archive:
            outcomes = store_sources(archive, policy, local, [source for source in sources if is_url(source)],
                                     command=" ".join(["scrape url", *sources]))
        _report(outcomes, json_output, quiet)
        if any(outcome.failed for outcome in outcomes):
            raise typer.Exit(1)


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
    warn_alerts([outcome.canary.message for outcome in outcomes if outcome.canary], quiet=quiet)


def _outcome_dict(outcome: PageOutcome) -> dict[str, Any]:
    record = outcome.record
    return {"source": outcome.url, "action": outcome.action, "error": outcome.error,
            "error_class": outcome.fetch.error_class, "type": record.type if record else None,
            "url": record.url if record else None, "title": record.title if record else None,
            "warnings": record.warnings if record else [],
            "canary": outcome.canary.message if outcome.canary else None}


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
        check_sources([source])
        if is_url(source):
            options = FetchOptions(delay=0.0, concurrency=1, timeout=timeout, retries=1, user_agent=user_agent,
                                   ignore_robots=ignore_robots)
            result = fetch_one(options.policy([source]), source)
            if result.error:
                err.print(f"[red]error:[/red] {source}: {result.error}")
                raise typer.Exit(1)
        else:
            result = read_local(source)
        record = parse_page(result.body or b"", url or result.final_url or result.url,
                            content_type=result.content_type)
        sys.stdout.write(to_json(record, indent=None if compact else 2) + "\n")


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
    export = lazy.export
    with reported_errors(verbose):
        if format not in export.ALL_FORMATS:
            raise InvalidOption(f"unknown format {format!r}: choose one of {', '.join(export.ALL_FORMATS)}")
        if format in export.BINARY_FORMATS:
            with open_archive(db, read_only=True) as archive:
                count = export_warc_file(archive, output, since=since,
                                         article_filters=dossier is not None or paywalled is not None)
            if not quiet:
                err.print(f"{count} pages written to {output}")
            return
        with open_archive(db, read_only=True) as archive, _output(output) as stream:
            count = export.export_articles(archive, stream, format, dossier=dossier, since=since,
                                           paywalled=paywalled)
        if output and not quiet:
            err.print(f"{count} articles written to {output}")


def export_warc_file(archive: Archive, output: Path | None, *, since: str | None = None,
                     article_filters: bool = False) -> int:
    """`scrape export --format warc`: the archive's captures to the WARC file `output`; returns how many.

    Raises InvalidOption without an output file (WARC is binary) or with article filters (a WARC holds
    pages, not records).
    """
    if output is None:
        raise InvalidOption("--format warc writes a binary file: give --output FILE.warc.gz")
    if article_filters:
        raise InvalidOption("--dossier, --paywalled and --free select articles; a WARC holds the raw pages "
                            "(only --since, on the fetch date, applies)")
    return lazy.warc.write_warc_file(archive, output, since=since)


@contextmanager
def _output(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield sys.stdout
        return
    try:
        stream = path.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise OutputError(f"{path}: cannot write ({error.strerror})") from None
    with stream:
        yield stream


@app.command("version")
def version_command() -> None:
    """Print the version."""
    out.print(f"scrape {__version__}")
