"""The export formats, by name: one registry that `scrape export` (its choices, its help, what it calls) and the
exporters (scraper.export) read.

Each format names its writer by import path ("module:function", as Scrapy's FEED_EXPORTERS do), so the command line
lists the formats without importing the writers. A writer of records (`writes` records, articles or references)
is called as `writer(records, out, options)` with the article records (dicts of the record contract) and a text
stream, and returns how many it wrote; a writer of pages (WARC) as `writer(archive, stream, since=…,
filename=…)` on a binary stream.

Adding a format: write its writer, `register(ExportFormat(...))` it below (or from another module before the
command line is built), and test it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TextIO

Writes = Literal["records", "articles", "references", "pages"]

# What each kind of format writes, as --format's help names it, in that order.
WRITES_HELP: dict[str, str] = {"records": "records", "articles": "articles to read",
                               "references": "references to cite", "pages": "the raw pages"}
# The archive's times a record written by each kind carries (in Paris time): when the archive fetched the article
# first and last (records), or last (the consultation date of documents and references).
RECORD_TIMES: dict[str, tuple[str, ...]] = {"records": ("first_seen_at", "last_seen_at"),
                                            "articles": ("archived_at",), "references": ("archived_at",)}
LANGUAGES: tuple[str, ...] = ("fr", "en")


@dataclass(frozen=True)
class WriteOptions:
    """How a writer writes: `lang` the language of its labels (fr, en), `excel` CSV for Excel (a BOM, ';')."""

    lang: str = "fr"
    excel: bool = False


PLAIN = WriteOptions()
RecordWriter = Callable[[Iterable[dict[str, Any]], TextIO, WriteOptions], int]


@dataclass(frozen=True)
class ExportFormat:
    """One format `scrape export --format NAME` writes.

    `writer`: "module:function" of the writer. `one_file_each`: whether --output DIR/ writes one file per article
    (each by `file_writer` when an article's own file differs from a document of one, as Markdown's front matter).
    `excel`: whether --excel applies."""

    name: str
    writes: Writes
    extension: str
    media_type: str
    writer: str
    one_file_each: bool = False
    file_writer: str | None = None
    excel: bool = False

    @property
    def binary(self) -> bool:
        return self.writes == "pages"

    @property
    def record_times(self) -> tuple[str, ...]:
        return RECORD_TIMES.get(self.writes, ())

    def load(self) -> Callable[..., int]:
        """The writer function (its module imported now)."""
        return _load(self.writer)

    def load_file_writer(self) -> RecordWriter:
        """The writer of an article's own file."""
        return _load(self.file_writer or self.writer)


EXPORT_FORMATS: dict[str, ExportFormat] = {}


def register(export_format: ExportFormat) -> ExportFormat:
    """Offer `export_format` to `scrape export` (replacing a format of that name)."""
    EXPORT_FORMATS[export_format.name] = export_format
    return export_format


def format_names() -> tuple[str, ...]:
    return tuple(EXPORT_FORMATS)


def names_that(test: Callable[[ExportFormat], bool]) -> tuple[str, ...]:
    """The names of the formats for which `test` is true, in the registry's order."""
    return tuple(name for name, export_format in EXPORT_FORMATS.items() if test(export_format))


def format_help() -> str:
    """--format's help: the formats by what they write ("What to write: records (json, jsonl, csv), … or the
    raw pages (warc).")."""
    groups = []
    for writes, label in WRITES_HELP.items():
        names = [name for name, export_format in EXPORT_FORMATS.items() if export_format.writes == writes]
        if names:
            groups.append(f"{label} ({', '.join(names)})")
    listed = ", ".join(groups[:-1]) + " or " + groups[-1] if len(groups) > 1 else "".join(groups)
    return f"What to write: {listed}."


def _load(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


for _format in (
    ExportFormat("json", "records", ".json", "application/json", "scraper.export:write_json"),
    ExportFormat("jsonl", "records", ".jsonl", "application/jsonl", "scraper.export:write_jsonl"),
    ExportFormat("csv", "records", ".csv", "text/csv", "scraper.export:write_csv", excel=True),
    ExportFormat("markdown", "articles", ".md", "text/markdown", "scraper.documents:write_markdown",
                 one_file_each=True, file_writer="scraper.documents:write_markdown_file"),
    ExportFormat("txt", "articles", ".txt", "text/plain", "scraper.documents:write_text", one_file_each=True),
    ExportFormat("csl-json", "references", ".json", "application/vnd.citationstyles.csl+json",
                 "scraper.citations:write_csl_json", one_file_each=True),
    ExportFormat("ris", "references", ".ris", "application/x-research-info-systems", "scraper.citations:write_ris",
                 one_file_each=True),
    ExportFormat("bibtex", "references", ".bib", "application/x-bibtex", "scraper.citations:write_bibtex",
                 one_file_each=True),
    ExportFormat("warc", "pages", ".warc.gz", "application/warc", "scraper.warc:export_warc"),
):
    register(_format)
