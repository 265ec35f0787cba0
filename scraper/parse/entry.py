"""The parts of one entry of a list (a card, a list item, a bare link): its title, kicker and teaser, read by
structure from short walks out of the title: back to the last line before it, on to the first text after it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from selectolax.lexbor import LexborNode

from scraper.parse import dates, labels
from scraper.parse.nodes import CUSTOM_ID, FIRST_ELEMENT_ID, TEXT_ID, Ancestry, next_element, tag_id, tag_ids
from scraper.parse.text import node_text, normalise
from scraper.site import site_id_from_url

_PICTURE_TAGS = frozenset({"figure", "figcaption", "picture", "amp-img", "img"})
_PICTURE_IDS = tag_ids(_PICTURE_TAGS)
_DT, _DD = tag_id("dt"), tag_id("dd")
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                         "header", "footer", "aside", "blockquote", "figure", "dl", "dd", "dt"})
_MAX_KICKER = 100
_MAX_META = 100  # a date line or a byline is short; a teaser may hold a date
_MAX_LABEL = 40
_BOX_LENGTH = len(labels.DOSSIER_BOX_FRAGMENT)  # a shorter line cannot name the dossier box
_LABEL_WORDS = ("Publié", "Mis à jour", "Par")  # what a date line or a byline starts with
_DATE_WORDS = ("Publié", "Mis à jour", "Le ", "Du ")  # what a date line starts with
_SHOWN_NUMBER = re.compile(r"^\d{1,3}[.)°]?$")
# A line of an entry: its text node, the element it is a child of, its text, whether it is that element's only child
_Line = tuple[LexborNode, LexborNode | None, str, bool]


class EntryParts:
    """Title, kicker and teaser of an entry. The kicker is the last short line before the title, the teaser the
    first text of substance after it (a date, a byline, 'Lire la suite' or a lock's label is none: the teaser is
    the next text; an entry that is a <dt> goes on into its <dd>s); text in a figure or a caption ('© …') is
    neither. A lock's label ('Abonnés') seen on the way locks the entry; a bare number before the title is the
    position the page shows. Only the nodes between the title and those two lines are visited: the title's own
    subtree and the pictures are skipped whole."""

    def __init__(self, tree: Ancestry, root: int, title: int, link: LexborNode, site_id: int) -> None:
        """`root` and `title` are ids in `tree` (the nodes of the page): the entry's element, and its first heading
        (inside the link, around it, or alone in the entry), else its link."""
        root_node = tree.nodes[root]
        self.title = node_text(tree.nodes[title]) or _longest_link_text(root_node, site_id) or node_text(link)
        self.locked = False  # a lock's label among the lines read
        self.number: int | None = None  # the position shown before the title
        if self.title[:1].isdigit():
            self.number, self.title = _numbered(tree.nodes[title], self.title)
        levels = _open_levels(tree, title, root)
        self.kicker = self._kicker(levels)
        # The teaser: the first text of substance after the title's subtree, else in the <dd>s after a <dt> entry
        skipped: set[int] = set()  # elements already found to be no teaser (their other text nodes too)
        self.teaser = self._first_teaser(_lines_from(levels, False, False), skipped)
        if self.teaser is None and root_node.tag_id == _DT:
            self.teaser = self._teaser_in_dds(root_node, skipped)

    def _kicker(self, levels: list[LexborNode]) -> str | None:
        """The last short line before the title that is not a date: the lines before it, walked backwards."""
        for _, parent, text, alone in _lines_from(levels, True, False):  # the lines before it, last first
            line = text if parent is None or alone else node_text(parent)
            if ("bonn" in line or "BONN" in line or "remium" in line) and _is_lock_label(line):
                self.locked = True
            elif line[0].isdigit() and _SHOWN_NUMBER.match(line):
                self.number = self.number or int(line.rstrip(".)°"))
            elif len(line) <= _MAX_KICKER and not is_date(line):
                return line
        return None

    def _teaser_in_dds(self, root: LexborNode, skipped: set[int]) -> str | None:
        """The first teaser in the <dd>s after `root`, a <dt>."""
        sibling = next_element(root)
        while sibling is not None and sibling.tag_id == _DD:
            line = self._first_teaser(_lines_from((sibling,), False, True), skipped)
            if line is not None:
                return line
            sibling = next_element(sibling)
        return None

    def _first_teaser(self, lines: Iterator[_Line], skipped: set[int]) -> str | None:
        """The first of `lines` that is a teaser: the element it belongs to, whole (bare text beside the title, after
        a <br>, up to the next block); the elements of those that are not are added to `skipped`."""
        for text_node, parent, text, alone in lines:
            if parent is None:
                line = _bare_text(text_node)
            elif skipped and parent.mem_id in skipped:
                continue
            else:
                line = (text if alone else node_text(parent)) or None
            if line is None:
                continue
            if not _is_entry_meta(line):
                return line
            self.locked = self.locked or _is_lock_label(line)  # no teaser: its element is skipped, a lock locks
            if parent is not None:
                skipped.add(parent.mem_id)
        return None


def _bare_text(text_node: LexborNode) -> str | None:
    """Text that is no element's (beside the title, after a <br>), from `text_node` up to the next block."""
    parts = []
    node: LexborNode | None = text_node
    while node is not None and not (node.is_element_node and node.tag in _BLOCK_TAGS):
        parts.append(node.text(deep=True))
        node = node.next
    return normalise(" ".join(parts)) or None


