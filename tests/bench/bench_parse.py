"""Benchmark: parse_page against a bare lexbor parse and against trafilatura, in one process.

Run: .venv/bin/python tests/bench/bench_parse.py [--rounds N]   (needs the `bench` extra for trafilatura)

Prints, per sample and overall, milliseconds per page and the ratios. Targets: parse_page at most 3x the bare
`LexborHTMLParser(html)` parse, and at least 10x faster than `trafilatura.bare_extraction(html,
with_metadata=True)`. Ratios, not absolute times, are what to compare: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from scraper.parse import decode_html, parse_page

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples").glob("*.html"))


def per_call_ms(function: Callable[[], object], rounds: int) -> float:
    """The median of `rounds` timings (each the mean of a small batch), in milliseconds per call."""
    function()  # warm up
    batch = 5
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            function()
        timings.append((time.perf_counter() - start) / batch * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    try:
        import trafilatura
    except ImportError:
        trafilatura = None
        print("trafilatura is not installed (pip install -e '.[bench]'): its column is skipped")

    totals = {"parse_page": 0.0, "lexbor": 0.0, "trafilatura": 0.0}
    print(f"{'sample':40} {'parse_page':>10} {'lexbor':>8} {'trafil.':>8} {'x lexbor':>9} {'trafil. /':>10}")
    for path in SAMPLES:
        raw = path.read_bytes()
        text, _ = decode_html(raw, None)
        ours = per_call_ms(lambda raw=raw: parse_page(raw, None), args.rounds)
        bare = per_call_ms(lambda text=text: LexborHTMLParser(text), args.rounds)
        theirs = (per_call_ms(lambda text=text: trafilatura.bare_extraction(text, with_metadata=True),
                              max(5, args.rounds // 4)) if trafilatura else float("nan"))
        totals["parse_page"] += ours
        totals["lexbor"] += bare
        totals["trafilatura"] += theirs
        print(f"{path.name:40} {ours:10.2f} {bare:8.2f} {theirs:8.2f} {ours / bare:9.2f} {theirs / ours:10.1f}")
    ours, bare, theirs = totals["parse_page"], totals["lexbor"], totals["trafilatura"]
    print(f"{'overall (sum of per-page ms)':40} {ours:10.2f} {bare:8.2f} {theirs:8.2f} {ours / bare:9.2f} "
          f"{theirs / ours:10.1f}")
    print(f"\nparse_page is {ours / bare:.2f}x a bare lexbor parse (target <= 3x) and "
          f"{theirs / ours:.1f}x faster than trafilatura (target >= 10x)")


if __name__ == "__main__":
    main()
