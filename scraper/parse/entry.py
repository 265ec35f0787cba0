"""The parts of one entry of a list (a card, a list item, a bare link): its title, kicker and teaser, read by
structure from short walks out of the title: back to the last line before it, on to the first text after it."""

from __future__ import annotations

from collections.abc import Iterator

from selectolax.lexbor import LexborNode

from scraper.parse import dates, labels
from scraper.parse.nodes import Ancestry
from scraper.parse.text import node_text, normalise
from scraper.site import site_id_from_url

_PICTURE_TAGS = frozenset({"figure", "figcaption", "picture", "amp-img", "img"})
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                         "header", "footer", "aside", "blockquote", "figure", "dl", "dd", "dt"})
_MAX_KICKER = 100


class EntryParts:
    """Title, kicker and teaser of an entry. The kicker is the last short line before the title, the teaser the
    first text after it; text in a figure or a caption ('© …') is neither. Only the nodes between the title and
    those two lines are visited: the title's own subtree and the pictures are skipped whole."""

    def __init__(self, tree: Ancestry, root: int, title: int, link: LexborNode, site_id: int) -> None:
        """`root` and `title` are ids in `tree` (the nodes of the page): the entry's element, and its first heading
        (inside the link, around it, or alone in the entry), else its link."""
        root_node = tree.nodes[root]
        self.title = node_text(tree.nodes[title]) or _longest_link_text(root_node, site_id) or node_text(link)
        self._levels = _open_levels(tree, title, root)
        self.kicker = self._kicker()
        self.teaser = self._teaser()

    def _kicker(self) -> str | None:
        """The last short line before the title that is not a date: the lines before it, walked backwards."""
        for level in self._levels:
            for text_node, parent in _texts_beside(level, backwards=True):
                text = _line_text(text_node)
                if not text:
                    continue
                line = text if parent is None else _element_text(parent, text_node, text)
                if len(line) <= _MAX_KICKER and not is_date(line):
                    return line
        return None

    def _teaser(self) -> str | None:
        """The first text after the title's subtree decides the teaser."""
        for level in self._levels:
            for text_node, parent in _texts_beside(level, backwards=False):
                text = _line_text(text_node)
                if text:
                    return self._teaser_from(text_node, parent, text)
        return None

    @staticmethod
    def _teaser_from(text_node: LexborNode, owner: LexborNode | None, text: str) -> str | None:
        """The element the first text after the title belongs to (`owner`), whole; bare text beside the title
        (after a <br>: no owner) up to the next block."""
        if owner is not None:
            return _element_text(owner, text_node, text) or None
        parts = []
        node: LexborNode | None = text_node
        while node is not None and not (node.is_element_node and node.tag in _BLOCK_TAGS):
            parts.append(node.text(deep=True))
            node = node.next
        return normalise(" ".join(parts)) or None


def _open_levels(tree: Ancestry, title: int, root: int) -> list[LexborNode]:
    """The title and those of its ancestors below `root` whose siblings may hold a kicker or a teaser (those below
    no picture: a title inside a figure has neither beside it in that figure)."""
    levels: list[LexborNode] = []
    key = title
    while key != root:
        levels.append(tree.nodes[key])
        key = tree.parents[key]
        if not key:
            break
        if tree.nodes[key].tag in _PICTURE_TAGS:
            levels = []  # the siblings of everything so far are inside that picture
    return levels


def _texts_beside(node: LexborNode, backwards: bool) -> Iterator[tuple[LexborNode, LexborNode | None]]:
    """The text nodes of the siblings after `node` and of their subtrees, in page order (with `backwards`, of
    those before it, in reverse order), that are not blank and not inside a picture (figure, caption, image);
    each with the element it is a child of, or None for a sibling of `node` (its parent is around the title)."""
    return _texts_from(node.prev if backwards else node.next, backwards, None)


def _texts_from(node: LexborNode | None, backwards: bool,
                parent: LexborNode | None) -> Iterator[tuple[LexborNode, LexborNode | None]]:
    """The text nodes of `node` and of the siblings after it (before it, backwards), children of `parent`,
    subtrees included, as _texts_beside gives them."""
    while node is not None:
        if node.is_text_node:
            if not node.is_empty_text_node:
                yield node, parent
        elif node.is_element_node and node.tag not in _PICTURE_TAGS:
            yield from _texts_from(node.last_child if backwards else node.first_child, backwards, node)
        node = node.prev if backwards else node.next


def is_date(line: str) -> bool:
    """Whether `line` shows a date (dates.from_french reads one)."""
    return dates.from_french(line) is not None


def _line_text(text_node: LexborNode) -> str:
    """The normalised text of a text node, or '' when it is no line of the entry (a credit, the dossier box)."""
    text = normalise(text_node.text_content)
    if not text or text.startswith("©") or labels.names_dossier_box(text):
        return ""
    return text


def _element_text(element: LexborNode, text_node: LexborNode, text: str) -> str:
    """node_text(element), where `text` is the normalised text of `text_node`, one of its children: that text
    itself when it is the only child (a <p> of text), without reading and normalising it twice."""
    if text_node.prev is None and text_node.next is None:
        return text
    return node_text(element)


def _longest_link_text(root: LexborNode, site_id: int) -> str:
    texts = [node_text(node) for node in root.css("a[href]") if site_id_from_url(node.attributes.get("href"))
             == site_id]
    return max(texts, key=len, default="")
