"""What a `scrape` process loads: every run imports scraper.cli, so the modules only some commands need are
imported by those commands, httpx comes without its optional command line, and a crawl into an archive whose
schema is current runs without sqlite-utils (docs/benchmarks.md, crawling: peak memory)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLES
from crawlsite import Site, make_articles
from faultserver import FaultServer, Respond

SAMPLE = SAMPLES / "article-free-2018.html"
NOT_ON_EVERY_RUN = (
    "httpx._main",  # httpx's own command line (click, pygments, rich.syntax)
    "pygments",
    "rich.progress",  # the crawl's bar on a terminal, reparse's bar
    "scraper.reparse",  # process pools
    "multiprocessing",
    "scraper.archive.search",
    "scraper.archive.check",
    "scraper.archive.stats",
    "scraper.archive.compact",
    "warcio",
    "feedparser",
)


def loaded_after(code: str) -> set[str]:
    """The names in sys.modules (bound to a module) after running `code` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(k for k, v in sys.modules.items() if v)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_whole_command_line_leaves_out_what_only_some_commands_need() -> None:
    loaded = loaded_after("from scraper.cli import app")
    assert "httpx" in loaded
    assert "scraper.fetch" in loaded
    assert sorted(loaded & set(NOT_ON_EVERY_RUN)) == []


def test_the_table_of_commands_names_the_module_of_each() -> None:
    from scraper.cli import COMMANDS, app

    defined = {info.name: info.callback.__module__ for info in app.registered_commands}
    assert defined == {name: f"scraper.cli.{module}" for name, module in COMMANDS.items()}
    assert [info.name for info in app.registered_commands] == list(COMMANDS)  # the order of --help


# What the commands that read must not load: the fetcher, the crawl, the store's pipeline, sqlite-utils.
NOT_FOR_READING = ("httpx", "httpcore", "scraper.fetch", "scraper.crawl", "scraper.ingest", "scraper.sources",
                   "sqlite_utils", "feedparser", "warcio", "multiprocessing")


def loaded_by(*args: str) -> set[str]:
    """The modules a `scrape` run (the console script's entry point, in a fresh interpreter) has loaded at its
    end."""
    code = (f"import atexit, json, sys\nsys.argv = ['scrape', *{list(args)!r}]\n"
            "atexit.register(lambda: print(json.dumps(sorted(k for k, v in sys.modules.items() if v))))\n"
            "from scraper.cli import main\nmain()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_version_loads_nothing_but_the_version() -> None:
    loaded = loaded_by("--version")
    assert sorted(name for name in loaded if name.startswith("scraper")) == ["scraper", "scraper.cli"]
    assert sorted(loaded & {"typer", "rich", "sqlite3", "asyncio", "httpx"}) == []


@pytest.mark.parametrize("command", [["stats"], ["search", "voirie"], ["history", "https://example.org/a/"]],
                         ids=lambda command: command[0])
def test_the_commands_that_read_an_archive_load_only_it(command: list[str], tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    subprocess.run([sys.executable, "-m", "scraper", "url", str(SAMPLE), "--db", str(db), "-q"], check=True,
                   timeout=60)
    loaded = loaded_by(*command, "--db", str(db))
    assert "scraper.archive.db" in loaded
    uses = {"stats": {"scraper.archive.stats", "scraper.archive.compact"},  # the hint to compact
            "search": {"scraper.archive.search"}}.get(command[0], set())
    assert sorted(loaded & {*NOT_ON_EVERY_RUN, *NOT_FOR_READING} - uses) == []
    assert sorted(name for name in loaded if name.startswith("scraper.parse")) == []


def test_parse_of_a_saved_page_loads_the_parser_only() -> None:
    loaded = loaded_by("parse", str(SAMPLE))
    assert "scraper.parse" in loaded
    assert "scraper.sources" in loaded  # it reads the file
    assert sorted(loaded & {*NOT_ON_EVERY_RUN, *NOT_FOR_READING, "scraper.archive", "sqlite3"} - {"scraper.sources"}
                  ) == []


@pytest.mark.slow
def test_a_quiet_dossier_crawl_loads_none_of_them(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.route("/robots.txt", Respond(200, "User-agent: *\n", content_type="text/plain"))
        site = Site(server, articles=make_articles(3))
        site.serve_all()
        args = ["dossier", site.dossier_url, "--db", str(tmp_path / "a.db"), "--delay", "0", "--quiet", "--json"]
        code = (f"from scraper.cli import app\ntry:\n    app({args!r}, prog_name='scrape')\n"
                "except SystemExit as stop:\n    assert stop.code == 0, stop.code")
        first, again = loaded_after(code), loaded_after(code.replace("--quiet", "--refresh"))
    assert "httpcore" in first  # it did fetch
    assert sorted(first & set(NOT_ON_EVERY_RUN)) == []
    assert "sqlite_utils" in first  # it created the archive's schema
    assert sorted(again & {*NOT_ON_EVERY_RUN, "sqlite_utils"}) == []  # the schema is current: plain SQL only
    assert sqlite3.connect(tmp_path / "a.db").execute("select count(*) from runs where ended_at is not null"
                                                      ).fetchone()[0] == 2


def test_httpx_without_its_command_line_still_works() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import scraper.fetch, httpx; print(httpx.AsyncClient.__name__); httpx.main()"],
        capture_output=True, text=True, timeout=60)
    assert result.stdout.startswith("AsyncClient")
    assert "pip install 'httpx[cli]'" in result.stdout  # httpx's own stub stands in for its command line
    assert result.returncode == 1
