"""The headers of each fetch, stored once for all the fetches that share them (`header_sets`).

A server answers every page with nearly the same headers (server, content type, cache policy…) and the tool
sends every request with the same ones (host, user agent, accept…): only a few values belong to one fetch
(its date, ETag, Last-Modified, length; a conditional request's If-None-Match). So a fetch names a *header
set* — its headers with `null` in place of the values that are its own — and keeps those values itself:

- response headers (a JSON object, `fetches.header_set_id` + `fetches.header_values`): the set is the object
  with null values, the fetch's own values an object by name; `json_patch(set, values)` puts them back in place;
- request headers (JSON pairs, in the order sent; `fetches.request_header_set_id` +
  `fetches.request_header_values`): the set is the pairs with `[name, null]`, the own values an object by
  the pair's position.

Which values are a fetch's own is learnt from the archive: those of OWN_RESPONSE / OWN_REQUEST always, and any
other value that differs from the newest set with the same header names (a WordPress `Link: <…?p=123>;
rel=shortlink`, a CDN's request id). A set is found by a hash of its header names (`names_hash`); a fetch uses
a set whose non-null values it all has, or adds a new one. Anything else stored as headers (JSON that is not an
object or pairs of strings) is kept verbatim as a set of its own.

The view `fetch_details` (scraper.archive.schema) gives every fetch with its headers whole, as `fetches`
held them before schema 7; `response_headers_sql` and `request_headers_sql` are its expressions, which the WARC
export reads too.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from scraper.archive.connection import Connection

# Values that are each response's or request's own, whatever the archive has seen (names in lower case).
OWN_RESPONSE = frozenset({"date", "etag", "last-modified", "content-length", "expires", "age", "content-md5",
                          "x-request-id", "request-id", "cf-ray", "x-amz-request-id", "x-amz-cf-id", "x-varnish",
                          "x-served-by", "x-timer", "server-timing"})
OWN_REQUEST = frozenset({"if-none-match", "if-modified-since", "referer", "content-length"})

Split = tuple[int | None, str | None]  # (header set id, the fetch's own values as JSON)


def response_headers_sql(fetches: str) -> str:
    """SQL: the response headers (JSON object) of the row `fetches` of the table fetches, whole."""
    header_set = f"(select headers from header_sets where header_sets.id = {fetches}.header_set_id)"
    return (f"(case when {fetches}.header_values is null then {header_set}"
            f" else json_patch({header_set}, {fetches}.header_values) end)")


def request_headers_sql(fetches: str) -> str:
    """SQL: the request headers (JSON pairs) of the row `fetches` of the table fetches, whole."""
    header_set = f"(select headers from header_sets where header_sets.id = {fetches}.request_header_set_id)"
    own = (f"json_array(json_extract(pair.value, '$[0]'),"
           f" json_extract({fetches}.request_header_values, '$.\"' || pair.key || '\"'))")
    pairs = (f"(select json_group_array(json(case when json_type(pair.value, '$[1]') = 'null' then {own}"
             f" else pair.value end)) from (select key, value from json_each({header_set}) order by key) as pair)")
    return f"(case when {fetches}.request_header_values is null then {header_set} else {pairs} end)"


class Headers:
    """The `header_sets` table: each set of headers stored once, shared by the fetches that had it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def store_response(self, headers: dict[str, str]) -> Split:
        """The header set of these response headers (added when new) and the values that are the fetch's own."""
        names = list(headers)
        own = self._own_names("response", names, list(headers.values()), OWN_RESPONSE)
        template = tuple((name, None if name in own else value) for name, value in headers.items())
        set_id = self._set_id(_names_hash("response", names), _template_text("response", template))
        values = {name: headers[name] for name in names if name in own}
        return set_id, _compact(values) if values else None

    def store_request(self, pairs: list[tuple[str, str]] | None) -> Split:
        """The header set of these request headers (pairs, as sent; None: none kept) and the fetch's own values."""
        if not pairs:
            return None, None
        names = [name for name, _ in pairs]
        own = self._own_names("request", names, [value for _, value in pairs], OWN_REQUEST)
        template = tuple((name, None if name in own else value) for name, value in pairs)
        set_id = self._set_id(_names_hash("request", names), _template_text("request", template))
        values = {str(index): value for index, (name, value) in enumerate(pairs) if name in own}
        return set_id, _compact(values) if values else None

    def store_text(self, kind: str, text: str | None) -> Split:
        """A fetch's headers as older archives stored them (JSON text: an object of responses' headers, pairs of
        requests'), split the same way; anything else is kept verbatim as a set of its own."""
        if text is None:
            return None, None
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if kind == "response" and isinstance(value, dict) and all(isinstance(item, str) for item in value.values()):
            return self.store_response(value)
        if kind == "request" and isinstance(value, list) and value and all(
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
                for pair in value):
            return self.store_request([(name, item) for name, item in value])
        return self._set_id(_names_hash("verbatim", [kind, text]), text), None

    def _own_names(self, kind: str, names: list[str], values: list[str], always: frozenset[str]) -> set[str]:
        """The names whose values are the fetch's own: those of `always`, and those whose value differs from the
        one a set of the same names holds, unless a set holds all the others (then its null values)."""
        best: list[Any] | None = None
        newest: list[Any] | None = None
        for stored_set in self._sets(_names_hash(kind, names)):
            stored = stored_set.stored(kind)
            if stored is None or stored[0] != names:
                continue
            newest = stored[1]
            fits = all(kept is None or kept == value for kept, value in zip(newest, values, strict=True))
            if fits and (best is None or best.count(None) > newest.count(None)):
                best = newest
        reference = best if best is not None else newest
        own = set(_always_own(tuple(names), always))
        if reference is not None:
            own |= {name for name, kept, value in zip(names, reference, values, strict=True)
                    if kept is None or kept != value}
        return own

    def _set_id(self, names_hash: int, text: str) -> int:
        """The id of the set `text` (the first one, when two processes added it at once), added when missing."""
        sets = self._sets(names_hash)
        for stored_set in sets:
            if stored_set.text == text:
                return stored_set.id
        set_id = self.connection.insert("header_sets", {"names_hash": names_hash, "headers": text})
        sets.append(_Set(set_id, text))
        return set_id

    def _sets(self, names_hash: int) -> list[_Set]:
        """The stored sets of `names_hash`, oldest first (read once per transaction: a set is never changed or
        deleted, and `_set_id` adds the new ones)."""
        memo = self.connection.memo("header_sets")
        sets = memo.get(names_hash)
        if sets is None:
            sets = memo[names_hash] = [_Set(set_id, text) for set_id, text in self.connection.execute(
                "select id, headers from header_sets where names_hash = ? order by id", [names_hash])]
        return sets


