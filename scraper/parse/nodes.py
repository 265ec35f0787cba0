"""Small facts about lexbor nodes that selectolax does not give directly."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.parse.text import node_text

T = TypeVar("T")

# lexbor's ids of tags: an int compared where a name would be read out of the node (a new str each time). The HTML
# tags have small fixed ids, from 'a' on in alphabetical order, after those of text, comments and the document;
# a custom element (amp-img) has an id of its own in each page, a large one: its name must be read.
_PARSER = LexborHTMLParser("<p>x</p>")
TEXT_ID = _PARSER.css_first("p").first_child.tag_id  # type: ignore[union-attr]
FIRST_ELEMENT_ID = _PARSER.create_node("a").tag_id  # a node whose id is below is no element (a text, a comment…)
CUSTOM_ID = 1 << 16  # ids from there on are custom elements'


def tag_id(name: str) -> int:
    """The id of the tag `name` (an HTML tag's holds from a page to the next; a custom element's does not)."""
    return _PARSER.create_node(name).tag_id


def tag_ids(names: frozenset[str] | tuple[str, ...]) -> frozenset[int]:
    """The ids of the HTML tags among `names` (custom elements have none that holds from a page to the next)."""
    return frozenset(tag for tag in map(tag_id, names) if tag < CUSTOM_ID)


_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "aside", "header", "footer", "ul", "ol", "li", "h1",
                         "h2", "h3", "h4", "h5", "h6", "table", "form", "figure", "blockquote", "dl"})


def leaf_blocks(container: LexborNode, tags: tuple[str, ...]) -> list[LexborNode]:
    """The elements of `container` (itself included) with one of `tags` and no block-level element inside
    (each is one line of the page), in page order: one walk, each block marking its ancestors as not a leaf."""
    blocks = [node for node in container.traverse() if node.tag in _BLOCK_TAGS]
    own = container.mem_id
    not_leaf: set[int] = set()
    for block in blocks:
        if block.mem_id == own:
            continue
        parent = block.parent
        while parent is not None and parent.mem_id not in not_leaf:
            not_leaf.add(parent.mem_id)
            if parent.mem_id == own:
                break
            parent = parent.parent
    return [block for block in blocks if block.tag in tags and block.mem_id not in not_leaf]


def unique(nodes: list[LexborNode]) -> list[LexborNode]:
    """Nodes without repeats, first occurrence kept (lexbor returns a node once per selector it matches)."""
    return first_of_each(nodes, lambda node: node.mem_id)


def first_of_each(items: list[T], key: Callable[[T], Hashable]) -> list[T]:
    """`items` without those whose key was already seen: the first occurrence of each key, in order."""
    seen: set[Hashable] = set()
    kept = []
    for item in items:
        value = key(item)
        if value not in seen:
            seen.add(value)
            kept.append(item)
    return kept


def previous_element(node: LexborNode) -> LexborNode | None:
    """The element just before `node` among its siblings (text and comments skipped)."""
    sibling = node.prev
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.prev
    return sibling


def next_element(node: LexborNode) -> LexborNode | None:
    """The element just after `node` among its siblings (text and comments skipped)."""
    sibling = node.next
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.next
    return sibling


class Ancestry:
    """The parents of the nodes a reading climbs from, each asked of selectolax once, nodes known by their
    mem_id: climbs up the tree are a reading's most frequent step, and every `.parent` or `.mem_id` is a call
    into selectolax that makes a new node object, where a step here is a dict lookup (`parents[key]`)."""

    def __init__(self, scope: LexborNode) -> None:
        self.nodes: dict[int, LexborNode] = {}
        self.parents = _Parents(self.nodes)
        self.scope = self.key(scope)
        self.lineages: dict[int, tuple[int, ...]] = {}  # those computed so far (see lineage)

    def key(self, node: LexborNode) -> int:
        """The id of `node`, remembered with it, and its ancestors' (see climb)."""
        key = node.mem_id
        self.nodes[key] = node
        self.climb(key)
        return key

    def climb(self, key: int) -> None:
        """Ask selectolax for the parents of `key` and of its ancestors up to one whose parent is known, in one loop
        (a step asked through `parents` is a call of _Parents.__missing__ each)."""
        parents, nodes = self.parents, self.nodes
        node = nodes[key]
        while key not in parents:
            parent = node.parent
            if parent is None:
                parents[key] = 0
                return
            parents[key] = parent_key = parent.mem_id
            nodes[parent_key] = parent
            key, node = parent_key, parent

    def lineage(self, key: int) -> tuple[int, ...]:
        """`key` and the ids of its ancestors up to the scope (included), or to the top of the tree."""
        lineages = self.lineages
        lineage = lineages.get(key)
        if lineage is not None:
            return lineage
        parents, scope = self.parents, self.scope
        climbed = []  # from `key` up to the first element whose lineage is known, or to the top
        while key:
            climbed.append(key)
            key = parents[key] if key != scope else 0
            lineage = lineages.get(key)
            if lineage is not None:
                break
        lineage = lineage or ()
        for known in reversed(climbed):
            lineage = lineages[known] = (known,) + lineage  # one tuple made ((known, *lineage) makes a list too)
        return lineage

    def wrapper(self, key: int) -> int:
        """The parent of `key`, or higher while the element below is its parent's only element (a title alone in its
        wrapper): the element a heading's entries must be in. The scope at most."""
        parent = self.parents[key]
        while parent and parent != self.scope and _only_element_child(self.nodes[key]):
            key, parent = parent, self.parents[parent]
        return parent or self.scope


