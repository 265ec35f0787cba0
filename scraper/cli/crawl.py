"""`scrape dossier`, `scrape listing`, `scrape feed`: thin commands over scraper.crawl.

On a terminal a rich progress bar shows pages done / unchanged / failed and what is in flight; otherwise
(cron, pipes) each page is one plain log line on stderr. At the end a summary table on stdout, or with
`--json` the summary as JSON. Exit codes: 0 all stored, 1 some page failed, 2 usage error, 130 interrupted
(run the same command again to resume).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from scraper.cli import lazy
from scraper.cli.common import (
    DbOption,
    FetchOptions,
    JsonOption,
    QuietOption,
    VerboseOption,
    app,
    err,
    fetch_options,
    open_archive,
    out,
    reported_errors,
)
from scraper.crawl import CrawlEvent, CrawlKind, CrawlOptions, CrawlSummary, check_crawl_url, run_crawl

# rich.progress is imported where the bar is shown: a crawl run from cron (--quiet, --json, or not on a terminal)
# never loads it.
if TYPE_CHECKING:
    from rich.progress import Progress

SinceOption = Annotated[str | None, typer.Option(help="Stop at articles published before YYYY-MM-DD.")]
PagesOption = Annotated[int | None, typer.Option(min=1, help="At most this many listing pages.")]
UrlArgument = Annotated[str, typer.Argument(help="http(s) URL.", show_default=False)]
FAILURES_SHOWN = 20


@app.command("dossier")
@fetch_options
def dossier_command(
    ctx: typer.Context,
    url: UrlArgument,
    fetch: FetchOptions,
    db: DbOption = Path("archive.db"),
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Store a dossier, every page of its table of contents, and every article in it.

    URL is the dossier (any of its pages) or one of its articles.
    Articles already archived are not fetched again unless --refresh (still a conditional GET).
    An interrupted run resumes where it stopped; a re-run retries only what failed.

    Example: [bold]scrape dossier https://www.lagazettedescommunes.com/dossiers/smart-city-les-cles-de-la-ville-intelligente/[/bold]
    """
    _crawl_command(ctx, "dossier", url, fetch, CrawlOptions(refresh=fetch.refresh), db, json_output, verbose, quiet)


