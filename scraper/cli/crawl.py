"""`scrape dossier`, `scrape listing`, `scrape feed`: thin commands over scraper.crawl.

On a terminal a rich progress bar shows pages done / unchanged / failed and what is in flight; otherwise
(cron, pipes) each page is one plain log line on stderr. At the end a summary table on stdout, or with
`--json` the summary as JSON. Exit codes: 0 all stored, 1 some page failed or the archive stopped the run
(locked by another writer too long, a full disk: what was stored is kept), 2 usage error, 130 interrupted (run
the same command again to resume).
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from scraper.cli import lazy
from scraper.cli.common import (
    DbOption,
    FetchOptions,
    JsonOption,
    QuietOption,
    VerboseOption,
    alert_line,
    app,
    err,
    fetch_options,
    gathered_options,
    open_archive,
    out,
    reported_errors,
    worth_compacting,
)
from scraper.crawl import CrawlEvent, CrawlKind, CrawlOptions, CrawlSummary, check_crawl_url, run_crawl
from scraper.errors import OutputError

# rich.progress is imported where the bar is shown: a crawl run from cron (--quiet, --json, or not on a terminal)
# never loads it.
if TYPE_CHECKING:
    from rich.progress import Progress

SinceOption = Annotated[str | None, typer.Option(help="Stop at articles published before YYYY-MM-DD.")]
PagesOption = Annotated[int | None, typer.Option(min=1, help="At most this many listing pages.")]
UrlArgument = Annotated[str, typer.Argument(help="http(s) URL.", show_default=False)]
LogFileOption = Annotated[Path | None, typer.Option(
    help="Append a timestamped line per page, the notes and the summary to FILE (for cron), whatever -q says.",
    dir_okay=False)]
FAILURES_SHOWN = 20


@dataclass(frozen=True)
class RunOptions:
    """Where a crawl keeps its archive and how it reports, the same for dossier, listing and feed."""

    db_path: DbOption = Path("archive.db")
    log_file: LogFileOption = None
    json_output: JsonOption = False
    verbose: VerboseOption = False
    quiet: QuietOption = False


run_options = gathered_options(RunOptions, "run")


@app.command("dossier")
@fetch_options
@run_options
def dossier_command(ctx: typer.Context, url: UrlArgument, fetch: FetchOptions, run: RunOptions) -> None:
    """Store a dossier, every page of its table of contents, and every article in it.

    URL is the dossier (any of its pages) or one of its articles.
    Articles already archived are not fetched again unless --refresh (still a conditional GET).
    An interrupted run resumes where it stopped; a re-run retries only what failed.

    Example: [bold]scrape dossier https://www.lagazettedescommunes.com/dossiers/smart-city-les-cles-de-la-ville-intelligente/[/bold]
    """
    _crawl_command(ctx, "dossier", url, fetch, run, CrawlOptions(refresh=fetch.refresh))


@app.command("listing")
@fetch_options
@run_options
def listing_command(ctx: typer.Context, url: UrlArgument, fetch: FetchOptions, run: RunOptions,
                    pages: PagesOption = None, since: SinceOption = None) -> None:
    """Store every article of a rubrique listing, following its /page/N/ pagination.

    Incremental: it stops at the first page whose articles are all archived (--refresh goes on),
    after --pages pages, or at the first article published before --since.

    Example: [bold]scrape listing https://www.lagazettedescommunes.com/rubriques/club-technicites/ --pages 5[/bold]
    """
    _crawl_command(ctx, "listing", url, fetch, run, _options(fetch.refresh, since, pages))


@app.command("feed")
@fetch_options
@run_options
def feed_command(ctx: typer.Context, url: UrlArgument, fetch: FetchOptions, run: RunOptions,
                 since: SinceOption = None) -> None:
    """Store every article of an RSS feed (each rubrique has one, at <rubrique URL>feed/).

    Articles already archived are skipped unless --refresh; --since leaves out older items.

    Example: scrape feed https://www.lagazettedescommunes.com/rubriques/club-technicites/feed/ --since 2018-03-01
    """
    _crawl_command(ctx, "feed", url, fetch, run, _options(fetch.refresh, since, None))


# --- the shared body ----------------------------------------------------------------------------

def _options(refresh: bool, since: str | None, pages: int | None) -> CrawlOptions:
    with reported_errors(False):
        return CrawlOptions(refresh=refresh, since=since, max_pages=pages)


def _crawl_command(ctx: typer.Context, kind: CrawlKind, url: str, fetch: FetchOptions, run: RunOptions,
                   options: CrawlOptions) -> None:
    with reported_errors(run.verbose):
        policy = fetch.policy([url])
        check_crawl_url(kind, url)  # every usage error before the archive is opened: it stays as it was
        with _log_to(run.log_file) as log, open_archive(run.db_path) as archive, \
                _Reporter(run.quiet, run.verbose, run.json_output, log) as reporter:
            summary = run_crawl(archive, policy, kind, url, options=options, reporter=reporter,
                                command=_command_line(ctx))
            if log is not None:
                _log_summary(log, summary)
            to_compact = 0 if run.quiet or run.json_output else lazy.compact.bodies_to_compact(archive)
        _print_summary(summary, run.json_output, run.quiet)
        if summary.stopped_by:
            err.print(f"[red]error:[/red] {_stopped_line(summary)}", highlight=False)
        if worth_compacting(to_compact):
            err.print(f"hint: {to_compact} raw pages would be smaller after `scrape compact --db {run.db_path}`"
                      " (recompressed with a dictionary trained on the whole archive)", style="dim", highlight=False,
                      markup=False)
        if summary.exit_code:
            raise typer.Exit(summary.exit_code)


@contextmanager
def _log_to(path: Path | None) -> Iterator[Console | None]:
    """A plain console appending to the log file at `path` (None without one)."""
    if path is None:
        yield None
        return
    with _appending(path) as stream:
        yield Console(file=stream, color_system=None, soft_wrap=True, highlight=False, emoji=False)


def _appending(path: Path) -> TextIO:
    """The file at `path` opened to append, without waiting: a named pipe no process reads from is refused
    at once (opening it would block until one does, before any work)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o666)
    except OSError as error:
        reason = "a named pipe no process reads from" if error.errno == errno.ENXIO else error.strerror or error
        raise OutputError(f"{path}: cannot write the log ({reason})") from None
    os.set_blocking(descriptor, True)  # a reader there: writes wait for it as they would on any pipe
    return os.fdopen(descriptor, "a", encoding="utf-8")


