"""Small facts about lexbor nodes that selectolax does not give directly."""

from __future__ import annotations

from selectolax.lexbor import LexborNode

_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "aside", "header", "footer", "ul", "ol", "li", "h1",
                         "h2", "h3", "h4", "h5", "h6", "table", "form", "figure", "blockquote", "dl"})


def is_leaf_block(node: LexborNode) -> bool:
    """True when no block-level element is nested in `node` (its text is one line of the page).

    Walks the subtree only until the first nested block, so containers are rejected quickly.
    """
    own = node.mem_id
    return not any(descendant.mem_id != own and descendant.tag in _BLOCK_TAGS for descendant in node.traverse())


def unique(nodes: list[LexborNode]) -> list[LexborNode]:
    """Nodes without repeats, first occurrence kept (lexbor returns a node once per selector it matches)."""
    seen: set[int] = set()
    kept = []
    for node in nodes:
        if node.mem_id not in seen:
            seen.add(node.mem_id)
            kept.append(node)
    return kept
