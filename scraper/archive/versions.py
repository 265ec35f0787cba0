"""An article's history: what `article_versions` keeps of each change, and every version rebuilt from it.

Each time an article's content changes, its row in `article_versions` keeps, in `diff`, how to get each changed
field's previous value back from the new one — a *reverse diff*, the shorter of:

    {"text": [[start, end, "previous words"], ...]}    in the new text, characters start:end were these words
    {"items": [[start, end, [previous items]], ...]}  in the new list, items start:end were these
    {"value": previous value}                         the whole previous value

so a comment added to a long thread or a sentence edited in a long body costs a few words, not a copy of the
field. Rows written before schema 4 keep whole previous values in `previous` instead; both are read alike.

`article_history` starts from the article's current record (the view `article_records`) and walks its
versions from the newest, undoing one change at a time, so it rebuilds every version the archive has seen;
between two versions, a text field's change is given word by word (`word_diff`), any other field's as its
value before and after.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from scraper.archive.queries import find_article, stored_record
from scraper.errors import NotArchived

if TYPE_CHECKING:
    from scraper.archive.db import Archive

WORDS = re.compile(r"\s+|\w+|[^\w\s]")  # spaces, words and punctuation: the tokens of a word diff
# Beyond this product of the changed parts' lengths (in tokens), a change is one replacement: difflib's time
# grows with that product (a whole body rewritten would take seconds).
MAX_MATCHED = 1_000_000


# --- reverse diffs ------------------------------------------------------------------------------------

def reverse_diff(before: Any, after: Any) -> dict[str, Any]:
    """How to get `before` back from `after`: word or item edits when they are shorter than `before`."""
    whole = {"value": before}
    if isinstance(before, str) and isinstance(after, str):
        edits: dict[str, Any] = {"text": _text_edits(before, after)}
    elif isinstance(before, list) and isinstance(after, list):
        edits = {"items": _item_edits(before, after)}
    else:
        return whole
    return edits if len(_dumps(edits)) < len(_dumps(whole)) else whole


def undo(after: Any, diff: dict[str, Any]) -> Any:
    """The value before the change that `diff` (a reverse diff) describes, from the value after it."""
    if "text" in diff:
        return "".join(_pieces(after, diff["text"]))
    if "items" in diff:
        return [item for piece in _pieces(after, diff["items"]) for item in piece]
    return diff.get("value")


def _pieces(after: Any, edits: list[list[Any]]) -> list[Any]:
    """The slices of `after` between the edits, and each edit's previous content, in order."""
    pieces, cursor = [], 0
    for start, end, previous in edits:
        pieces += [after[cursor:start], previous]
        cursor = end
    return [*pieces, after[cursor:]]


def _text_edits(before: str, after: str) -> list[list[Any]]:
    old, new = WORDS.findall(before), WORDS.findall(after)
    offsets = [0]
    for word in new:
        offsets.append(offsets[-1] + len(word))
    return [[offsets[i1], offsets[i2], "".join(old[j1:j2])]
            for tag, i1, i2, j1, j2 in _word_opcodes(new, old) if tag != "equal"]


