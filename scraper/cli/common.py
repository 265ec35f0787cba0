"""What every `scrape` command shares: the app, the consoles, the options, error reporting, the archive.

The fetch options (delay, concurrency, timeout, retries, …) are declared once here and added to a command by
`@fetch_options`; the command receives them as one `FetchOptions`. The library's errors become one line on
stderr and an exit code in `reported_errors`, the one place that knows the exit codes.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from typer._click.types import ParamType  # Typer 0.26-0.28 carry their own copy of Click, as typer._click
from typer.core import TyperArgument, TyperCommand, TyperOption

from scraper import __version__
from scraper.errors import (
    ArchiveBusy,
    ArchiveError,
    ArchiveFull,
    DamagedArchive,
    FetchError,
    InvalidInput,
    OutputError,
    ScrapeError,
    SourceError,
    WriteFailed,
)
from scraper.site import is_url

if TYPE_CHECKING:
    from scraper.archive import Archive
    from scraper.fetch import FetchPolicy

# `scrape stats` and the crawls suggest `scrape compact` from this many raw pages it would recompress (below, the
# dictionary it would store costs about what it saves: a crawl trains its first one at 200 pages).
COMPACT_HINT_PAGES = 200


def worth_compacting(bodies_to_compact: int) -> bool:
    """Whether `scrape compact` would recompress enough raw pages to be worth suggesting."""
    return bodies_to_compact >= COMPACT_HINT_PAGES


# What an option's value is, by parameter name, in every command's help: `--delay SECONDS`. An option not named
# here shows its own name (`--pages PAGES`), never a type such as `<str>` or `<float range>`.
METAVARS = {"db": "FILE", "delay": "SECONDS", "timeout": "SECONDS", "max_wait": "SECONDS", "concurrency": "N",
            "retries": "N", "pages": "N", "limit": "N", "jobs": "N", "user_agent": "TEXT", "contact": "EMAIL-OR-URL",
            "cookies": "FILE", "allow_host": "HOST", "since": "YYYY-MM-DD", "output": "FILE", "dossier": "DOSSIER",
            "url": "URL", "input_file": "FILE", "log_file": "FILE"}


class ScrapeCommand(TyperCommand):
    """A command whose help names its arguments as the user types them (`Usage: scrape url [OPTIONS]
    SOURCE...` rather than Typer's `{sources}...`, no `<str>` type beside an argument), and shows what each
    option's value is (METAVARS, else the option's name: `--pages PAGES`; a choice its values) instead of a
    type (`<str>`, `<float range>`). tests/test_cli_conventions.py keeps every command's help free of such
    placeholders."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            name = param.name or ""
            if isinstance(param, TyperArgument):
                param.type = _NamedArgumentType(param.type)
                param.metavar = param.metavar or name.upper()
            elif isinstance(param, TyperOption) and param.metavar is None and not param.is_flag \
                    and not hasattr(param.type, "choices"):  # a choice shows its values: <json|jsonl|csv>
                param.metavar = METAVARS.get(name, name.upper())

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or ""
                name += "..." if param.nargs != 1 and not name.endswith("...") else ""
                pieces.append(name if param.required else f"[{name}]")
        return pieces


class _NamedArgumentType(ParamType):
    """An argument's own type, without a type name in the help (the argument's name says what it is)."""

    def __init__(self, inner: ParamType) -> None:
        self.inner = inner
        self.name = inner.name

    def get_metavar(self, param: Any, ctx: Any) -> str:
        return ""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        return self.inner.convert(value, param, ctx)

    def shell_complete(self, ctx: Any, param: Any, incomplete: str) -> Any:
        return self.inner.shell_complete(ctx, param, incomplete)


class _App(typer.Typer):
    """Every command of the app is a ScrapeCommand, the ones other modules add too."""

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or ScrapeCommand, **kwargs)


app = _App(
    name="scrape",
    help="Archive Club Techni.Cités pages (La Gazette des communes) into one SQLite file.\n\n"
    "Example: scrape url samples/article-free-2018.html && sqlite-utils archive.db "
    '"select title from articles"',
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def print_version(asked: bool = True) -> None:
    """`scrape --version` (and `scrape version`)."""
    if asked:
        out.print(f"scrape {__version__}")
        raise typer.Exit()


@app.callback()  # here, with the app: a run that loads one module of commands is still a group of commands
def _app_options(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                          callback=print_version)] = False,
) -> None:
    pass

# Exit codes: 0 all done; 1 some page failed (FetchError and what a run reports); 2 bad input or an archive
# that cannot be used; 130 interrupted. The first class of the error's ancestry found here gives its code.
EXIT_CODES: dict[type[ScrapeError], int] = {InvalidInput: 2, DamagedArchive: 1, ArchiveBusy: 1, ArchiveFull: 1,
                                            ArchiveError: 2, WriteFailed: 1, OutputError: 2, FetchError: 1,
                                            ScrapeError: 1}

# --- options shared by several commands ---------------------------------------------------------

DbOption = Annotated[Path, typer.Option("--db", envvar="SCRAPE_DB", help="The archive (SQLite file).",
                                        dir_okay=False)]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
TimeoutOption = Annotated[float, typer.Option(
    min=0.1, help="Seconds one request may take in all (connect, headers, body).")]
UserAgentOption = Annotated[str | None, typer.Option(help="User-Agent (default names the tool and version).")]
IgnoreRobotsOption = Annotated[bool, typer.Option("--ignore-robots", help="Do not obey robots.txt.")]


