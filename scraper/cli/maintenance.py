"""Commands that work on the archive alone, without the network: `reparse`, `search`, `check`, `stats`,
`compact`.

Each command reaches its library module through scraper.cli.lazy: every `scrape` run loads this module to know
its commands, and a crawl need not carry theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

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
    worth_compacting,
)
from scraper.errors import InvalidOption

if TYPE_CHECKING:
    from scraper.archive.check import CheckReport
    from scraper.archive.compact import CompactReport
    from scraper.archive.search import Hit
    from scraper.reparse import ReparseReport

SHOWN = 20  # rows of long lists in the tables
STATS_TOP = 10  # rows of each list of `scrape stats` (--all: every row)
RUN_COLUMNS = ("id", "command", "started_at", "ended_at", "fetched", "failed", "blocked", "stored")


# --- scrape reparse -------------------------------------------------------------------------------

@app.command("reparse")
def reparse_command(
    db: DbOption = Path("archive.db"),
    since: Annotated[str | None, typer.Option(help="Only pages fetched on or after YYYY-MM-DD.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")] = False,
    jobs: Annotated[int | None, typer.Option(min=1, help="Parsing processes (default: by the CPUs and pages).")]
    = None,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Parse the stored raw pages again with the current parser (no network) and store what changed.

    Each page is reparsed from its newest fetch; changed articles get a version row. Pages that the
    canary flags (core fields missing) are listed loudly on stderr.

    Example: [bold]scrape reparse --dry-run --since 2024-01-01[/bold]
    """
    with reported_errors(verbose):
        with open_archive(db, create=False, read_only=dry_run) as archive:
            total = lazy.reparse.count_pages(archive, since=since)
            with terminal_progress("reparse", total, enabled=not (quiet or json_output)) as advance:
                jobs = jobs if jobs is not None else lazy.reparse.auto_jobs(total)  # the pages counted once
                report = lazy.reparse.reparse(archive, since=since, dry_run=dry_run, jobs=jobs, progress=advance)
        if json_output:
            print_json(report.to_dict())
        else:
            _render_reparse(report, quiet)
        _warn_flagged(report)
        if report.unreadable_count:
            shown = ", ".join(report.unreadable[:3]) + ("…" if report.unreadable_count > 3 else "")
            err.print(f"[red]error:[/red] {report.unreadable_count} dossier or listing pages give no entry though"
                      f" they link to articles: kept as stored ({shown})", highlight=False)
        if report.missing_bodies:
            err.print(f"[red]error:[/red] {report.missing_bodies} pages have no readable raw body in the archive"
                      " (missing or damaged: see `scrape check`)")
        if report.unreadable_count or report.missing_bodies:
            raise typer.Exit(1)


def _render_reparse(report: ReparseReport, quiet: bool) -> None:
    what = "would be" if report.dry_run else "were"
    if not quiet:
        out.print(f"{report.pages} pages reparsed in {report.seconds:.1f} s ({report.pages_per_second:.0f} pages/s):"
                  f" {report.updated} {what} updated, {report.inserted} {what} new, {report.unchanged} unchanged"
                  + (f", {report.superseded} superseded by a newer copy" if report.superseded else "")
                  + (" [bold](dry run: nothing written)[/bold]" if report.dry_run else ""))
    if report.fields and not quiet:
        table = Table("field", "records", title="Changed fields")
        for name, count in report.fields.most_common():
            table.add_row(name, str(count))
        out.print(table)
    if report.type_changes:
        table = Table("page", "was", "now", title="Pages whose type changed")
        for change in report.type_changes[:SHOWN]:
            table.add_row(Text(change.url), change.before, change.after)
        out.print(table)
        _more(report.type_changed)
    if report.unflagged_count and not quiet:
        out.print(f"{report.unflagged_count} pages flagged by the canary are read again"
                  + (" (flags kept: dry run)" if report.dry_run else " (flags cleared)"))


