"""`scrape url`, `scrape parse`, `scrape export`, `scrape version`: pages in, records out."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal

import typer

from scraper import __version__
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
    listed_sources,
    open_archive,
    out,
    reported_errors,
    warn_alerts,
)
from scraper.errors import InvalidOption, WriteFailed
from scraper.exporters import EXPORT_FORMATS, format_help, format_names, names_that
from scraper.models import PAGE_TYPES, to_json
from scraper.output import archive_files, check_writable, written_whole
from scraper.site import is_url
from scraper.sources import (
    SourcesRun,
    check_local,
    check_sources,
    fetch_one,
    page_from_bytes,
    read_local,
    store_sources,
)

if TYPE_CHECKING:
    from scraper.ingest import PageOutcome

# --- scrape url ---------------------------------------------------------------------------------

LISTED_SOURCES = 3  # the sources a run's command names; more are counted


@app.command("url")
@fetch_options
def url_command(
    fetch: FetchOptions,
    sources: Annotated[list[str] | None, typer.Argument(metavar="SOURCE", help="http(s) URLs or local HTML files.",
                                                        show_default=False)] = None,
    input_file: Annotated[str | None, typer.Option(
        "--input-file", "-i", help="Read more sources from FILE, one URL or path a line, # for comments "
        "(as wget -i); - reads them from stdin.")] = None,
    db: DbOption = Path("archive.db"),
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Fetch each URL (or read each local HTML file), detect its type and store it in the archive.

    Example: [bold]scrape url samples/article-smart-city-2018.html https://www.lagazettedescommunes.com/457321/x/[/bold]
    Many at once: [bold]scrape url -i urls.txt[/bold] or [bold]grep -h lagazette *.txt | scrape url -i -[/bold]
    """
    with reported_errors(verbose):
        sources = [*(sources or []), *listed_sources(input_file)]
        if not sources:
            raise InvalidOption("no source: give URLs or files, or -i FILE")
        check_sources(sources)
        local = [source for source in sources if not is_url(source)]
        for source in local:  # every usage error before the archive is opened; each file is read at its turn
            check_local(source)
        policy = fetch.policy(sources)
        report = _PageReport(json_output, quiet)
        with open_archive(db) as archive:
            run = store_sources(archive, policy, (read_local(source) for source in local),
                                [source for source in sources if is_url(source)],
                                command=_run_command(sources, input_file), on_page=report.page)
        report.end(run)
        if run.failed:
            raise typer.Exit(1)


def _run_command(sources: list[str], input_file: str | None) -> str:
    """The run's command for `runs`: its sources when there are a few, else how many (`scrape url -i urls.txt
    (1,500 sources)`): a summary that lists the runs stays short."""
    if len(sources) <= LISTED_SOURCES and input_file is None:
        return " ".join(["scrape url", *sources])
    listed = f" -i {input_file}" if input_file is not None else ""
    return f"scrape url{listed} ({len(sources):,} sources)"


class _PageReport:
    """`scrape url`'s output: a line per page as soon as it is stored (JSON: one list at the end), then the
    canary's alerts, and what was not asked when the site refused access."""

    NOT_ASKED_SHOWN = 5

    def __init__(self, json_output: bool, quiet: bool) -> None:
        self.json_output, self.quiet = json_output, quiet
        self.pages: list[dict[str, Any]] = []
        self.alerts: list[str] = []

    def page(self, outcome: PageOutcome) -> None:
        if outcome.canary:
            self.alerts.append(outcome.canary.message)
        if self.json_output:
            self.pages.append(_outcome_dict(outcome))
        elif outcome.failed:
            err.print(f"[red]failed[/red] {outcome.url}: {outcome.error or 'no page'}", highlight=False)
        elif not self.quiet:
            record = outcome.record
            out.print(f"{record.type:8} {outcome.action:12} {record.title or '(no title)'}  [dim]{record.url}[/dim]")
            for warning in record.warnings:
                err.print(f"[yellow]warning[/yellow] {record.url}: {warning}")

    def end(self, run: SourcesRun) -> None:
        if self.json_output:
            not_asked = [{"source": url, "action": "not asked", "error": None, "error_class": None, "type": None,
                          "url": None, "title": None, "warnings": [], "canary": None} for url in run.not_asked]
            out.print_json(json.dumps(self.pages + not_asked, ensure_ascii=False))
        else:
            warn_alerts(self.alerts, quiet=self.quiet)
        for url in run.not_asked[:self.NOT_ASKED_SHOWN]:
            err.print(f"not asked {url}", highlight=False)
        if len(run.not_asked) > self.NOT_ASKED_SHOWN:
            err.print(f"… and {len(run.not_asked) - self.NOT_ASKED_SHOWN} more not asked (--json lists them all)")
        for message in run.stopped:
            err.print(f"[red]stopped[/red] {message}", highlight=False, soft_wrap=True)


