"""Benchmark: a re-run over an unchanged dossier downloads at most 2 % of the first run's bytes.

Run: .venv/bin/python tests/bench/bench_rerun.py [--articles 500] [--page-kb 0]

A generated dossier of `--articles` articles (20 per dossier page) is served from its own process
(tests/bench/benchsite.py), every page with an ETag (a matching If-None-Match gets a 304 without a body).
Three crawls of it into one archive, each `python -m scraper dossier URL --delay 0 --concurrency 4`:
the first run (everything downloaded), a re-run (articles already archived are not asked for; the
dossier pages are asked for conditionally), and a re-run with `--refresh` (every page asked for again,
conditionally). The server counts what it sent: body bytes (what `runs.bytes` and `fetches.bytes` count)
and wire bytes (status lines and headers too). The verdict is on body bytes; the wire ratio is printed to
show what the 304s' heads cost: relatively more than on the real site, whose pages weigh 40 to 170 KB
against about 2 KB for the generated ones (`--page-kb 40` pads each page to a real page's weight).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchsite import BenchSite, run_child

TARGET = 0.02


def crawl(site: BenchSite, db: Path, *extra: str) -> tuple[Counter[int], int, int, int, float]:
    """One crawl: statuses the server sent, body bytes, wire bytes, the run's `bytes` count, wall time."""
    site.reset()
    child = run_child([sys.executable, "-m", "scraper", "dossier", site.dossier_url, "--db", str(db),
                       "--delay", "0", "--concurrency", "4", "--quiet", *extra])
    if child.code != 0:
        raise SystemExit(f"scrape dossier failed (exit {child.code}):\n{child.stderr[-3000:]}")
    log = site.log()
    with sqlite3.connect(db) as conn:
        run_bytes = conn.execute("select bytes from runs order by id desc limit 1").fetchone()[0]
    return (Counter(entry[2] for entry in log), sum(entry[3] for entry in log), sum(entry[4] for entry in log),
            run_bytes, child.seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--page-kb", type=int, default=0, help="pad each HTML page with this many KB")
    options = parser.parse_args()
    runs = []
    with BenchSite(options.articles, pad_kb=options.page_kb) as site, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "rerun.db"
        print(f"site: {site.pages} pages ({options.articles} articles) + robots.txt at {site.base}\n")
        for label, extra in (("first run", ()), ("re-run", ()), ("re-run --refresh", ("--refresh",))):
            runs.append((label, *crawl(site, db, *extra)))
    first_body, first_wire = runs[0][2], runs[0][3]
    print(f"{'run':18} {'200':>5} {'304':>5} {'body bytes':>11} {'runs.bytes':>11} {'wire bytes':>11}"
          f" {'body ratio':>11} {'wire ratio':>11} {'wall s':>7}")
    for label, statuses, body, wire, run_bytes, seconds in runs:
        print(f"{label:18} {statuses[200]:>5} {statuses[304]:>5} {body:>11,} {run_bytes:>11,} {wire:>11,}"
              f" {body / first_body:>11.3%} {wire / first_wire:>11.3%} {seconds:>7.2f}")
    print()
    for label, _statuses, body, _wire, _run_bytes, _seconds in runs[1:]:
        ratio = body / first_body
        print(f"{label}: {'met' if ratio <= TARGET else 'MISSED'} ({ratio:.3%} of the first run's body bytes,"
              f" target <= {TARGET:.0%}; {body:,} of {first_body:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
