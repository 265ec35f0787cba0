"""Files the tool writes (exports, WARC files): whole or not at all, and never over a file unless asked.

`written_whole(path)` yields a stream on a temporary file beside `path` (same directory, so the rename stays on
one file system), then flushes it to disk and renames it over `path` when the block ends without error. A
failure midway (disk full, I/O error, Ctrl-C) removes the temporary file: nothing partial is ever left under
the name asked for, and an older file of that name is kept intact. Without `force`, an existing file is
refused (as `sqlite-utils` and `wget -O` users expect not to lose a file silently). Files named in `keep`
(the archive being read and its `-wal`/`-shm`: `archive_files`) are refused even with `force`, whether named
as they are, through a symbolic link or a hard link (the same inode).

A path that is not a regular file — a character device such as /dev/stdout or /dev/full, a named pipe — is
written directly: it cannot be replaced by a rename, and it holds nothing to lose.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from scraper.errors import OutputError, OutputExists, WriteFailed


@contextmanager
def written_whole(path: Path, *, binary: bool = False, force: bool = False, keep: Iterable[Path] = ()
                  ) -> Iterator[IO[Any]]:
    """A stream whose content becomes the file `path` only when the block ends without error.

    Text streams are UTF-8 with newlines written as given (`newline=""`: CSV writes its own CRLF).
    Raises OutputExists when `path` is a file and not `force`, OutputError when it cannot be created (no
    such directory, no permission, a directory), WriteFailed when writing fails midway.
    """
    keep = tuple(keep)
    if _is_special(path):
        check_not_kept(path, keep)
        with _direct(path, binary) as stream:
            yield stream
        return
    check_writable(path, force=force, keep=keep)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"{path}: cannot write ({error.strerror or error})") from None
    try:
        with _fdopen(handle, binary) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 → what any new file would get
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise WriteFailed(f"{path}: cannot write ({error.strerror or error}); nothing was written") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_writable(path: Path, *, force: bool = False, keep: Iterable[Path] = ()) -> None:
    """Raise OutputExists when `path` is an existing file and not `force`, OutputError when it is a directory,
    its directory is missing or it is one of the files to `keep`. Called before any work, so a usage error
    costs nothing."""
    check_not_kept(path, keep)
    if path.is_dir():
        raise OutputError(f"{path} is a directory: give a file name")
    if path.exists() and not force and not _is_special(path):
        raise OutputExists(f"{path} exists: add --force to overwrite it")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: cannot write (no such directory: {path.parent})")


def archive_files(db: Path) -> tuple[Path, ...]:
    """The files of the SQLite archive `db`: the file, its write-ahead log and shared-memory index, its journal."""
    return (db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal")))


def check_not_kept(path: Path, keep: Iterable[Path]) -> None:
    """Raise OutputError when `path` is one of the files `keep` (by name once resolved, or by inode)."""
    for kept in keep:
        if _same_file(path, kept):
            raise OutputError(f"{path} is {kept}, a file of the archive being read: give another output file")


def _same_file(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:  # one of them does not exist (yet): the same name, once links are followed
        return os.path.realpath(path) == os.path.realpath(other)


def _is_special(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextmanager
def _direct(path: Path, binary: bool) -> Iterator[IO[Any]]:
    try:
        stream = path.open("wb") if binary else path.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise OutputError(f"{path}: cannot write ({error.strerror or error})") from None
    try:
        with stream:
            yield stream
    except OSError as error:
        raise WriteFailed(f"{path}: cannot write ({error.strerror or error})") from None


def _fdopen(handle: int, binary: bool) -> IO[Any]:
    if binary:
        return os.fdopen(handle, "wb")
    return os.fdopen(handle, "w", encoding="utf-8", newline="")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
