"""Does this node itself match a selector? (selectolax's `css_matches` also looks at descendants.)

Supports what the selector lists in selectors.py use: tag, #id, .class, [attr], [attr='v'], [attr*='v'],
[attr^='v'], compound forms of these, comma lists, and the child (`>`) and descendant combinators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from selectolax.lexbor import LexborNode

_TOKEN = re.compile(r"([#.]?[\w-]+|\[[^\]]+\]|:not\([^)]*\))")
_ATTR = re.compile(r"""\[\s*([\w-]+)\s*(?:([*^$~]?=)\s*['"]?([^'"\]]*)['"]?)?\s*\]""")


@dataclass(frozen=True)
class _Compound:
    tag: str | None
    ident: str | None
    classes: tuple[str, ...]
    attrs: tuple[tuple[str, str | None, str | None], ...]

    def matches(self, node: LexborNode) -> bool:
        if not node.is_element_node or (self.tag and node.tag != self.tag):
            return False
        attributes = node.attributes
        if self.ident and attributes.get("id") != self.ident:
            return False
        classes = (attributes.get("class") or "").split()
        if any(name not in classes for name in self.classes):
            return False
        return all(_attr_matches(attributes.get(name), op, value) for name, op, value in self.attrs)


def _attr_matches(actual: str | None, op: str | None, value: str | None) -> bool:
    if actual is None:
        return False
    if op is None:
        return True
    value = value or ""
    return {"=": actual == value, "*=": value in actual, "^=": actual.startswith(value),
            "$=": actual.endswith(value), "~=": value in actual.split()}.get(op, False)


def _compound(text: str) -> _Compound:
    tag, ident, classes, attrs = None, None, [], []
    for token in _TOKEN.findall(text):
        if token.startswith("#"):
            ident = token[1:]
        elif token.startswith("."):
            classes.append(token[1:])
        elif token.startswith("["):
            match = _ATTR.match(token)
            if match:
                attrs.append((match.group(1), match.group(2), match.group(3)))
        elif not token.startswith(":"):
            tag = token.lower()
    return _Compound(tag, ident, tuple(classes), tuple(attrs))


@lru_cache(maxsize=256)
def _compile(selector: str) -> tuple[tuple[tuple[str, _Compound], ...], ...]:
    """Each alternative as a chain of (combinator, compound), rightmost last."""
    alternatives = []
    for alternative in selector.split(","):
        parts = alternative.replace(">", " > ").split()
        chain, combinator = [], " "
        for part in parts:
            if part == ">":
                combinator = ">"
                continue
            chain.append((combinator, _compound(part)))
            combinator = " "
        alternatives.append(tuple(chain))
    return tuple(alternatives)


def matches(node: LexborNode | None, selector: str) -> bool:
    """True when `node` itself is matched by `selector`."""
    if node is None:
        return False
    return any(_chain_matches(node, chain) for chain in _compile(selector) if chain)


def _chain_matches(node: LexborNode, chain: tuple[tuple[str, _Compound], ...]) -> bool:
    combinator, compound = chain[-1]
    if not compound.matches(node):
        return False
    rest = chain[:-1]
    if not rest:
        return True
    parent = node.parent
    if combinator == ">":
        return parent is not None and _chain_matches(parent, rest)
    while parent is not None:
        if _chain_matches(parent, rest):
            return True
        parent = parent.parent
    return False


def ancestor_matching(node: LexborNode, selector: str, stop: str = "body") -> LexborNode | None:
    """The nearest ancestor of `node` matched by `selector`, or None."""
    parent = node.parent
    while parent is not None and parent.tag not in (stop, "html"):
        if matches(parent, selector):
            return parent
        parent = parent.parent
    return None


_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "aside", "header", "footer", "ul", "ol", "li", "h1",
                         "h2", "h3", "h4", "h5", "h6", "table", "form", "figure", "blockquote", "dl"})


def is_leaf_block(node: LexborNode) -> bool:
    """True when no block-level element is nested in `node` (its text is one line of the page).

    Walks the subtree only until the first nested block, so containers are rejected quickly.
    """
    own = node.mem_id
    return not any(descendant.mem_id != own and descendant.tag in _BLOCK_TAGS for descendant in node.traverse())


def unique(nodes: list[LexborNode]) -> list[LexborNode]:
    """Nodes in document order without repeats (lexbor returns a node once per selector it matches)."""
    seen: set[int] = set()
    kept = []
    for node in nodes:
        if node.mem_id not in seen:
            seen.add(node.mem_id)
            kept.append(node)
    return kept
