"""The rooms of the package keep their doors: read from the source (AST), so a new side door fails here.

- Only scraper/archive/ speaks SQL: elsewhere no sqlite3 or sqlite-utils, no `.execute()`/`.query()`, no
  archive connection (`.conn`, `.db`), no private attribute of another object (`archive._insert`).
- Only scraper/cli/ talks to people: elsewhere no print(), no sys.stdout/sys.stderr, no Typer, click or rich.
- scraper/parse/ imports nothing of the tool but scraper.models, scraper.site and its own modules.
- No module of the package is longer than ~400 lines, but for those named in LONGER_ALLOWED with why.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scraper"
MODULES = sorted(PACKAGE.rglob("*.py"))
SQL_CALLS = frozenset({"execute", "executemany", "executescript", "query"})
SQL_MODULES = ("sqlite3", "sqlite_utils")
CONNECTION_ATTRIBUTES = frozenset({"conn", "db"})
# Names with an underscore that are public all the same: namedtuple's API, a type zlib names so.
PUBLIC_UNDERSCORED = frozenset({"_replace", "_asdict", "_fields", "_make", "_Decompress", "_exit"})  # os._exit
PEOPLE_MODULES = ("typer", "click", "rich")
PARSE_MAY_IMPORT = ("scraper.models", "scraper.site", "scraper.parse")
MAX_LINES = 420
# The modules allowed past MAX_LINES, each with why it is long and what its split would be. A module leaves this
# list when it is split (a test below fails on a name that is short again or gone).
LONGER_ALLOWED: dict[str, str] = {}


def room(path: Path) -> str:
    """The package a module belongs to: 'archive', 'cli', 'parse', … or '' for the top level."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def under(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def sql_side_doors(tree: ast.AST) -> list[str]:
    """What in a module outside scraper/archive/ reaches the database itself."""
    found = [f"line {line}: imports {name}" for line, name in imported(tree) if under(name, SQL_MODULES)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}()")
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value.id if isinstance(node.value, ast.Name) else ""
        if node.attr in CONNECTION_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif (node.attr.startswith("_") and not node.attr.startswith("__") and node.attr not in PUBLIC_UNDERSCORED
              and owner not in ("self", "cls")):
            found.append(f"line {node.lineno}: {owner or '…'}.{node.attr} (another object's internals)")
    return found


def talks_to_people(tree: ast.AST) -> list[str]:
    """What in a module outside scraper/cli/ prints or reaches for the terminal's libraries."""
    found = [f"line {line}: imports {name}" for line, name in imported(tree) if under(name, PEOPLE_MODULES)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            found.append(f"line {node.lineno}: print()")
        if (isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr")
                and isinstance(node.value, ast.Name) and node.value.id == "sys"):
            found.append(f"line {node.lineno}: sys.{node.attr}")
    return found


def foreign_imports_of_parse(tree: ast.AST) -> list[str]:
    return [f"line {line}: imports {name}" for line, name in imported(tree)
            if under(name, ("scraper",)) and not under(name, PARSE_MAY_IMPORT)]


def parsed(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


@pytest.mark.parametrize("path", [path for path in MODULES if room(path) != "archive"], ids=name)
def test_only_the_archive_speaks_sql(path: Path) -> None:
    assert sql_side_doors(parsed(path)) == []


@pytest.mark.parametrize("path", [path for path in MODULES if room(path) != "cli"], ids=name)
def test_only_the_command_line_talks_to_people(path: Path) -> None:
    assert talks_to_people(parsed(path)) == []


@pytest.mark.parametrize("path", [path for path in MODULES if room(path) == "parse"], ids=name)
def test_the_parser_imports_only_models_site_and_itself(path: Path) -> None:
    assert foreign_imports_of_parse(parsed(path)) == []


def line_count(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n")


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_modules_stay_short_or_are_allowed_by_name_with_why(path: Path) -> None:
    lines = line_count(path)
    assert lines <= MAX_LINES or name(path) in LONGER_ALLOWED, (
        f"{lines} lines: split it, or name it in LONGER_ALLOWED with why it is long")


def test_each_module_allowed_to_be_long_still_is() -> None:
    """(The list is empty today: every module of the package is within MAX_LINES.)"""
    gone = [module for module in LONGER_ALLOWED if not (PACKAGE.parent / module).is_file()]
    short = [module for module in LONGER_ALLOWED if module not in gone
             and line_count(PACKAGE.parent / module) <= MAX_LINES]
    assert gone == [], "gone: take them out of LONGER_ALLOWED"
    assert short == [], "short now: take them out of LONGER_ALLOWED"


def test_the_checks_see_what_they_look_for() -> None:
    """The rules above catch each kind of side door (so their green is worth something)."""
    sneaky = ast.parse(
        "import sqlite3\nfrom sqlite_utils import Database\nimport typer\nfrom rich.console import Console\n"
        "import sys\nfrom scraper.archive import Archive\n"
        "def f(archive):\n"
        "    archive.conn.execute('delete from articles')\n"
        "    archive.db.query('select 1')\n"
        "    archive._insert('runs', {})\n"
        "    print('hello')\n"
        "    sys.stderr.write('x')\n"
    )
    assert len(sql_side_doors(sneaky)) == 7  # 2 imports, .conn, .execute(), .db, .query(), ._insert
    assert len(talks_to_people(sneaky)) == 4  # typer, rich, print(), sys.stderr
    assert foreign_imports_of_parse(sneaky) == ["line 6: imports scraper.archive"]
    clean = ast.parse("from scraper.models import Article\nfrom scraper.parse.page import Page\n"
                      "def f(self, archive, parts):\n    self._x = archive.records.store(parts.query)\n")
    assert sql_side_doors(clean) == talks_to_people(clean) == foreign_imports_of_parse(clean) == []
