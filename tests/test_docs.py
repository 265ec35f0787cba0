"""The documentation stays true: every ```bash example of docs/ runs, links between pages lead somewhere, and no
page names a file the repository lacks.

Examples run in the order of their page, each page in its own directory holding `archive.db` with the bundled
samples (and `samples/`), through bash, with the virtualenv's bin first on PATH as a reader's shell has it after
`source .venv/bin/activate`. Each must exit 0 and print (or write) something. A command that starts a Datasette
server runs with `--get /` instead, so it answers one request and exits.

An example that cannot run here (it fetches the live site, or needs the reader's own files) sits under a marker,
`<!-- check only: why -->`, on the line above its block: each line must then be valid bash, and each `scrape`
command in it is parsed by the real command line (an unknown command or option, a missing argument fails).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
from conftest import MANIFEST, ROOT

from scraper.cli import app

README = ROOT / "README.md"
DOCS = ROOT / "docs"
EXAMPLE_PAGES = sorted(path for path in DOCS.glob("*.md"))  # docs/commands/ holds help texts, no examples
LINKED_PAGES = [README, ROOT / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]
BIN = Path(sys.executable).parent
TIMEOUT = 120
CHECK_ONLY = re.compile(r"<!-- check only: (\S.*?) -->")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)


@dataclass
class Block:
    page: Path
    line: int
    commands: list[str]
    check_only: str | None  # the reason it cannot run here, or None: it runs


def blocks(page: Path, text: str | None = None) -> list[Block]:
    """The ```bash blocks of a page: their commands (one per line, backslash continuations joined, comments left
    out) and whether a check-only marker stands on the line above."""
    text = page.read_text(encoding="utf-8") if text is None else text
    found = []
    for match in FENCE.finditer(text):
        if match.group(1) != "bash":
            continue
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = CHECK_ONLY.fullmatch(before.strip())
        commands = [line.strip() for line in match.group(2).replace("\\\n", " ").splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
        found.append(Block(page, text.count("\n", 0, match.start()) + 1, commands, marker and marker.group(1)))
    return found


def runnable(command: str) -> str:
    """A Datasette server command answers one request instead of serving forever."""
    words = shlex.split(command)
    if words[0] == "datasette" and "--get" not in words and words[1:2] != ["--version"]:
        return f"{command} --get /"
    return command


@dataclass
class Ran:
    command: str
    returncode: int
    output: str


def run_in(directory: Path, command: str) -> Ran:
    env = {key: value for key, value in os.environ.items() if key != "SCRAPE_DB"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    before = {path: path.stat().st_mtime_ns for path in directory.iterdir()}
    result = subprocess.run(["bash", "-o", "pipefail", "-c", runnable(command)], cwd=directory, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT)
    written = [path for path in directory.iterdir()
               if path.is_file() and before.get(path) != path.stat().st_mtime_ns and path.suffix != ".db"
               and not path.name.endswith(("-wal", "-shm"))]
    output = result.stdout + result.stderr + "".join(f"\n[wrote {path.name}: {path.stat().st_size} bytes]"
                                                     for path in written if path.stat().st_size)
    return Ran(command, result.returncode, output)


@pytest.fixture(scope="module")
def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with archive.db holding the bundled HTML samples (`scrape url samples/*.html`), samples/ and
    tests/captures/ (the browser captures the checkout keeps), as the checkout has them."""
    directory = tmp_path_factory.mktemp("samples-archive")
    (directory / "samples").symlink_to(ROOT / "samples", target_is_directory=True)
    (directory / "tests").mkdir()
    (directory / "tests" / "captures").symlink_to(ROOT / "tests" / "captures", target_is_directory=True)
    stored = run_in(directory, "scrape url samples/*.html")
    assert stored.returncode == 0, stored.output
    assert len([name for name in MANIFEST if name.endswith(".html")]) == len(stored.output.splitlines())
    return directory


def copy_of(sample_archive: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "reader"
    shutil.copytree(sample_archive, directory, symlinks=True)
    return directory


def failures(ran: list[Ran]) -> str:
    return "\n\n".join(f"$ {r.command}\nexit {r.returncode}\n{r.output[-2000:]}" for r in ran if r.returncode != 0)


# --- every example runs --------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=lambda page: page.name)
def test_every_example_of_the_page_runs(page: Path, sample_archive: Path, tmp_path: Path) -> None:
    directory = copy_of(sample_archive, tmp_path)
    ran = [run_in(directory, command) for block in blocks(page) if block.check_only is None
           for command in block.commands]
    assert not failures(ran), f"{page.relative_to(ROOT)}:\n{failures(ran)}"
    silent = [r.command for r in ran if not r.output.strip()]
    assert not silent, f"{page.relative_to(ROOT)}: commands that printed and wrote nothing: {silent}"


def scrape_invocations(command: str) -> Iterator[list[str]]:
    """The arguments of each `scrape` command in a shell line (pipelines, lists and redirections split off)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    tokens = list(lexer) + [";"]
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in {"<", ">", ">>", "2>", "&>"}:
            skip = True
        elif token in {"|", "||", "&&", ";", "&"}:
            if "scrape" in words:
                yield words[words.index("scrape") + 1:]
            words = []
        else:
            words.append(token)


def parse_error(args: list[str]) -> str | None:
    """Why the real command line would refuse these arguments before running anything, or None."""
    group = typer.main.get_command(app)
    if not args:
        return "no command"
    if args[0].startswith("-"):
        return None if set(args) <= {"--version", "--help", "-h", "--install-completion"} else f"options {args}"
    command = group.commands.get(args[0])  # type: ignore[attr-defined]
    if command is None:
        return f"no command {args[0]!r}"
    if {"--help", "-h"} & set(args):
        return None
    try:
        command.make_context(f"scrape {args[0]}", list(args[1:]))
    except Exception as error:  # click's usage errors, whatever their class
        return f"{type(error).__name__}: {error}"
    return None


def every_block() -> list[Block]:
    return [block for page in [README, *EXAMPLE_PAGES] for block in blocks(page)]


@pytest.mark.parametrize("block", every_block(), ids=lambda b: f"{b.page.name}:{b.line}")
def test_every_example_is_bash_and_its_scrape_commands_parse(block: Block) -> None:
    problems = []
    for command in block.commands:
        syntax = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, timeout=30)
        if syntax.returncode != 0:
            problems.append(f"{command}: {syntax.stderr.strip()}")
        problems += [f"{command}: {error}" for args in scrape_invocations(command)
                     if (error := parse_error(args)) is not None]
    assert not problems, f"{block.page.relative_to(ROOT)}:{block.line}\n" + "\n".join(problems)


def test_the_check_finds_a_bad_option_an_unknown_command_and_a_missing_argument() -> None:
    line = "15 6 * * * cd ~/veille && scrape feed https://x/feed/ --since 2018-03-01 -q | tee log < /dev/null"
    assert list(scrape_invocations(line)) == [["feed", "https://x/feed/", "--since", "2018-03-01", "-q"]]
    assert parse_error(["feed", "https://x/feed/", "--since", "2018-03-01", "-q"]) is None
    assert "--sinse" in (parse_error(["feed", "https://x/feed/", "--sinse", "2018-03-01"]) or "")
    assert parse_error(["fetch", "https://x/"]) == "no command 'fetch'"
    assert "url" in (parse_error(["dossier"]) or "")
    page = "x\n<!-- check only: fetches the live site -->\n```bash\nscrape dossier https://x/\n```\n```bash\nls\n```\n"
    assert [block.check_only for block in blocks(README, page)] == ["fetches the live site", None]


# --- links and files -----------------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
ROOT_DOCUMENT = re.compile(r"[A-Z][A-Z_]+\.md")


def prose(text: str) -> str:
    """The page without its fenced blocks (their text is commands and output, not links)."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """A heading's anchor as GitHub and GitLab make it."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(page.read_text(encoding="utf-8")), flags=re.MULTILINE):
        base = slug(heading)
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    broken = []
    text = CODE_SPAN.sub("", prose(page.read_text(encoding="utf-8")))
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address: not fetched here
        path_part, _, anchor = target.partition("#")
        path = (page.parent / path_part).resolve() if path_part else page
        if not path.exists() or root not in path.parents:
            broken.append(f"{target}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {path.relative_to(root)}")
    return broken


def missing_files(page: Path, root: Path = ROOT) -> list[str]:
    """Files and folders a page names in code spans (`tests/test_crawl.py`, `samples/*.html`, `README.md`) that
    the repository lacks: a span is taken for a path when it starts with one of the repository's top folders."""
    top = {path.name for path in root.iterdir() if path.is_dir() and path.name not in {".git", ".venv"}}
    missing = []
    for span in CODE_SPAN.findall(prose(page.read_text(encoding="utf-8"))):
        name = span.strip()
        if " " in name or not ("/" in name and name.split("/")[0] in top or ROOT_DOCUMENT.fullmatch(name)):
            continue
        if not list(root.glob(name.rstrip("/"))):
            missing.append(name)
    return missing


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_links_lead_to_files_and_headings_that_exist(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_pages_name_only_files_the_repository_has(page: Path) -> None:
    assert missing_files(page) == []
    assert "DESIGN.md" not in page.read_text(encoding="utf-8"), "DESIGN.md is not in the repository"


def test_the_link_checks_find_what_they_look_for(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    for name in ("docs/archive.md", "tests/test_docs.py", "samples/a.html", "README.md"):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text("# The archive: tables and views\n", encoding="utf-8")
    page = root / "docs" / "probe.md"
    page.write_text("# Title\n\n## A `scrape url` — heading\n\n[ok](#a-scrape-url--heading) [bad](#nowhere) "
                    "[file](archive.md#the-archive-tables-and-views) [gone](nowhere.md) [out](../../x.md) "
                    "[web](https://example.org/x) `[not a link](x.md)`\n\n```bash\n[fenced](y.md)\n```\n\n"
                    "`tests/test_docs.py` `tests/gone.py` `samples/*.html` `docs/` `DESIGN.md` `README.md` "
                    "`SITEID-slug.md` `/page/N/` `a b/c`\n", encoding="utf-8")
    assert [problem.split(":")[0] for problem in broken_links(page, root)] == ["#nowhere", "nowhere.md", "../../x.md"]
    assert missing_files(page, root) == ["tests/gone.py", "DESIGN.md"]


# --- what the examples say they do ---------------------------------------------------------------------------

def test_the_examples_answer_what_the_text_says(sample_archive: Path, tmp_path: Path) -> None:
    directory = copy_of(sample_archive, tmp_path)
    search = run_in(directory, 'sqlite-utils search archive.db articles "telegestion" -c title')
    assert "La télégestion de l’éclairage public séduit les petites communes" in search.output
    searching = [command for block in blocks(DOCS / "searching.md") for command in block.commands]
    dossier = run_in(directory, next(c for c in searching if "dossier_contents" in c))
    assert "La Smart city à la recherche de modèles économiques" in dossier.output
    assert "2 versions" in run_in(directory, "scrape history 457321").output  # as docs/history.md says
    assert run_in(directory, "scrape datasette-metadata > metadata.json").returncode == 0
    served = run_in(directory, "datasette archive.db -m metadata.json")
    assert served.returncode == 0
    assert "Club Techni.Cités archive" in served.output


def test_what_the_tool_points_to_is_there() -> None:
    """Messages and comments of the tool that send a reader to a README heading or a docs/ page."""
    headings = set(re.findall(r"^#{1,6} (.+)$", prose(README.read_text(encoding="utf-8")), flags=re.MULTILINE))
    sources = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "scraper").rglob("*.py")))
    for heading in re.findall(r'see README, "([^"]+)"', sources):
        assert heading in headings, f"the tool sends readers to README's '{heading}', which has no such heading"
    for page in re.findall(r"\bdocs/[\w/.-]+\.md\b", sources):
        assert (ROOT / page).is_file(), f"the tool names {page}, which the repository lacks"


def test_the_robustness_table_is_the_one_the_mutations_give_today() -> None:
    from tests.robustness.table import table

    text = (DOCS / "parsing.md").read_text(encoding="utf-8")
    start, end = "<!-- robustness:start -->\n", "\n<!-- robustness:end -->"
    shown = text[text.index(start) + len(start):text.index(end)]
    assert shown == table(), "docs/parsing.md's robustness table is stale: paste `python -m tests.robustness.table`"


# --- the README: short, every command, and a newcomer's first minutes run as written ----------------------------

SET_UP_INSTALL = ["python3 -m venv .venv", ".venv/bin/pip install -q -e ."]
README_LINES = 150


def set_up_commands() -> list[str]:
    """The README's two set-up commands: the first two check-only blocks."""
    found = [block.commands for block in blocks(README) if block.check_only][:2]
    assert [len(commands) for commands in found] == [1, 1], "README.md lost its two set-up commands"
    return [commands[0] for commands in found]


def test_the_readme_is_short_and_has_a_line_for_every_command() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_LINES, f"README.md is longer than {README_LINES} lines: move text to docs/"
    for name in typer.main.get_command(app).commands:  # type: ignore[attr-defined]
        assert f"(docs/commands/{name}.md)" in text, \
            f"README.md has no line for scrape {name}: add one under Commands, linking docs/commands/{name}.md"


def test_ci_runs_the_readme_second_set_up_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == set_up_commands()[1]


def run_as_newcomer(directory: Path, command: str) -> Ran:
    """A command in a shell that has not activated the virtualenv: its bin is not on PATH."""
    path = os.pathsep.join(entry for entry in os.environ.get("PATH", "").split(os.pathsep)
                           if entry and Path(entry).resolve() != BIN.resolve())
    env = {key: value for key, value in os.environ.items() if key not in {"SCRAPE_DB", "VIRTUAL_ENV"}}
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=directory, env={**env, "PATH": path},
                            capture_output=True, text=True, timeout=TIMEOUT)
    return Ran(command, result.returncode, result.stdout + result.stderr)


def test_a_newcomer_runs_the_set_up_the_activation_line_and_the_tour(tmp_path: Path) -> None:
    if sys.prefix == sys.base_prefix:
        pytest.skip("the tests run outside a virtual environment: the README's activation line needs one")
    checkout = tmp_path / "checkout"  # what the set-up's first two steps leave: samples/ and .venv/
    checkout.mkdir()
    (checkout / "samples").symlink_to(ROOT / "samples", target_is_directory=True)
    (checkout / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    first = set_up_commands()[0].split(" && ")
    assert first[:2] == SET_UP_INSTALL, "the README's first set-up command changed: update SET_UP_INSTALL"
    set_up = run_as_newcomer(checkout, " && ".join(first[2:]))
    assert set_up.returncode == 0, set_up
    assert "La Smart city à la recherche de modèles économiques" in set_up.output, set_up

    activation, ran = "", []
    for command in (command for block in blocks(README) if block.check_only is None for command in block.commands):
        if command.startswith("source "):
            activation = command + " && "
        ran.append(run_as_newcomer(checkout, activation + runnable(command)))
    assert not failures(ran), failures(ran)
    assert activation == "source .venv/bin/activate && ", "the README lost its activation line"
    found = run_as_newcomer(checkout, activation + "command -v scrape").output.strip()
    assert Path(found).resolve() == (BIN / "scrape").resolve()
    assert run_as_newcomer(checkout, "command -v scrape").output.strip() != found  # not without the activation

    archived, search, history, *_, served = ran[1:]
    assert {"inserted", "unchanged", "updated"} <= set(archived.output.split()), archived.output
    assert "éclairage" in search.output
    assert "1 article" in search.output
    assert "2 versions" in history.output
    assert (checkout / "smart-city.md").read_text(encoding="utf-8").startswith("# La Smart city")
    assert (checkout / "articles.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "Club Techni.Cités archive" in served.output