def _is_entry_meta(line: str) -> bool:
    """Whether a line of an entry is no teaser: a date line, a byline (alone or 'Publié le … • Par …'), 'Lire la
    suite', a lock's label. Each pattern is tried only on the lines that can match it (most lines are teasers)."""
    labelled = line.startswith(_LABEL_WORDS)
    if len(line) > _MAX_META:  # a teaser is usually long: one test decides
        return labelled and labels.BULLET_BYLINE.match(line) is not None
    short = len(line) <= _MAX_LABEL
    if (short or line[0].isdigit() or line.startswith(_DATE_WORDS)) and is_date(line):
        return True  # a line that starts with its date or its label, or is hardly more than a date
    if labelled and (short or labels.BULLET_BYLINE.match(line)):
        return True  # 'Publié le', 'Par', alone or with a byline
    if short and (labels.READ_MORE.match(line) or _is_lock_label(line)):
        return True
    return "Par" in line and labels.ENTRY_BYLINE.match(labels.byline_part(line)) is not None


def _is_lock_label(line: str) -> bool:
    """An 'Abonnés' label (labels.LOCK_LABEL), tested only on the short lines that hold its letters."""
    return len(line) <= _MAX_LABEL and ("bonn" in line or "BONN" in line or "remium" in line) \
        and labels.LOCK_LABEL.match(line) is not None


def _numbered(title_node: LexborNode, title: str) -> tuple[int | None, str]:
    """A number shown in an element of its own at the start of a title ('<span>7</span> Titre'): the position
    the page gives the entry, and the title without it. A title that starts with a number of its own ('5
    questions sur…') is kept whole."""
    for node in title_node.traverse(include_text=True):
        if not node.is_text_node or node.is_empty_text_node:
            continue
        text = normalise(node.text_content)
        parent = node.parent
        if parent is None or parent.mem_id == title_node.mem_id or not _SHOWN_NUMBER.match(text) \
                or not title.startswith(text):
            return None, title
        return int(text.rstrip(".)°")), title[len(text):].strip() or title
    return None, title


def _open_levels(tree: Ancestry, title: int, root: int) -> list[LexborNode]:
    """The title and those of its ancestors below `root` whose siblings may hold a kicker or a teaser (those below
    no picture: a title inside a figure has neither beside it in that figure)."""
    nodes, parents = tree.nodes, tree.parents
    levels: list[LexborNode] = []
    key = title
    node = nodes[key]
    while key != root:
        levels.append(node)
        key = parents[key]
        if not key:
            break
        node = nodes[key]
        tag = node.tag_id
        if tag in _PICTURE_IDS or (tag >= CUSTOM_ID and node.tag in _PICTURE_TAGS):
            levels = []  # the siblings of everything so far are inside that picture
    return levels


def _lines_from(starts: Iterable[LexborNode], backwards: bool, inside: bool) -> Iterator[_Line]:
    """The lines of an entry in the siblings after each of `starts` and in their subtrees, in page order (with
    `backwards`, before it, in reverse order; with `inside`, in its children): its text nodes that are not blank,
    not inside a picture (figure, caption, image), and neither a credit ('© …') nor the dossier box. Each with the
    element it is a child of (None for the siblings of a start: their parent is around the title), its normalised
    text, and whether it is that element's only child (its text is then the element's, read without a walk).
    One generator for all of `starts` (a title and its open levels): the elements entered wait on a stack."""
    entered: list[tuple[LexborNode, LexborNode | None]] = []  # each element entered, with its parent
    for start in starts:
        if inside:
            node, parent = start.first_child, start
        else:
            node, parent = (start.prev if backwards else start.next), None
        edge = inside  # whether `node` is the first child its walk meets (the first, or the last with `backwards`)
        while True:
            while node is not None:
                if node.is_empty_text_node:  # blank text between elements, the most frequent node: told in one call
                    node, edge = (node.prev if backwards else node.next), False
                    continue
                tag = node.tag_id  # one call tells a text, a comment, a picture or another element
                if tag == TEXT_ID:
                    following = node.prev if backwards else node.next
                    text = normalise(node.text_content)
                    if text and text[0] != "©" and (len(text) < _BOX_LENGTH or not labels.names_dossier_box(text)):
                        yield node, parent, text, edge and following is None
                    node, edge = following, False
                    continue
                if tag >= FIRST_ELEMENT_ID and tag not in _PICTURE_IDS and (
                        tag < CUSTOM_ID or node.tag not in _PICTURE_TAGS):
                    entered.append((node, parent))
                    node, parent, edge = (node.last_child if backwards else node.first_child), node, True
                    continue
                node, edge = (node.prev if backwards else node.next), False
            if not entered:
                break
            node, parent = entered.pop()
            node, edge = (node.prev if backwards else node.next), False


def is_date(line: str) -> bool:
    """Whether `line` shows a date (dates.from_french reads one)."""
    return dates.from_french(line) is not None


def _longest_link_text(root: LexborNode, site_id: int) -> str:
    texts = [node_text(node) for node in root.css("a[href]") if site_id_from_url(node.attributes.get("href"))
             == site_id]
    return max(texts, key=len, default="")