def _outcome_dict(outcome: PageOutcome) -> dict[str, Any]:
    record = outcome.record
    return {"source": outcome.url, "action": outcome.action, "error": outcome.error,
            "error_class": outcome.fetch.error_class, "type": record.type if record else None,
            "url": record.url if record else None, "title": record.title if record else None,
            "warnings": record.warnings if record else [],
            "canary": outcome.canary.message if outcome.canary else None}


# --- scrape parse -------------------------------------------------------------------------------

# --type's choices: the types of page registered (scraper.models.PAGE_TYPES) when the command line is built.
PageTypeName = Literal[tuple(PAGE_TYPES)]  # type: ignore[valid-type]


@app.command("parse")
def parse_command(
    source: Annotated[str, typer.Argument(help="An http(s) URL, a local HTML file, or - for standard input.")],
    url: Annotated[str | None, typer.Option(help="The URL the file was saved from (for relative links).")] = None,
    page_type: Annotated[PageTypeName | None, typer.Option(
        "--type", help="Read the page as this type instead of detecting it.", show_default=False)] = None,
    timeout: TimeoutOption = 30.0,
    user_agent: UserAgentOption = None,
    ignore_robots: IgnoreRobotsOption = False,
    compact: Annotated[bool, typer.Option("--compact", help="One line of JSON.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Parse one page and print its JSON record, without touching the archive.

    Example: [bold]scrape parse samples/article-smart-city-2018.html | jq .paywall[/bold]
    From a pipe: [bold]curl -s URL | scrape parse - --url URL[/bold]
    """
    with reported_errors(verbose):
        check_sources([source])
        if source == "-":
            result = page_from_bytes(sys.stdin.buffer.read(), "standard input")
        elif is_url(source):
            options = FetchOptions(delay=0.0, concurrency=1, timeout=timeout, retries=1, user_agent=user_agent,
                                   ignore_robots=ignore_robots)
            result = fetch_one(options.policy([source]), source)
            if result.error:
                err.print(f"[red]error:[/red] {source}: {result.error}")
                raise typer.Exit(1)
        else:
            result = read_local(source)
        from scraper.parse import parse_page

        record = parse_page(result.body or b"", url or result.final_url or result.url,
                            content_type=result.content_type, page_type=page_type)
        sys.stdout.write(to_json(record, indent=None if compact else 2) + "\n")


# --- scrape export ------------------------------------------------------------------------------

Language = Literal["fr", "en"]
STDOUT = Path("-")


def _listed(names: tuple[str, ...]) -> str:
    """'a, b and c'."""
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else list(names))


# --format's choices and help, and --output's, from the registry of formats (scraper.exporters) as it is when the
# command line is built.
ExportFormatName = Literal[format_names()]  # type: ignore[valid-type]
_BINARY = _listed(names_that(lambda known: known.binary))
_OUTPUT_HELP = (f"File to write; - is stdout (the default, except for {_BINARY}); for "
                f"{_listed(names_that(lambda known: known.one_file_each))}, DIR/ writes one file per article.")


@app.command("export")
def export_command(
    db: DbOption = Path("archive.db"),
    format: Annotated[ExportFormatName, typer.Option("--format", "-f", help=format_help())] = "json",
    output: Annotated[str | None, typer.Option("--output", "-o", help=_OUTPUT_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --output file if it exists.")] = False,
    excel: Annotated[bool, typer.Option("--excel", help="CSV for Excel: UTF-8 with a BOM, ';' between fields.")]
    = False,
    dossier: Annotated[str | None, typer.Option(help="Only articles of this dossier (URL or title words).")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles published (or updated) on or after YYYY-MM-DD.")]
    = None,
    paywalled: Annotated[bool | None, typer.Option("--paywalled/--free", help="Only paywalled / free articles.")]
    = None,
    lang: Annotated[Language, typer.Option("--lang", help="Language of the labels of markdown and txt.")] = "fr",
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the archived articles as JSON, JSON Lines, CSV, Markdown, text or references, or the raw pages as WARC.

    JSON is one array of contract records, JSON Lines one record a line, CSV flat columns (--excel for Excel);
    each with first_seen_at and last_seen_at, when the archive fetched the article first and last.
    Markdown and text give each article's title, kicker, dates, authors, teaser, body, dossier, source URL and
    archive date, labelled in French (--lang en: English). csl-json, ris and bibtex are references for Zotero,
    pandoc and LaTeX (the archive date is the date consulted). Each of these five as one document, or one file
    per article with --output DIR/ (Markdown files then open with a YAML front matter).
    --format warc writes the raw pages as fetched instead, as a WARC/1.1 file (--output FILE.warc.gz;
    --since is then the fetch date). An --output file appears whole or not at all, and an existing one is kept
    unless --force.

    Example: [bold]scrape export --format csv --excel --free --output articles.csv[/bold]
    Example: [bold]scrape export --format markdown --dossier "smart city" --output smart-city/[/bold]
    Example: [bold]scrape export --format bibtex --dossier "smart city" --output smart-city.bib[/bold]
    """
    export, export_format = lazy.export, EXPORT_FORMATS[format]
    with reported_errors(verbose):
        if export_format.binary:
            _check_binary_options(format, output, article_filters=dossier is not None or paywalled is not None)
        if excel and not export_format.excel:
            raise InvalidOption(f"--excel is for --format {', '.join(names_that(lambda known: known.excel))}")
        filters = {"dossier": dossier, "since": since, "paywalled": paywalled}
        if output is not None and _is_directory(output) and export_format.one_file_each:
            with open_archive(db, read_only=True) as archive:
                count = export.export_article_files(archive, Path(output), format, force=force, lang=lang,
                                                    keep=archive_files(db), **filters)
            if not quiet:
                err.print(f"{count} articles written to {output}")
            return
        path = Path(output or STDOUT)
        if path != STDOUT:
            check_writable(path, force=force, keep=archive_files(db))
        with open_archive(db, read_only=True) as archive, _output(path, binary=export_format.binary,
                                                                force=force, keep=archive_files(db)) as stream:
            if export_format.binary:
                count, what = export_format.load()(archive, stream, since=since, filename=path.name), "pages"
            else:
                count = export.export_articles(archive, stream, format, excel=excel, lang=lang, **filters)
                what = "articles"
        if path != STDOUT and not quiet:
            err.print(f"{count} {what} written to {path}")


def _is_directory(output: str) -> bool:
    return output.endswith(("/", "\\")) or Path(output).is_dir()


def _check_binary_options(name: str, output: str | None, *, article_filters: bool) -> None:
    """Raise InvalidOption for a file of raw pages (WARC) without --output or to a terminal (it is binary: `-o -`
    sends it to a pipe), or with article filters (a WARC holds pages, not records)."""
    if output is None or (output == "-" and sys.stdout.isatty()):
        extension = EXPORT_FORMATS[name].extension
        raise InvalidOption(f"--format {name} writes a binary file: give --output FILE{extension} (or - for a pipe)")
    if article_filters:
        raise InvalidOption("--dossier, --paywalled and --free select articles; a WARC holds the raw pages "
                            "(only --since, on the fetch date, applies)")


@contextmanager
def _output(path: Path, *, binary: bool = False, force: bool = False, keep: tuple[Path, ...] = ()
            ) -> Iterator[IO[Any]]:
    """Standard output for `-`, else the file `path` (never one of `keep`), written whole or not at all
    (scraper.output)."""
    if path != STDOUT:
        with written_whole(path, binary=binary, force=force, keep=keep) as stream:
            yield stream
        return
    stream = sys.stdout.buffer if binary else sys.stdout
    try:
        yield stream
        stream.flush()
    except BrokenPipeError:  # `scrape export | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
    except OSError as error:
        raise WriteFailed(f"standard output: cannot write ({error.strerror or error})") from None


@app.command("version")
def version_command() -> None:
    """Print the version (also: scrape --version).

    Example: [bold]scrape version[/bold]
    """
    out.print(f"scrape {__version__}")
