"""Bytes to text: HTTP charset, then BOM, then <meta charset>, then windows-1252.

A page declared windows-1252 or one of its aliases (iso-8859-1, a common server default) whose bytes are valid
UTF-8 with non-ASCII characters is read as UTF-8: that is what it is.

lexbor fed raw cp1252 bytes produces U+FFFD, so every page is decoded here before parsing. Labels that
browsers treat as windows-1252 (iso-8859-1, latin1, us-ascii…) are decoded as windows-1252 too, exactly as
the WHATWG Encoding standard says: old pages of the site declare iso-8859-1 and contain cp1252 quotes.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_WINDOWS_1252_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii",
                         "ansi_x3.4-1968", "cp819", "ibm819", "iso_8859-1", "windows-1252", "cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Bytes checked at a time by reads_as_utf8: the text of a piece is small enough for the allocator to reuse, where
# a page's whole text (hundreds of KB) is handed back to the system once freed and faulted in again for the next.
_PIECE = 16384


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def decode_html(content: bytes | str, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). Never raises: undecodable bytes become U+FFFD as a last resort."""
    if isinstance(content, str):
        return content, "str"
    for label, skip in _candidates(content, content_type):
        encoding = _python_codec(label)
        if encoding is None:
            continue
        if encoding == "windows-1252" and (text := _utf8_text(content)) is not None:
            return text, "utf-8"  # a server's default 'iso-8859-1' on a UTF-8 page: cp1252 text is never valid UTF-8
        try:
            return content[skip:].decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return content.decode("windows-1252", errors="replace"), "windows-1252"


def reads_as_utf8(content: bytes, content_type: str | None = None) -> bool:
    """Whether decode_html reads `content` as UTF-8 with no BOM to skip: then the bytes are the UTF-8 form of its
    text, and a parser can take them as they are. Told without building the text (the bytes are checked a piece
    at a time); False also when only decoding them in another encoding would tell."""
    if content.startswith(codecs.BOM_UTF8):
        return False
    for label, _ in _candidates(content, content_type):
        encoding = _python_codec(label)
        if encoding is None:
            continue
        if encoding == "windows-1252":  # as decode_html: UTF-8 when non-ASCII bytes all form valid UTF-8
            return not content.isascii() and _is_utf8(content)
        return encoding == "utf-8" and _is_utf8(content)
    return False


def _is_utf8(content: bytes) -> bool:
    """Whether `content` decodes as UTF-8 (strictly, as bytes.decode), checked a piece at a time: a character cut
    at the end of a piece is left to the next one, and the last piece must end whole."""
    view = memoryview(content)
    start = 0
    try:
        while start < len(view):
            end = start + _PIECE
            start += codecs.utf_8_decode(view[start:end], "strict", end >= len(view))[1]
    except UnicodeDecodeError:
        return False
    return True


def _utf8_text(content: bytes) -> str | None:
    """`content` decoded, when it has non-ASCII bytes and all of them form valid UTF-8 (text really written in
    windows-1252 with accents practically never does); else None."""
    if content.isascii():
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _candidates(content: bytes, content_type: str | None) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for bom, label in _BOMS:
        if content.startswith(bom):
            found.append((label, len(bom)))
    header = charset_from_content_type(content_type)
    if header:
        found.insert(0, (header, 0))
    meta = _META_CHARSET.search(content[:4096])
    if meta:
        found.append((meta.group(1).decode("ascii", "ignore"), 0))
    found.append(("utf-8", 0))
    found.append(("windows-1252", 0))
    return found


def _python_codec(label: str) -> str | None:
    label = label.strip().lower()
    if label in _WINDOWS_1252_ALIASES:
        return "windows-1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None
