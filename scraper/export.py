"""Export the archived articles: JSON (one array), JSON Lines, CSV, Markdown and plain text (scraper.documents),
references for citation tools — CSL-JSON, RIS, BibTeX (scraper.citations) — each of these five as one document or
one file per article; and the raw captures as WARC (scraper.warc). The formats, their writers and what each
writes are registered in scraper.exporters.

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
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from scraper.archive import Archive
from scraper.documents import file_name
from scraper.errors import InvalidOption, OutputError, OutputExists
from scraper.exporters import EXPORT_FORMATS, LANGUAGES, PLAIN, ExportFormat, WriteOptions, names_that
from scraper.models import AUTHOR_SEPARATOR
from scraper.output import written_whole

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
    fmt: str = "json",
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
    export_format, options = _checked(fmt, excel, lang)
    records = _records(archive, export_format, dossier=dossier, since=since, paywalled=paywalled)
    return export_format.load()(records, out, options)  # type: ignore[no-any-return]


def _checked(fmt: str, excel: bool, lang: str) -> tuple[ExportFormat, WriteOptions]:
    """The registered format of records named `fmt`, and the options it is written with; InvalidOption when the
    format, the language or --excel does not fit."""
    if lang not in LANGUAGES:
        raise InvalidOption(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    export_format = EXPORT_FORMATS.get(fmt)
    if export_format is None or export_format.binary:
        choices = names_that(lambda known: not known.binary)
        raise InvalidOption(f"unknown export format {fmt!r}: choose one of {', '.join(choices)}")
    if excel and not export_format.excel:
        raise InvalidOption(f"--excel is for --format {', '.join(names_that(lambda known: known.excel))}")
    return export_format, WriteOptions(lang=lang, excel=excel)


def _records(archive: Archive, export_format: ExportFormat, **filters: Any) -> Iterator[dict[str, Any]]:
    """The records a format writes, with the archive's times it carries (ExportFormat.record_times) in Paris time."""
    keys = export_format.record_times
    if "first_seen_at" in keys:
        records = archive.articles.records(seen_at=True, **filters)
    else:
        records = archive.articles.records(archived_at=True, **filters)
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
    fmt: str = "markdown",
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
    export_format, options = _checked(fmt, False, lang)
    if not export_format.one_file_each:
        each = names_that(lambda known: known.one_file_each)
        raise InvalidOption(f"one file per article is for {', '.join(each)}, not {fmt}")
    write_file = export_format.load_file_writer()
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise OutputExists(f"{directory} is not empty: add --force to write into it")
    records = _records(archive, export_format, dossier=dossier, since=since, paywalled=paywalled)
    try:
        directory.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"{directory}: cannot create the directory ({error.strerror or error})") from None
    taken: set[str] = set()
    count = 0
    for record in records:
        name = file_name(record, export_format.extension, taken)
        with written_whole(directory / name, force=True, keep=keep) as stream:
            write_file([record], stream, options)
        count += 1
    return count


def write_json(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN) -> int:
    """One JSON array of records, indented by 2, written record by record."""
    count = 0
    for record in records:
        text = json.dumps(record, ensure_ascii=False, indent=2)
        out.write("[\n" if count == 0 else ",\n")
        out.write("  " + text.replace("\n", "\n  "))  # JSON strings never hold a raw newline
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN) -> int:
    """One record per line."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN, *,
              delimiter: str = ",") -> int:
    """Flat rows of CSV_COLUMNS, with a header; lists joined by " | ", authors by "; ". With `options.excel`, as
    write_excel_csv."""
    if options.excel:
        return write_excel_csv(records, out)
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