def _only_element_child(node: LexborNode) -> bool:
    return previous_element(node) is None and next_element(node) is None


class _Parents(dict[int, int]):
    """The id of the parent of each node of `nodes` (0: it has none), asked of selectolax the first time only."""

    def __init__(self, nodes: dict[int, LexborNode]) -> None:
        super().__init__()
        self.nodes = nodes

    def __missing__(self, key: int) -> int:
        node = self.nodes[key].parent
        parent = 0
        if node is not None:
            parent = node.mem_id
            self.nodes[parent] = node
        self[key] = parent
        return parent


def ancestor_ids(node: LexborNode) -> set[int]:
    """The ids of `node` and of its ancestors."""
    ids = set()
    current: LexborNode | None = node
    while current is not None:
        ids.add(current.mem_id)
        current = current.parent
    return ids


def precedes(first: LexborNode, second: LexborNode) -> bool:
    """Whether `first` starts before `second` in page order (an ancestor starts before its descendants)."""
    lineage = _lineage(second)
    ids = {node.mem_id for node in lineage}
    child: LexborNode | None = None
    node: LexborNode | None = first
    while node is not None and node.mem_id not in ids:
        child, node = node, node.parent
    if node is None:
        return False
    if child is None:
        return True  # `first` is `second` or one of its ancestors
    below = next((ancestor for ancestor in lineage if ancestor.parent is not None
                  and ancestor.parent.mem_id == node.mem_id), None)
    if below is None:
        return False  # `second` is an ancestor of `first`
    sibling = child.next
    while sibling is not None:
        if sibling.mem_id == below.mem_id:
            return True
        sibling = sibling.next
    return False


def _lineage(node: LexborNode) -> list[LexborNode]:
    lineage = []
    current: LexborNode | None = node
    while current is not None:
        lineage.append(current)
        current = current.parent
    return lineage


def ancestor_tagged(node: LexborNode, tags: tuple[str, ...]) -> LexborNode | None:
    """The nearest ancestor of `node` with one of `tags`."""
    parent = node.parent
    while parent is not None and parent.tag not in tags:
        parent = parent.parent
    return parent


def sentence_around(node: LexborNode | None, is_wanted: Callable[[str], bool]) -> str | None:
    """The text of `node`, or of the block around it when the label sits in an inline element."""
    for _ in range(3):
        if node is None:
            return None
        text = node_text(node)
        if len(text) > 300:
            return None
        if is_wanted(text):
            return text
        node = node.parent
    return None