@dataclass(frozen=True)
class FetchOptions:
    """The options of every command that fetches (url, dossier, listing, feed), declared once: each field's
    metadata is its Typer option, and `@fetch_options` adds them all to a command."""

    delay: Annotated[float, typer.Option(min=0, help=(
        "Seconds between two requests to one host. A robots.txt Crawl-delay is obeyed up to 60 s (or up to this"
        " delay when longer); a longer one is capped there, with a warning: it would stall the run."))] = 1.0
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight per host.")] = 2
    timeout: TimeoutOption = 30.0
    retries: Annotated[int, typer.Option(min=0, help="Retries on timeouts, resets, 429 and 5xx.")] = 3
    max_wait: Annotated[float, typer.Option(
        min=0, help="Longest wait for a Retry-After or a backoff (seconds); a server asking for longer is asked"
        " nothing more in this run.")] = 120.0
    user_agent: UserAgentOption = None
    contact: Annotated[str | None, typer.Option(help="E-mail or URL added to the User-Agent.")] = None
    cookies: Annotated[Path | None, typer.Option(help="Netscape cookies.txt of your own subscriber session.",
                                                 exists=False, dir_okay=False)] = None
    allow_host: Annotated[list[str] | None, typer.Option(
        "--allow-host", help="Another host (HOST: its default ports; HOST:PORT: that port) links and redirects "
        "may lead to.")] = None
    ignore_robots: IgnoreRobotsOption = False
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch again what is archived (still conditional).")
                       ] = False

    def policy(self, sources: list[str]) -> FetchPolicy:
        """The fetch policy of these options; the hosts of the URLs among `sources` are allowed."""
        from scraper.fetch import FetchPolicy

        policy = FetchPolicy(delay=self.delay, concurrency=self.concurrency, timeout=self.timeout,
                             retries=self.retries, max_wait=self.max_wait, obey_robots=not self.ignore_robots,
                             contact=self.contact, cookies_file=self.cookies,
                             **({"user_agent": self.user_agent} if self.user_agent else {}))
        return policy.allowing(*(self.allow_host or ()), *(source for source in sources if is_url(source)))


def gathered_options(options: type[Any], parameter: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator that adds the fields of the dataclass `options` to a command as options (each field's
    annotation is its Typer option) after its own parameters, and hands them to the command gathered in one
    `options` instance, as its parameter named `parameter`."""
    hints = inspect.get_annotations(options, eval_str=True)
    added = [inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=option.default,
                               annotation=hints[option.name]) for option in fields(options)]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        own = [each for each in signature.parameters.values() if each.name != parameter]

        @functools.wraps(command)
        def with_options(**kwargs: Any) -> None:
            gathered = options(**{each.name: kwargs.pop(each.name) for each in added})
            command(**kwargs, **{parameter: gathered})

        with_options.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        return with_options

    return decorate


# The FetchOptions of a command that fetches, as its `fetch` parameter.
fetch_options = gathered_options(FetchOptions, "fetch")


# --- errors, the archive, output ----------------------------------------------------------------

def exit_code_of(error: ScrapeError) -> int:
    return next(code for kind, code in EXIT_CODES.items() if isinstance(error, kind))


@contextmanager
def reported_errors(verbose: bool) -> Iterator[None]:
    """Turn the tool's own errors into one line on stderr and their exit code (a traceback only with -v)."""
    try:
        yield
    except ScrapeError as error:
        if verbose:
            raise
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(exit_code_of(error)) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def listed_sources(input_file: str | None) -> list[str]:
    """The sources listed in `input_file` (`-` for stdin), none without one: what `-i FILE` reads, one URL or
    path a line (scraper.sources.source_list)."""
    if input_file is None:
        return []
    from scraper.sources import source_list

    if input_file == "-":
        return source_list(sys.stdin.read())
    try:
        return source_list(Path(input_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(f"cannot read the list {input_file}: {getattr(error, 'strerror', None) or error}"
                          ) from None


def open_archive(db: Path, *, create: bool = True, read_only: bool = False) -> Archive:
    """The archive at `db`; commands that store nothing new pass `create=False`, and those that only read it
    `read_only=True` (NoArchive when it is missing or not an archive)."""
    from scraper.archive import Archive

    return Archive(db, create=create, read_only=read_only)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def warn_alerts(alerts: list[str], *, quiet: bool) -> None:
    """The canary's alerts, loudly on stderr (not with -q)."""
    if quiet:
        return
    for alert in alerts:
        err.print(alert_line(alert), highlight=False)


def alert_line(alert: str) -> str:
    """One canary alert as the commands print it (rich markup)."""
    return f"[bold red]WARNING[/bold red] {alert} (flagged in canary_flags)"


@contextmanager
def terminal_progress(label: str, total: int, *, enabled: bool, unit: Literal["items", "bytes"] = "items",
                      minimum: int = 50) -> Iterator[Callable[[int], None] | None]:
    """A transient progress bar on stderr when it is a terminal, yielding `advance(amount)`; None elsewhere
    (cron, pipes, --json, -q) and for work too small to need one (`total` below `minimum`)."""
    if not enabled or not err.is_terminal or total < minimum:
        yield None
        return
    from scraper.cli import lazy

    bar = lazy.progress
    counter = bar.DownloadColumn() if unit == "bytes" else bar.MofNCompleteColumn()
    with bar.Progress(bar.TextColumn(label), bar.BarColumn(), counter, bar.TimeRemainingColumn(), console=err,
                      transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda amount: progress.advance(task, amount)
