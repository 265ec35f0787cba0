"""The layers inside the rooms, read from the source (AST), so a door the wrong way fails here.

- scraper/archive/ is built in layers: the connection at the bottom, the tables bound to it, then the archive and
  its services. Each module imports only from modules below it in ARCHIVE_ORDER, never a private name of another
  module or object (`archive._execute`), and imports nothing of the tool inside a function (the way a cycle is
  dodged).
- No package has an import cycle among its modules (the imports at a module's top, those read only by type
  checkers included).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scraper"
ARCHIVE = PACKAGE / "archive"

# Bottom first: a module may import only the modules before it.
ARCHIVE_ORDER = (
    # the connection, and values without SQL (times, JSON, what "newer" means, search words and stems)
    "values", "keeping", "words", "descriptions", "connection",
    # the tables, each an object bound to a connection (a table may read through one listed before it)
    "bodies", "headers", "runs", "keysets", "queue", "canary", "outcome", "group", "queries", "lists",
    "fetchlog", "records", "versions",
    # the archive, its schema and its services
    "convert", "schema", "db", "compact", "check", "stats", "search", "__init__",
)
LAYERS = {"connection": ARCHIVE_ORDER[:5], "tables": ARCHIVE_ORDER[5:18], "services": ARCHIVE_ORDER[18:]}
PUBLIC_UNDERSCORED = frozenset({"_replace", "_asdict", "_fields", "_make"})


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def top_level_imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """The modules of the tool imported at the top of a module (in `if TYPE_CHECKING:` blocks too); `from
    package import submodule` names the submodule."""
    for node in tree.body:
        nodes = node.body if isinstance(node, ast.If) else [node]
        for item in nodes:
            yield from _named(item)


def _named(node: ast.stmt) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield node.lineno, alias.name
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        for alias in node.names:
            submodule = f"{node.module}.{alias.name}"
            yield node.lineno, submodule if submodule in MODULES else node.module


def imports_in_functions(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [f"line {line}: {name}" for sub in ast.walk(node) if isinstance(sub, ast.Import | ast.ImportFrom)
                      for line, name in _named(sub) if name.startswith("scraper")]
    return found


def private_reaches(tree: ast.Module) -> list[str]:
    """`other._name`: another object's or module's private name (self's and cls's own are fine)."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and node.attr not in PUBLIC_UNDERSCORED
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            found.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("scraper"):
            found += [f"line {node.lineno}: imports {alias.name}" for alias in node.names
                      if alias.name.startswith("_")]
    return found


def upward_imports(name: str, tree: ast.Module) -> list[str]:
    """The archive modules `name` imports that are not below it in ARCHIVE_ORDER."""
    rank = ARCHIVE_ORDER.index(name)
    found = []
    for line, imported in top_level_imports(tree):
        if imported.startswith("scraper.archive."):
            other = imported.removeprefix("scraper.archive.")
            if other not in ARCHIVE_ORDER or ARCHIVE_ORDER.index(other) >= rank:
                found.append(f"line {line}: imports {other}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of `graph` (module -> modules it imports), each once, as paths back to their start."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    return found


def package_graph(package: str) -> dict[str, set[str]]:
    members = {name: path for name, path in MODULES.items() if name == package or name.startswith(package + ".")}
    return {name: {imported for _, imported in top_level_imports(ast.parse(path.read_text(encoding="utf-8")))
                   if imported in members and imported != name}
            for name, path in members.items()}


def archive_module(path: Path) -> tuple[str, ast.Module]:
    return path.stem, ast.parse(path.read_text(encoding="utf-8"))


ARCHIVE_MODULES = sorted(ARCHIVE.glob("*.py"))
PACKAGES = sorted(name for name, path in MODULES.items() if path.name == "__init__.py")


def test_every_archive_module_has_its_place_in_the_layers() -> None:
    assert sorted(path.stem for path in ARCHIVE_MODULES) == sorted(ARCHIVE_ORDER)


@pytest.mark.parametrize("path", ARCHIVE_MODULES, ids=lambda path: path.stem)
def test_the_archive_imports_only_downward(path: Path) -> None:
    name, tree = archive_module(path)
    assert upward_imports(name, tree) == []


@pytest.mark.parametrize("path", ARCHIVE_MODULES, ids=lambda path: path.stem)
def test_the_archive_reaches_no_private_name_of_another(path: Path) -> None:
    assert private_reaches(archive_module(path)[1]) == []


@pytest.mark.parametrize("path", ARCHIVE_MODULES, ids=lambda path: path.stem)
def test_the_archive_imports_nothing_inside_functions(path: Path) -> None:
    assert imports_in_functions(archive_module(path)[1]) == []


def test_the_connection_imports_nothing_of_the_archive() -> None:
    tree = archive_module(ARCHIVE / "connection.py")[1]
    assert [name for _, name in top_level_imports(tree) if name.startswith("scraper.archive")] == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_package_has_an_import_cycle(package: str) -> None:
    assert cycles(package_graph(package)) == []


def test_the_checks_see_what_they_look_for() -> None:
    """Each rule above catches its kind of door (so their green is worth something)."""
    sneaky = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from scraper.archive.db import Archive\n"
        "from scraper.archive.records import _plan\n"
        "if TYPE_CHECKING:\n    from scraper.archive.search import Hit\n"
        "def f(archive):\n"
        "    from scraper.archive.queries import Articles\n"
        "    return archive._execute('select 1')\n"
    )
    assert upward_imports("fetchlog", sneaky) == ["line 2: imports db", "line 3: imports records",
                                                  "line 5: imports search"]
    assert private_reaches(sneaky) == ["line 3: imports _plan", "line 8: ._execute"]
    assert imports_in_functions(sneaky) == ["line 7: scraper.archive.queries"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert LAYERS["connection"][-1] == "connection"
    assert LAYERS["tables"][-1] == "versions"
