"""The raw bodies (`bodies`): compressed with Zstandard and a dictionary trained on the archive's own pages,
deduplicated by SHA-256, and read back byte for byte by `Bodies.read`, the one reader of reparse, conditional
GETs and WARC export.

Pages of one site share most of their bytes — the header, menus, scripts and footer around the article — so a
dictionary trained on some of them makes every later page small (a 40 KB page of the samples' frame takes about
2 KB, against 10 KB with zlib alone). The first pages of an archive are stored with plain zstd; once it holds
TRAIN_AFTER bodies, a dictionary is trained on the newest ones (at most TRAIN_SAMPLE_BYTES of them, so a crawl's
memory stays small) inside the transaction of the page that crossed the mark, and later bodies use it.
`scrape compact` (scraper.archive.compact) trains a dictionary on a sample of the whole archive and
recompresses the older bodies with it, zlib bodies of archives written before schema 4 included; until then,
those stay readable as they are.

Each body row names its codec (`compression`: zstd or zlib) and its dictionary (`dictionary_id`, none for
plain zstd). `Bodies.read` checks the SHA-256 of what it decompressed, so a body comes back identical or not at
all (DamagedArchive). zstandard, a C extension, is imported only when a body is written or read with it.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import TYPE_CHECKING, Any

from scraper.archive.connection import Connection
from scraper.archive.values import utc_now
from scraper.errors import ArchiveError, DamagedArchive

if TYPE_CHECKING:
    import zstandard

ZSTD, ZLIB = "zstd", "zlib"
LEVEL = 9  # with a dictionary, 0.2 ms a page; the dictionary does most of the work
TRAIN_AFTER = 200  # bodies in the archive before the first dictionary is trained
TRAIN_SAMPLE_BYTES = 2**20  # of the newest bodies, for that first dictionary: a crawl peaks 2 MB higher at 2 MiB
DICTIONARY_BYTES = 112_640  # zstd's default size
# FastCOVER with fixed parameters: no search over them (quick, small memory with f=16), and a good dictionary
# from a dozen pages as from hundreds (the search picks bad ones on few samples).
TRAINING: dict[str, Any] = {"k": 1024, "d": 8, "f": 16, "steps": 0, "accel": 1}


class Bodies:
    """The `bodies` table of one open archive, with its current dictionary and the codecs made from each one."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._dictionary_id: int | None = None  # of `_compressors`
        self._compressors: dict[int, zstandard.ZstdCompressor] = {}  # by level
        self._decompressors: dict[int | None, zstandard.ZstdDecompressor] = {}
        self._next_training = TRAIN_AFTER  # rowid at which to try training (again)

    # --- writing ------------------------------------------------------------------------------

    def store(self, body: bytes) -> str:
        """Store `body` unless a body with its SHA-256 is there; returns the SHA-256. Inside a transaction."""
        sha256 = hashlib.sha256(body).hexdigest()
        connection = self.connection
        if connection.scalar("select 1 from bodies where sha256 = ?", [sha256]) is not None:
            return sha256
        dictionary_id, compressor = self.compressor()
        rowid = connection.insert("bodies", {"sha256": sha256, "size": len(body),
                                             "compressed": compressor.compress(body), "compression": ZSTD,
                                             "dictionary_id": dictionary_id})
        if dictionary_id is None and rowid >= self._next_training:
            self._next_training = rowid + TRAIN_AFTER  # when training gives nothing, try again later
            self._compressors.clear()  # the plain one's memory, before the trainer's
            self.train(self.newest(TRAIN_AFTER, TRAIN_SAMPLE_BYTES))
        return sha256

    def compressor(self, level: int = LEVEL) -> tuple[int | None, zstandard.ZstdCompressor]:
        """The newest dictionary's id (None: there is none yet) and a compressor with it at `level`."""
        newest = self._newest_dictionary()
        if newest != self._dictionary_id:
            self._compressors.clear()
            self._dictionary_id = newest
        if level not in self._compressors:
            dictionary = self._dictionary(newest) if newest is not None else None
            self._compressors[level] = _zstandard().ZstdCompressor(
                level=level, dict_data=dictionary, write_checksum=False, write_content_size=True,
                write_dict_id=False)
        return self._dictionary_id, self._compressors[level]

    def _newest_dictionary(self) -> int | None:
        """The id of the newest dictionary (asked once per transaction: `train` is the one writer of it here)."""
        memo = self.connection.memo("dictionaries")
        if "newest" not in memo:
            memo["newest"] = self.connection.scalar("select max(id) from dictionaries")
        return memo["newest"]

    def train(self, samples: list[bytes], *, parameters: dict[str, Any] | None = None,
              size: int = DICTIONARY_BYTES) -> int | None:
        """Train a dictionary of at most `size` bytes (an eighth of the samples' bytes) on `samples` and make it
        the current one; returns its id (None when zstd cannot make one of them)."""
        zstd = _zstandard()
        if not samples:
            return None
        size = min(size, max(1024, sum(map(len, samples)) // 8))
        try:
            trained = zstd.train_dictionary(size, samples, **(parameters or TRAINING))
        except zstd.ZstdError:
            return None
        self.connection.memo("dictionaries").clear()
        return self.connection.insert("dictionaries", {"trained_at": utc_now(), "bytes": trained.as_bytes(),
                                                       "samples": len(samples)})

    # --- reading ------------------------------------------------------------------------------

    def read(self, sha256: str) -> bytes | None:
        """The raw bytes stored under `sha256`, byte for byte as received; None when there is no such body."""
        row = self.connection.execute("select compressed, compression, dictionary_id from bodies where sha256 = ?",
                                      [sha256]).fetchone()
        return None if row is None else self.decode(sha256, *row)

    def decode(self, sha256: str, compressed: bytes, compression: str, dictionary_id: int | None) -> bytes:
        """The raw bytes of one body row, checked against its SHA-256."""
        try:
            if compression == ZSTD:
                body = self._decompressor(dictionary_id).decompress(compressed)
            elif compression == ZLIB:
                body = zlib.decompress(compressed)
            else:
                raise ArchiveError(f"archive {self.connection.path}: body {sha256} uses unknown compression"
                                   f" {compression!r}")
        except (zlib.error, _zstandard().ZstdError) as error:
            raise DamagedArchive(f"archive {self.connection.path}: the stored page {sha256} is damaged (it cannot be"
                                 f" decompressed: {error})") from None
        if hashlib.sha256(body).hexdigest() != sha256:
            raise DamagedArchive(f"archive {self.connection.path}: the stored page {sha256} is damaged (its bytes do"
                                 " not match its SHA-256)")
        return body

    def _decompressor(self, dictionary_id: int | None) -> zstandard.ZstdDecompressor:
        found = self._decompressors.get(dictionary_id)
        if found is None:
            dictionary = self._dictionary(dictionary_id) if dictionary_id is not None else None
            found = self._decompressors[dictionary_id] = _zstandard().ZstdDecompressor(dict_data=dictionary)
        return found

    def _dictionary(self, dictionary_id: int) -> zstandard.ZstdCompressionDict:
        data = self.connection.scalar("select bytes from dictionaries where id = ?", [dictionary_id])
        if data is None:
            raise ArchiveError(f"archive {self.connection.path}: dictionary {dictionary_id} is missing")
        return _zstandard().ZstdCompressionDict(data)

    def newest(self, count: int, budget: int) -> list[bytes]:
        """The raw bytes of the newest bodies, at most `count` of them and `budget` bytes (at least one body)."""
        samples: list[bytes] = []
        total = 0
        rows = self.connection.execute("select sha256, size, compressed, compression, dictionary_id from bodies"
                                       " order by rowid desc limit ?", [count]).fetchall()
        for sha256, size, compressed, compression, dictionary_id in rows:
            if samples and total + size > budget:
                break
            body = self.decode(sha256, compressed, compression, dictionary_id)
            samples.append(body)
            total += len(body)
        return samples


def _zstandard() -> Any:
    import zstandard

    return zstandard
