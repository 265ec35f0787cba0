"""Benchmark: parse_page against a bare lexbor parse, in CPU instructions counted by valgrind (callgrind).

Run: .venv/bin/python tests/bench/bench_parse_instructions.py [--rounds N]   (needs valgrind on the PATH)

Instruction counts do not depend on what else the machine is doing: the same code gives the same count, so
this is the measure to compare two versions of the parser (a change that saves 2 % shows as 2 %), where
bench_parse.py's timings move by more than that from one run to the next. Each count is the difference between
a run that parses every sample `rounds` times and one that parses them 0 times (start-up and imports cancel
out). Instructions are not time: the time ratio of bench_parse.py is higher (Python's code runs fewer
instructions per cycle than lexbor's), so the two figures are reported side by side, never one for the other.
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
    """In the process valgrind runs: parse every sample `rounds` times, with parse_page or bare lexbor."""
    from selectolax.lexbor import LexborHTMLParser

    from scraper.parse import decode_html, parse_page

    raws = [path.read_bytes() for path in _pages(mode)]
    texts = [decode_html(raw, None)[0] for raw in raws]
    for raw, text in zip(raws, texts, strict=True):  # warm up: lazy imports and caches, counted in both runs
        parse_page(raw, None)
        LexborHTMLParser(text)
    for _ in range(rounds):
        if mode.startswith("parse_page"):
            for raw in raws:
                parse_page(raw, None)
        else:
            for text in texts:
                LexborHTMLParser(text)


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
    parser.add_argument("--child", choices=("parse_page", "lexbor", "parse_page-real", "lexbor-real"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rounds)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt install valgrind)")
    startup = instructions("lexbor", 0)
    bare = (instructions("lexbor", args.rounds) - startup) / args.rounds
    ours = (instructions("parse_page", args.rounds) - startup) / args.rounds
    print(f"instructions per pass over the {len(list((ROOT / 'samples').glob('*.html')))} samples: "
          f"bare lexbor {bare / 1e6:.2f} M, parse_page {ours / 1e6:.2f} M")
    print(f"parse_page runs {ours / bare:.2f}x the instructions of a bare lexbor parse")
    if _pages("parse_page-real"):
        startup = instructions("lexbor-real", 0)
        bare = (instructions("lexbor-real", args.rounds) - startup) / args.rounds
        ours = (instructions("parse_page-real", args.rounds) - startup) / args.rounds
        print(f"real pages (../shared/real): bare lexbor {bare / 1e6:.2f} M, parse_page {ours / 1e6:.2f} M: "
              f"{ours / bare:.2f}x")


if __name__ == "__main__":
    main()
