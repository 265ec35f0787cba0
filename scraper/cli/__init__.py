"""The `scrape` command line: the only part of the tool that talks to people.

Thin commands parse options, call the library and render its reports with rich; the library's errors become
one line and an exit code (scraper.cli.common). Exit codes: 0 every page stored; 1 some page failed (each
failure is in the archive's fetch log); 2 usage error (bad option, missing file, unwritable archive);
130 interrupted.

A run imports only the module of its command (COMMANDS below), and `--version` nothing but the version.

    common      the app, consoles, shared options (the fetch options declared once), errors → exit codes
    lazy        the modules only some commands need, imported on first use
    pages       url, parse, export, version
    crawl       dossier, listing, feed (progress bar, summary, plain log lines for cron)
    maintenance reparse, search, check, stats, compact: the commands that work on the archive itself
    history     history: an article's versions, word by word
    interop     import (and its former name import-warc), datasette-metadata, and the WARC side of export
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from scraper import __version__

if TYPE_CHECKING:
    import typer

# The module (of this package) that defines each command, in the order `scrape --help` lists them. A run imports
# only its command's module (`scrape stats` never loads the fetcher, the parser or the crawl); `--help`, a run
# without a command and `scraper.cli.app` load them all. tests/test_cli_imports.py keeps this table true.
COMMANDS = {"url": "pages", "parse": "pages", "export": "pages", "version": "pages", "reparse": "maintenance",
            "search": "maintenance", "check": "maintenance", "stats": "maintenance", "compact": "maintenance",
            "dossier": "crawl", "listing": "crawl", "feed": "crawl", "import": "interop", "import-warc": "interop",
            "datasette-metadata": "interop", "history": "history"}

__all__ = ["COMMANDS", "app", "load_commands", "main"]


def load_commands(command: str | None = None) -> typer.Typer:
    """The app, with the commands of `command`'s module defined on it (all of them for None or a name that is
    not a command)."""
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"scraper.cli.{module}")
    from scraper.cli.common import app

    if len(modules) > 1:  # in the table's order, whichever module was imported first
        app.registered_commands.sort(key=lambda info: list(COMMANDS).index(info.name or ""))
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole command line (tests, other programs)
        return load_commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: like `app()`, but a usage error is one line on stderr and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["version"]):  # before importing anything else
        sys.stdout.write(f"scrape {__version__}\n")
        sys.exit(0)
    app = load_commands(next((arg for arg in args if not arg.startswith("-")), None))
    import typer

    try:
        code = app(args=argv, prog_name="scrape", standalone_mode=False)
    except typer.Abort:
        from scraper.cli.common import err

        err.print("interrupted")
        sys.exit(130)
    except typer.TyperException as error:
        sys.exit(_report_usage_error(error))
    sys.exit(code if isinstance(code, int) else 0)


def _report_usage_error(error: typer.TyperException) -> int:
    from rich.markup import escape

    from scraper.cli.common import err, out

    context = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
        out.print(context.get_help())
        return 2
    message = (error.format_message() if hasattr(error, "format_message") else str(error)).strip()
    if context is not None and context.command is not None and context.command.name != "scrape":
        message += f" (see: scrape {context.command.name} --help)"
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)  # one line
    return getattr(error, "exit_code", 2)
