"""Articles as references for the tools people cite with: CSL-JSON (Zotero, pandoc's citeproc, citeproc-py), RIS
(Zotero, EndNote, Mendeley) and BibTeX (LaTeX, biblatex), as `scrape export --format csl-json|ris|bibtex` writes them.

Each reference is an article of the magazine La Gazette des communes (its Club Techni.Cités): title, authors as
family and given names ("Hélène Girard" → Girard, Hélène; "Jean de La Fontaine" → de La Fontaine, Jean: a
particle begins the family name), the date it was published, its URL, the date the archive fetched it (the
consultation date), the teaser as abstract, the themes as keywords, the kicker as section, and a note when the
article is reserved to subscribers (the archive then holds the free part of it).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from scraper.exporters import PLAIN, WriteOptions

CONTAINER = "La Gazette des communes — Club Techni.Cités"
PAYWALL_NOTE = "Réservé aux abonnés : le texte archivé est la partie en accès libre"

# Words that begin a family name after the given names: French, Breton, Dutch, German, Italian particles.
_PARTICLES = frozenset({"de", "d'", "d’", "du", "des", "la", "le", "les", "van", "von", "der", "den", "di", "da",
                        "del", "della", "dos", "ter"})
_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")


def split_name(name: str) -> dict[str, str]:
    """An author's name as CSL's parts: {"family", "given"}, with a lower-case particle ("de", "du", "van")
    as "non-dropping-particle" and a capitalised one ("Le", "La", "De") kept in the family name; a name of
    one word is {"literal"}."""
    words = name.split()
    if len(words) < 2:
        return {"literal": name.strip()}
    start = next((index for index, word in enumerate(words[1:-1], 1) if _is_particle(word)), len(words) - 1)
    given, family = words[:start], words[start:]
    parts = {"family": " ".join(family), "given": " ".join(given)}
    elided = re.match(r"(d['’])(.+)", family[0])
    if len(family) == 1 and elided:  # "Valéry d'Estaing"
        return {"family": elided.group(2), "given": parts["given"], "non-dropping-particle": elided.group(1)}
    if family[0].islower():
        particle = [word for word in family[:-1] if word.islower()]
        rest = family[len(particle):]
        return {"family": " ".join(rest), "given": parts["given"], "non-dropping-particle": " ".join(particle)}
    return parts


def _is_particle(word: str) -> bool:
    return word.lower() in _PARTICLES or bool(re.match(r"d['’]\w", word))


def sorted_name(parts: dict[str, str]) -> str:
    """'family, given' as RIS and BibTeX write a name (particle first: 'de La Fontaine, Jean')."""
    if "literal" in parts:
        return parts["literal"]
    particle = parts.get("non-dropping-particle", "")
    joint = "" if particle.endswith(("’", "'")) else " "
    family = f"{particle}{joint}{parts['family']}" if particle else parts["family"]
    return f"{family}, {parts['given']}"


def citation_key(record: dict[str, Any]) -> str:
    """`gazette554402`, from the site's id (else from the URL's hash): stable from one export to the next."""
    if record.get("site_id"):
        return f"gazette{record['site_id']}"
    return "gazette-" + hashlib.sha1(record["url"].encode()).hexdigest()[:10]


def csl_item(record: dict[str, Any]) -> dict[str, Any]:
    """The article as a CSL-JSON item."""
    item: dict[str, Any] = {
        "id": citation_key(record),
        "type": "article-magazine",
        "title": record.get("title") or "",
        "container-title": CONTAINER,
        "author": [split_name(name) for name in record.get("authors") or []],
        "issued": _date_parts(record.get("published_at") or record.get("updated_at")),
        "URL": record["url"],
        "accessed": _date_parts(record.get("archived_at")),
        "abstract": record.get("teaser"),
        "keyword": ", ".join(record.get("themes") or []) or None,
        "section": record.get("kicker"),
        "note": _note(record),
        "language": "fr",
    }
    return {key: value for key, value in item.items() if value not in (None, "", [])}


def _date_parts(value: str | None) -> dict[str, list[list[int]]] | None:
    match = _ISO_DATE.match(value or "")
    return {"date-parts": [[int(part) for part in match.groups()]]} if match else None


def _note(record: dict[str, Any]) -> str | None:
    return PAYWALL_NOTE if (record.get("paywall") or {}).get("is_paywalled") else None


def write_csl_json(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN) -> int:
    """One CSL-JSON array of the articles, an item per line."""
    count = 0
    for record in records:
        out.write(("[\n" if count == 0 else ",\n") + json.dumps(csl_item(record), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


def ris_record(record: dict[str, Any]) -> str:
    """The article as an RIS record (type MGZN: magazine article), lines ending with CRLF as RIS asks."""
    published = _ISO_DATE.match(record.get("published_at") or record.get("updated_at") or "")
    archived = _ISO_DATE.match(record.get("archived_at") or "")
    fields: list[tuple[str, str | None]] = [
        ("TY", "MGZN"),
        ("TI", record.get("title")),
        *[("AU", sorted_name(split_name(name))) for name in record.get("authors") or []],
        ("T2", CONTAINER),
        ("PY", published.group(1) if published else None),
        ("DA", "/".join(published.groups()) if published else None),
        ("UR", record["url"]),
        ("Y2", "/".join(archived.groups()) if archived else None),
        ("AB", record.get("teaser")),
        *[("KW", theme) for theme in record.get("themes") or []],
        ("SE", record.get("kicker")),
        ("N1", _note(record)),
        ("LA", "fr"),
        ("ID", citation_key(record)),
    ]
    lines = [f"{tag}  - {_one_line(value)}" for tag, value in fields if value]
    return "\r\n".join([*lines, "ER  - ", ""])


def write_ris(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN) -> int:
    return _write_each(records, out, ris_record, "\r\n")


def bibtex_entry(record: dict[str, Any]) -> str:
    """The article as a BibTeX @article entry (biblatex reads its date, urldate and keywords as well)."""
    published = _ISO_DATE.match(record.get("published_at") or record.get("updated_at") or "")
    archived = _ISO_DATE.match(record.get("archived_at") or "")
    fields: list[tuple[str, str | None]] = [
        ("author", " and ".join(_bibtex_name(split_name(name)) for name in record.get("authors") or [])),
        ("title", "{" + _bibtex(record.get("title") or "") + "}"),  # braced twice: styles keep its case
        ("journal", _bibtex(CONTAINER)),
        ("year", published.group(1) if published else None),
        ("month", str(int(published.group(2))) if published else None),
        ("date", published.group(0) if published else None),
        ("url", _bibtex_url(record["url"])),
        ("urldate", archived.group(0) if archived else None),
        ("abstract", _bibtex(record.get("teaser") or "")),
        ("keywords", _bibtex(", ".join(record.get("themes") or []))),
        ("note", _bibtex(_note(record) or "")),
        ("language", "french"),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@article{{{citation_key(record)},\n{body}\n}}\n"


def write_bibtex(records: Iterable[dict[str, Any]], out: TextIO, options: WriteOptions = PLAIN) -> int:
    return _write_each(records, out, bibtex_entry, "\n")


def _write_each(records: Iterable[dict[str, Any]], out: TextIO, render: Callable[[dict[str, Any]], str],
                between: str) -> int:
    """Each record rendered, `between` two of them; returns how many."""
    count = 0
    for record in records:
        out.write((between if count else "") + render(record))
        count += 1
    return count


def _bibtex_name(parts: dict[str, str]) -> str:
    """'Family, Given'; a one-word name braced, so that BibTeX does not take it for a family name to split."""
    if "literal" in parts:
        return "{" + _bibtex(parts["literal"]) + "}"
    return _bibtex(sorted_name(parts))


_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                   "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _bibtex(text: str) -> str:
    """Text for a BibTeX field: UTF-8 as it is (biber, bibtexparser and pandoc read it), LaTeX's special
    characters escaped, on one line."""
    return "".join(_BIBTEX_SPECIAL.get(char, char) for char in _one_line(text))


def _bibtex_url(url: str) -> str:
    """A URL as the url field holds it (verbatim: only braces and a backslash would end it)."""
    return re.sub(r"[{}\\]", lambda match: f"%{ord(match.group()):02X}", url)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())
