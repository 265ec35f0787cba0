"""Benchmark: `scrape url -i LIST` of many saved pages: peak memory flat as the list grows.

Run: .venv/bin/python tests/bench/bench_url.py [--small 2000] [--large 20000] [--rounds 1]
(needs psutil, from the `bench` or `test` extra)

Small article pages of distinct URLs (the markup of tests/crawlsite.py, about 2 KB each) are saved in a
temporary folder and listed in a file; `python -m scraper url -i LIST --db NEW.db -q` stores them, each run in
its own process and into a fresh archive, the small list then the large one in each round. Peak RSS is the
process's high-water mark (VmHWM, tests/bench/benchsite.py). The verdict compares the medians: the large
list at most +10 % over the small one (each file is read at its turn and stored before the next one: nothing
grows with the list but the list of paths itself).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from benchsite import ChildRun, run_child  # (it puts tests/ on the path)
from crawlsite import article_html, make_articles

BASE = "https://www.lagazettedescommunes.com"
FLAT_TARGET = 1.10  # peak RSS of the large list / of the small one: at most


def save_pages(folder: Path, count: int) -> Path:
    """`count` saved article pages in `folder`, and the list file naming them (one path a line)."""
    folder.mkdir()
    listed = folder / "list.txt"
    with listed.open("w", encoding="utf-8") as paths:
        for article in make_articles(count, first_id=1_000_000, paywalled_every=0):
            path = folder / f"{article.site_id}.html"
            path.write_text(article_html(BASE, article), encoding="utf-8")
            paths.write(f"{path}\n")
    return listed


def store(listed: Path, db: Path) -> tuple[ChildRun, int]:
    child = run_child([sys.executable, "-m", "scraper", "url", "-i", str(listed), "--db", str(db), "-q"],
                      timeout=3600)
    if child.code != 0:
        raise SystemExit(f"scrape url failed (exit {child.code}):\n{child.stderr[-3000:]}")
    with sqlite3.connect(db) as conn:
        return child, conn.execute("select count(*) from articles").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=1)
    options = parser.parse_args()
    peaks: dict[int, list[float]] = {options.small: [], options.large: []}
    with tempfile.TemporaryDirectory() as tmp:
        lists = {count: save_pages(Path(tmp) / f"pages-{count}", count) for count in peaks}
        print(f"{'pages':>7} {'round':>5} {'stored':>7} {'wall s':>8} {'pages/s':>8} {'peak MB':>8} {'CPU s':>7}")
        for number in range(1, options.rounds + 1):
            for count, listed in lists.items():
                child, stored = store(listed, Path(tmp) / f"archive-{count}-{number}.db")
                peaks[count].append(child.peak_rss_mb)
                print(f"{count:>7} {number:>5} {stored:>7} {child.seconds:>8.1f} {stored / child.seconds:>8.0f}"
                      f" {child.peak_rss_mb:>8.1f} {child.cpu_seconds:>7.1f}")
                if stored != count:
                    print(f"WARNING: {stored} of {count} pages stored")
    small, large = (statistics.median(peaks[count]) for count in (options.small, options.large))
    growth = large / small
    print(f"peak RSS flat from {options.small} to {options.large} pages (<= {FLAT_TARGET:.2f}x): "
          f"{'met' if growth <= FLAT_TARGET else 'MISSED'} ({growth:.2f}x: {large:.1f} MB vs {small:.1f} MB)")
    print(json.dumps({"rss_growth": round(growth, 3), "peak_rss_mb": {"small": round(small, 1),
                                                                       "large": round(large, 1)}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
