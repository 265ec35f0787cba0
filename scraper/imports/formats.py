"""Which capture a file is, by its content (never its name): WACZ, WARC, HAR, MHTML, SingleFile or saved HTML,
each with its reader for the import loop; and the files a command line names (files, folders)."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from scraper.errors import SourceError
from scraper.imports.har import read_har
from scraper.imports.loop import BLOCKED, DAMAGE, ImportRun, Reader
from scraper.imports.mhtml import read_mhtml
from scraper.imports.saved import is_singlefile, read_saved_page
from scraper.imports.wacz import is_wacz, read_wacz
from scraper.warc.reader import read_warc

HEAD_BYTES = 64 * 1024
HTML_MARKS = (b"<!doctype html", b"<html", b"<head", b"<body")


@dataclass(frozen=True)
class Format:
    """A kind of capture file: its name, whether a file is one (by its first HEAD_BYTES and its path), and the
    reader that turns it into entries for the import loop."""

    name: str
    matches: Callable[[bytes, Path], bool]
    read: Reader


def _is_zip_of_wacz(head: bytes, path: Path) -> bool:
    return zipfile.is_zipfile(path) and _zip_is_wacz(path)


def _is_warc(head: bytes, _path: Path) -> bool:
    return _is_warc_head(_gunzipped(head) if head.startswith(b"\x1f\x8b") else head)


def _is_har(head: bytes, _path: Path) -> bool:
    text = _text(head)
    return text.startswith(b"{") and text[1:].lstrip().startswith(b'"log"')


def _is_mhtml(head: bytes, _path: Path) -> bool:
    return BytesHeaderParser(policy=policy.default).parsebytes(head).get_content_type() == "multipart/related"


def _is_html(head: bytes, _path: Path) -> bool:
    return (_text(head).startswith(b"<") and b"\x00" not in head
            and any(mark in head[:4096].lower() for mark in HTML_MARKS))


# The formats, in the order a file is tried against them (a SingleFile page is also saved HTML: first).
FORMATS: tuple[Format, ...] = (
    Format("WACZ", _is_zip_of_wacz, read_wacz),
    Format("WARC", _is_warc, read_warc),
    Format("HAR", _is_har, read_har),
    Format("MHTML", _is_mhtml, read_mhtml),
    Format("SingleFile", lambda head, path: _is_html(head, path) and is_singlefile(head), read_saved_page),
    Format("HTML", _is_html, read_saved_page),
)
KNOWN = ", ".join(format.name for format in FORMATS[:-1]) + " or saved HTML"
WACZ, WARC, HAR, MHTML, SINGLEFILE, HTML = FORMATS


def detect_format(path: Path) -> Format | None:
    """The format of the capture at `path` by its first bytes, None when it is none of them."""
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    return next((format for format in FORMATS if format.matches(head, path)), None)


def check_capture_file(path: Path) -> Format:
    """The format of the file a user named; SourceError when it is missing, unreadable or not a capture."""
    if not path.exists():
        raise SourceError(f"no such file: {path}")
    if not path.is_file():
        raise SourceError(f"{path} is not a file")
    try:
        found = detect_format(path)
    except OSError as error:
        raise SourceError(f"cannot read {path}: {error.strerror or error}") from None
    if found is None:
        raise SourceError(f"{path}: not a capture scrape can read ({KNOWN})")
    return found


@dataclass
class Captures:
    """The files to import, with their format, and the files of the folders named that are not captures."""

    files: list[tuple[Path, Format]]
    ignored: list[Path]


def capture_files(paths: list[Path]) -> Captures:
    """The captures `paths` name: each file (SourceError when one is not a capture), and every capture in each
    folder and its subfolders, by name (what else a folder holds is listed in `ignored`)."""
    found = Captures([], [])
    for path in paths:
        if not path.is_dir():
            found.files.append((path, check_capture_file(path)))
            continue
        for inner in sorted(item for item in path.rglob("*") if item.is_file()):
            try:
                kind = detect_format(inner)
            except OSError:
                kind = None
            if kind is None:
                found.ignored.append(inner)
            else:
                found.files.append((inner, kind))
    return found


def _zip_is_wacz(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zip_file:
            return is_wacz(zip_file)
    except (OSError, zipfile.BadZipFile):
        return False


def _gunzipped(head: bytes) -> bytes:
    try:
        return zlib.decompressobj(wbits=31).decompress(head, 64)
    except zlib.error:
        return b""


def _is_warc_head(head: bytes) -> bool:
    return head.lstrip().startswith((b"WARC/", b"filedesc://"))


def _text(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()



__all__ = ["BLOCKED", "DAMAGE", "FORMATS", "HAR", "HTML", "KNOWN", "MHTML", "SINGLEFILE", "WACZ", "WARC", "Captures",
           "Format", "ImportRun", "capture_files", "check_capture_file", "detect_format"]
