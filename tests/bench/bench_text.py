"""Benchmark: what the article text costs on disk, stored plain, and what compressing it would save and cost.

Run: .venv/bin/python tests/bench/bench_text.py [--articles 20000] [--keep DIR] [--extrapolate 100000]

Reads an archive of the benchmark corpus (`corpus.py`, built through the real pipeline by bench_archive.build;
`--keep DIR` reuses bench_archive.py's `archive-N.db` there, or keeps the one built) and prints, per article and
for the whole archive, extrapolated linearly to `--extrapolate` articles:

- the bytes of the articles' text columns (title, kicker, teaser, body) and of the comments' text, as stored;
- the bytes (SQLite's dbstat) of the articles table, of its full-text index (articles_fts: an external-content
  FTS5 table, which holds the index only and reads the text from `articles`), of the comments and their index,
  of the raw bodies (zstd with the archive's dictionary), and of the whole file;
- what the text columns would take compressed one row at a time with zstd at the bodies' level: without a
  dictionary, with the archive's own dictionary (trained on whole pages) and with a dictionary trained on the
  texts themselves; and the CPU time to compress each article's text (what storing a page would add) and to
  decompress it (what a reparse, an export, or a search showing a snippet of each hit would add).

The archive is measured as stored, then again after `scrape compact` (on a copy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import zstandard

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_archive import build, table_bytes  # noqa: E402
from benchsite import run_child  # noqa: E402

from scraper.archive.bodies import DICTIONARY_BYTES, LEVEL  # noqa: E402

TEXT_COLUMNS = ("title", "kicker", "teaser", "body")
TEXT_SAMPLE = 2000  # texts the text dictionary is trained on


def archive_at(keep: Path, articles: int) -> Path:
    """bench_archive.py's archive of `articles` articles in `keep`, built when missing."""
    db = keep / f"archive-{articles}.db"
    if not db.exists():
        building = keep / "building.db"
        for path in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            path.unlink(missing_ok=True)
        pages, seconds = build(building, 0, articles)
        print(f"built {articles} articles: {pages} pages in {seconds:.0f} s ({pages / seconds:.0f} pages/s)")
        os.replace(building, db)
    return db


def column_bytes(conn: sqlite3.Connection) -> Counter[str]:
    """UTF-8 bytes of each text column of `articles`, and of `comments.text`."""
    sums = ", ".join(f"sum(length(cast({name} as blob)))" for name in TEXT_COLUMNS)
    sizes = Counter(dict(zip(TEXT_COLUMNS, conn.execute(f"select {sums} from articles").fetchone(), strict=True)))
    sizes["comments.text"] = conn.execute("select sum(length(cast(text as blob))) from comments").fetchone()[0]
    return sizes


def texts(conn: sqlite3.Connection) -> list[bytes]:
    """Each article's text columns as one UTF-8 value (what one compressed column would hold)."""
    rows = conn.execute("select " + " || char(10) || ".join(f"coalesce({name}, '')" for name in TEXT_COLUMNS)
                        + " from articles order by id")
    return [text.encode("utf-8") for (text,) in rows]


def compressed_sizes(conn: sqlite3.Connection, values: list[bytes]) -> dict[str, tuple[int, float, float]]:
    """Bytes of `values` compressed one at a time, and the seconds to compress and to decompress them all, by
    dictionary."""
    newest = conn.execute("select bytes from dictionaries order by id desc limit 1").fetchone()
    sample = values[:: max(1, len(values) // TEXT_SAMPLE)]
    dictionaries: dict[str, zstandard.ZstdCompressionDict | None] = {
        "zstd, no dictionary": None,
        "zstd, the archive's dictionary (pages)": zstandard.ZstdCompressionDict(newest[0]) if newest else None,
        "zstd, a dictionary of texts": zstandard.train_dictionary(DICTIONARY_BYTES, sample),
    }
    results = {}
    for name, dictionary in dictionaries.items():
        compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary, write_checksum=False,
                                              write_content_size=True, write_dict_id=False)
        started = time.process_time()
        packed = [compressor.compress(value) for value in values]
        packing = time.process_time() - started
        decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)
        started = time.process_time()
        for value in packed:
            decompressor.decompress(value)
        results[name] = (sum(map(len, packed)), packing, time.process_time() - started)
    return results


def print_row(name: str, size: float, articles: int, scale: float, total: float | None = None) -> None:
    share = f"{size / total:7.1%}" if total else " " * 7
    print(f"  {name:44} {size / articles:10,.0f} {size / 1e6:10.1f} {size * scale / 1e6:12.1f} {share}")


def report(db: Path, extrapolate: int) -> None:
    """The figures of the archive at `db` (see the module's docstring)."""
    conn = sqlite3.connect(db)
    articles = conn.execute("select count(*) from articles").fetchone()[0]
    raw, bodies = conn.execute("select sum(size), sum(length(compressed)) from bodies").fetchone()
    scale = extrapolate / articles
    tables = table_bytes(db)
    tables["comments_fts"] = sum(size for name, size in tables.items() if name.startswith("comments_fts"))
    file_size = db.stat().st_size
    print(f"{articles} articles, file {file_size / 1e6:.1f} MB; per article, in all, at {extrapolate:,}"
          f" articles (linear), share of the file")
    print(f"  {'':44} {'B/article':>10} {'MB':>10} {'MB at ' + format(extrapolate, ','):>12}")
    print("text columns (UTF-8):")
    columns = column_bytes(conn)
    for name, size in columns.items():
        print_row(name, size, articles, scale, file_size)
    article_text = sum(columns[name] for name in TEXT_COLUMNS)
    print_row("articles' text columns", article_text, articles, scale, file_size)
    print("tables with their indexes (dbstat):")
    for name in ("articles", "articles_fts", "comments", "comments_fts", "bodies", "fetches"):
        print_row(name, tables[name], articles, scale, file_size)
    print_row("raw HTML of the bodies (uncompressed)", raw, articles, scale)
    print_row("raw bodies as stored (compressed column)", bodies, articles, scale, file_size)
    print_row("the whole file", file_size, articles, scale, file_size)
    print(f"the articles' text columns compressed one article at a time (level {LEVEL}):")
    for name, (size, packing, unpacking) in compressed_sizes(conn, texts(conn)).items():
        print_row(name, size, articles, scale, file_size)
        print(f"  {'':44} saves {(article_text - size) / file_size:.1%} of the file;"
              f" {packing / articles * 1e6:.0f} µs an article to compress, {unpacking / articles * 1e6:.0f}"
              " to read back")
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--keep", type=Path, help="where bench_archive.py keeps its archives (built there if missing)")
    parser.add_argument("--extrapolate", type=int, default=100000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keep = options.keep or Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        db = Path(tmp) / "archive.db"
        shutil.copyfile(archive_at(keep, options.articles), db)
        print("as stored:")
        report(db, options.extrapolate)
        compacted = run_child([sys.executable, "-m", "scraper", "compact", "--db", str(db)], timeout=3600)
        if compacted.code != 0:
            raise SystemExit(f"scrape compact failed ({compacted.code}): {compacted.stderr[-2000:]}")
        print(f"\nafter `scrape compact` ({compacted.seconds:.0f} s):")
        report(db, options.extrapolate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