def _stamp() -> str:
    """Now, in local time with its offset: the start of a plain log line."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


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

    def __init__(self, quiet: bool, verbose: bool, json_output: bool, log: Console | None = None) -> None:
        self.verbose = verbose
        self.log = log
        self.quiet = quiet
        self.counts = {"done": 0, "unchanged": 0, "failed": 0}
        self.in_flight: list[str] = []
        self.progress: Progress | None = None
        self.task: Any = None
        console = err if json_output else out
        if not quiet and console.is_terminal:
            self.progress = _progress_bar(console)

    def __enter__(self) -> _Reporter:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("crawling", total=0, stats="", rate="", current="")
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
            self._line(alert_line(event.detail))

    def _finished(self, event: CrawlEvent) -> None:
        if event.url in self.in_flight:
            self.in_flight.remove(event.url)
        bucket = {"inserted": "done", "updated": "done", "failed": "failed"}.get(event.action, "unchanged")
        self.counts[bucket] += 1
        self._advance(total=1 if event.action == "skipped" else 0, completed=1)
        line = f"{event.action:12} {event.kind:8} {event.url}" + (f"  {event.detail}" if event.detail else "")
        if event.action == "failed":
            self._line(f"[red]failed[/red]       {event.kind:8} {event.url}  {event.detail}")
        elif self.verbose or (self.progress is None and event.action != "skipped"):  # the bar says the rest
            self._line(line)
        else:
            self._log(line)

    def _advance(self, total: int = 0, completed: int = 0) -> None:
        if self.progress is None:
            return
        task = self.progress.tasks[0]
        unchanged = f" · unchanged {self.counts['unchanged']}" if self.counts["unchanged"] else ""
        stats = f"[green]done {self.counts['done']}[/green]{unchanged} · [red]failed {self.counts['failed']}[/red]"
        rate = f"{task.speed:.1f}/s" if task.speed else ""
        current = urlsplit(self.in_flight[-1]).path if self.in_flight else ""
        self.progress.update(self.task, total=(task.total or 0) + total, advance=completed, stats=stats, rate=rate,
                             current=current)

    def _line(self, text: str) -> None:
        """A line for the user: above the bar on a terminal, else on stderr with a timestamp (cron); and in
        the log file."""
        if self.progress is not None:
            self.progress.console.print(text, highlight=False)
        elif not self.quiet:
            err.print(f"{_stamp()} {text}", highlight=False, soft_wrap=True)
        self._log(text)

    def _log(self, text: str) -> None:
        if self.log is not None:
            self.log.print(f"{_stamp()} {text}")


def _progress_bar(console: Console) -> Progress:
    """The crawl's bar, one line at any width: the count, the outcomes, the rate and the time remaining keep
    their place, and the page in flight (its path) gets what is left, cut with an ellipsis."""
    bar = lazy.progress
    narrow = console.width < 100
    fixed = {"table_column": bar.Column(no_wrap=True)}
    return bar.Progress(
        bar.SpinnerColumn(),
        *([] if narrow else [bar.TextColumn("[bold]{task.description}", **fixed)]),
        bar.BarColumn(bar_width=12 if narrow else 24), bar.MofNCompleteColumn(table_column=bar.Column(no_wrap=True)),
        bar.TextColumn("{task.fields[stats]}", **fixed), bar.TextColumn("{task.fields[rate]}", **fixed),
        bar.TimeRemainingColumn(),
        bar.TextColumn("[dim]{task.fields[current]}",
                       table_column=bar.Column(no_wrap=True, overflow="ellipsis", ratio=1, min_width=1)),
        console=console, transient=False, expand=True,
    )


# --- summary ------------------------------------------------------------------------------------

def _log_summary(log: Console, summary: CrawlSummary) -> None:
    """The summary as log lines: what the run did in one line, then each failure."""
    pages = summary.pages
    log.print(f"{_stamp()} summary      {summary.kind:8} {summary.root or summary.url}: "
              f"{pages['inserted']} new, {pages['updated']} changed, {pages['unchanged']} unchanged, "
              f"{pages['not modified']} not modified, {pages['skipped']} skipped, {len(summary.failures)} failed, "
              f"{summary.remaining} remaining; {summary.fetched} fetched, {_size(summary.bytes)}; "
              f"exit {summary.exit_code}")
    for failure in summary.failures:
        log.print(f"{_stamp()} failed       {failure.url}: {failure.error_class}: {failure.error}")
    for message in summary.stopped:
        log.print(f"{_stamp()} stopped      {message}")
    if summary.stopped_by:
        log.print(f"{_stamp()} stopped      {_stopped_line(summary)}")


def _stopped_line(summary: CrawlSummary) -> str:
    """What ended a run the archive stopped, and what to do."""
    stored = summary.pages["inserted"] + summary.pages["updated"] + summary.pages["unchanged"]
    return (f"{summary.stopped_by}; the crawl stopped there: the {stored} page(s) stored before are kept, and"
            " running the same command again resumes it")


def _print_summary(summary: CrawlSummary, json_output: bool, quiet: bool) -> None:
    if json_output:
        out.print_json(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    if quiet:  # the notes were not shown: only what went wrong
        for failure in summary.failures:
            err.print(f"failed {failure.url}: {failure.error_class}: {failure.error}", highlight=False)
        if summary.interrupted:
            err.print(f"interrupted: {summary.remaining} page(s) remain; run the same command again to resume")
        _print_stopped(summary.stopped)
        return
    out.print(_summary_table(summary))
    if summary.failures:
        _print_failures(summary)
    _print_stopped(summary.stopped)


def _print_stopped(messages: list[str]) -> None:
    for message in messages:
        err.print(f"[red]stopped[/red] {message}", highlight=False, soft_wrap=True)


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
        ("read with loss (article links not read)", len(summary.read_with_loss)),
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
