"""Articles as documents to read offline and to cite: Markdown and plain text (`scrape export --format markdown`,
`--format txt`), one document for all the articles or one file per article.

Each article gives its title, kicker, dates, authors, teaser, body, dossier, whether it is reserved to
subscribers (the body is then the free part), the source URL and when the archive last fetched it (the
consultation date of a citation), labelled in French (`lang="fr"`, the default) or English (`"en"`). Dates are
shown as the record has them, more readably: `2018-03-12 10:45 (UTC+01:00)`. Authors are joined by
AUTHOR_SEPARATOR, as everywhere else.

An article's own Markdown file begins with a YAML front matter block (title, kicker, author, date, updated, url,
dossier, themes, paywalled, archived, lang) that pandoc and static-site tools read; its values are JSON scalars,
lists and maps, which YAML reads as they are. One document of several articles has none (pandoc would merge
their blocks into one, other Markdown readers would show them as text): its articles give the same facts in
their lists. The record keeps the article's text as paragraphs (its subheadings
among them, unmarked): a short line without final punctuation followed by a paragraph is written as a `##`
subheading.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TextIO
from urllib.parse import quote

from scraper.exporters import PLAIN, WriteOptions
from scraper.models import AUTHOR_SEPARATOR
from scraper.site import path_of

# What a URL keeps as it is in Markdown: its reserved characters and escapes, none of < > ( ) [ ] " ` backslash space
URL_SAFE = "/:?#@!$&'*+,;=%~"
# Names Windows keeps for devices, with any extension: an export names no file so.
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul",
                              *(f"{port}{n}" for port in ("com", "lpt") for n in range(1, 10))})

LABELS: dict[str, dict[str, str]] = {
    "fr": {"published": "Publié le", "updated": "Mis à jour le", "author": "Auteur", "authors": "Auteurs",
           "dossier": "Dossier", "paywall": "Réservé aux abonnés",
           "paywalled": "oui — le texte ci-dessous est la partie en accès libre", "source": "Source",
           "archived": "Archivé le", "untitled": "(sans titre)", "colon": " : "},
    "en": {"published": "Published", "updated": "Updated", "author": "Author", "authors": "Authors",
           "dossier": "Dossier", "paywall": "Reserved to subscribers",
           "paywalled": "yes — the text below is the free part", "source": "Source", "archived": "Archived",
           "untitled": "(no title)", "colon": ": "},
}


def write_markdown(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN) -> int:
    """The articles in Markdown, one after the other in one document (a rule between two); returns how many."""
    return _write_document(records, out, render_markdown, "\n---\n\n", options.lang)


def write_text(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN) -> int:
    """The articles as plain text, one after the other in one document (a rule between two); returns how many."""
    return _write_document(records, out, render_text, "\n" + "-" * 72 + "\n\n", options.lang)


def write_markdown_file(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN) -> int:
    """An article as a Markdown file of its own, opened by its YAML front matter."""
    count = 0
    for record in records:
        out.write("\n".join(front_matter(record, options.lang)) + "\n\n" + render_markdown(record, options.lang))
        count += 1
    return count


def _write_document(records: Iterable[dict[str, Any]], out: TextIO, render: Callable[[dict[str, Any], str], str],
                    separator: str, lang: str) -> int:
    count = 0
    for record in records:
        out.write((separator if count else "") + render(record, lang))
        count += 1
    return count


def file_name(record: dict[str, Any], extension: str, taken: set[str]) -> str:
    """A file name for the article, from its id and its URL's slug (`554402-la-telegestion-de.md`), unique
    among `taken` (which it joins)."""
    slug = re.sub(r"[^a-z0-9]+", "-", path_of(record.get("url")).rstrip("/").rsplit("/", 1)[-1].lower()).strip("-")
    site_id = str(record.get("site_id") or "")
    stem = "-".join(part for part in (site_id, slug if slug != site_id else "") if part)[:100] or "article"
    if stem in WINDOWS_RESERVED:  # `con.md` cannot be opened on Windows, whatever its case and extension
        stem += "-article"
    name, number = stem + extension, 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}{extension}"
    taken.add(name)
    return name


def render_markdown(record: dict[str, Any], lang: str = "fr") -> str:
    labels = LABELS[lang]
    lines = [f"# {_escape(record.get('title') or labels['untitled'])}", ""]
    if record.get("kicker"):
        lines += [f"*{_escape(record['kicker'])}*", ""]
    lines += [f"- {label}{labels['colon']}{value}" for label, value in _facts(record, _markdown_link, labels)]
    if record.get("teaser"):
        lines += ["", f"**{_escape(record['teaser'])}**"]
    blocks = _blocks(record.get("body"))
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        lines += ["", f"## {_escape(block)}" if is_subheading(block, following) else _escape_block(block)]
    return "\n".join(lines) + "\n"


def render_text(record: dict[str, Any], lang: str = "fr") -> str:
    labels = LABELS[lang]
    title = record.get("title") or labels["untitled"]
    lines = [title, "=" * min(len(title), 72)]
    if record.get("kicker"):
        lines.append(record["kicker"])
    lines.append("")
    lines += [f"{label}{labels['colon']}{value}" for label, value in _facts(record, _text_link, labels)]
    if record.get("teaser"):
        lines += ["", record["teaser"]]
    for block in _blocks(record.get("body")):
        lines += ["", block]
    return "\n".join(lines) + "\n"


def front_matter(record: dict[str, Any], lang: str = "fr") -> list[str]:
    """The YAML front matter block of an article, in lines: what it is, for pandoc and static-site tools."""
    dossier = record.get("dossier") or {}
    fields = {
        "title": record.get("title"),
        "kicker": record.get("kicker"),
        "author": record.get("authors") or None,
        "date": record.get("published_at"),
        "updated": record.get("updated_at"),
        "url": record.get("url"),
        "dossier": {"title": dossier.get("title"), "url": dossier.get("url")} if dossier.get("title") else None,
        "themes": record.get("themes") or None,
        "paywalled": bool((record.get("paywall") or {}).get("is_paywalled")),
        "archived": record.get("archived_at"),
        "lang": "fr-FR" if lang == "fr" else "en",
    }
    return ["---", *(f"{key}: {_yaml(value)}" for key, value in fields.items() if value is not None), "---"]


def _yaml(value: Any) -> str:
    """A value as YAML reads it: JSON (a subset of YAML's flow style), line and paragraph separators escaped."""
    return json.dumps(value, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def is_subheading(block: str, following: str | None) -> bool:
    """Whether a block of the text is a subheading: one short line, no final punctuation, a paragraph after."""
    return (following is not None and len(block) <= 100 and "\n" not in block
            and not re.search(r"[.!?…:;,»\")\]]$", block) and block[:1].isupper())


def _facts(record: dict[str, Any], link: Callable[[str, str | None], str],
           labels: dict[str, str]) -> list[tuple[str, str]]:
    """The lines a citation needs, in order, leaving out what the record does not have."""
    dossier = record.get("dossier") or {}
    paywall = record.get("paywall") or {}
    authors = record.get("authors") or []
    facts = [
        (labels["published"], _moment(record.get("published_at"))),
        (labels["updated"], _moment(record.get("updated_at"))),
        (labels["author" if len(authors) == 1 else "authors"], AUTHOR_SEPARATOR.join(authors)),
        (labels["dossier"], link(dossier["title"], dossier.get("url")) if dossier.get("title") else ""),
        (labels["paywall"], labels["paywalled"] if paywall.get("is_paywalled") else ""),
        (labels["source"], link(record["url"], record["url"])),
        (labels["archived"], _moment(record.get("archived_at"))),
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
    target = _safe_url(url)
    return f"<{target}>" if text == url else f"[{_escape(text)}]({target})"


def _safe_url(url: str) -> str:
    """A URL that stays one link in Markdown: what would end it or make HTML of it percent-encoded."""
    return quote(url, safe=URL_SAFE)


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
