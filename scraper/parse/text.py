"""Whitespace normalisation and small text helpers shared by the page parsers."""

from __future__ import annotations

import html

from selectolax.lexbor import LexborNode


def normalise(text: str | None) -> str:
    """Collapse every run of whitespace (NBSP and the other Unicode spaces included) to one space, strip the
    ends, drop zero-width spaces. (str.split is several times faster than a regex here.)

    A text normal but for its ends (the usual paragraph or title) is stripped, without splitting it into words:
    a printable text has no whitespace but the plain space (every other space and the zero-width space are
    not printable), so once stripped it is normal when no space doubles."""
    if not text:
        return ""
    stripped = text.strip()
    if stripped.isprintable() and "  " not in stripped:
        return stripped
    if "\u200b" in text:
        text = text.replace("\u200b", "")
    return " ".join(text.split())


def unescape(text: str | None) -> str:
    """Decode HTML entities left in attribute-like strings (JSON-LD, meta content), then normalise."""
    return normalise(html.unescape(text or ""))


def node_text(node: LexborNode | None) -> str:
    """The visible text of an inline-level node, entities decoded and whitespace normalised."""
    if node is None:
        return ""
    # Its text nodes joined (lexbor's textContent, less Python than text()); for one text node (a title, a label), as
    # fast as reading that node after finding it alone.
    return normalise(node.text_lexbor())


def or_none(text: str | None) -> str | None:
    """Empty strings become None, so absent fields are null in the record."""
    return text or None


def has_class(node: LexborNode | None, name: str) -> bool:
    if node is None:
        return False
    classes = (node.attributes.get("class") or "").split()
    return name in classes