@app.command("listing")
@fetch_options
def listing_command(
    ctx: typer.Context,
    url: UrlArgument,
    fetch: FetchOptions,
    pages: PagesOption = None,
    since: SinceOption = None,
    db: DbOption = Path("archive.db"),
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Store every article of a rubrique listing, following its /page/N/ pagination.

    Incremental: it stops at the first page whose articles are all archived (--refresh goes on),
    after --pages pages, or at the first article published before --since.

    Example: [bold]scrape listing https://www.lagazettedescommunes.com/rubriques/club-technicites/ --pages 5[/bold]
    """
    _crawl_command(ctx, "listing", url, fetch, _options(fetch.refresh, since, pages), db, json_output, verbose, quiet)


@app.command("feed")
@fetch_options
def feed_command(
    ctx: typer.Context,
    url: UrlArgument,
    fetch: FetchOptions,
    since: SinceOption = None,
    db: DbOption = Path("archive.db"),
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Store every article of an RSS feed (each rubrique has one, at <rubrique URL>feed/).

    Articles already archived are skipped unless --refresh; --since leaves out older items.

    Example: scrape feed https://www.lagazettedescommunes.com/rubriques/club-technicites/feed/ --since 2018-03-01
    """
    _crawl_command(ctx, "feed", url, fetch, _options(fetch.refresh, since, None), db, json_output, verbose, quiet)


# --- the shared body ----------------------------------------------------------------------------

def _options(refresh: bool, since: str | None, pages: int | None) -> CrawlOptions:
    with reported_errors(False):
        return CrawlOptions(refresh=refresh, since=since, max_pages=pages)


def _crawl_command(ctx: typer.Context, kind: CrawlKind, url: str, fetch: FetchOptions, options: CrawlOptions,
                   db: Path, json_output: bool, verbose: bool, quiet: bool) -> None:
    with reported_errors(verbose):
        policy = fetch.policy([url])
        check_crawl_url(kind, url)  # every usage error before the archive is opened: it stays as it was
        with open_archive(db) as archive, _Reporter(quiet, verbose, json_output) as reporter:
            summary = run_crawl(archive, policy, kind, url, options=options, reporter=reporter,
                                command=_command_line(ctx))
        _print_summary(summary, json_output, quiet)
        if summary.exit_code:
            raise typer.Exit(summary.exit_code)


def _command_line(ctx: typer.Context) -> str:
    """The command as the user could have typed it (its arguments and non-default options)."""
    words = ["scrape", ctx.info_name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.param_type_name == "argument":
            words.append(str(value))
        elif value != param.default and value not in (None, [], ()):
            flag = max(param.opts, key=len)
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                words += [flag] if isinstance(item, bool) else [flag, str(item)]
    return " ".join(words)


# --- progress -----------------------------------------------------------------------------------

class _Reporter:
    """Progress of a crawl: a rich bar on a terminal (stdout's, or stderr's with --json), plain log lines on
    stderr otherwise, or nothing with --quiet."""

    def __init__(self, quiet: bool, verbose: bool, json_output: bool) -> None:
        self.verbose = verbose
        self.quiet = quiet
        self.counts = {"done": 0, "unchanged": 0, "failed": 0}
        self.in_flight: list[str] = []
        self.progress: Progress | None = None
        self.task: Any = None
        console = err if json_output else out
        if not quiet and console.is_terminal:
            bar = lazy.progress
            self.progress = bar.Progress(
                bar.SpinnerColumn(), bar.TextColumn("[bold]{task.description}"), bar.BarColumn(),
                bar.MofNCompleteColumn(), bar.TextColumn("{task.fields[stats]}"), bar.TimeElapsedColumn(),
                console=console, transient=False,
            )

    def __enter__(self) -> _Reporter:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("crawling", total=0, stats="")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, event: CrawlEvent) -> None:
        if event.type == "queued":
            self._advance(total=event.count)
        elif event.type == "started":
            self.in_flight.append(event.url)
            self._advance()
        elif event.type == "finished":
            self._finished(event)
        elif event.type == "note":
            self._line(f"[dim]note:[/dim] {event.detail}")
        elif event.type == "alert":
            self._line(f"[bold red]WARNING[/bold red] {event.detail} (flagged in canary_flags)")

    def _finished(self, event: CrawlEvent) -> None:
        if event.url in self.in_flight:
            self.in_flight.remove(event.url)
        bucket = {"inserted": "done", "updated": "done", "failed": "failed"}.get(event.action, "unchanged")
        self.counts[bucket] += 1
        self._advance(total=1 if event.action == "skipped" else 0, completed=1)
        if event.action == "failed":
            self._line(f"[red]failed[/red]       {event.kind:8} {event.url}  {event.detail}")
        elif self.verbose or (self.progress is None and event.action != "skipped"):  # the bar says the rest
            self._line(f"{event.action:12} {event.kind:8} {event.url}")

    def _advance(self, total: int = 0, completed: int = 0) -> None:
        if self.progress is None:
            return
        task = self.progress.tasks[0]
        flight = f" · in flight {len(self.in_flight)}" if self.in_flight else ""
        current = f" [dim]{self.in_flight[-1]}[/dim]" if self.in_flight else ""
        stats = (f"[green]done {self.counts['done']}[/green] · unchanged {self.counts['unchanged']}"
                 f" · [red]failed {self.counts['failed']}[/red]{flight}{current}")
        self.progress.update(self.task, total=(task.total or 0) + total, advance=completed, stats=stats)

    def _line(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text, highlight=False)
        elif not self.quiet:
            err.print(text, highlight=False, soft_wrap=True)


# --- summary ------------------------------------------------------------------------------------

def _print_summary(summary: CrawlSummary, json_output: bool, quiet: bool) -> None:
    if json_output:
        out.print_json(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    if quiet:  # the notes were not shown: only what went wrong
        for failure in summary.failures:
            err.print(f"failed {failure.url}: {failure.error_class}: {failure.error}", highlight=False)
        if summary.interrupted:
            err.print(f"interrupted: {summary.remaining} page(s) remain; run the same command again to resume")
        return
    out.print(_summary_table(summary))
    if summary.failures:
        _print_failures(summary)


def _summary_table(summary: CrawlSummary) -> Table:
    title = f"scrape {summary.kind} {summary.root or summary.url}" + (" (resumed)" if summary.resumed else "")
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("pages", justify="right")
    pages = summary.pages
    rows = [
        ("stored (new)", pages["inserted"]), ("stored (changed)", pages["updated"]),
        ("unchanged", pages["unchanged"]), ("not modified (304)", pages["not modified"]),
        ("taken from the interrupted run", pages["reused"]), ("skipped (already archived)", pages["skipped"]),
        ("failed", len(summary.failures)), ("remaining in the queue", summary.remaining),
    ]
    for label, count in rows:
        if count or label in ("stored (new)", "failed"):
            table.add_row(label, str(count))
    table.add_row("requests", f"{summary.fetched} fetched, {summary.not_modified} not modified, "
                  f"{summary.failed} failed, {summary.retried} retries, {_size(summary.bytes)}")
    if summary.login:
        table.add_row("cookies", summary.login)
    return table


def _print_failures(summary: CrawlSummary) -> None:
    for failure in summary.failures[:FAILURES_SHOWN]:
        err.print(f"[red]failed[/red] {failure.url}: {failure.error_class}: {failure.error}"
                  f" (tried in {failure.attempts} run(s))", highlight=False)
    hidden = len(summary.failures) - FAILURES_SHOWN
    if hidden > 0:
        err.print(f"… and {hidden} more: sqlite-utils ARCHIVE \"select * from crawl_queue where state = 'failed'\"")


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
