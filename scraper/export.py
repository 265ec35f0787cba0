"""Export the archived articles: JSON (one array), JSON Lines, CSV, Markdown and plain text (scraper.documents,
one document or one file per article); and the raw captures as WARC (scraper.warc).

Every writer streams: records are read from the archive one at a time and written as they come, so
exporting a large archive does not hold it in memory. JSON output is byte for byte what
``json.dumps(records, ensure_ascii=False, indent=2)`` would give, plus a final newline.

For CSV, open the output file with ``newline=""`` (rows end with CRLF, as RFC 4180 says). Lists are joined by
" | " (paywall sentences, themes, URLs, warnings), authors by AUTHOR_SEPARATOR ("; ") as everywhere else.
`excel=True` writes what Excel on Windows opens right: a UTF-8 byte order mark (without it, accents are read
as cp1252: "Ã©") and ";" between fields (the list separator of French settings).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, TextIO

from scraper.archive import Archive
from scraper.documents import DOCUMENT_FORMATS, file_name, write_document
from scraper.errors import InvalidOption, OutputError, OutputExists
from scraper.models import AUTHOR_SEPARATOR
from scraper.output import written_whole

ExportFormat = Literal["json", "jsonl", "csv", "markdown", "txt"]
FORMATS: tuple[ExportFormat, ...] = ("json", "jsonl", "csv", "markdown", "txt")
LIST_SEPARATOR = " | "
EXCEL_BOM = "\ufeff"

CSV_COLUMNS = (
    "url", "site_id", "kicker", "title", "published_at", "updated_at", "authors", "teaser", "body",
    "image_url", "image_alt", "image_credit", "dossier_title", "dossier_url", "is_paywalled",
    "paywall_markers", "themes", "comments_count", "related_urls", "warnings",
)


def export_articles(
    archive: Archive,
    out: TextIO,
    fmt: ExportFormat = "json",
    *,
    dossier: str | None = None,
    since: str | None = None,
    paywalled: bool | None = None,
    excel: bool = False,
) -> int:
    """Write the archived articles (filtered like `Archive.article_records`) to `out`.

    Returns the number of articles written. Raises InvalidOption for an unknown format (or `excel` with
    another format than csv), InvalidDate for a bad date.
    """
    writer = _writer(fmt, excel)
    records = archive.article_records(dossier=dossier, since=since, paywalled=paywalled,
                                      archived_at=fmt in DOCUMENT_FORMATS)
    return writer(records, out)


def export_article_files(
    archive: Archive,
    directory: Path,
    fmt: ExportFormat = "markdown",
    *,
    dossier: str | None = None,
    since: str | None = None,
    paywalled: bool | None = None,
    force: bool = False,
    keep: tuple[Path, ...] = (),
) -> int:
    """Write each archived article to its own file in `directory` (created if missing), as Markdown or text;
    never over one of the files `keep` (OutputError).

    Returns the number of files written. Raises InvalidOption for a format that is not a document format,
    OutputExists when `directory` already holds files and not `force` (then same-named files are replaced).
    """
    if fmt not in DOCUMENT_FORMATS:
        raise InvalidOption(f"one file per article is for {' and '.join(DOCUMENT_FORMATS)}, not {fmt}")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise OutputExists(f"{directory} is not empty: add --force to write into it")
    records = archive.article_records(dossier=dossier, since=since, paywalled=paywalled, archived_at=True)
    try:
        directory.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"{directory}: cannot create the directory ({error.strerror or error})") from None
    taken: set[str] = set()
    count = 0
    for record in records:
        with written_whole(directory / file_name(record, fmt, taken), force=True, keep=keep) as stream:
            write_document([record], stream, fmt)
        count += 1
    return count


def _writer(fmt: str, excel: bool) -> Callable[[Iterable[dict[str, Any]], TextIO], int]:
    if fmt in DOCUMENT_FORMATS:
        return lambda records, out: write_document(records, out, fmt)
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise InvalidOption(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if excel:
        if fmt != "csv":
            raise InvalidOption("--excel is for --format csv")
        return write_excel_csv
    return writer


def write_json(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """One JSON array of records, indented by 2, written record by record."""
    count = 0
    for record in records:
        text = json.dumps(record, ensure_ascii=False, indent=2)
        out.write("[\n" if count == 0 else ",\n")
        out.write("  " + text.replace("\n", "\n  "))  # JSON strings never hold a raw newline
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """One record per line."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], out: TextIO, *, delimiter: str = ",") -> int:
    """Flat rows of CSV_COLUMNS, with a header; lists joined by " | ", authors by "; "."""
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        row = csv_row(record)
        writer.writerow(["" if row[column] is None else row[column] for column in CSV_COLUMNS])
        count += 1
    return count


def write_excel_csv(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """CSV as Excel on Windows reads it in French settings: a UTF-8 BOM first, ";" between fields."""
    out.write(EXCEL_BOM)
    return write_csv(records, out, delimiter=";")


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """An article's contract dict flattened to the CSV columns."""
    image = record.get("image") or {}
    dossier = record.get("dossier") or {}
    paywall = record.get("paywall") or {}
    return {
        "url": record["url"],
        "site_id": record.get("site_id"),
        "kicker": record.get("kicker"),
        "title": record.get("title"),
        "published_at": record.get("published_at"),
        "updated_at": record.get("updated_at"),
        "authors": AUTHOR_SEPARATOR.join(record.get("authors") or []),
        "teaser": record.get("teaser"),
        "body": record.get("body"),
        "image_url": image.get("url"),
        "image_alt": image.get("alt"),
        "image_credit": image.get("credit"),
        "dossier_title": dossier.get("title"),
        "dossier_url": dossier.get("url"),
        "is_paywalled": "true" if paywall.get("is_paywalled") else "false",
        "paywall_markers": _joined(paywall.get("markers")),
        "themes": _joined(record.get("themes")),
        "comments_count": record.get("comments_count"),
        "related_urls": _joined(link["url"] for link in record.get("related") or []),
        "warnings": _joined(record.get("warnings")),
    }


def _joined(values: Iterable[str] | None) -> str:
    return LIST_SEPARATOR.join(values or [])


_WRITERS: dict[str, Callable[[Iterable[dict[str, Any]], TextIO], int]] = {
    "json": write_json,
    "jsonl": write_jsonl,
    "csv": write_csv,
}

# Raw captures, not records: WARC is written on a binary stream by scraper.warc (request, response,
# revisit and resource records from `fetches` and `bodies`).
BINARY_FORMATS: tuple[str, ...] = ("warc",)
ALL_FORMATS: tuple[str, ...] = (*FORMATS, *BINARY_FORMATS)
