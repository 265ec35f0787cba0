"""Caps on what lexbor is given: at most MAX_ATTRIBUTES attributes on one element, elements nested at most
MAX_DEPTH deep. Never raises.

lexbor's time grows with the square of both: one tag with 100,000 attributes (0.9 MB) held it for 17 s, 200,000
for 92 s, 100,000 nested `div`s for 16 s. Browsers cap the depth of what they build (Blink at 512); lexbor does
not, so the markup is capped before lexbor sees it.

Reading every tag in Python costs as much as a parse, so a page is first screened, in C, on one window of
WINDOW bytes every STRIDE bytes (about 1 % of a parse on the site's pages):
- a window without '<' or '>' may be inside a very long tag: the tag around it is read as the HTML tokenizer
  reads it (attribute names, quoted and unquoted values);
- a window with many more '>' than '<' may be inside a tag whose quoted values hold '>';
- a window with many more start tags than end tags, or a page whose windows add up to more than MAX_DEPTH open
  elements (then counted exactly), may nest too deep.
Only then is the page rewritten (`_capped`): the attributes past MAX_ATTRIBUTES of a tag are dropped, and so
are the start tags that would open an element deeper than MAX_DEPTH, with their end tags (their text stays).
A page crafted to slip between the windows is not capped: what protects a crawl from it is the time bound of
one parse (scraper.crawl.parsing).
"""

from __future__ import annotations

import re
from collections import Counter

MAX_ATTRIBUTES = 256  # per element (lexbor: 100,000 on one tag took 17 s)
MAX_DEPTH = 512  # open elements (Blink's cap on the depth of the tree its parser builds)
STRIDE = 8192  # bytes between two screened windows
WINDOW = 256  # bytes of each window
MANY = WINDOW // 16  # '>' over '<', or start tags over end tags, in one window, that mean a closer look
CAPPED_WARNING = (f"markup over the parser's caps left out (more than {MAX_ATTRIBUTES} attributes on an element,"
                  f" or elements nested deeper than {MAX_DEPTH})")

_WS = "\t\n\f\r "
# One attribute as the HTML tokenizer reads it: a name (which may start with '='), then optionally '=' and a
# value: double-quoted, single-quoted, or unquoted up to whitespace or '>'. Possessive and atomic: no
# backtracking, one reading, the tokenizer's.
_ATTRIBUTE = (rf"(?>(?:=|[^{_WS}/>=])[^{_WS}/>=]*+(?:[{_WS}]*+=[{_WS}]*+(?:\"[^\"]*+\"|'[^']*+'|[^{_WS}>]*+))?)")
_SEPARATORS = rf"[{_WS}/]*+"
_PATTERNS = {
    "tag_name": rf"<(/?)([A-Za-z][^{_WS}/>]*+)",
    "some_attributes": rf"(?:{_SEPARATORS}{_ATTRIBUTE}){{0,{MAX_ATTRIBUTES}}}+",
    "one_more": rf"{_SEPARATORS}{_ATTRIBUTE}",
    "all_attributes": rf"(?:{_SEPARATORS}{_ATTRIBUTE})*+{_SEPARATORS}",
}
_TAG_NAME, _SOME_ATTRIBUTES, _ONE_MORE, _ALL_ATTRIBUTES = (re.compile(p) for p in _PATTERNS.values())
_TAG_NAME_BYTES, _SOME_ATTRIBUTES_BYTES, _ONE_MORE_BYTES = (
    re.compile(_PATTERNS[name].encode()) for name in ("tag_name", "some_attributes", "one_more"))
_COMMENT_END = re.compile(r"--!?>")
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                  "track", "wbr", "basefont", "bgsound", "frame", "keygen"})
RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_RAW_TEXT_END = {name: re.compile(rf"</{name}[{_WS}/>]", re.IGNORECASE) for name in RAW_TEXT}
# Start tags that close an open element of the same name (<p>…<p>, <li>…<li>): a page that never closes them
# is not deep.
SIBLINGS = frozenset({"p", "li", "dt", "dd", "option", "tr", "td", "th"})


def cap_markup(text: str, content: bytes | str = "", encoding: str = "str") -> str:
    """`text` itself when it is within the caps, else a copy with what is over them left out.

    `content` and `encoding` are the page's bytes and what they were decoded from (`decode_html`): bytes in
    an encoding that writes '<', '>' and the tag names as ASCII are screened as they are, which is faster."""
    ascii_compatible = isinstance(content, bytes) and not encoding.lower().startswith(("utf-16", "utf-32"))
    data = content if ascii_compatible else text.encode("utf-8", "surrogatepass")
    if not over_caps(data):
        return text
    return _capped(text)


# --- the screen -----------------------------------------------------------------------------------------

