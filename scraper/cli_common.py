"""What every `scrape` command shares: the app, the consoles, the options, error reporting, the archive.

Commands live in cli.py (pages: url, parse, export) and in cli_<area>.py modules, each with a
`register(app)` function that cli.py calls; they all use these pieces so their options read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from scraper.errors import ScrapeError, UsageError
from scraper.fetch import FetchPolicy
from scraper.store import Archive

app = typer.Typer(
    name="scrape",
    help="Archive Club Techni.Cités pages (La Gazette des communes) into one SQLite file.\n\n"
    "Example: scrape url samples/article-free-2018.html && sqlite-utils archive.db "
    '"select title from articles"',
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True, highlight=False)

# --- options shared by several commands ---------------------------------------------------------

DbOption = Annotated[Path, typer.Option("--db", envvar="SCRAPE_DB", help="The archive (SQLite file).",
                                        dir_okay=False)]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
DelayOption = Annotated[float, typer.Option(min=0, help="Seconds between two requests to one host.")]
ConcurrencyOption = Annotated[int, typer.Option(min=1, help="Requests in flight per host.")]
TimeoutOption = Annotated[float, typer.Option(min=0.1, help="Seconds before a request gives up.")]
RetriesOption = Annotated[int, typer.Option(min=0, help="Retries on timeouts, resets, 429 and 5xx.")]
MaxWaitOption = Annotated[float, typer.Option(min=0, help="Longest wait for a Retry-After or a backoff (seconds).")]
UserAgentOption = Annotated[str | None, typer.Option(help="User-Agent (default names the tool and version).")]
ContactOption = Annotated[str | None, typer.Option(help="E-mail or URL added to the User-Agent.")]
CookiesOption = Annotated[Path | None, typer.Option(help="Netscape cookies.txt of your own subscriber session.",
                                                   exists=False, dir_okay=False)]
IgnoreRobotsOption = Annotated[bool, typer.Option("--ignore-robots", help="Do not obey robots.txt.")]
AllowHostOption = Annotated[list[str] | None, typer.Option("--allow-host",
                                                           help="Another host redirects may lead to.")]
RefreshOption = Annotated[bool, typer.Option("--refresh", help="Fetch again what is archived (still conditional).")]


def fetch_policy(delay: float, concurrency: int, timeout: float, retries: int, user_agent: str | None,
                 contact: str | None, cookies: Path | None, ignore_robots: bool,
                 allow_host: list[str] | None, sources: list[str] = (), max_wait: float = 120.0) -> FetchPolicy:
    """The fetch policy from the command-line options; the hosts of URLs the user names are allowed."""
    policy = FetchPolicy(delay=delay, concurrency=concurrency, timeout=timeout, retries=retries, max_wait=max_wait,
                         obey_robots=not ignore_robots, contact=contact, cookies_file=cookies,
                         **({"user_agent": user_agent} if user_agent else {}))
    return policy.allowing(*(allow_host or ()), *(source for source in sources if is_url(source)))


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


@contextmanager
def reported_errors(verbose: bool) -> Iterator[None]:
    """Turn the tool's own errors into one line on stderr and their exit code (a traceback only with -v)."""
    try:
        yield
    except ScrapeError as error:
        if verbose:
            raise
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def open_archive(db: Path) -> Archive:
    return Archive(db)


def require_archive(db: Path) -> None:
    """Commands that only read the archive refuse to create an empty one."""
    if not db.exists():
        raise UsageError(f"{db}: no such archive (run `scrape url` first, or pass --db)")


def reject_other_schemes(sources: list[str]) -> None:
    for source in sources:
        if "://" in source and not is_url(source):
            raise UsageError(f"{source}: only http(s) URLs and local files can be read")


@contextmanager
def terminal_progress(label: str, total: int, *, enabled: bool, unit: Literal["items", "bytes"] = "items",
                      minimum: int = 50) -> Iterator[Callable[[int], None] | None]:
    """A transient progress bar on stderr when it is a terminal, yielding `advance(amount)`; None elsewhere
    (cron, pipes, --json, -q) and for work too small to need one (`total` below `minimum`)."""
    if not enabled or not err.is_terminal or total < minimum:
        yield None
        return
    from rich.progress import (  # only drawn on a terminal: not loaded by other runs
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    counter = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    with Progress(TextColumn(label), BarColumn(), counter, TimeRemainingColumn(), console=err,
                  transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda amount: progress.advance(task, amount)
