"""Commands that connect the archive to other tools: `scrape import-warc`, `scrape datasette-metadata`
(`scrape export --format warc` is with the other exports, in scraper.cli.pages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scraper.archive import Archive
from scraper.cli import lazy
from scraper.cli.common import (
    DbOption,
    JsonOption,
    QuietOption,
    VerboseOption,
    app,
    err,
    open_archive,
    out,
    print_json,
    reported_errors,
    terminal_progress,
    warn_alerts,
)

if TYPE_CHECKING:
    from scraper.warc import WarcImport

# --- scrape import-warc ---------------------------------------------------------------------------

@app.command("import-warc")
def import_warc_command(
    files: Annotated[list[Path], typer.Argument(help="WARC files (.warc or .warc.gz).", dir_okay=False)],
    db: DbOption = Path("archive.db"),
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Store the HTML pages of WARC files (from scrape or another crawler) through the parser.

    Response records with status 200 and resource records holding an HTML page are parsed and stored like a
    fetched page; a revisit of the same payload is a fetch at its own time with the body of the capture it
    names, when the archive holds it. Requests, other revisits and statuses, and non-HTML records are skipped
    and counted.
    Importing the same file twice stores nothing new. Exit code 1 when some records were damaged.
    On a terminal, a progress bar follows the file's bytes.

    Example: [bold]scrape import-warc crawl.warc.gz --db archive.db[/bold]
    """
    with reported_errors(verbose):
        for path in files:  # every usage error before the archive is opened: it stays as it was
            lazy.warc.check_warc_file(path)
        results: dict[str, WarcImport] = {}
        with open_archive(db) as archive:
            for path in files:
                results[str(path)] = _import_warc(archive, path, show_progress=not (quiet or json_output))
        _report_imports(results, json_output, quiet)
        damaged = sum(result.damaged for result in results.values())
        if damaged:
            err.print(f"[red]failed[/red] {damaged} damaged records (truncated, bad digest or unreadable) "
                      "were not stored")
            raise typer.Exit(1)


def _report_imports(results: dict[str, WarcImport], json_output: bool, quiet: bool) -> None:
    if json_output:
        out.print_json(json.dumps([_import_dict(path, result) for path, result in results.items()],
                                  ensure_ascii=False))
        return
    if quiet:
        return
    for path, result in results.items():
        stored = ", ".join(f"{count} {action}" for action, count in sorted(result.stored.items())) or "none"
        out.print(f"{path}: {result.records} records, {result.pages} pages stored ({stored})")
        if result.skipped:
            skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(result.skipped.items()))
            out.print(f"  skipped: {skipped}", style="dim")
        if result.warnings:
            err.print(f"[yellow]warning[/yellow] {path}: {result.warnings} pages stored with parser warnings")
        warn_alerts(result.alerts, quiet=quiet)


def _import_dict(path: str, result: WarcImport) -> dict[str, Any]:
    return {"file": path, "records": result.records, "pages": result.pages, "stored": dict(result.stored),
            "skipped": dict(result.skipped), "with_warnings": result.warnings, "canary": result.alerts}


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


def _import_warc(archive: Archive, path: Path, *, show_progress: bool) -> WarcImport:
    """Import one file, with a progress bar over its bytes on a terminal (a WARC can take hours)."""
    import_warc = lazy.warc.import_warc
    size = path.stat().st_size
    with terminal_progress(f"import {path.name}", size, enabled=show_progress, unit="bytes",
                           minimum=1_000_000) as advance:
        if advance is None:
            return import_warc(archive, path)
        read = 0

        def moved_to(position: int) -> None:
            nonlocal read
            advance(position - read)
            read = position

        return import_warc(archive, path, progress=moved_to)
