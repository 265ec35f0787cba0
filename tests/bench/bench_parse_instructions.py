"""Benchmark: parse_page against a bare lexbor parse, in CPU instructions counted by valgrind (callgrind).

Run: .venv/bin/python tests/bench/bench_parse_instructions.py [--rounds N]   (needs valgrind on the PATH)

Instruction counts do not depend on what else the machine is doing: the same code gives the same count, so
this is the measure to compare two versions of the parser (a change that saves 2 % shows as 2 %), where
bench_parse.py's timings move by more than that from one run to the next. Each count is the difference between
a run that parses every sample `rounds` times and one that parses them 0 times (start-up and imports cancel
out). As in bench_parse.py, parse_page is given the page's bytes and so is the bare parse `LexborHTMLParser(html)`
(the ratio); beside it, the bare parse of the page already decoded to `str` (lexbor then encodes it back to
UTF-8 first: more instructions, a ratio that flatters parse_page). Instructions are not time: the time ratio of
bench_parse.py is higher (Python's code runs fewer instructions per cycle than lexbor's, and page faults and
cache misses count no instructions), so the two figures are reported side by side, never one for the other.
Nor do they rank every change: a walk of the whole page is bound by memory, so one CSS query that tests ten tags
on each element takes less time than ten walks by tag while running more instructions. Time such a change with
bench_parse.py.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_COLLECTED = re.compile(rb"Collected : (\d+)")


def _pages(mode: str) -> list[Path]:
    """The samples, or with a `-real` mode the real pages of ../shared/real."""
    if mode.endswith("-real"):
        return sorted((ROOT.parent / "shared" / "real").glob("*.html"))
    return sorted((ROOT / "samples").glob("*.html"))


def child(mode: str, rounds: int) -> None:
    """In the process valgrind runs: parse every sample `rounds` times, with parse_page, or bare lexbor given the
    bytes ("lexbor") or the decoded text ("lexbor_str")."""
    from selectolax.lexbor import LexborHTMLParser

    from scraper.parse import decode_html, parse_page

    raws = [path.read_bytes() for path in _pages(mode)]
    texts = [decode_html(raw, None)[0] for raw in raws]
    for raw, text in zip(raws, texts, strict=True):  # warm up: lazy imports and caches, counted in every run
        parse_page(raw, None)
        LexborHTMLParser(raw)
        LexborHTMLParser(text)
    inputs = texts if mode.startswith("lexbor_str") else raws
    parse = parse_page if mode.startswith("parse_page") else LexborHTMLParser
    for _ in range(rounds):
        for page in inputs:
            parse(page)


def instructions(mode: str, rounds: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
               "--child", mode, "--rounds", str(rounds)]
    result = subprocess.run(command, capture_output=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"},
                            check=True)
    match = _COLLECTED.search(result.stderr)
    if match is None:
        raise SystemExit(f"valgrind said nothing countable: {result.stderr[-300:]!r}")
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--child", choices=[f"{kind}{pages}" for kind in ("parse_page", "lexbor", "lexbor_str")
                                            for pages in ("", "-real")], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rounds)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt install valgrind)")
    ours, bare, bare_str = _per_pass("", args.rounds)
    print(f"instructions per pass over the {len(_pages(''))} samples: bare lexbor {bare / 1e6:.2f} M"
          f" ({bare_str / 1e6:.2f} M from the str), parse_page {ours / 1e6:.2f} M")
    print(f"parse_page runs {ours / bare:.2f}x the instructions of a bare lexbor parse of the bytes"
          f" ({ours / bare_str:.2f}x of the str)")
    if _pages("-real"):
        ours, bare, bare_str = _per_pass("-real", args.rounds)
        print(f"real pages (../shared/real): bare lexbor {bare / 1e6:.2f} M ({bare_str / 1e6:.2f} M from the str),"
              f" parse_page {ours / 1e6:.2f} M: {ours / bare:.2f}x the bytes ({ours / bare_str:.2f}x the str)")


def _per_pass(pages: str, rounds: int) -> tuple[float, float, float]:
    """Instructions of one pass over the pages: parse_page, bare lexbor of the bytes, bare lexbor of the str."""
    startup = instructions(f"lexbor{pages}", 0)
    return tuple((instructions(f"{kind}{pages}", rounds) - startup) / rounds  # type: ignore[return-value]
                 for kind in ("parse_page", "lexbor", "lexbor_str"))


if __name__ == "__main__":
    main()
