"""Time against a hostile server on 127.0.0.1 (tests/faultserver.py): an answer trickled a few bytes at a time
ends at --timeout, a Retry-After of "-0" is no negative wait, plain HTTP sent to a TLS port gets a hint, a huge
robots.txt Crawl-delay is capped, and the first Ctrl-C of a real `scrape` process ends a wait at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import queue
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SampleSite, run_scrape, start_scrape
from faultserver import FaultServer, Respond, Trickle

from scraper.fetch import Fetcher, FetchPolicy
from scraper.models import FetchResult

PAGE = "<!doctype html><html><head><title>Page</title></head><body><p>Bonjour</p></body></html>"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def fetch_one(server: FaultServer, url: str, **settings: object) -> FetchResult:
    policy = FetchPolicy(**{"delay": 0, "retries": 0, "backoff": 0.01, **settings}).allowing(server.base_url)

    async def fetch() -> FetchResult:
        async with Fetcher(policy) as fetcher:
            return await asyncio.wait_for(fetcher.fetch(url), 60)  # a hang guard: the work is seconds

    return asyncio.run(fetch())


# -- --timeout is the whole request's limit ------------------------------------------------------------------

@pytest.mark.parametrize("head_only", [True, False], ids=["head trickled", "whole answer trickled"])
def test_an_answer_trickled_within_each_read_timeout_still_ends_at_the_timeout(server: FaultServer,
                                                                               head_only: bool) -> None:
    # Seven slices half a second apart: every read gets something well within the 1 s timeout, and the whole
    # answer takes 3 s. One attempt is limited to --timeout in all (it used to get 4 times that, and took it).
    server.route("/drip/", Trickle(PAGE, pieces=7, every=0.5, head_only=head_only))
    server.route("/robots.txt", Respond(404))
    result = fetch_one(server, server.url("/drip/"), timeout=1.0)
    assert result.error_class == "timeout", (result.status, result.error)
    assert result.error.startswith("timed out")
    assert result.body is None
    assert [attempt.error_class for attempt in result.attempts] == ["timeout"]


def test_a_trickled_answer_that_ends_in_time_is_read(server: FaultServer) -> None:
    # The same trickle, within a timeout longer than the whole answer: it is read whole.
    server.route("/drip/", Trickle(PAGE, pieces=3, every=0.2))
    server.route("/robots.txt", Respond(404))
    result = fetch_one(server, server.url("/drip/"), timeout=20.0)
    assert result.ok
    assert result.body == PAGE.encode()


# -- Retry-After: -0 -----------------------------------------------------------------------------------------

def test_a_retry_after_of_minus_zero_is_a_wait_of_zero(server: FaultServer, tmp_path: Path) -> None:
    server.route("/robots.txt", Respond(404))
    server.route("/page/", Respond(429, headers={"Retry-After": "-0"}), Respond(200, PAGE))
    db = tmp_path / "archive.db"
    result = run_scrape("url", server.url("/page/"), "--db", str(db), "--delay", "0", "--retries", "1")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        (attempts,) = conn.execute("select attempts from fetches where url = ?", [server.url("/page/")]).fetchone()
    assert "-0" not in attempts
    waited = [attempt.get("waited") for attempt in json.loads(attempts)]
    assert waited[0] == 0, attempts
    assert math.copysign(1, waited[0]) == 1, attempts


# -- plain HTTP to a TLS port --------------------------------------------------------------------------------

def test_plain_http_to_a_tls_port_fails_with_a_hint_to_use_https(https_sample_site: SampleSite,
                                                                 tmp_path: Path) -> None:
    https_url = https_sample_site.url("article-free-2018.html")
    http_url = "http://" + https_url.removeprefix("https://")
    result = run_scrape("url", http_url, "--db", str(tmp_path / "archive.db"), "--delay", "0", "--retries", "0")
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if http_url in line]
    assert "failed" in line, result.stderr
    assert f"is it https? try {https_url}" in line, result.stderr


# -- a huge Crawl-delay is capped, and the first Ctrl-C ends a wait at once -----------------------------------

HUGE_DELAY = "User-agent: *\nAllow: /\nCrawl-delay: 1000000000\n"


def wait_for_hit(server: FaultServer, path: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60  # a hang guard: the process starts in a second or two
    while not server.hits(path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.hits(path), process.communicate(timeout=60)


def interrupt(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Ctrl-C the process once; its exit code and stderr. The hang guard is 30 s: stopping takes well under a
    second, where a wait that is not ended lasts a minute (the cap) or for ever."""
    time.sleep(0.3)  # the crawl is now waiting (a Ctrl-C that comes before the wait stops it as well)
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the first Ctrl-C did not end the wait")
    return process.returncode, stderr