def _word_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Opcodes (difflib's) from the tokens `a` to `b`: the common start and end set aside, difflib on the rest
    (unless it is too long to match word by word: one replacement then), and the spaces kept between two
    changes joined to them, so "des réseaux" replaced by "de nos canalisations" is one change, not three."""
    start, end = _common_ends(a, b)
    middle_a, middle_b = a[start:len(a) - end], b[start:len(b) - end]
    if len(middle_a) * len(middle_b) > MAX_MATCHED:
        inner = [("replace", 0, len(middle_a), 0, len(middle_b))]
    else:
        inner = SequenceMatcher(None, middle_a, middle_b).get_opcodes()
    opcodes = [(tag, i1 + start, i2 + start, j1 + start, j2 + start) for tag, i1, i2, j1, j2 in inner
               if i2 > i1 or j2 > j1]
    if start:
        opcodes.insert(0, ("equal", 0, start, 0, start))
    if end:
        opcodes.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    merged: list[tuple[str, int, int, int, int]] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        between = 0 < index < len(opcodes) - 1 and merged and merged[-1][0] != "equal"
        if tag == "equal" and between and all(token.isspace() for token in a[i1:i2]):
            tag = "replace"
        if tag != "equal" and merged and merged[-1][0] != "equal":
            previous = merged.pop()
            merged.append(("replace", previous[1], i2, previous[3], j2))
        else:
            merged.append((tag, i1, i2, j1, j2))
    return merged


def _common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many tokens `a` and `b` share at their start, and then at their end."""
    limit = min(len(a), len(b))
    start = 0
    while start < limit and a[start] == b[start]:
        start += 1
    end = 0
    while end < limit - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return start, end


def _item_edits(before: list[Any], after: list[Any]) -> list[list[Any]]:
    return [[i1, i2, before[j1:j2]] for i1, i2, j1, j2 in _differing_spans(after, before)]


def _differing_spans(a: list[Any], b: list[Any]) -> list[tuple[int, int, int, int]]:
    """Where the lists `a` and `b` differ, items compared as JSON: (i1, i2, j1, j2), a[i1:i2] became b[j1:j2]."""
    matcher = SequenceMatcher(None, [_dumps(item) for item in a], [_dumps(item) for item in b], autojunk=False)
    return [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def version_diff(previous: dict[str, Any], data: dict[str, Any], fields: list[str]) -> str:
    """The `diff` of a version row, as stored (compact JSON): a reverse diff for each changed field."""
    diff = {name: reverse_diff(previous.get(name), data.get(name)) for name in fields}
    return json.dumps(diff, ensure_ascii=False, separators=(",", ":"))


def previous_values(record: dict[str, Any], diff: str | None, previous: str | None,
                    fields: list[str]) -> dict[str, Any]:
    """The values of `fields` before a change, from the record after it and the row's `diff` (else the whole
    `previous` values of a row written before schema 4)."""
    if diff is not None:
        diffs = json.loads(diff)
        return {name: undo(record.get(name), diffs[name]) for name in fields if name in diffs}
    values = json.loads(previous) if previous else {}
    return {name: values.get(name) for name in fields}


# --- word by word --------------------------------------------------------------------------------------

def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """`before` → `after` as ("=", words kept), ("-", words removed), ("+", words added), in order."""
    old, new = WORDS.findall(before), WORDS.findall(after)
    parts: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in _word_opcodes(old, new):
        if tag == "equal":
            parts.append(("=", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            parts.append(("-", "".join(old[i1:i2])))
        if j2 > j1:
            parts.append(("+", "".join(new[j1:j2])))
    return parts


def field_change(before: Any, after: Any) -> dict[str, Any]:
    """One field's change between two versions: a text's words kept, removed and added; a list's items removed
    and added; any other value before and after."""
    if isinstance(before, str) and isinstance(after, str):
        return {"words": [list(part) for part in word_diff(before, after)]}
    if isinstance(before, list) and isinstance(after, list):
        removed: list[Any] = []
        added: list[Any] = []
        for i1, i2, j1, j2 in _differing_spans(before, after):
            removed += before[i1:i2]
            added += after[j1:j2]
        return {"removed": removed, "added": added}
    return {"before": before, "after": after}


# --- history -------------------------------------------------------------------------------------------

@dataclass
class Version:
    """One version of an article: from when the archive saw it, the record, and what changed from the one before."""

    number: int
    seen_from: str | None
    record: dict[str, Any]
    changed_fields: list[str] = field(default_factory=list)
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.number, "seen_from": self.seen_from, "changed_fields": self.changed_fields,
                "changes": self.changes, "record": self.record}


@dataclass
class ArticleHistory:
    """Every version of one article, oldest first."""

    article_id: int
    site_id: int | None
    url: str
    title: str | None
    first_seen_at: str | None
    last_seen_at: str | None
    versions: list[Version]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.article_id, "site_id": self.site_id, "url": self.url, "title": self.title,
                "first_seen_at": self.first_seen_at, "last_seen_at": self.last_seen_at,
                "versions": [version.to_dict() for version in self.versions]}


def article_history(archive: Archive, article: str) -> ArticleHistory:
    """The history of the archived article `article` (its site id, or its URL). Raises NotArchived."""
    site_id = int(article) if article.strip().isdigit() else None
    found = find_article(archive, article.strip(), site_id)
    if found is None:
        raise NotArchived(f"no article {article} in archive {archive.path}")
    row = archive._select_one("select id, site_id, url, title, first_seen_at, last_seen_at from articles"
                              " where id = ?", [found["id"]])
    assert row is not None
    record = stored_record(archive, int(row["id"]))
    versions = _versions_back(archive, int(row["id"]), record, row["first_seen_at"])
    return ArticleHistory(int(row["id"]), row["site_id"], row["url"], row["title"], row["first_seen_at"],
                          row["last_seen_at"], versions)


def _versions_back(archive: Archive, article_id: int, current: dict[str, Any],
                   first_seen_at: str | None) -> list[Version]:
    """The versions from the current record back to the first, undoing the changes newest first."""
    rows = archive._select("select recorded_at, changed_fields, previous, diff from article_versions"
                           " where article_id = ? order by id desc", [article_id])
    newer = Version(len(rows) + 1, None, current)
    versions = [newer]
    for row in rows:
        fields = json.loads(row["changed_fields"])
        older = {**newer.record, **previous_values(newer.record, row["diff"], row["previous"], fields)}
        newer.seen_from = row["recorded_at"]
        newer.changed_fields = fields
        newer.changes = {name: field_change(older.get(name), newer.record.get(name)) for name in fields}
        newer = Version(newer.number - 1, None, older)
        versions.append(newer)
    newer.seen_from = first_seen_at
    return versions[::-1]


def slim_versions(archive: Archive, article_id: int) -> int:
    """Rewrite the rows of an article's history written before schema 4 (whole previous values) as reverse
    diffs; returns the rows rewritten. Inside the caller's transaction."""
    if archive._scalar("select 1 from article_versions where article_id = ? and diff is null limit 1",
                       [article_id]) is None:
        return 0
    versions = _versions_back(archive, article_id, stored_record(archive, article_id), None)
    ids = [row_id for (row_id,) in archive._execute(
        "select id from article_versions where article_id = ? order by id", [article_id])]
    for row_id, older, newer in zip(ids, versions[:-1], versions[1:], strict=True):
        diff = version_diff(older.record, newer.record, newer.changed_fields)
        archive._update("article_versions", "id", row_id, {"diff": diff, "previous": None})
    return len(ids)

