"""Articles as documents to read offline and to cite: Markdown and plain text (`scrape export --format markdown`,
`--format txt`), one document for all the articles or one file per article.

Each article gives its title, kicker, dates, authors, teaser, body, dossier, whether it is reserved to
subscribers (the body is then the free part), the source URL and when the archive last fetched it (the
consultation date of a citation). Dates are shown as the record has them, more readably:
`2018-03-12 10:45 (UTC+01:00)`. Authors are joined by AUTHOR_SEPARATOR, as everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TextIO
from urllib.parse import quote

from scraper.models import AUTHOR_SEPARATOR
from scraper.site import path_of

DOCUMENT_FORMATS: tuple[str, ...] = ("markdown", "txt")
EXTENSIONS = {"markdown": ".md", "txt": ".txt"}
# What a URL keeps as it is in Markdown: its reserved characters and escapes, none of < > ( ) " ' ` backslash space
URL_SAFE = "/:?#[]@!$&*+,;=%~"
# Names Windows keeps for devices, with any extension: an export names no file so.
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul",
                              *(f"{port}{n}" for port in ("com", "lpt") for n in range(1, 10))})
_SEPARATORS = {"markdown": "\n---\n\n", "txt": "\n" + "-" * 72 + "\n\n"}


def write_document(records: Iterable[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """The articles one after the other in one document (a rule between two); returns how many."""
    render = RENDERERS[fmt]
    count = 0
    for record in records:
        out.write((_SEPARATORS[fmt] if count else "") + render(record))
        count += 1
    return count


def file_name(record: dict[str, Any], fmt: str, taken: set[str]) -> str:
    """A file name for the article, from its id and its URL's slug (`554402-la-telegestion-de.md`), unique
    among `taken` (which it joins)."""
    slug = re.sub(r"[^a-z0-9]+", "-", path_of(record.get("url")).rstrip("/").rsplit("/", 1)[-1].lower()).strip("-")
    site_id = str(record.get("site_id") or "")
    stem = "-".join(part for part in (site_id, slug if slug != site_id else "") if part)[:100] or "article"
    if stem in WINDOWS_RESERVED:  # `con.md` cannot be opened on Windows, whatever its case and extension
        stem += "-article"
    name, number = stem + EXTENSIONS[fmt], 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}{EXTENSIONS[fmt]}"
    taken.add(name)
    return name


def render_markdown(record: dict[str, Any]) -> str:
    lines = [f"# {_escape(record.get('title') or '(no title)')}", ""]
    if record.get("kicker"):
        lines += [f"*{_escape(record['kicker'])}*", ""]
    lines += [f"- {label}: {value}" for label, value in _facts(record, _markdown_link)]
    if record.get("teaser"):
        lines += ["", f"**{_escape(record['teaser'])}**"]
    for block in _blocks(record.get("body")):
        lines += ["", _escape_block(block)]
    return "\n".join(lines) + "\n"


def render_text(record: dict[str, Any]) -> str:
    title = record.get("title") or "(no title)"
    lines = [title, "=" * min(len(title), 72)]
    if record.get("kicker"):
        lines.append(record["kicker"])
    lines.append("")
    lines += [f"{label}: {value}" for label, value in _facts(record, _text_link)]
    if record.get("teaser"):
        lines += ["", record["teaser"]]
    for block in _blocks(record.get("body")):
        lines += ["", block]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {"markdown": render_markdown, "txt": render_text}


def _facts(record: dict[str, Any], link: Callable[[str, str | None], str]) -> list[tuple[str, str]]:
    """The lines a citation needs, in order, leaving out what the record does not have."""
    dossier = record.get("dossier") or {}
    paywall = record.get("paywall") or {}
    facts = [
        ("Published", _moment(record.get("published_at"))),
        ("Updated", _moment(record.get("updated_at"))),
        ("Authors", AUTHOR_SEPARATOR.join(record.get("authors") or [])),
        ("Dossier", link(dossier["title"], dossier.get("url")) if dossier.get("title") else ""),
        ("Reserved to subscribers", "yes: the text below is the free part" if paywall.get("is_paywalled") else ""),
        ("Source", link(record["url"], record["url"])),
        ("Archived", _moment(record.get("archived_at"))),
    ]
    return [(label, value) for label, value in facts if value]


def _moment(value: str | None) -> str:
    """'2018-03-12T10:45:00+01:00' -> '2018-03-12 10:45 (UTC+01:00)'; a date as it is."""
    if not value:
        return ""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?([+-]\d\d:\d\d|Z)?", value)
    if not match:
        return value
    day, time, offset = match.groups()
    zone = "UTC" if offset in ("Z", "+00:00") else (f"UTC{offset}" if offset else "")
    return f"{day} {time}" + (f" ({zone})" if zone else "")


def _blocks(body: str | None) -> list[str]:
    return [block.strip() for block in (body or "").split("\n\n") if block.strip()]


def _markdown_link(text: str, url: str | None) -> str:
    """A link to an http(s) `url`, percent-encoded so that no character of it ends the link or makes HTML
    (`"><img …>` in a URL stays in the link); any other URL is shown as escaped text."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return _escape(text if text != url else (url or ""))
    target = quote(url, safe=URL_SAFE)
    return f"<{target}>" if text == url else f"[{_escape(text)}]({target})"


def _text_link(text: str, url: str | None) -> str:
    return text if not url or text == url else f"{text} <{url}>"


def _escape(text: str) -> str:
    """Text that Markdown shows as it is (no emphasis, link or HTML from the article's own characters)."""
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)


def _escape_block(block: str) -> str:
    """A paragraph that cannot turn into a heading, a list or a quote."""
    escaped = _escape(block)
    escaped = re.sub(r"^(\s*)([#>+-])", r"\1\\\2", escaped, flags=re.MULTILINE)
    return re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", escaped, flags=re.MULTILINE)
