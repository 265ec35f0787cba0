"""Which capture a file is, by its content (never its name): WACZ, WARC, HAR, MHTML, SingleFile or saved HTML,
each with its reader for the import loop; and the files a command line names (files, folders)."""

from __future__ import annotations

import zipfile
import zlib
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
KNOWN = "WARC, WACZ, HAR, MHTML, SingleFile or saved HTML"


@dataclass(frozen=True)
class Format:
    name: str
    read: Reader


WARC = Format("WARC", read_warc)
WACZ = Format("WACZ", read_wacz)
HAR = Format("HAR", read_har)
MHTML = Format("MHTML", read_mhtml)
SINGLEFILE = Format("SingleFile", read_saved_page)
HTML = Format("HTML", read_saved_page)


def detect_format(path: Path) -> Format | None:
    """The format of the capture at `path` by its first bytes, None when it is none of them."""
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    if zipfile.is_zipfile(path):
        return WACZ if _zip_is_wacz(path) else None
    if head.startswith(b"\x1f\x8b"):
        return WARC if _is_warc_head(_gunzipped(head)) else None
    if _is_warc_head(head):
        return WARC
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{") and text[1:].lstrip().startswith(b'"log"'):
        return HAR
    if BytesHeaderParser(policy=policy.default).parsebytes(head).get_content_type() == "multipart/related":
        return MHTML
    if text.startswith(b"<") and b"\x00" not in head and any(mark in head[:4096].lower() for mark in HTML_MARKS):
        return SINGLEFILE if is_singlefile(head) else HTML
    return None


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



__all__ = ["BLOCKED", "DAMAGE", "HAR", "HTML", "MHTML", "SINGLEFILE", "WACZ", "WARC", "Captures", "Format", "ImportRun",
           "capture_files", "check_capture_file", "detect_format"]
