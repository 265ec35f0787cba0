"""Time against a hostile server on 127.0.0.1 (tests/faultserver.py): an answer trickled a few bytes at a time
ends at --timeout, a Retry-After of "-0" is no negative wait, plain HTTP sent to a TLS port gets a hint."""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, SampleSite
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
    assert result.error.startswith("timed out") and result.body is None
    assert [attempt.error_class for attempt in result.attempts] == ["timeout"]


def test_a_trickled_answer_that_ends_in_time_is_read(server: FaultServer) -> None:
    # The same trickle, within a timeout longer than the whole answer: it is read whole.
    server.route("/drip/", Trickle(PAGE, pieces=3, every=0.2))
    server.route("/robots.txt", Respond(404))
    result = fetch_one(server, server.url("/drip/"), timeout=20.0)
    assert result.ok and result.body == PAGE.encode()


# -- Retry-After: -0 -----------------------------------------------------------------------------------------

def scrape(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scraper", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)  # a hang guard: each run takes a few seconds


def test_a_retry_after_of_minus_zero_is_a_wait_of_zero(server: FaultServer, tmp_path: Path) -> None:
    server.route("/robots.txt", Respond(404))
    server.route("/page/", Respond(429, headers={"Retry-After": "-0"}), Respond(200, PAGE))
    db = tmp_path / "archive.db"
    result = scrape("url", server.url("/page/"), "--db", str(db), "--delay", "0", "--retries", "1")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        (attempts,) = conn.execute("select attempts from fetches where url = ?", [server.url("/page/")]).fetchone()
    assert "-0" not in attempts
    waited = [attempt.get("waited") for attempt in json.loads(attempts)]
    assert waited[0] == 0 and math.copysign(1, waited[0]) == 1, attempts


# -- plain HTTP to a TLS port --------------------------------------------------------------------------------

def test_plain_http_to_a_tls_port_fails_with_a_hint_to_use_https(https_sample_site: SampleSite,
                                                                 tmp_path: Path) -> None:
    https_url = https_sample_site.url("article-free-2018.html")
    http_url = "http://" + https_url.removeprefix("https://")
    result = scrape("url", http_url, "--db", str(tmp_path / "archive.db"), "--delay", "0", "--retries", "0")
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if http_url in line]
    assert "failed" in line and f"is it https? try {https_url}" in line, result.stderr
