"""Bytes given to parse_page go to lexbor as they are only when decode_html would read them as UTF-8 (no BOM):
every other page is decoded first, and each gives the record of its decoded text."""

from __future__ import annotations

import codecs

import pytest
from conftest import SAMPLES

from scraper.parse import decode_html, parse_page
from scraper.parse.decode import reads_as_utf8

_PAGE = ("<html><head>{meta}<script>var gm_js_current_page_data = {{'rubrique': 'Été', 'is_single': true}};</script>"
         "</head><body><article><h1>Déjà l’été €</h1><p>{filler}Le texte.</p></article></body></html>")
_FILLER = "Une phrase accentuée, répétée. " * 1200  # over 32 KB: a character split between the pieces checked
_META = {"none": "", "utf-8": '<meta charset="utf-8">', "iso-8859-1": '<meta charset="iso-8859-1">',
         "windows-1252": '<meta charset="windows-1252">', "utf-16": '<meta charset="utf-16">',
         "unknown": '<meta charset="x-unknown">'}
_BODIES = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with a BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "windows-1252": lambda text: text.encode("windows-1252"),
    "utf-8 cut in a character": lambda text: text.encode("utf-8")[:-len("</html>")] + "é".encode()[:1],
    "ascii": lambda text: text.encode("ascii", "xmlcharrefreplace"),
}
_HEADERS = [None, "text/html; charset=utf-8", "text/html; charset=iso-8859-1", "text/html; charset=shift_jis"]


@pytest.mark.parametrize("meta", _META)
@pytest.mark.parametrize("body", _BODIES)
@pytest.mark.parametrize("content_type", _HEADERS)
def test_bytes_read_as_utf8_only_when_decoding_says_so(meta: str, body: str, content_type: str | None) -> None:
    text = _PAGE.format(meta=_META[meta], filler=_FILLER)
    content = _BODIES[body](text)
    decoded, encoding = decode_html(content, content_type)
    as_is = reads_as_utf8(content, content_type)
    record = parse_page(content, content_type=content_type)
    assert record == parse_page(decoded, content_type=content_type)
    if as_is:
        assert encoding == "utf-8" and decoded.encode("utf-8") == content
        # an article by its page data ('is_single'), read from the bytes past an accented character
        assert (type(record).__name__, record.title) == ("Article", "Déjà l’été €")


def test_an_ordinary_utf8_page_goes_to_lexbor_as_it_is() -> None:
    """The common case takes the short way: the samples in UTF-8, as their markup says or as a server says (its
    default 'iso-8859-1' too)."""
    for path in sorted(SAMPLES.glob("*.html")):
        content = path.read_bytes()
        for content_type in (None, "text/html; charset=UTF-8", "text/html; charset=iso-8859-1"):
            _, encoding = decode_html(content, content_type)
            assert reads_as_utf8(content, content_type) == (encoding == "utf-8"), (path.name, content_type)
