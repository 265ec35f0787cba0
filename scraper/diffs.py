"""Diffs between versions of an article's record: *reverse diffs* (how to get a field's previous value back from
its new one, as `article_versions` stores them) and word-by-word changes (as `scrape history` shows them). No SQL:
the archive (scraper.archive.versions) stores and reads what these compute.

A reverse diff is the shorter of:

    {"text": [[start, end, "previous words"], ...]}    in the new text, characters start:end were these words
    {"items": [[start, end, [previous items]], ...]}  in the new list, items start:end were these
    {"value": previous value}                         the whole previous value

so a comment added to a long thread or a sentence edited in a long body costs a few words, not a copy of the
field.
"""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from typing import Any

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
