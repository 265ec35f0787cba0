"""The conventions users bring from wget, sqlite-utils and other command-line tools: --version and -h, lists of
URLs with -i (a file or stdin), a page from stdin, a hint for a URL without its scheme, shell completion, and
help texts that name arguments instead of showing placeholders. Through the real console script."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from conftest import SAMPLES, SampleSite, run_on_a_terminal, run_scrape
from crawlsite import Site, make_articles
from faultserver import FaultServer, Respond

from scraper import __version__
from scraper.cli import app
from scraper.cli.common import METAVARS

# `scrape` here is the real command in a process, 100 columns wide: the width the --help snapshots are taken at.
scrape = partial(run_scrape, columns=100)


def test_version_option_and_command() -> None:
    for args in (["--version"], ["version"]):
        result = scrape(*args)
        assert result.returncode == 0
        assert result.stdout.strip() == f"scrape {__version__}"


def test_dash_h_is_help_for_the_tool_and_each_command() -> None:
    for args in (["-h"], ["export", "-h"], ["url", "-h"]):
        result = scrape(*args)
        assert result.returncode == 0, result.stderr
        assert "Usage: scrape" in result.stdout


# --- scrape url -i ----------------------------------------------------------------------------------

LIST = (f"# pages saved last week\n{SAMPLES / 'article-free-2018.html'}\n\n"
        f"   {SAMPLES / 'dossier-smart-city.html'}   \n# {SAMPLES / 'article-2016-cp1252.html'}\n")


def test_url_reads_its_sources_from_a_list_file(tmp_path: Path, db_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(LIST, encoding="utf-8")
    result = scrape("url", "-i", listing, SAMPLES / "article-smart-city-2018.html", "--db", db_path, "--json")
    assert result.returncode == 0, result.stderr
    titles = [outcome["title"] for outcome in json.loads(result.stdout)]
    assert len(titles) == 3
    assert titles[1].startswith("La télégestion")  # commented lines left out


def test_url_reads_its_sources_from_stdin_and_fetches_urls_among_them(sample_site: SampleSite,
                                                                      db_path: Path) -> None:
    listing = f"{sample_site.url('article-free-2018.html')}\n# a comment\n{SAMPLES / 'dossier-smart-city.html'}\n"
    result = scrape("url", "-i", "-", "--db", db_path, "--delay", "0", "--json", stdin=listing)
    assert result.returncode == 0, result.stderr
    assert [outcome["type"] for outcome in json.loads(result.stdout)] == ["dossier", "article"]


def test_url_with_no_source_or_an_unreadable_list_is_one_line(tmp_path: Path, db_path: Path) -> None:
    for args, words in ((["url"], "no source"), (["url", "-i", tmp_path / "missing.txt"], "missing.txt")):
        result = scrape(*args, "--db", db_path)
        assert result.returncode == 2
        assert words in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not db_path.exists()


def test_a_url_without_its_scheme_gets_a_hint(db_path: Path) -> None:
    result = scrape("url", "www.lagazettedescommunes.com/457321/la-smart-city/", "--db", db_path)
    assert result.returncode == 2
    assert "add https://" in result.stderr
    missing_file = scrape("url", "missing-page.html", "--db", db_path)
    assert "no such file" in missing_file.stderr
    assert "https://" not in missing_file.stderr


# --- scrape parse - -------------------------------------------------------------------------------

def test_parse_reads_a_page_from_stdin() -> None:
    page = SAMPLES / "article-free-2018.html"
    from_stdin = scrape("parse", "-", stdin=page.read_bytes())
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert json.loads(from_stdin.stdout) == json.loads(scrape("parse", page).stdout)
    empty = scrape("parse", "-", stdin=b"")
    assert empty.returncode == 2
    assert "standard input is empty" in empty.stderr


# --- shell completion -------------------------------------------------------------------------------

def test_shell_completion_completes_commands_and_options() -> None:
    def complete(words: str) -> list[str]:
        env = {"_SCRAPE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        return scrape(env=env).stdout.split()

    assert complete("scrape exp") == ["export"]
    assert "--format" in complete("scrape export --fo")
    assert "--install-completion" in scrape("--help").stdout


# --- help texts -------------------------------------------------------------------------------------

COMMANDS = sorted(command.name or "" for command in app.registered_commands)
# The usage lines, as a user reads them: argument names, never Typer's {sources}...
USAGE = {
    "url": "Usage: scrape url [OPTIONS] [SOURCE...]",
    "parse": "Usage: scrape parse [OPTIONS] SOURCE",
    "dossier": "Usage: scrape dossier [OPTIONS] URL",
    "search": "Usage: scrape search [OPTIONS] QUERY",
    "import": "Usage: scrape import [OPTIONS] [FILE...]",
    "import-warc": "Usage: scrape import-warc [OPTIONS] [FILE...]",
    "export": "Usage: scrape export [OPTIONS]",
}
PLACEHOLDER = re.compile(r"<[a-z_ ]+>|\{[a-z_]+\}")  # <str>, <float range>, <path>, {sources}


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_every_value_and_has_an_example(command: str) -> None:
    result = scrape(command, "--help")
    text = result.stdout
    assert result.returncode == 0, text
    assert "Example" in text, text
    assert PLACEHOLDER.findall(text) == [], text
    if command in USAGE:
        assert USAGE[command] in text


def test_export_help_lists_the_formats() -> None:
    assert "<json|jsonl|csv|" in scrape("export", "--help").stdout


def test_the_metavar_table_names_values_not_types() -> None:
    assert all(name.isupper() or "-" in name or name == "YYYY-MM-DD" for name in METAVARS.values())


# --- crawls: the bar at any width, logs for cron ------------------------------------------------------

@pytest.fixture
def dossier_site() -> Iterator[Site]:
    with FaultServer() as server:
        server.route("/robots.txt", Respond(200, "User-agent: *\n", content_type="text/plain"))
        site = Site(server, articles=make_articles(8))
        site.serve_all()
        yield site


@pytest.mark.slow
@pytest.mark.parametrize("columns", [80, 100])
def test_the_progress_bar_keeps_its_count_on_one_line(dossier_site: Site, db_path: Path, columns: int) -> None:
    code, text = run_on_a_terminal("dossier", dossier_site.dossier_url, "--db", str(db_path), "--delay", "0.1",
                                   columns=columns)
    assert code == 0, text
    frames = [frame for frame in re.split(r"[\r\n]+", text) if " done " in frame]
    assert frames, text
    for frame in frames:  # each redraw: within the width, the bar and the count before the outcomes
        assert len(frame.rstrip()) <= columns, frame
        assert re.search(r"━+[╸╺━]*\s+\d+/\d+ done \d+ · failed 0", frame), frame
    assert re.search(r"9/9 done 9 · failed 0 +\d+\.\d/s", frames[-1]), frames[-1]  # the rate
    assert any(re.search(r"/s \d:\d\d:\d\d /600\d+/article-600\d+/", frame) for frame in frames)  # ETA, in flight


def test_log_file_gets_timestamped_lines_and_the_summary_even_when_quiet(dossier_site: Site, db_path: Path,
                                                                        tmp_path: Path) -> None:
    log = tmp_path / "scrape.log"
    log.write_text("an earlier run\n", encoding="utf-8")
    result = scrape("dossier", dossier_site.dossier_url, "--db", db_path, "--delay", "0", "-q", "--log-file", log)
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == ""  # -q: nothing on screen

    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "an earlier run"  # appended
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
    assert all(re.match(stamp + " ", line) for line in lines[1:])
    assert sum(" inserted     article  " in line for line in lines) == 8
    assert re.search(r" summary +dossier .*: 9 new, .* 0 failed, .*exit 0$", lines[-1])


def test_a_named_pipe_no_one_reads_as_log_file_is_refused_before_any_work(dossier_site: Site, db_path: Path,
                                                                           tmp_path: Path) -> None:
    # It blocked for ever before any work, opening the pipe (the test's subprocess timeout is the hang guard).
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    result = scrape("dossier", dossier_site.dossier_url, "--db", db_path, "--log-file", fifo)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {fifo}: cannot write the log (a named pipe no process reads from)"]
    assert dossier_site.server.requests == []
    assert not db_path.exists()
    # A pipe with a reader gets the log.
    reader = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a reader (and writer: no end of file) from now on
    try:
        result = scrape("dossier", dossier_site.dossier_url, "--db", db_path, "--delay", "0", "-q", "--log-file", fifo)
        assert result.returncode == 0, result.stderr
        logged = os.read(reader, 2**16).decode()
    finally:
        os.close(reader)
    assert re.search(r" summary +dossier .*: 9 new, .*exit 0$", logged.splitlines()[-1])


def test_an_unwritable_log_file_is_a_usage_error(dossier_site: Site, db_path: Path, tmp_path: Path) -> None:
    result = scrape("dossier", dossier_site.dossier_url, "--db", db_path, "--log-file", tmp_path / "no" / "x.log")
    assert result.returncode == 2
    assert "cannot write the log" in result.stderr
