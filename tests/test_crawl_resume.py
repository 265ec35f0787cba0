"""Interrupted and concurrent crawls, with real `scrape` processes: kill -9 at random moments, Ctrl-C,
two processes writing one archive at once."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from conftest import rows, start_scrape
from crawlsite import DOWNLOADED_TWICE, PAGE_ROWS, Site, make_articles
from faultserver import FaultServer, Respond

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = 60

# What an archive holds, without ids, times or the fetch log (which differs between a killed-and-resumed
# crawl and an uninterrupted one by design).
CONTENT = {
    "articles": "select site_id, url, title, record, is_paywalled from articles order by site_id",
    "dossiers": "select url, title, intro from dossiers order by url",
    "toc": "select d.url, t.page, t.position, t.url, t.site_id, a.site_id from dossier_articles t"
           " join dossiers d on d.id = t.dossier_id left join articles a on a.id = t.article_id"
           " order by d.url, t.page, t.position",
    "authors": "select a.site_id, w.name, aa.position from article_authors aa join articles a"
               " on a.id = aa.article_id join authors w on w.id = aa.author_id order by 1, 3",
    "markers": "select a.site_id, m.position, m.marker from paywall_markers m join articles a"
               " on a.id = m.article_id order by 1, 2",
    "versions": "select count(*) from article_versions",
    "unfinished": "select url, state from crawl_queue where state != 'done'",
    "bodies": "select sha256 from bodies order by sha256",
}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        fault_server.route("/robots.txt", Respond(200, "User-agent: *\nAllow: /\n", content_type="text/plain"))
        yield fault_server


# `scrape` here starts the real command in a process and leaves it running, its output 200 columns wide.
scrape = partial(start_scrape, columns=200)


def crawl_args(site: Site, db: Path, *extra: str) -> list[str]:
    return ["dossier", site.dossier_url, "--db", str(db), "--timeout", "10", "--retries", "0", *extra]


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def content(db: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in CONTENT.items()}


def wait_for_requests(server: FaultServer, count: int, process: subprocess.Popen[str]) -> None:
    """Wait until the server has received `count` requests, or the process has ended."""
    deadline = time.monotonic() + 60
    while len(server.requests) < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


@pytest.mark.slow
def test_kill_9_at_random_moments_then_the_same_command_gives_the_same_archive(server: FaultServer,
                                                                                tmp_path: Path) -> None:
    site = Site(server, articles=make_articles(ARTICLES), per_page=20)
    site.serve_all()
    reference = tmp_path / "reference.db"
    code, _, stderr = finish(scrape(*crawl_args(site, reference, "--delay", "0", "-q")))
    assert code == 0, stderr

    seed = random.randrange(2**32)
    rng = random.Random(seed)
    db = tmp_path / "killed.db"
    kills = 0
    for _ in range(3):  # each run killed after a random number of requests, unless it ends first
        start = len(server.requests)
        process = scrape(*crawl_args(site, db, "--delay", "0.005", "-q"))
        wait_for_requests(server, start + rng.randint(1, 30), process)
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        kills += 1
    code, _, stderr = finish(scrape(*crawl_args(site, db, "--delay", "0", "--json")))

    assert code == 0, (seed, stderr)
    assert kills >= 1, seed
    assert rows(db, "pragma integrity_check") == [("ok",)]
    assert content(db) == content(reference), f"random seed {seed}"
    assert rows(db, DOWNLOADED_TWICE) == [], seed
    assert rows(db, "select count(*) from articles") == [(ARTICLES,)]


def committed_pages(db: Path) -> int:
    """Pages whose fetch another connection sees in the archive (committed), 0 before the archive has a log."""
    try:
        return rows(db, f"select count(*) from fetches where {PAGE_ROWS}")[0][0]
    except sqlite3.OperationalError:  # no archive yet, or no table yet
        return 0


def asked_pages(server: FaultServer) -> int:
    return sum(1 for request in list(server.requests) if request.path != "/robots.txt")


@pytest.mark.slow
def test_kill_9_between_two_commits_loses_only_the_open_group_and_the_same_command_completes(
        server: FaultServer, tmp_path: Path) -> None:
    site = Site(server, articles=make_articles(ARTICLES), per_page=20)
    site.serve_all()
    reference = tmp_path / "reference.db"
    code, _, stderr = finish(scrape(*crawl_args(site, reference, "--delay", "0", "-q")))
    assert code == 0, stderr
    start = asked_pages(server)
    db = tmp_path / "killed.db"
    # One page at a time: when a request arrives, the page before it is stored (in the open group).
    process = scrape(*crawl_args(site, db, "--delay", "0.03", "--concurrency", "1", "-q"))
    deadline = time.monotonic() + 60
    while committed_pages(db) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # the first commit
    first_commit = asked_pages(server)
    while asked_pages(server) < first_commit + 6 and process.poll() is None:
        time.sleep(0.002)  # a few pages more, stored but not yet committed
    asked = asked_pages(server) - start
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)

    committed = committed_pages(db)
    assert 0 < committed < asked - 1, (committed, asked)  # pages stored in the open group were lost with it
    checked = scrape("check", "--db", str(db), "--json")
    assert finish(checked)[0] == 0  # whole: no half page
    code, _, stderr = finish(scrape(*crawl_args(site, db, "--delay", "0", "--json")))
    assert code == 0, stderr
    assert rows(db, "pragma integrity_check") == [("ok",)]
    assert content(db) == content(reference)
    assert rows(db, DOWNLOADED_TWICE) == []


@pytest.mark.slow
def test_ctrl_c_stops_after_the_pages_in_flight_and_the_same_command_resumes(server: FaultServer,
                                                                            tmp_path: Path) -> None:
    site = Site(server, articles=make_articles(ARTICLES), per_page=20)
    site.serve_all()
    db = tmp_path / "archive.db"
    process = scrape(*crawl_args(site, db, "--delay", "0.02"))
    wait_for_requests(server, 15, process)
    process.send_signal(signal.SIGINT)
    code, stdout, stderr = finish(process)

    assert code == 130, stderr
    assert "Traceback" not in stderr
    remaining = rows(db, "select count(*) from crawl_queue where state = 'pending'")[0][0]
    assert remaining > 0
    assert f"interrupted: {remaining} page(s) remain" in stderr
    # the pages in flight were finished: every good fetch of the run is stored and marked done
    fetched = {url for (url,) in rows(db, f"select url from fetches where status = 200 and {PAGE_ROWS}")}
    done = {url for (url,) in rows(db, "select url from crawl_queue where state = 'done'")}
    assert fetched == done
    assert rows(db, "select ended_at is not null from runs") == [(1,)]

    code, stdout, stderr = finish(scrape(*crawl_args(site, db, "--delay", "0", "--json")))

    assert code == 0, stderr
    assert '"resumed": true' in stdout
    assert rows(db, "select count(*) from articles") == [(ARTICLES,)]
    assert rows(db, DOWNLOADED_TWICE) == []


@pytest.mark.slow
@pytest.mark.parametrize("same_dossier", [False, True], ids=["two-dossiers", "one-dossier-twice"])
def test_two_processes_write_one_archive_at_once(server: FaultServer, tmp_path: Path, same_dossier: bool) -> None:
    first = Site(server, slug="eclairage", title="Eclairage public", articles=make_articles(ARTICLES))
    first.serve_all()
    shared = first.articles[:10]  # the second dossier lists ten articles of the first
    second = Site(server, slug="voirie", title="Voirie", articles=shared + make_articles(ARTICLES, 700000))
    second.serve_dossier()
    for article in second.articles[10:]:
        second.serve_article(article)
    other = first if same_dossier else second
    db = tmp_path / "archive.db"

    processes = [scrape(*crawl_args(site, db, "--delay", "0", "--concurrency", "4", "--json"))
                 for site in (first, other)]
    results = [finish(process) for process in processes]

    for code, _, stderr in results:
        assert code == 0, stderr
        assert "locked" not in stderr
    expected_articles = ARTICLES if same_dossier else 2 * ARTICLES
    assert rows(db, "select count(*), count(distinct site_id) from articles") == [(expected_articles,) * 2]
    toc = rows(db, "select count(*), count(article_id) from dossier_articles")
    assert toc == [((ARTICLES if same_dossier else ARTICLES + ARTICLES + 10),) * 2]
    assert rows(db, "select count(*) from runs where ended_at is not null") == [(2,)]
    assert rows(db, "select count(*) from article_versions") == [(0,)]
    assert rows(db, "pragma integrity_check") == [("ok",)]