def over_caps(data: bytes) -> bool:
    """Whether one of the windows of `data` (the page's bytes, in an encoding that writes '<', '>' and the tag names
    as ASCII) says a tag may be too long or the nesting too deep: then cap_markup rewrites the page's text."""
    estimate = 0  # start tags over end tags in the windows seen
    depth_checked = False
    raw_text = _RawText(data)
    for start in range(0, len(data), STRIDE):
        end = start + WINDOW
        opened, closed = data.count(b"<", start, end), data.count(b">", start, end)
        ended = data.count(b"</", start, end)
        if closed - opened > MANY or (opened == closed == 0 and _inside_long_tag(data, start, raw_text)):
            return True
        estimate += opened - 2 * ended
        if not depth_checked and (opened - 2 * ended > MANY or estimate * (STRIDE // WINDOW) > 4 * MAX_DEPTH):
            if _deeper_than_cap(data):
                return True
            depth_checked = True
    return False


def _inside_long_tag(data: bytes, start: int, raw_text: _RawText) -> bool:
    """Whether the tag that starts at the last '<' before `start` (a window without '<' or '>') has more than
    MAX_ATTRIBUTES attributes, read as the HTML tokenizer reads them (a '>' in a quoted value does not end it).
    In a paragraph that tag is its <p>, read at once; in a script's code, nothing is."""
    if raw_text.inside(start):  # asked first: read as attributes, a script's code is costly to go through
        return False
    opening = data.rfind(b"<", 0, start)
    name = _TAG_NAME_BYTES.match(data, opening) if opening >= 0 else None
    if name is None:
        return False
    attributes = _SOME_ATTRIBUTES_BYTES.match(data, name.end())
    return attributes is not None and _ONE_MORE_BYTES.match(data, attributes.end()) is not None


class _RawText:
    """Whether a position is inside a <script> or <style>, asked at positions that only grow: the page is read
    once, forward, from the last position asked, so the screen stays linear in the page's size."""

    _TAGS = re.compile(rb"<(/?)(script|style)", re.IGNORECASE)
    _LONGEST = len(b"</script")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._read_to = 0  # every tag ending before this position has been applied
        self._open = {b"script": False, b"style": False}

    def inside(self, position: int) -> bool:
        last_end = self._read_to
        for tag in self._TAGS.finditer(self._data, self._read_to, position):
            self._open[tag.group(2).lower()] = not tag.group(1)
            last_end = tag.end()
        # A tag cut by `position` is read next time; one read again sets the state it set before.
        self._read_to = max(last_end, position - self._LONGEST + 1, self._read_to)
        return any(self._open.values())


def _deeper_than_cap(data: bytes) -> bool:
    """Counted exactly, chunk by chunk: whether start tags may ever outnumber end tags by MAX_DEPTH."""
    chunk = 2048
    depth = 0
    for start in range(0, len(data), chunk):
        end = start + chunk
        opened, ended = data.count(b"<", start, end), data.count(b"</", start, end)
        if depth + opened - ended > MAX_DEPTH:
            return True
        depth = max(0, depth + opened - 2 * ended)
    return False


# --- the rewrite ----------------------------------------------------------------------------------------

def _capped(text: str) -> str:
    """`text` with the attributes past MAX_ATTRIBUTES of each tag, and the start tags deeper than MAX_DEPTH
    (and their end tags), left out; tags are read as the HTML tokenizer reads them."""
    kept: list[str] = []
    copied = 0  # text[:copied] is decided
    position = 0
    open_names: list[str] = []
    dropped: Counter[str] = Counter()
    while (opening := text.find("<", position)) >= 0:
        if text.startswith("<!--", opening):
            end = _COMMENT_END.search(text, opening + 2)  # from "--": "<!-->" closes at once
            position = end.end() if end else len(text)
            continue
        name_match = _TAG_NAME.match(text, opening)
        if name_match is None:
            position = opening + 1
            continue
        closing, name = name_match.group(1) == "/", name_match.group(2).lower()
        first = _SOME_ATTRIBUTES.match(text, name_match.end())
        head_end = first.end() if first else name_match.end()
        attributes_end = head_end
        if _ONE_MORE.match(text, head_end):
            attributes_end = _ALL_ATTRIBUTES.match(text, head_end).end()  # type: ignore[union-attr]
        position = text.find(">", attributes_end)
        position = len(text) if position < 0 else position + 1
        if _drop(name, closing, open_names, dropped):
            kept.append(text[copied:opening])
            copied = position
            continue
        if attributes_end > head_end:  # keep the first MAX_ATTRIBUTES attributes, not the others
            kept.append(text[copied:head_end])
            copied = attributes_end
        if not closing and name in RAW_TEXT:
            end = _RAW_TEXT_END[name].search(text, position)
            position = end.start() if end else len(text)
    kept.append(text[copied:])
    return "".join(kept)


def _drop(name: str, closing: bool, open_names: list[str], dropped: Counter[str]) -> bool:
    """Follow the open elements; True when this tag is left out (too deep, or the end tag of one that was)."""
    if closing:
        if dropped[name]:
            dropped[name] -= 1
            return True
        if name in open_names:
            del open_names[len(open_names) - 1 - open_names[::-1].index(name):]
        return False
    if name in VOID:
        return False
    if name in SIBLINGS and open_names and open_names[-1] == name:
        open_names.pop()
    if len(open_names) >= MAX_DEPTH:
        dropped[name] += 1
        return True
    open_names.append(name)
    return False
