"""`scrape compact`: make an archive as small as this version of the tool stores a new one, resumably.

1. Train a dictionary on a sample of the whole archive (up to SAMPLE_BODIES bodies drawn at random from all of
   it, at most SAMPLE_BYTES; the larger the archive, the larger the dictionary), unless the newest dictionary
   already was:
   the first one is trained on the archive's first pages only (scraper.archive.bodies), and an archive written
   before schema 4 has none.
2. Recompress every body that does not use it (zlib bodies of older archives, plain zstd, older
   dictionaries) with it, in batches, one transaction per batch, checking each body's SHA-256 before its
   new bytes replace the old. A body whose new form is not smaller keeps its old one (and its dictionary).
3. Slim what older archives stored twice: `articles.record` down to what has no column, and the whole previous
   values of `article_versions` rows into reverse diffs.
4. Drop the dictionaries no body uses any more and the related links no article shows any more (an article
   stored again with other links leaves its old ones), merge the full-text index into one segment (slimming a
   record updates its row, and the index's trigger writes its words again), and VACUUM, which gives the freed
   pages back to the file system (it needs as much free disk as the archive's size).

Every step picks its work from the archive's state, not from a position kept aside: an interrupted compact
keeps the batches it committed, and running it again does the rest.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from scraper.archive.bodies import DICTIONARY_BYTES, ZSTD
from scraper.archive.db import Archive
from scraper.archive.records import record_residue
from scraper.archive.schema import FTS_TABLE
from scraper.errors import ArchiveFull

BATCH = 200  # bodies (or articles) per transaction
# 4.5 ms a 40 KB page with the largest dictionary (1.5 ms at level 15, 1 % larger bodies; 0.2 ms at the level
# pages are stored at).
LEVEL = 19
SAMPLE_BODIES = 1000
SAMPLE_BYTES = 32 * 2**20  # 16 MiB made bodies 3 % larger
# The dictionary grows with the archive, 32 bytes a page, from zstd's default size (DICTIONARY_BYTES) to 768 KiB:
# on the benchmark's 22,000 pages of 41 KB, 704 KB make a page 1.42 KB instead of 1.64 with 110 KB (once in
# the file, the dictionary costs less than it saves from about 3,000 pages on).
DICTIONARY_BYTES_PER_BODY = 32
MAX_DICTIONARY_BYTES = 768 * 2**10
# With a large sample the trainer's search over its parameters pays (a few % smaller bodies than fixed ones).
SEARCH_FROM = 100
SEARCH: dict[str, Any] = {"f": 20, "steps": 8, "accel": 1, "split_point": 0.8}

Progress = Callable[[int], None]


@dataclass
class CompactReport:
    """What `compact` did."""

    dictionary_id: int | None = None
    trained: bool = False  # a new dictionary was trained
    samples: int = 0  # bodies it was trained on
    bodies: int = 0  # bodies recompressed
    bytes_before: int = 0  # of the bodies recompressed
    bytes_after: int = 0
    bodies_kept: int = 0  # bodies left as they were: their new form was not smaller
    records: int = 0  # articles.record slimmed
    versions: int = 0  # article_versions rows turned into reverse diffs
    dictionaries_dropped: int = 0
    links_dropped: int = 0  # related links no article shows any more
    vacuumed: bool = False
    file_bytes_before: int = 0
    file_bytes_after: int = 0
    seconds: float = 0.0

    @property
    def bytes_gained(self) -> int:
        """What the archive's file lost (negative: what it grew by)."""
        return self.file_bytes_before - self.file_bytes_after

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["bytes_gained"] = self.bytes_gained
        return data


def bodies_to_compact(archive: Archive) -> int:
    """How many bodies `compact` would make smaller with the newest dictionary (all, when a new one is due): those
    without a dictionary. A body left on an older one is one a compact found no smaller with the newest (or
    one an interrupted compact did not reach: running it again still tries those)."""
    newest = archive.scalar("select max(id) from dictionaries")
    bodies = _body_count(archive)
    if newest is None or _needs_training(archive, newest, bodies):
        return bodies
    return int(archive.scalar("select count(*) from bodies where dictionary_id is null"))  # its index


def compact(archive: Archive, *, vacuum: bool = True, batch: int = BATCH, progress: Progress | None = None
            ) -> CompactReport:
    """Compact the archive (see the module's docstring); `progress` is told of each batch of bodies done."""
    started = time.perf_counter()
    report = CompactReport(file_bytes_before=archive.file_size())
    try:
        _choose_dictionary(archive, report)
        _recompress(archive, report, batch, progress)
        _slim_records(archive, report, batch)
        _slim_versions(archive, report, batch)
        _drop_unused(archive, report)
    except ArchiveFull as error:
        raise _full(error, report, "") from None
    if vacuum:
        try:
            archive.vacuum()
        except ArchiveFull as error:
            raise _full(error, report, " (all of them: the VACUUM that gives the space back needs as much free"
                                       " disk as the archive)") from None
        report.vacuumed = True
    report.file_bytes_after = archive.file_size()
    report.seconds = time.perf_counter() - started
    return report


def _drop_unused(archive: Archive, report: CompactReport) -> None:
    """Drop the dictionaries no body uses and the links no article shows; merge the full-text index."""
    with archive.transaction():
        report.dictionaries_dropped = archive.execute(
            "delete from dictionaries where id not in (select distinct dictionary_id from bodies"
            " where dictionary_id is not null)").rowcount
        report.links_dropped = archive.execute(
            "delete from links where not exists (select 1 from article_links where link_id = links.id)").rowcount
        archive.execute(f"insert into [{FTS_TABLE}]([{FTS_TABLE}]) values ('optimize')")