def _warn_flagged(report: ReparseReport) -> None:
    if not report.flagged_count:
        return
    err.print(f"[bold red]WARNING[/bold red] the site's markup may have changed: {report.flagged_count} pages lack"
              " core fields that most pages of their kind have (see `scrape stats`, table canary_flags):")
    for url in report.flagged[:SHOWN]:
        err.print(f"  {url}", markup=False)
    if report.flagged_count > SHOWN:
        err.print(f"  ... and {report.flagged_count - SHOWN} more")


def _more(total: int) -> None:
    if total > SHOWN:
        out.print(f"... and {total - SHOWN} more (--json lists up to {lazy.reparse.LISTED})")


# --- scrape search --------------------------------------------------------------------------------

@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="Words as typed (all must match, in any of their forms); with --fts, "
                                              'FTS5 syntax: "a phrase", prefix*, OR, NOT, title:word.')],
    db: DbOption = Path("archive.db"),
    dossier: Annotated[str | None, typer.Option(help="Only articles of this dossier (URL or title words).")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles published (or updated) on or after YYYY-MM-DD.")]
    = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many results.")] = 20,
    fts: Annotated[bool, typer.Option("--fts", help="Read QUERY as FTS5 syntax, over title, kicker, teaser and "
                                                    "body.")] = False,
    as_words: Annotated[bool, typer.Option("--literal", hidden=True, help="The words as typed (the default).")]
    = False,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Full-text search of the archived articles, as typed: accents, case and word forms ignored, best first.

    The title, kicker, teaser, body, authors, dossier, themes and comments are searched; each result says where
    it matched. Apostrophes, hyphens and quotes only separate words ("l'éclairage", "nids-de-poule").

    Example: [bold]scrape search "éclairage public" --since 2018-01-01 --limit 5[/bold]
    """
    search = lazy.search
    with reported_errors(verbose):
        if fts and as_words:
            raise InvalidOption("--fts and --literal: choose one")
        with open_archive(db, read_only=True) as archive:
            results = search.search(archive, query, dossier=dossier, since=since, limit=limit, fts=fts)
        if json_output:
            print_json([hit.to_dict() for hit in results.hits])
            if results.total > len(results.hits):
                err.print(Text(f"showing {len(results.hits)} of {results.total} matching articles (--limit)"))
        elif not results.hits:
            err.print(f"no article matches {query!r}")
        else:
            _print_hits(results.hits, results.total, query)


def _print_hits(hits: list[Hit], total: int, query: str) -> None:
    """Each hit on a few lines: its title, its whole URL on a line of its own (a link where the terminal shows
    them), date, dossier, paywall, where it matched and the snippet."""
    out.print(Text(_matches_title(len(hits), total, query), style="bold"))
    for number, hit in enumerate(hits, 1):
        out.print()
        out.print(Text(f"{number}. ", style="bold") + Text(hit.title or "(no title)", style="bold"))
        out.print(Text(hit.url, style=f"link {hit.url}"), overflow="ignore", crop=False)
        facts = [(hit.published_at or "")[:10], f"dossier: {hit.dossier}" if hit.dossier else "",
                 "abonnés" if hit.is_paywalled else "", f"match: {', '.join(hit.matched_in)}" if hit.matched_in else ""]
        out.print(Text(" · ".join(fact for fact in facts if fact), style="dim"))
        if hit.snippet:
            out.print(_highlighted(hit.snippet))


def _matches_title(shown: int, total: int, query: str) -> str:
    noun = "article matches" if total == 1 else "articles match"
    if shown < total:
        return f"showing {shown} of {total} articles matching {query!r} (--limit)"
    return f"{total} {noun} {query!r}"


def _highlighted(snippet: str) -> Text:
    """The snippet with its matched words in bold reverse."""
    start, end = lazy.search.MARK_START, lazy.search.MARK_END
    text = Text()
    for index, part in enumerate(snippet.replace(end, start).split(start)):
        text.append(part, style="bold reverse" if index % 2 else "")
    return text


# --- scrape check ---------------------------------------------------------------------------------

@app.command("check")
def check_command(
    db: DbOption = Path("archive.db"),
    fix: Annotated[bool, typer.Option("--fix", help="Rebuild what is out of sync (the full-text index).")] = False,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Verify the archive: SQLite integrity, foreign keys, the full-text index in sync with the articles.

    Exit code 1 when something is wrong (after repairs, with --fix).

    Example: [bold]scrape check --fix[/bold]
    """
    with reported_errors(verbose):
        with open_archive(db, create=False, read_only=not fix) as archive:
            report = lazy.check.check(archive, fix=fix)
        if json_output:
            print_json(report.to_dict())
        else:
            _render_check(report, quiet)
        if not report.ok:
            raise typer.Exit(1)


def _render_check(report: CheckReport, quiet: bool) -> None:
    for action in report.repaired:
        err.print(f"[green]fixed:[/green] {action}")
    if quiet:
        for finding in report.findings:
            if not finding.ok:
                err.print(f"[red]{finding.check}:[/red] {finding.detail}")
        return
    table = Table("check", "", "detail", title="Archive check")
    for finding in report.findings:
        mark = Text("ok", style="green") if finding.ok else Text("FAIL", style="bold red")
        detail = finding.detail + (" (scrape check --fix rebuilds it)" if finding.fixable and not finding.ok else "")
        table.add_row(finding.check, mark, Text(detail))
    out.print(table)


# --- scrape stats ---------------------------------------------------------------------------------

@app.command("stats")
def stats_command(
    db: DbOption = Path("archive.db"),
    show_all: Annotated[bool, typer.Option("--all", help="Every row of each list, not only the top ones.")] = False,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """What the archive holds: counts, dossiers, paywalled share, last runs, errors, retried faults, warnings,
    canary flags, and how many raw pages `scrape compact` would make smaller.

    Each list shows its top rows (the dossiers and authors with the most articles, the newest pages); --all
    shows every row, and --json gives every row too.

    Example: [bold]scrape stats --db archive.db[/bold]
    """
    with reported_errors(verbose):
        with open_archive(db, read_only=True) as archive:
            stats = lazy.stats.archive_stats(archive, limit=None if show_all or json_output else STATS_TOP)
        if json_output:
            print_json(stats)
            return
        for table in _stats_tables(stats):
            out.print(table)
        if not show_all:
            out.print("(the top rows of each list; --all shows every row)", style="dim")


def _stats_tables(stats: dict[str, Any]) -> Iterator[Table]:
    totals, paywall = stats["archive"], stats["paywall"]
    table = Table("", "", title=f"Archive {totals['path']} ({totals['bytes'] / 1e6:.1f} MB)")
    for label, value in (
        ("articles", totals["articles"]),
        ("paywalled", f"{paywall['paywalled']} ({paywall['share']:.0%})"),
        ("dossiers", totals["dossiers"]), ("authors", totals["authors"]), ("themes", totals["themes"]),
        ("comments", totals["comments"]), ("article versions", totals["article_versions"]),
        ("listings", totals["listings"]), ("fetches", totals["fetches"]),
        ("raw pages", f"{totals['raw_bodies']} ({totals['raw_bytes'] / 1e6:.1f} MB)"),
        ("fetched", f"{totals['first_fetch'] or '-'} to {totals['last_fetch'] or '-'}"),
    ):
        table.add_row(label, str(value))
    if worth_compacting(totals["bodies_to_compact"]):
        table.add_row("to compact", f"{totals['bodies_to_compact']} raw pages would be smaller after `scrape compact`"
                                    " (recompressed with a dictionary trained on the whole archive)")
    yield table
    yield _rows_table(_of("Dossiers with the most articles", stats["dossiers"], totals["dossiers"]), stats["dossiers"],
                      ("title", "articles", "paywalled", "listed", "archived"))
    yield _rows_table(_of("Most published authors", stats["authors"], totals["authors"]), stats["authors"],
                      ("name", "articles"))
    yield _rows_table("Last runs", stats["runs"], RUN_COLUMNS)
    yield _rows_table("Fetch errors by class", stats["errors"], ("error_class", "fetches", "urls", "last_at"))
    yield _rows_table("Faults retried (how the site behaved)", stats["retries"],
                      ("fault", "retried", "fetches", "recovered"))
    given_up = stats["given_up"]
    yield _rows_table(f"Pages given up by crawls ({given_up['total']}): a crawl with --refresh tries them again",
                      given_up["pages"], ("url", "kind", "attempts", "last_error_class", "last_error", "updated_at"))
    warnings = stats["warnings"]
    yield _rows_table(f"Pages with parse warnings ({warnings['total']})",
                      [{**page, "warnings": "; ".join(page["warnings"])} for page in warnings["pages"]],
                      ("url", "title", "warnings"))
    flagged = stats["canary"]
    yield _rows_table(f"Pages flagged by the canary ({flagged['total']}): the site's markup may have changed",
                      [{**page, "missing": ", ".join(page["missing"])} for page in flagged["pages"]],
                      ("url", "kind", "missing", "flagged_at"))


def _of(title: str, rows: list[dict[str, Any]], total: int) -> str:
    return f"{title} ({len(rows)} of {total})" if len(rows) < total else title


def _rows_table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Table:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(Text("" if row.get(column) is None else str(row[column])) for column in columns))
    if not rows:
        table.add_row(*(["(none)"] + [""] * (len(columns) - 1)))
    return table



# --- scrape compact -------------------------------------------------------------------------------

@app.command("compact")
def compact_command(
    db: DbOption = Path("archive.db"),
    vacuum: Annotated[bool, typer.Option("--vacuum/--no-vacuum", help="Give the freed space back to the disk"
                                         " (VACUUM: needs as much free disk as the archive).")] = True,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Make the archive smaller: recompress its raw pages with a dictionary trained on its own pages, keep each
    fact once (archives written by older versions), then VACUUM.

    It works in batches, one transaction each: an interrupted compact keeps what it did, and running it again
    finishes the work. The pages come back byte for byte (each is checked against its SHA-256).

    Example: [bold]scrape compact --db archive.db[/bold]
    """
    compact = lazy.compact
    with reported_errors(verbose):
        with open_archive(db, create=False) as archive:
            total = compact.bodies_to_compact(archive)
            with terminal_progress("compact", total, enabled=not (quiet or json_output)) as advance:
                report = compact.compact(archive, vacuum=vacuum, progress=advance)
        if json_output:
            print_json(report.to_dict())
        elif not quiet:
            out.print(_compact_summary(report))


def _compact_summary(report: CompactReport) -> str:
    """One line: what was recompressed, what was kept, and what the file gained."""
    trained = f" with a dictionary trained on {report.samples} pages" if report.trained else ""
    kept = (f", {report.bodies_kept} kept as they were (not smaller recompressed)" if report.bodies_kept else "")
    gained = report.bytes_gained
    change = f"{gained / 1e6:.1f} MB gained" if gained >= 0 else f"{-gained / 1e6:.1f} MB larger"
    return (f"{report.bodies} raw pages recompressed{trained} ({report.bytes_before / 1e6:.1f} MB →"
            f" {report.bytes_after / 1e6:.1f} MB){kept}, {report.records} records and {report.versions} versions"
            f" slimmed; the archive went from {report.file_bytes_before / 1e6:.1f} MB to"
            f" {report.file_bytes_after / 1e6:.1f} MB ({change}) in {report.seconds:.1f} s"
            + ("" if report.vacuumed else " (not vacuumed: the file keeps its free pages)"))
