"""Benchmark: `scrape url -i LIST` of many saved pages or URLs: peak memory flat as the list grows, and bounded.

Run: .venv/bin/python tests/bench/bench_url.py [--small 2000] [--large 20000] [--rounds 1]
         [--sources files|urls|both] [--huge 0] [--concurrency 16] [--dir DIR]
(needs psutil, from the `bench` or `test` extra)

Small article pages of distinct URLs (the markup of tests/crawlsite.py, about 2 KB each) are listed in a file and
stored by `python -m scraper url -i LIST --db NEW.db -q`, each run in its own process and into a fresh archive, the
small list then the large one in each round:

- `files`: the pages saved in a temporary folder, the list naming their paths;
- `urls`: the pages served by tests/bench/benchsite.py on 127.0.0.1 (one server for every run, holding the large
  list's pages), the list naming their URLs, fetched with `--delay 0 --concurrency N`;
- `--huge N`: one more run of N saved files (100,000 for the issue's target), after the rounds.

Peak RSS is the process's high-water mark (VmHWM, tests/bench/benchsite.py). The verdicts compare the medians:
the large list at most +10 % over the small one, for each kind of source (each page is read or fetched at its
turn, a bounded number ahead, and stored before it is forgotten: nothing grows with the list but the list of
sources itself), and every run at most 80 MB. `--dir` puts the pages and archives elsewhere than the system's
temporary folder (a tmpfs such as /dev/shm: each page is its own commit, whose sync a slow disk makes the cost
of a run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from benchsite import BenchSite, ChildRun, run_child  # (it puts tests/ on the path)
from crawlsite import article_html, make_articles

BASE = "https://www.lagazettedescommunes.com"
FLAT_TARGET = 1.10  # peak RSS of the large list / of the small one: at most
PEAK_TARGET_MB = 80.0  # peak RSS of any run: at most
SITE_FIRST_ID = 700000  # the first article id of benchsite.generate's pages


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


def list_urls(site: BenchSite, listed: Path, count: int, articles: int) -> Path:
    """A list file naming `count` of the served site's `articles` article pages (one URL a line)."""
    with listed.open("w", encoding="utf-8") as urls:
        for article in make_articles(articles, first_id=SITE_FIRST_ID)[:count]:
            urls.write(f"{site.base}{article.path}\n")
    return listed


def store(listed: Path, db: Path, fetch_flags: list[str]) -> tuple[ChildRun, int]:
    child = run_child([sys.executable, "-m", "scraper", "url", "-i", str(listed), "--db", str(db), "-q",
                       *fetch_flags], timeout=4 * 3600)
    if child.code != 0:
        raise SystemExit(f"scrape url failed (exit {child.code}):\n{child.stderr[-3000:]}")
    with sqlite3.connect(db) as conn:
        return child, conn.execute("select count(*) from articles").fetchone()[0]


def print_run(kind: str, count: int, number: int, child: ChildRun, stored: int) -> None:
    print(f"{kind:>5} {count:>7} {number:>5} {stored:>7} {child.seconds:>8.1f} {stored / child.seconds:>8.0f}"
          f" {child.peak_rss_mb:>8.1f} {child.cpu_seconds:>7.1f}", flush=True)
    if stored != count:
        print(f"WARNING: {stored} of {count} pages stored")


def verdict(name: str, ok: bool, detail: str) -> str:
    return f"{name}: {'met' if ok else 'MISSED'} ({detail})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sources", choices=("files", "urls", "both"), default="files")
    parser.add_argument("--huge", type=int, default=0, help="one more run of this many saved files (0: none)")
    parser.add_argument("--concurrency", type=int, default=16, help="--concurrency of the URL runs")
    parser.add_argument("--dir", type=Path, default=None, help="where the pages and archives go (a tmpfs: faster)")
    options = parser.parse_args()
    kinds = ("files", "urls") if options.sources == "both" else (options.sources,)
    sizes = (options.small, options.large)
    peaks: dict[tuple[str, int], list[float]] = {(kind, count): [] for kind in kinds for count in sizes}
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(dir=options.dir) as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        site = stack.enter_context(BenchSite(options.large)) if "urls" in kinds else None
        lists = {("files", count): save_pages(work / f"pages-{count}", count) for count in sizes if "files" in kinds}
        if site is not None:
            lists |= {("urls", count): list_urls(site, work / f"urls-{count}.txt", count, options.large)
                      for count in sizes}
        flags = {"files": [], "urls": ["--delay", "0", "--concurrency", str(options.concurrency)]}
        print(f"{'kind':>5} {'pages':>7} {'round':>5} {'stored':>7} {'wall s':>8} {'pages/s':>8} {'peak MB':>8}"
              f" {'CPU s':>7}")
        for number in range(1, options.rounds + 1):
            for (kind, count), listed in lists.items():
                child, stored = store(listed, work / f"archive-{kind}-{count}-{number}.db", flags[kind])
                peaks[kind, count].append(child.peak_rss_mb)
                print_run(kind, count, number, child, stored)
        if options.huge:
            listed = save_pages(work / f"pages-{options.huge}", options.huge)
            child, stored = store(listed, work / f"archive-files-{options.huge}.db", flags["files"])
            print_run("files", options.huge, 1, child, stored)
            report["huge"] = {"pages": options.huge, "peak_rss_mb": round(child.peak_rss_mb, 1)}
            print(verdict(f"peak RSS of {options.huge:,} saved files <= {PEAK_TARGET_MB:.0f} MB",
                          child.peak_rss_mb <= PEAK_TARGET_MB, f"{child.peak_rss_mb:.1f} MB"))
    for kind in kinds:
        small, large = (statistics.median(peaks[kind, count]) for count in sizes)
        growth = large / small
        print(verdict(f"{kind}: peak RSS flat from {options.small} to {options.large} pages (<= {FLAT_TARGET:.2f}x)",
                      growth <= FLAT_TARGET, f"{growth:.2f}x: {large:.1f} MB vs {small:.1f} MB"))
        print(verdict(f"{kind}: peak RSS <= {PEAK_TARGET_MB:.0f} MB", max(small, large) <= PEAK_TARGET_MB,
                      f"{max(small, large):.1f} MB"))
        report[kind] = {"rss_growth": round(growth, 3), "peak_rss_mb": {"small": round(small, 1),
                                                                        "large": round(large, 1)}}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
