"""The `scrape` command line: the only part of the tool that talks to people.

Thin commands parse options, call the library and render its reports with rich; the library's errors become
one line and an exit code (scraper.cli.common). Exit codes: 0 every page stored; 1 some page failed (each
failure is in the archive's fetch log); 2 usage error (bad option, missing file, unwritable archive);
130 interrupted.

    common      the app, consoles, shared options (the fetch options declared once), errors → exit codes
    lazy        the modules only some commands need, imported on first use
    pages       url, parse, export, version
    crawl       dossier, listing, feed (progress bar, summary, plain log lines for cron)
    archive     reparse, search, check, stats, compact
    history     history: an article's versions, word by word
    interop     import-warc, datasette-metadata, and the WARC side of export
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

# Each module defines its commands on `app` when imported, in the order `scrape --help` lists them.
# isort: off
from scraper.cli import pages, archive, crawl, interop, history  # noqa: F401
# isort: on
from scraper.cli.common import app, err, out

__all__ = ["app", "main"]


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
    message = (error.format_message() if hasattr(error, "format_message") else str(error)).strip()
    if context is not None and context.command is not None and context.command.name != "scrape":
        message += f" (see: scrape {context.command.name} --help)"
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)  # one line
    return getattr(error, "exit_code", 2)
