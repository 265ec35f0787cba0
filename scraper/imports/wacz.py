"""WACZ (ArchiveWeb.page, Browsertrix, the `wacz` package): a zip holding one or more WARC files under
`archive/`, with `datapackage.json` (which lists them) and `pages/pages.jsonl`. Each WARC is read by the WARC
reader (scraper.warc.reader), in the order the data package lists them; the captures are from source "wacz".
A member whose bytes fail the zip's CRC check is damaged: what came before it is kept.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import PurePosixPath

from scraper.errors import SourceError
from scraper.imports.loop import CaptureFile, Entries

WARC_SUFFIXES = (".warc", ".warc.gz")


def is_wacz(zip_file: zipfile.ZipFile) -> bool:
    return bool(warc_members(zip_file))


def warc_members(zip_file: zipfile.ZipFile) -> list[str]:
    """The WARC files of a WACZ: those its datapackage.json lists, in its order, then any other under
    archive/ (by name)."""
    names = [name for name in zip_file.namelist()
             if PurePosixPath(name).parts[:1] == ("archive",) and name.endswith(WARC_SUFFIXES)]
    listed = [path for path in _package_paths(zip_file) if path in names]
    return listed + sorted(name for name in names if name not in listed)


def _package_paths(zip_file: zipfile.ZipFile) -> list[str]:
    try:
        package = json.loads(zip_file.read("datapackage.json"))
        return [str(resource["path"]) for resource in package["resources"]]
    except (KeyError, TypeError, ValueError, zipfile.BadZipFile, OSError):
        return []


def read_wacz(capture: CaptureFile) -> Entries:
    """The entries of every WARC of a WACZ file: a reader of the import loop."""
    from scraper.warc.reader import warc_entries

    try:
        wacz = zipfile.ZipFile(capture.path)
    except (OSError, zipfile.BadZipFile) as error:
        raise SourceError(f"{capture.path}: not a readable WACZ file ({error})") from None
    with wacz:
        raw = wacz.fp  # the file under the zip: its position is how far the import has read
        for name in warc_members(wacz):
            try:
                with wacz.open(name) as member:
                    yield from warc_entries(member, f"{capture.path}:{name}", capture.archive, source="wacz",
                                            moved_to=lambda: capture.moved_to(raw.tell() if raw else 0))
            except zipfile.BadZipFile:
                yield "unreadable"  # the member's bytes fail its CRC: damaged