def test_a_huge_crawl_delay_is_capped_and_the_first_ctrl_c_ends_the_wait(server: FaultServer,
                                                                        tmp_path: Path) -> None:
    server.route("/robots.txt", Respond(200, HUGE_DELAY, content_type="text/plain"))
    server.route("/rubrique/", Respond(200, PAGE))
    db = tmp_path / "archive.db"
    process = start_scrape("listing", server.url("/rubrique/"), "--db", str(db), "--delay", "0")
    wait_for_hit(server, "/robots.txt", process)
    code, stderr = interrupt(process)

    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "Crawl-delay 1000000000s is more than 60s: capped (requests 60s apart)" in stderr
    assert "interrupted: 1 page(s) remain" in stderr
    assert server.hits("/rubrique/") == []  # the root waited its turn and was never asked for
    with sqlite3.connect(db) as conn:
        assert conn.execute("select url, state from crawl_queue").fetchall() == [(server.url("/rubrique/"), "pending")]
        assert conn.execute("select url from fetches").fetchall() == [(server.url("/robots.txt"),)]
        assert conn.execute("select ended_at is not null from runs").fetchall() == [(1,)]


def test_a_capped_crawl_delay_is_said_before_the_wait_it_makes(server: FaultServer, tmp_path: Path) -> None:
    """The warning is on stderr while the crawl waits the minute, not only once it ends (it used to come with the
    first page stored, or at Ctrl-C)."""
    server.route("/robots.txt", Respond(200, HUGE_DELAY, content_type="text/plain"))
    server.route("/rubrique/", Respond(200, PAGE))
    process = start_scrape("listing", server.url("/rubrique/"), "--db", str(tmp_path / "archive.db"), "--delay", "0")
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True)
    reader.start()
    said, deadline = False, time.monotonic() + 30  # a hang guard: the line comes within a second or two
    while not said and time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(queue.Empty):
            said = "is more than 60s: capped" in lines.get(timeout=0.1)
    waiting = process.poll() is None and server.hits("/rubrique/") == []
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    assert said
    assert waiting


def test_the_first_ctrl_c_ends_a_retry_after_wait_and_the_answer_is_logged(server: FaultServer,
                                                                          tmp_path: Path) -> None:
    server.route("/robots.txt", Respond(404))
    server.route("/rubrique/", Respond(429, headers={"Retry-After": "600"}))
    db = tmp_path / "archive.db"
    process = start_scrape("listing", server.url("/rubrique/"), "--db", str(db), "--delay", "0",
                           "--max-wait", "3600")
    wait_for_hit(server, "/rubrique/", process)
    code, stderr = interrupt(process)

    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert len(server.hits("/rubrique/")) == 1
    with sqlite3.connect(db) as conn:  # the 429 is in the fetch log, and no retry was made
        assert conn.execute("select status, retries, error_class from fetches where url = ?",
                            [server.url("/rubrique/")]).fetchall() == [(429, 0, "http_status")]
        assert conn.execute("select state from crawl_queue").fetchall() == [("failed",)]  # the next run retries it


@pytest.mark.parametrize(("crawl_delay", "delay", "said"), [
    ("1000000000", 0.0, "warning: {robots}: Crawl-delay 1000000000s is more than 60s: capped (requests 60s apart)"),
    ("1000000000", 90.0, "warning: {robots}: Crawl-delay 1000000000s is more than 90s: capped (requests 90s apart)"),
    ("45", 0.0, "{robots}: rules loaded, Crawl-delay 45s (requests 45s apart)"),
])
def test_a_crawl_delay_is_capped_at_a_minute_or_the_delay_when_longer(server: FaultServer, crawl_delay: str,
                                                                      delay: float, said: str) -> None:
    server.route("/robots.txt", Respond(200, f"User-agent: *\nCrawl-delay: {crawl_delay}\n", content_type="text/plain"))
    policy = FetchPolicy(delay=delay).allowing(server.base_url)

    async def rules() -> list[str]:
        async with Fetcher(policy) as fetcher:
            await asyncio.wait_for(fetcher.robots.check(server.url("/page/")), 60)  # a hang guard
            return fetcher.robots_log()

    assert asyncio.run(rules()) == [said.format(robots=server.url("/robots.txt"))]