class _Set:
    """A stored header set: its id, its text, and that text read as JSON (once, when first asked)."""

    __slots__ = ("_stored", "_value", "id", "text")

    def __init__(self, set_id: int, text: str) -> None:
        self.id = set_id
        self.text = text
        self._value: Any = _UNREAD
        self._stored: dict[str, tuple[list[str], list[Any]] | None] = {}

    def stored(self, kind: str) -> tuple[list[str], list[Any]] | None:
        """Its names and values as a set of `kind` (`_stored_values`), read once."""
        if kind not in self._stored:
            self._stored[kind] = _stored_values(kind, self.value)
        return self._stored[kind]

    @property
    def value(self) -> Any:
        """The text as JSON (None: a verbatim set, not JSON)."""
        if self._value is _UNREAD:
            try:
                self._value = json.loads(self.text)
            except ValueError:
                self._value = None
        return self._value


_UNREAD = object()


def _stored_values(kind: str, value: Any) -> tuple[list[str], list[Any]] | None:
    """The names and values (None: each fetch's own) of a stored set of `kind`, read as JSON (None: another kind of
    set, or a verbatim one)."""
    if kind == "response" and isinstance(value, dict):
        return list(value), list(value.values())
    if kind == "request" and isinstance(value, list):
        return [pair[0] for pair in value], [pair[1] for pair in value]
    return None


@functools.lru_cache(maxsize=256)
def _always_own(names: tuple[str, ...], always: frozenset[str]) -> frozenset[str]:
    """The names of `names` whose values are always a fetch's own (`always`: in lower case)."""
    return frozenset(name for name in names if name.lower() in always)


@functools.lru_cache(maxsize=256)
def _template_text(kind: str, template: tuple[tuple[str, str | None], ...]) -> str:
    """The stored text of a set (`template`: names and values, None for each fetch's own): a JSON object of
    response headers, pairs of request headers. Remembered: a crawl's fetches share a few sets."""
    if kind == "response":
        return _compact(dict(template))
    return _compact([list(pair) for pair in template])


def _names_hash(kind: str, names: list[str]) -> int:
    return _hash_of_names(kind, tuple(names))


@functools.lru_cache(maxsize=256)
def _hash_of_names(kind: str, names: tuple[str, ...]) -> int:
    """`_names_hash`, remembered: a crawl's fetches have the same few sets of names."""
    return key64(json.dumps([kind, *names]))


def key64(text: str) -> int:
    """A 64-bit signed key of `text` (BLAKE2b), as the archive stores it to find a shared row by its texts."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
