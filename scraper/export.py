"""Export the archived articles: JSON (one array), JSON Lines, CSV, Markdown and plain text (scraper.documents),
references for citation tools — CSL-JSON, RIS, BibTeX (scraper.citations) — each of these five as one document or
one file per article; and the raw captures as WARC (scraper.warc).

JSON, JSON Lines and CSV give each article's record with when the archive fetched it first and last
(`first_seen_at`, `last_seen_at`), in Paris time with its offset as the site's own dates.

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
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO
from zoneinfo import ZoneInfo

from scraper.archive import Archive
from scraper.citations import CITATION_FORMATS
from scraper.citations import WRITERS as CITATION_WRITERS
from scraper.documents import DOCUMENT_FORMATS, LANGUAGES, file_name, write_article_file, write_document
from scraper.errors import InvalidOption, OutputError, OutputExists
from scraper.models import AUTHOR_SEPARATOR
from scraper.output import written_whole

ExportFormat = Literal["json", "jsonl", "csv", "markdown", "txt", "csl-json", "ris", "bibtex"]
FORMATS: tuple[ExportFormat, ...] = ("json", "jsonl", "csv", "markdown", "txt", "csl-json", "ris", "bibtex")
# The formats written one file per article with --output DIR/.
PER_ARTICLE_FORMATS: tuple[str, ...] = (*DOCUMENT_FORMATS, *CITATION_FORMATS)
RECORD_FORMATS: tuple[str, ...] = ("json", "jsonl", "csv")
LIST_SEPARATOR = " | "
EXCEL_BOM = "\ufeff"
SITE_TIME_ZONE = ZoneInfo("Europe/Paris")

CSV_COLUMNS = (
    "url", "site_id", "kicker", "title", "published_at", "updated_at", "authors", "teaser", "body",
    "image_url", "image_alt", "image_credit", "dossier_title", "dossier_url", "is_paywalled",
    "paywall_markers", "themes", "comments_count", "related_urls", "warnings", "first_seen_at", "last_seen_at",
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
    lang: str = "fr",
) -> int:
    """Write the archived articles (filtered like `Archive.article_records`) to `out`; `lang`: the language of
    the labels of Markdown and text (fr, en).

    Returns the number of articles written. Raises InvalidOption for an unknown format or language (or `excel`
    with another format than csv), InvalidDate for a bad date.
    """
    writer = _writer(fmt, excel, lang)
    return writer(_records(archive, fmt, dossier=dossier, since=since, paywalled=paywalled), out)


def _records(archive: Archive, fmt: str, **filters: Any) -> Iterator[dict[str, Any]]:
    """The records a format writes: with when the archive fetched each first and last (records), or last (the
    consultation date of documents and references)."""
    if fmt in RECORD_FORMATS:
        keys: tuple[str, ...] = ("first_seen_at", "last_seen_at")
        records = archive.articles.records(seen_at=True, **filters)
    else:
        keys, records = ("archived_at",), archive.articles.records(archived_at=True, **filters)
    return (_in_paris(record, keys) for record in records)


def _in_paris(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    for key in keys:
        record[key] = paris_time(record.get(key))
    return record


def paris_time(value: str | None) -> str | None:
    """An ISO time with an offset ('2024-01-01T06:00:00+00:00') at Paris's offset that day
    ('2024-01-01T07:00:00+01:00'); a value without an offset as it is."""
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return value
    return moment.astimezone(SITE_TIME_ZONE).isoformat() if moment.tzinfo else value


def export_article_files(
    archive: Archive,
    directory: Path,
    fmt: ExportFormat = "markdown",
    *,
    dossier: str | None = None,
    since: str | None = None,
    paywalled: bool | None = None,
    force: bool = False,
    lang: str = "fr",
    keep: tuple[Path, ...] = (),
) -> int:
    """Write each archived article to its own file in `directory` (created if missing), as Markdown, text or a
    reference (CSL-JSON, RIS, BibTeX); never over one of the files `keep` (OutputError).

    Returns the number of files written. Raises InvalidOption for a format written as one document only,
    OutputExists when `directory` already holds files and not `force` (then same-named files are replaced).
    """
    if fmt not in PER_ARTICLE_FORMATS:
        raise InvalidOption(f"one file per article is for {', '.join(PER_ARTICLE_FORMATS)}, not {fmt}")
    writer = _writer(fmt, False, lang)
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise OutputExists(f"{directory} is not empty: add --force to write into it")
    records = _records(archive, fmt, dossier=dossier, since=since, paywalled=paywalled)
    try:
        directory.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"{directory}: cannot create the directory ({error.strerror or error})") from None
    taken: set[str] = set()
    count = 0
    for record in records:
        with written_whole(directory / file_name(record, fmt, taken), force=True, keep=keep) as stream:
            if fmt in DOCUMENT_FORMATS:
                write_article_file(record, stream, fmt, lang)  # in Markdown, opened by its front matter
            else:
                writer([record], stream)
        count += 1
    return count


def _writer(fmt: str, excel: bool, lang: str = "fr") -> Callable[[Iterable[dict[str, Any]], TextIO], int]:
    if lang not in LANGUAGES:
        raise InvalidOption(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    if fmt in DOCUMENT_FORMATS:
        if excel:
            raise InvalidOption("--excel is for --format csv")
        return lambda records, out: write_document(records, out, fmt, lang)
    writer = _WRITERS.get(fmt) or CITATION_WRITERS.get(fmt)
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
        "first_seen_at": record.get("first_seen_at"),
        "last_seen_at": record.get("last_seen_at"),
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
