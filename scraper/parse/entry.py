"""The parts of one entry of a list (a card, a list item, a bare link): its title, kicker and teaser, read by
structure from one walk of the entry's nodes."""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from scraper.parse import dates, labels
from scraper.parse.nodes import ancestor_ids
from scraper.parse.text import node_text, normalise
from scraper.site import site_id_from_url

HEADING_RANKS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_PICTURE_TAGS = frozenset({"figure", "figcaption", "picture", "amp-img", "img"})
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                         "header", "footer", "aside", "blockquote", "figure", "dl", "dd", "dt"})
_MAX_KICKER = 100


class EntryParts:
    """Title, kicker and teaser of an entry, from one walk of its nodes (text nodes included)."""

    def __init__(self, root: LexborNode, link: LexborNode, site_id: int) -> None:
        self.title = ""
        self.kicker: str | None = None
        self.teaser: str | None = None
        title_node = self._title_node(root, link)
        self.title = node_text(title_node)
        if not self.title:
            self.title = _longest_link_text(root, site_id) or node_text(link)
        self._around(root, title_node)

    @staticmethod
    def _title_node(root: LexborNode, link: LexborNode) -> LexborNode:
        """The entry's heading (inside the link, around it, or alone in the entry), else its link."""
        for node in root.traverse():
            if node.tag in HEADING_RANKS:
                return node
        return link

    def _around(self, root: LexborNode, title: LexborNode) -> None:
        """The kicker is the last short line before the title, the teaser the first text after it; text in a
        figure or a caption ('© …') is neither."""
        title_id, title_end = title.mem_id, _node_after(title, root)
        inside_title = after = False
        skipped: set[int] = set()
        title_ancestors = ancestor_ids(title, root)
        for node in root.traverse(include_text=True):
            key = node.mem_id
            if key == title_id:
                inside_title = after = True
            if inside_title:
                if key != title_end:
                    continue
                inside_title = False
            if node.is_empty_text_node:
                continue
            parent = node.parent
            if node.is_element_node:
                if node.tag in _PICTURE_TAGS or (parent is not None and parent.mem_id in skipped):
                    skipped.add(key)
                continue
            if not node.is_text_node or parent is None or parent.mem_id in skipped:
                continue
            text = normalise(node.text(deep=False))
            if not text or text.startswith("©") or labels.DOSSIER_BOX.search(text):
                continue
            if after:
                self.teaser = self._teaser_from(node, parent, title_ancestors)
                return
            line = node_text(parent) if parent.mem_id not in title_ancestors else text
            if len(line) <= _MAX_KICKER and not dates.from_french(line):
                self.kicker = line

    @staticmethod
    def _teaser_from(text_node: LexborNode, owner: LexborNode, title_ancestors: set[int]) -> str | None:
        """The element the first text after the title belongs to, whole; bare text beside the title (after a
        <br>) up to the next block."""
        if owner.mem_id not in title_ancestors:
            return node_text(owner) or None
        parts = []
        node: LexborNode | None = text_node
        while node is not None and not (node.is_element_node and node.tag in _BLOCK_TAGS):
            parts.append(node.text(deep=True))
            node = node.next
        return normalise(" ".join(parts)) or None


def _node_after(node: LexborNode, root: LexborNode) -> int | None:
    """The id of the first node after `node`'s subtree in page order, within `root` (None: none there)."""
    current: LexborNode | None = node
    while current is not None and current.mem_id != root.mem_id:
        if current.next is not None:
            return current.next.mem_id
        current = current.parent
    return None


def _longest_link_text(root: LexborNode, site_id: int) -> str:
    texts = [node_text(node) for node in root.css("a[href]") if site_id_from_url(node.attributes.get("href"))
             == site_id]
    return max(texts, key=len, default="")
