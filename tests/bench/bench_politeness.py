"""Benchmark: the politeness floor — 20 pages at --delay 0.2 --concurrency 1 — is held, and costs no more.

Run: .venv/bin/python tests/bench/bench_politeness.py [--pages 20] [--delay 0.2] [--rounds 3]

A generated dossier of `--pages` pages (one dossier page and its articles) is served from its own process
(tests/bench/benchsite.py), which notes when each request head arrives. Each round crawls it with
`python -m scraper dossier URL --delay D --concurrency 1` into a fresh archive (robots.txt is read first,
and is spaced like the pages), then, as a baseline in the same run, with `--delay 0`.

Two checks per round:
- time: the whole command (start-up included) takes at most 1.05 x pages x delay + 1 s;
- politeness: on the server's clock, every request starts at least `delay` after the one before.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from benchsite import BenchSite, run_child

SLACK = 1.05
GRACE = 1.0  # seconds


Gap = tuple[float, str, str]  # seconds, the earlier request's target, the later one's


def crawl(site: BenchSite, db: Path, delay: float) -> tuple[float, list[Gap], int]:
    """Wall time of one crawl, the server-side gaps between request starts, and the requests."""
    site.reset()
    child = run_child([sys.executable, "-m", "scraper", "dossier", site.dossier_url, "--db", str(db),
                       "--delay", str(delay), "--concurrency", "1", "--quiet"])
    if child.code != 0:
        raise SystemExit(f"scrape dossier failed (exit {child.code}):\n{child.stderr[-3000:]}")
    starts = sorted((entry[0], entry[1]) for entry in site.log())
    gaps = [(later[0] - earlier[0], earlier[1], later[1]) for earlier, later in zip(starts, starts[1:], strict=False)]
    return child.seconds, gaps, len(starts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    bound = SLACK * options.pages * options.delay + GRACE
    results = []
    with BenchSite(options.pages - 1) as site, tempfile.TemporaryDirectory() as tmp:
        print(f"site: {site.pages} pages (1 dossier page, {site.pages - 1} articles) + robots.txt at {site.base}\n")
        print(f"{'round':>5} {'--delay':>8} {'requests':>9} {'wall s':>8} {'bound s':>8} {'min gap s':>10}"
              f" {'median gap':>11} {'gaps < delay':>13}")
        for number in range(1, options.rounds + 1):
            for delay in (options.delay, 0.0):
                seconds, gaps, requests = crawl(site, Path(tmp) / f"polite-{number}-{delay}.db", delay)
                seconds_apart = [gap[0] for gap in gaps]
                short = sum(1 for gap in seconds_apart if gap < delay)
                print(f"{number:>5} {delay:>8.2f} {requests:>9} {seconds:>8.2f}"
                      f" {bound if delay else float('nan'):>8.2f} {min(seconds_apart):>10.4f}"
                      f" {statistics.median(seconds_apart):>11.4f} {short if delay else '-':>13}")
                results.append((delay, seconds, gaps))
    polite = [(seconds, gaps) for delay, seconds, gaps in results if delay]
    baseline = statistics.median(seconds for delay, seconds, _gaps in results if not delay)
    worst = max(seconds for seconds, _gaps in polite)
    short = [gap for _seconds, gaps in polite for gap in gaps if gap[0] < options.delay]
    min_gap = min(gap[0] for _seconds, gaps in polite for gap in gaps)
    print(f"\n--delay 0 baseline (same pages, same process): {baseline:.2f} s; the delays add"
          f" {statistics.median(s for s, _g in polite) - baseline:.2f} s"
          f" for {len(polite[0][1])} gaps of {options.delay} s (= {len(polite[0][1]) * options.delay:.2f} s)")
    print(f"time: {'met' if worst <= bound else 'MISSED'} (slowest of {len(polite)} rounds {worst:.2f} s,"
          f" bound {SLACK} x {options.pages} x {options.delay} s + {GRACE:g} s = {bound:.2f} s;"
          f" {worst / bound:.2f}x the bound)")
    print(f"politeness: {'met' if not short else 'MISSED'} (smallest server-side gap between request starts"
          f" {min_gap:.4f} s, --delay {options.delay} s; {len(short)} of"
          f" {sum(len(gaps) for _s, gaps in polite)} gaps shorter)")
    for seconds, earlier, later in short[:10]:
        print(f"  {seconds:.4f} s from {earlier} to {later}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
