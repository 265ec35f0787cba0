"""Commands that connect the archive to other tools: `scrape import` (and `import-warc`, its former name),
`scrape datasette-metadata` (`scrape export --format warc` is with the other exports, in scraper.cli.pages)."""

from __future__ import annotations

import inspect
import json
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scraper.cli import lazy
from scraper.cli.common import (
    DbOption,
    JsonOption,
    QuietOption,
    VerboseOption,
    app,
    err,
    listed_sources,
    open_archive,
    out,
    print_json,
    reported_errors,
    terminal_progress,
    warn_alerts,
)
from scraper.errors import InvalidOption
from scraper.sources import STDIN_URL

if TYPE_CHECKING:
    from scraper.imports.formats import Format
    from scraper.imports.loop import FileImport, ImportRun

STDIN = "-"
# A run's command line names at most this many files (an import of a thousand files stays one short line).
COMMAND_FILES = 5

# --- scrape import (and import-warc, its former name) ---------------------------------------------

IMPORT_HELP = inspect.cleandoc("""
    Store the pages of the site that captures hold: what a browser saved (WACZ, HAR, MHTML, SingleFile or any
    saved HTML page) or a crawler wrote (WARC).

    Each file is recognised by its content; a folder is searched for captures. Every page of the site is stored
    like a fetched page, through the parser, at the capture's own time; only the site's pages are stored (add a
    host with --allow-host): other sites, images, scripts, redirects, errors and pages dated more than a day
    ahead are counted, and a capture already archived is skipped, so importing twice stores nothing new. Exit
    code 1 when a page of the site could not be stored (a damaged file, a body the browser did not save, a page
    refused). On a terminal, a progress bar follows each file's bytes. `scrape import-warc` is the same command
    under its former name.

    Example: [bold]scrape import ~/Downloads/gazette.wacz pages.har article.mhtml --db archive.db[/bold]
    Many at once: [bold]scrape import ~/captures/[/bold] or [bold]ls *.har | scrape import -i -[/bold]
    """)


