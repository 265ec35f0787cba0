"""Benchmark: `reparse` over the samples repeated to 5,000 stored pages, against the bare parse_page loop.

Run: .venv/bin/python tests/bench/bench_reparse.py [--pages 5000] [--jobs 2]

Each copy of the HTML samples gets its own article ids, dossier and listing paths, so the archive holds
5,000 distinct pages (copies of the same article would collapse into one record). Prints pages/s of the
bare `parse_page` loop over the same bodies in this process, of a reparse that finds nothing to change, of
one that finds every article changed (as after a parser fix: each article gets a version row), and of the
same with `--jobs` parsing processes. `--rounds` rounds of the whole sequence (bare loop included), the
medians compared. Target: at least 500 pages/s. The machines are shared and noisy: compare the ratios, and
run it more than once.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scraper.archive import Archive
from scraper.ingest import ingest
from scraper.models import FetchResult
from scraper.parse import parse_page
from scraper.reparse import reparse

ROOT = Path(__file__).resolve().parents[2]
MANIFEST: dict[str, dict[str, str]] = json.loads((ROOT / "samples" / "manifest.json").read_text(encoding="utf-8"))
SAMPLES = {name: entry for name, entry in MANIFEST.items() if name.endswith(".html")}
SITE_IDS = re.compile(rb"\b(457321|554402|431208)\b")
DOSSIER = b"smart-city-les-cles-de-la-ville-intelligente"
LISTING = b"rubriques/club-technicites/"
TARGET = 500.0


def copy_of(body: bytes, n: int) -> bytes:
    """Sample `body` as copy `n`: its own article ids, dossier and listing."""
    body = SITE_IDS.sub(lambda match: str(int(match.group(1)) + 1_000_000 * n).encode(), body)
    return body.replace(DOSSIER, DOSSIER + b"-%d" % n).replace(LISTING, b"rubriques/club-technicites-%d/" % n)


def pages(count: int) -> list[FetchResult]:
    """`count` fetch results: the HTML samples, copy after copy."""
    bodies = {name: (ROOT / "samples" / name).read_bytes() for name in SAMPLES}
    results = []
    for index in range(count):
        n, name = divmod(index, len(SAMPLES))
        entry = SAMPLES[sorted(SAMPLES)[name]]
        url = copy_of(entry["url"].encode(), n).decode()
        results.append(FetchResult(url=url, final_url=url, status=200, fetched_at=f"2024-01-01T00:{n // 60 % 60:02}"
                                   f":{n % 60:02}+00:00", body=copy_of(bodies[sorted(SAMPLES)[name]], n),
                                   content_type=entry["content_type"]))
    return results


def bare_parse(results: list[FetchResult]) -> float:
    started = time.perf_counter()
    for result in results:
        parse_page(result.body or b"", result.final_url, content_type=result.content_type)
    return len(results) / (time.perf_counter() - started)


def make_old(archive: Archive) -> int:
    """Make every stored article look like an older parser's output: another title, in the `title` column that
    storing compares (the record a reparse reads back is rebuilt from the columns: `article_records`), so the
    next reparse finds every article changed and stores a version of each."""
    with archive.db.conn:
        return archive.db.execute("update articles set title = 'old: ' || coalesce(title, '')").rowcount


def one_round(archive: Archive, results: list[FetchResult], jobs: int) -> list[tuple[str, float, str]]:
    """The bare loop, then the four reparses: (label, pages/s, what the reparse did)."""
    rows = [("bare parse_page loop", bare_parse(results), "")]
    cases = [("reparse, nothing changes", 1, False), ("reparse, every article changes", 1, True),
             (f"same, --jobs {jobs}", jobs, True), (f"nothing changes, --jobs {jobs}", jobs, False)]
    for label, case_jobs, change in cases:
        if change:
            make_old(archive)
        report = reparse(archive, jobs=case_jobs)
        rows.append((label, report.pages_per_second, f"updated {report.updated}, unchanged {report.unchanged},"
                     f" superseded {report.superseded}"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    results = pages(options.pages)
    rounds: list[list[tuple[str, float, str]]] = []
    with tempfile.TemporaryDirectory() as tmp, Archive(Path(tmp) / "bench.db") as archive:
        started = time.perf_counter()
        for result in results:
            ingest(archive, result)
        print(f"archive: {options.pages} pages stored in {time.perf_counter() - started:.1f} s;"
              f" {archive.counts()['articles']} articles", flush=True)
        for number in range(1, options.rounds + 1):
            rounds.append(one_round(archive, results, options.jobs))
            print(f"round {number}: " + ", ".join(f"{label} {rate:.0f}" for label, rate, _ in rounds[-1]), flush=True)
    medians = [statistics.median(row[index][1] for row in rounds) for index in range(len(rounds[0]))]
    bare = medians[0]
    print(f"\nmedians of {options.rounds} rounds:")
    print(f"{rounds[0][0][0]:32} {bare:8.0f} pages/s")
    for (label, _rate, did), rate in zip(rounds[-1][1:], medians[1:], strict=True):
        verdict = "ok" if rate >= TARGET else f"below the {TARGET:.0f} pages/s target"
        print(f"{label:32} {rate:8.0f} pages/s  {rate / bare:5.2f}x the bare loop  ({did})  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
