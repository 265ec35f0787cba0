"""Benchmark: start-up of the commands that read (`scrape --version`, `stats`, `search`, `history`, `parse`)
against `sqlite-utils --version`, and against the same commands of an earlier version of scrape.

Run: .venv/bin/python tests/bench/bench_startup.py [--rounds 15] [--baseline GIT-REF]
(needs psutil, from the `bench` or `test` extra)

Each command runs in its own process (tests/bench/benchsite.py: wall time, peak RSS as VmHWM); the commands
take turns, round after round (interleaved, so a busy moment of the shared machine hits them all), and the
verdicts compare medians. `--baseline REF` also runs each command of scrape as it was at REF (its `scraper`
package taken from git into a temporary folder, run by the same interpreter). The archive read is a sample
stored by `scrape url` (the baseline's commands read one it stored itself, of its own schema). Targets:
`scrape --version` at most 0.5x the baseline's time and at most `sqlite-utils --version`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from benchsite import run_child

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "article-free-2018.html"
ARTICLE = "https://www.lagazettedescommunes.com/554402/"
VERSION_TARGET = 0.5  # scrape --version, wall time / the baseline's: at most


def commands(db: Path) -> dict[str, list[str]]:
    return {"--version": ["--version"], "stats": ["stats", "--db", str(db)],
            "search": ["search", "ville", "--db", str(db)], "history": ["history", ARTICLE, "--db", str(db)],
            "parse": ["parse", str(SAMPLE), "--compact"]}


def scrape_at(source: Path, args: list[str]) -> list[str]:
    """`scrape ARGS` with the `scraper` package found in `source`."""
    code = f"import sys; sys.path.insert(0, {str(source)!r}); from scraper.cli import main; main()"
    return [sys.executable, "-c", code, *args]


def checkout(ref: str, folder: Path) -> Path:
    """The `scraper` package of `ref`, extracted into `folder`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "scraper"], capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline", help="a git ref of this repository to compare with")
    options = parser.parse_args()
    sqlite_utils = shutil.which("sqlite-utils", path=str(Path(sys.executable).parent)) or "sqlite-utils"
    with tempfile.TemporaryDirectory() as tmp:
        db, old_db = Path(tmp) / "archive.db", Path(tmp) / "baseline.db"
        subprocess.run(scrape_at(ROOT, ["url", str(SAMPLE), "--db", str(db), "-q"]), check=True)
        old = checkout(options.baseline, Path(tmp) / "baseline") if options.baseline else None
        if old is not None:  # an archive of the baseline's own schema
            subprocess.run(scrape_at(old, ["url", str(SAMPLE), "--db", str(old_db), "-q"]), check=True)
        runs: dict[str, list[str]] = {"sqlite-utils --version": [sqlite_utils, "--version"]}
        for (name, args), old_args in zip(commands(db).items(), commands(old_db).values(), strict=True):
            runs[f"scrape {name}"] = scrape_at(ROOT, args)
            if old is not None:
                runs[f"scrape {name} @{options.baseline}"] = scrape_at(old, old_args)
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        peaks: dict[str, list[float]] = {name: [] for name in runs}
        env = dict(os.environ)
        for command in runs.values():  # once each, unmeasured: the files in the system's cache
            run_child(command, env=env)
        for _ in range(options.rounds):
            for name, command in runs.items():
                child = run_child(command, env=env)
                if child.code not in (0, 1):
                    raise SystemExit(f"{name} failed (exit {child.code}):\n{child.stderr[-2000:]}")
                seconds[name].append(child.seconds)
                peaks[name].append(child.peak_rss_mb)
    medians = {name: (statistics.median(seconds[name]) * 1000, statistics.median(peaks[name])) for name in runs}
    reference = medians["sqlite-utils --version"][0]
    print(f"{'command':44} {'ms':>7} {'peak MB':>8} {'/ sqlite-utils':>15}")
    for name, (ms, mb) in medians.items():
        print(f"{name:44} {ms:7.0f} {mb:8.1f} {ms / reference:14.2f}x")
    version = medians["scrape --version"][0]
    print(f"\nscrape --version <= sqlite-utils --version: {'met' if version <= reference else 'MISSED'}"
          f" ({version / reference:.2f}x)")
    if options.baseline:
        for name in commands(Path()):
            ours, old = medians[f"scrape {name}"], medians[f"scrape {name} @{options.baseline}"]
            target = f" (target <= {VERSION_TARGET}x: {'met' if ours[0] <= VERSION_TARGET * old[0] else 'MISSED'})" \
                if name == "--version" else ""
            print(f"scrape {name}: {ours[0] / old[0]:.2f}x the time of {options.baseline}, {ours[1] / old[1]:.2f}x"
                  f" its peak RSS{target}")
    print(json.dumps({name: {"ms": round(ms, 1), "peak_mb": round(mb, 1)} for name, (ms, mb) in medians.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