def _full(error: ArchiveFull, report: CompactReport, detail: str) -> ArchiveFull:
    """The full disk's error, saying what is kept and how to finish."""
    return ArchiveFull(f"{error}: the {report.bodies} raw pages recompressed are kept{detail}; free some disk and"
                       " run `scrape compact` again to finish")


def _body_count(archive: Archive) -> int:
    return int(archive.scalar("select count(*) from bodies"))


def _needs_training(archive: Archive, newest: int, bodies: int) -> bool:
    """Whether the newest dictionary saw fewer bodies than a compact would sample now from the archive's `bodies`,
    or is smaller than the larger one it would train for a large archive (by half)."""
    samples, size = archive.execute("select coalesce(samples, 0), length(bytes) from dictionaries where id = ?",
                                    [newest]).fetchone()
    wanted = min(SAMPLE_BODIES, bodies)
    wanted_size = _dictionary_bytes(bodies)
    return samples * 2 < wanted or (wanted_size > DICTIONARY_BYTES and size * 2 < wanted_size)


def _dictionary_bytes(bodies: int) -> int:
    """The size of the dictionary compact trains for an archive of `bodies` (DICTIONARY_BYTES_PER_BODY)."""
    return max(DICTIONARY_BYTES, min(MAX_DICTIONARY_BYTES, bodies * DICTIONARY_BYTES_PER_BODY))


def _choose_dictionary(archive: Archive, report: CompactReport) -> None:
    newest = archive.scalar("select max(id) from dictionaries")
    bodies = _body_count(archive)
    if newest is None or _needs_training(archive, newest, bodies):
        samples = _sample(archive, bodies)
        with archive.transaction():
            trained = archive.bodies.train(samples, parameters=SEARCH if len(samples) >= SEARCH_FROM else None,
                                           size=_dictionary_bytes(bodies))
        report.trained, report.samples = trained is not None, len(samples) if trained is not None else 0
        newest = trained if trained is not None else newest
    report.dictionary_id = newest


def _sample(archive: Archive, bodies: int) -> list[bytes]:
    """Up to SAMPLE_BODIES of the archive's bodies drawn at random from all of them, at most SAMPLE_BYTES.

    A random draw, not every n-th row: pages stored in a regular order (templates crawled in turn) would give a
    sample of one kind, and a dictionary that makes the others larger. The draw is seeded by the count, so the
    same archive gives the same sample."""
    rowids = [rowid for (rowid,) in archive.execute("select rowid from bodies")]
    chosen = random.Random(bodies).sample(rowids, min(SAMPLE_BODIES, len(rowids)))
    store = archive.bodies
    samples: list[bytes] = []
    size = 0
    for rowid in chosen:
        sha256, stored_size, compressed, compression, dictionary_id = archive.execute(
            "select sha256, size, compressed, compression, dictionary_id from bodies where rowid = ?",
            [rowid]).fetchone()
        if samples and size + stored_size > SAMPLE_BYTES:
            break
        samples.append(store.decode(sha256, compressed, compression, dictionary_id))
        size += stored_size
    return samples


def _recompress(archive: Archive, report: CompactReport, batch: int, progress: Progress | None) -> None:
    target = report.dictionary_id
    if target is None:
        return
    store = archive.bodies
    last = -1
    while True:
        with archive.transaction():
            rows = archive.execute(
                "select rowid, sha256, compressed, compression, dictionary_id from bodies where rowid > ?"
                " and (dictionary_id is not ? or compression != ?) order by rowid limit ?",
                [last, target, ZSTD, batch]).fetchall()
            if not rows:
                return
            dictionary_id, compressor = store.compressor(LEVEL)
            updates = []
            for rowid, sha256, compressed, compression, old_dictionary in rows:
                body = store.decode(sha256, compressed, compression, old_dictionary)
                smaller = compressor.compress(body)
                if len(smaller) >= len(compressed):
                    report.bodies_kept += 1
                    continue
                updates.append((smaller, ZSTD, dictionary_id, rowid))
                report.bytes_before += len(compressed)
                report.bytes_after += len(smaller)
            archive.execute_many("update bodies set compressed = ?, compression = ?, dictionary_id = ?"
                                 " where rowid = ?", updates)
        last = rows[-1][0]
        report.bodies += len(updates)
        if progress is not None:
            progress(len(rows))


def _slim_records(archive: Archive, report: CompactReport, batch: int) -> None:
    """`articles.record` of articles stored before schema 4 (a whole record) down to what has no column."""
    last = -1
    while True:
        with archive.transaction():
            rows = archive.execute("select id, record from articles where id > ? and json_type(record, '$.title')"
                                   " is not null order by id limit ?", [last, batch]).fetchall()
            if not rows:
                return
            archive.execute_many("update articles set record = ? where id = ?",
                                 [(record_residue(json.loads(record)), article_id) for article_id, record in rows])
        last = rows[-1][0]
        report.records += len(rows)


def _slim_versions(archive: Archive, report: CompactReport, batch: int) -> None:
    """The history rows written before schema 4 (whole previous values) as reverse diffs, article by article."""
    last = -1
    while True:
        with archive.transaction():
            ids = [article_id for (article_id,) in archive.execute(
                "select distinct article_id from article_versions where diff is null and article_id > ?"
                " order by article_id limit ?", [last, batch])]
            if not ids:
                return
            for article_id in ids:
                report.versions += archive.versions.slim(article_id)
        last = ids[-1]