def import_command(
    context: typer.Context,
    files: Annotated[list[str] | None, typer.Argument(
        metavar="FILE", help="Captures (WARC, WACZ, HAR, MHTML, HTML) or folders of captures; - reads one from "
        "stdin.", show_default=False)] = None,
    input_file: Annotated[str | None, typer.Option(
        "--input-file", "-i", help="Read more files from FILE, one path a line, # for comments; - reads them "
        "from stdin.")] = None,
    allow_host: Annotated[list[str] | None, typer.Option(
        "--allow-host", help="Also store pages of this host (HOST: its default ports; HOST:PORT: that port), "
        "such as a mirror of the site.")] = None,
    db: DbOption = Path("archive.db"),
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    imports = lazy.imports
    with reported_errors(verbose), tempfile.TemporaryDirectory(prefix="scrape-import-") as spool:
        named = [*(files or []), *listed_sources(input_file)]
        if not named:
            raise InvalidOption("no file: give captures or folders, or -i FILE")
        if named.count(STDIN) > 1 or (STDIN in named and input_file == STDIN):
            raise InvalidOption("standard input can be read once: one - (or -i -)")
        paths = [_spooled_stdin(Path(spool)) if name == STDIN else Path(name) for name in named]
        captures = imports.capture_files(paths)  # every usage error before the archive is opened
        command = _command_line(context.info_name or "import", named)
        results: dict[str, FileImport] = {}
        with open_archive(db) as archive, imports.ImportRun(archive, command, allow_hosts=allow_host or ()) as run:
            for path, kind in captures.files:
                stdin = path.parent == Path(spool)
                results["standard input" if stdin else str(path)] = _import_one(
                    run, path, kind, show_progress=not (quiet or json_output), url=STDIN_URL if stdin else None)
        _report_imports(results, captures.ignored, json_output, quiet)
        _report_failures(results)


app.command("import", help=IMPORT_HELP)(import_command)
app.command("import-warc", help="The former name of scrape import (which reads WARC and the other captures "
            "alike): the same command, kept for scripts.\n\n" + IMPORT_HELP.split("\n\n", 1)[1])(import_command)


def _spooled_stdin(folder: Path) -> Path:
    """Standard input copied to a file (formats are recognised by their first bytes, a WACZ is read at random)."""
    path = folder / "stdin"
    with path.open("wb") as spool:
        shutil.copyfileobj(sys.stdin.buffer, spool)
    return path


def _command_line(name: str, named: list[str]) -> str:
    """The run's command line as typed (`import` or `import-warc`), naming at most COMMAND_FILES files."""
    shown = named[:COMMAND_FILES]
    more = f" … ({len(named)} files)" if len(named) > COMMAND_FILES else ""
    return " ".join([f"scrape {name}", *shown]) + more


def _import_one(run: ImportRun, path: Path, kind: Format, *, show_progress: bool, url: str | None = None
                ) -> FileImport:
    """Import one file, with a progress bar over its bytes on a terminal (a WARC can take hours)."""
    with terminal_progress(f"import {path.name}", path.stat().st_size, enabled=show_progress, unit="bytes",
                           minimum=1_000_000) as advance:
        if advance is None:
            return run.import_file(path, kind.read, format=kind.name, url=url)
        read = 0

        def moved_to(position: int) -> None:
            nonlocal read
            advance(position - read)
            read = position

        return run.import_file(path, kind.read, format=kind.name, progress=moved_to, url=url)


def _report_imports(results: dict[str, FileImport], ignored: list[Path], json_output: bool, quiet: bool) -> None:
    if json_output:
        out.print_json(json.dumps([_import_dict(path, result) for path, result in results.items()],
                                  ensure_ascii=False))
        return
    if quiet:
        return
    for path, result in results.items():
        stored = ", ".join(f"{count} {action}" for action, count in sorted(result.stored.items())) or "none"
        pages = "1 page" if result.pages == 1 else f"{result.pages} pages"
        out.print(f"{path} ({result.format}): {result.records} records, {pages} stored ({stored})", highlight=False)
        if result.skipped:
            skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(result.skipped.items()))
            out.print(f"  skipped: {skipped}", style="dim", highlight=False)
        if result.warnings:
            err.print(f"[yellow]warning[/yellow] {path}: {result.warnings} pages stored with parser warnings")
        warn_alerts(result.alerts, quiet=quiet)
    if ignored:
        out.print(f"{len(ignored)} files in the folders are not captures (not read)", style="dim")


def _report_failures(results: dict[str, FileImport]) -> None:
    """Exit code 1, with what was lost, when a page of the site could not be stored."""
    damaged = sum(result.damaged for result in results.values())
    lost = sum((result.lost() for result in results.values()), Counter())
    if damaged:
        err.print(f"[red]failed[/red] {damaged} damaged records (truncated, bad digest, unreadable or a body "
                  "missing) were not stored")
    refused = {reason: count for reason, count in lost.items() if reason not in lazy.imports.DAMAGE}
    if refused:
        reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(refused.items()))
        hint = (" (a challenge or login page saved in place of a page: save it again once the browser shows it)"
                if any(reason.startswith(lazy.imports.BLOCKED) for reason in refused) else "")
        err.print(f"[red]failed[/red] pages of the site not stored: {reasons}{hint}", highlight=False)
    if lost:
        raise typer.Exit(1)


def _import_dict(path: str, result: FileImport) -> dict[str, Any]:
    return {"file": path, "format": result.format, "records": result.records, "pages": result.pages,
            "stored": dict(result.stored), "skipped": dict(result.skipped), "failed": result.failed,
            "with_warnings": result.warnings, "canary": result.alerts}


# --- scrape datasette-metadata --------------------------------------------------------------------

@app.command("datasette-metadata")
def datasette_metadata_command(
    db: DbOption = Path("archive.db"),
    verbose: VerboseOption = False,
) -> None:
    """Print Datasette metadata for the archive: descriptions, labels, canned queries.

    The database is named after the --db file (archive.db → "archive"), as Datasette names it.

    Example: [bold]scrape datasette-metadata > metadata.json && datasette archive.db -m metadata.json[/bold]
    """
    with reported_errors(verbose):
        print_json(lazy.datasette.datasette_metadata(db))

