"""Commands that connect the archive to other tools: `scrape import-warc`, `scrape datasette-metadata`,
and the WARC side of `scrape export --format warc`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scraper.cli_common import (
    DbOption,
    JsonOption,
    QuietOption,
    VerboseOption,
    app,
    err,
    open_archive,
    out,
    reported_errors,
    terminal_progress,
)
from scraper.errors import UsageError
from scraper.store import Archive

if TYPE_CHECKING:
    from scraper.warc import WarcImport

# --- scrape export --format warc ------------------------------------------------------------------

def export_warc_file(archive: Archive, output: Path | None, *, since: str | None = None,
                     article_filters: bool = False) -> int:
    """Write the archive's captures to the WARC file `output` (gzipped); returns the captures written.

    The file appears whole or not at all: it is written beside, then renamed. Raises UsageError without
    an output file (WARC is binary), with article filters (a WARC holds pages, not records), or when the
    file cannot be written.
    """
    if output is None:
        raise UsageError("--format warc writes a binary file: give --output FILE.warc.gz")
    if article_filters:
        raise UsageError("--dossier, --paywalled and --free select articles; a WARC holds the raw pages "
                         "(only --since, on the fetch date, applies)")
    partial = output.with_name(output.name + ".part")
    try:
        with partial.open("wb") as stream:
            from scraper.warc import export_warc  # warcio: only for WARC work

            count = export_warc(archive, stream, since=since, filename=output.name)
        os.replace(partial, output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UsageError(f"{output}: cannot write ({error.strerror or error})") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


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
    fetched page; requests, revisits, other statuses and non-HTML records are skipped and counted.
    Importing the same file twice stores nothing new. Exit code 1 when some records were damaged.
    On a terminal, a progress bar follows the file's bytes.

    Example: [bold]scrape import-warc crawl.warc.gz --db archive.db[/bold]
    """
    with reported_errors(verbose):
        for path in files:
            if not path.is_file():
                raise UsageError(f"no such file: {path}")
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


def _import_dict(path: str, result: WarcImport) -> dict[str, Any]:
    return {"file": path, "records": result.records, "pages": result.pages, "stored": dict(result.stored),
            "skipped": dict(result.skipped), "with_warnings": result.warnings}


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
    from scraper.datasette import datasette_metadata

    with reported_errors(verbose):
        sys.stdout.write(json.dumps(datasette_metadata(db), ensure_ascii=False, indent=2) + "\n")


def _import_warc(archive: Archive, path: Path, *, show_progress: bool) -> WarcImport:
    """Import one file, with a progress bar over its bytes on a terminal (a WARC can take hours)."""
    from scraper.warc import import_warc  # warcio: only for WARC work

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
