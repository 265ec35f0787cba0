"""`scrape history ARTICLE`: the versions of an archived article and what changed between them, word by word."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from scraper.cli.common import DbOption, JsonOption, VerboseOption, app, open_archive, out, print_json, reported_errors

if TYPE_CHECKING:
    from scraper.archive.versions import ArticleHistory, Version

CONTEXT_WORDS = 8  # words kept on each side of a change in a long text (--full: all of them)
ITEM_CHARS = 160  # of one list item (a comment, a related link) on its line


@app.command("history")
def history_command(
    article: Annotated[str, typer.Argument(metavar="ARTICLE",
                                           help="The article's site id (the NNNNNN of /NNNNNN/slug/) or its URL.")],
    db: DbOption = Path("archive.db"),
    full: Annotated[bool, typer.Option("--full", help="Whole texts around the changed words, not a few words.")]
    = False,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """The versions of an archived article, and what changed between them: texts word by word (removed words
    struck through in red, added ones in green; marked as git diff --word-diff marks them when not on a
    terminal), other fields before and after. --json gives every version's whole record.

    Exit code 1 when the archive holds no such article.

    Example: [bold]scrape history 554402[/bold]
    """
    with reported_errors(verbose):
        with open_archive(db, read_only=True) as archive:  # it only reads: a read-only mount will do
            history = archive.versions.history(article)
        if json_output:
            print_json(history.to_dict())
        else:
            _render(history, full)


def _render(history: ArticleHistory, full: bool) -> None:
    count = len(history.versions)
    out.print(Text(history.title or "(no title)", style="bold"))
    out.print(Text(f"{history.url}  ·  site id {history.site_id}  ·  {count} version{'s' * (count != 1)}",
                   style="dim"))
    for version in history.versions:
        _render_version(version, full)


def _render_version(version: Version, full: bool) -> None:
    if version.number == 1:
        out.print(Text(f"\nversion 1 — first archived {version.seen_from}", style="bold"))
        return
    out.print(Text(f"\nversion {version.number} — {version.seen_from}: {', '.join(version.changed_fields)}",
                   style="bold"))
    for name in version.changed_fields:
        change = version.changes[name]
        line = Text(f"  {name}: ", style="cyan")
        if "words" in change:
            line.append_text(_words(change["words"], full))
            out.print(line)
        elif "added" in change:
            out.print(Text(f"  {name}:", style="cyan"))
            for sign, items, style in (("-", change["removed"], "red"), ("+", change["added"], "green")):
                for item in items:
                    out.print(Text(f"    {sign} {_short(item)}", style=style if out.is_terminal else ""))
        else:
            line.append(f"{_short(change['before'])} → {_short(change['after'])}")
            out.print(line)


def _words(parts: list[list[str]], full: bool) -> Text:
    """A word diff: removed words struck through in red, added ones in green (plain markers off a terminal);
    long unchanged runs cut to a few words around the changes."""
    text = Text()
    colour = out.is_terminal
    for index, (op, words) in enumerate(parts):
        words = words.replace("\n", "\n    ")  # a body's paragraphs, under the field's name
        if op == "=":
            text.append(words if full else _context(words, first=index == 0, last=index == len(parts) - 1))
        elif op == "-":
            text.append(words, style="red strike") if colour else text.append(f"[-{words}-]")
        else:
            text.append(words, style="green bold") if colour else text.append(f"{{+{words}+}}")
    return text


def _context(words: str, *, first: bool, last: bool) -> str:
    tokens = words.split(" ")
    keep = CONTEXT_WORDS
    if len(tokens) <= 2 * keep + 1:
        return words
    head = [] if first else tokens[:keep]
    tail = [] if last else tokens[-keep:]
    return " ".join([*head, "…", *tail])


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= ITEM_CHARS else text[:ITEM_CHARS - 1] + "…"
