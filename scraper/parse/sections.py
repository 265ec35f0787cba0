"""Lists read by structure: a page's article links grouped into entries, and the entries into sections.

- An **entry** is the largest element around an article link (`/<post id>/<slug>/`) that links to no other
  article and holds no section heading of its own: a card, a list item, a bare link. Its title is the heading
  inside it (else its most prominent link text), its kicker the short line just above the title, its teaser
  the first text after it. Captions and figures are neither.
- A **section** is a heading (h1-h6), or a label (a short line just before a list, such as "Sur le même sujet"),
  with the entries that follow it in page order, inside the heading's container (its parent, or higher while
  the heading opens that container), until a heading of the same or a higher rank.
- The paywall flag of an entry is a class on its own elements only: the link, the elements up to the entry,
  and the blocks the entry opens (a lead block holding a list of further articles is the lead's own). On a page
  whose theme flags no entry so, a lock as a reader sees it flags one: an icon named like a lock (`.notYet`,
  `icon-lock`), an element titled or an image whose alt says 'abonnés', or an 'Abonnés' label, inside the entry's
  own element (never a neighbour's: a lock in a block around several entries flags none).

Class names play no other part: a page without a single class gives the same entries. Everything is read
from one CSS query (links and headings, in page order) and short walks up from those nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from scraper.parse import labels, selectors
from scraper.parse.candidates import Link, candidates, first_h1
from scraper.parse.entry import EntryParts, is_date
from scraper.parse.nodes import Ancestry, first_of_each, previous_element
from scraper.parse.page import Page, in_sidebars
from scraper.parse.text import node_text

LABEL_RANK = 7  # a label is below every heading
_LIST_TAGS = frozenset({"ul", "ol", "dl"})
_MAX_LABEL = 60
_HEADING_RANKS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_MIXED = ""  # the owner of an element that holds links to more than one article
_UNREAD_SHOWN = 3  # URLs named in the warning
_LOCK_CLASS = re.compile(r"(?:^|[-_])(?:lock|locked|padlock|cadenas)(?:$|[-_])|^notYet$|^(?:icon|fa|ico)-?lock", re.I)
_NO_LABEL, _NO_LABEL_FIRST = (None, True), (None, False)  # see _label_before
_LABEL_DEPTH = 6  # how many wrappers, each opened by the one below, may stand between a label and its list
# What a class attribute with a paywall flag holds somewhere (the flags' names, less those inside another's).
_FLAG_FRAGMENTS = tuple(sorted(name for name in selectors.PAYWALL_FLAGS
                               if not any(other != name and other in name for other in selectors.PAYWALL_FLAGS)))


@dataclass(eq=False)
class Section:
    """A heading or label and where its entries may sit."""

    title: str | None  # as shown; None for the page's own title (the first h1), which names no section
    rank: int
    node: LexborNode
    position: float  # in page order, among the links and headings
    container: int = 0  # mem_id of the element its entries must be in
    distractor: bool = False  # 'Les plus lus', 'Autres dossiers', job offers: left out by name


@dataclass(eq=False)
class Entry:
    url: str
    site_id: int
    title: str
    kicker: str | None
    teaser: str | None
    is_paywalled: bool
    root: LexborNode
    position: int
    root_key: int = 0  # the root's mem_id
    sections: tuple[Section, ...] = ()  # the open sections around it, outermost first
    in_sidebar: bool = False
    left_out: bool = False  # in a distractor section or region
    number: int | None = None  # the position the page shows beside it

    @property
    def section(self) -> str | None:
        """The title of the innermost named section around the entry."""
        for section in reversed(self.sections):
            if section.title:
                return section.title
        return None

    def under(self, pattern: re.Pattern[str]) -> bool:
        return any(section.title and pattern.match(section.title) for section in self.sections)


@dataclass
class Lists:
    """Every article link of a scope, as entries in page order (an article linked from two places is one in each)."""

    entries: list[Entry] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # every article link, in page order
    first_h1: LexborNode | None = None  # the scope's first <h1>, seen among its headings


def read_lists(page: Page, scope: LexborNode | None = None, locks: bool = True) -> Lists:
    """The article entries of `scope` (the whole page by default), each with its sections; with `locks`, entries
    locked by an icon or a label where no entry carries a paywall class."""
    scope = scope or page.root
    links, headings = candidates(page, scope)
    if not links:
        return Lists(first_h1=first_h1(headings))
    tree = Ancestry(scope)
    owner, first = _owners(links, tree)
    reading = _Reading(page, tree, links, owner, first)
    reading.find_headings(headings)
    entries = reading.entries()
    if locks and not any(entry.is_paywalled for entry in entries):  # a theme that flags by class: no icons to read
        reading.lock(entries, scope.css(selectors.LOCK_ICONS))
    reading.find_labels(entries)
    reading.place(entries)
    return Lists(entries=entries, links=links, first_h1=first_h1(headings))


def _owners(links: list[Link], tree: Ancestry) -> tuple[dict[int, int | str], dict[int, Link]]:
    """For every element above a link: the one article it links to (its site id), or _MIXED when it links to
    several; and the first article link inside it. One walk up from each link, stopping where known."""
    owner: dict[int, int | str] = {}
    first: dict[int, Link] = {}
    parents, nodes = tree.parents, tree.nodes
    for link in links:
        key, site_id = link.key, link.site_id
        nodes[key] = link.node
        while key:
            seen = owner.get(key)
            if seen is None:
                owner[key] = site_id
                first[key] = link
            elif seen == site_id or seen == _MIXED:  # noqa: SIM109 - no tuple built at each step
                break
            else:
                owner[key] = _MIXED
            parent = parents.get(key)
            if parent is None:  # the walk is the climb: each parent asked of selectolax here, once (as
                above = nodes[key].parent  # _Parents.__missing__ does, without its call: most steps of the walk miss)
                parent = parents[key] = 0 if above is None else above.mem_id
                if above is not None:
                    nodes[parent] = above
            key = parent
    return owner, first


class _Reading:
    """The state of one reading: links, their owners, the headings and labels found. Elements are known by
    their mem_id (see Ancestry)."""

    def __init__(self, page: Page, tree: Ancestry, links: list[Link], owner: dict[int, int | str],
                 first: dict[int, Link]) -> None:
        self.page = page
        self.tree = tree
        self.scope = tree.scope
        self.links = links
        self.owner = owner
        self.first = first
        self.sections: list[Section] = []
        self.holding: dict[int, int] = {}  # element -> how many section headings it holds
        self.section_ids: set[int] = set()
        self.link_ids = {link.key for link in links}
        self._labels: dict[int, tuple[LexborNode | None, bool]] = {}  # see _label_before
        self.first_heading: dict[int, int] = {}  # element -> the first heading in it (itself included)

    # --- headings ---------------------------------------------------------------------------------

    def find_headings(self, headings: list[tuple[int, LexborNode]]) -> None:
        """Headings that are not an entry's own title (around or inside an article link) open sections."""
        page_title_seen = False
        nodes, parents, scope = self.tree.nodes, self.tree.parents, self.scope
        marked, owner = self.first_heading, self.owner
        for position, node in headings:
            key = heading = node.mem_id
            nodes[key] = node
            # The first heading of itself and of each element around it that has none yet (an entry's title).
            while key and key not in marked:
                marked[key] = heading
                if key == scope:
                    break
                parent = parents.get(key)
                if parent is None:  # asked of selectolax here, as in _owners
                    above = nodes[key].parent
                    parent = parents[key] = 0 if above is None else above.mem_id
                    if above is not None:
                        nodes[parent] = above
                key = parent
            if heading in owner:
                continue  # around an article link: an entry's title
            parent = parents[heading]  # inside one? The first ancestor around an article link is that link if any
            while parent and parent != scope and parent not in owner:
                parent = parents[parent]
            if parent != scope and parent in self.link_ids:
                continue
            text = node_text(node)
            if not text:
                continue
            rank = _HEADING_RANKS[node.tag]
            is_page_title = rank == 1 and not page_title_seen
            page_title_seen = page_title_seen or rank == 1
            self._add_section(Section(None if is_page_title else text, rank, node, position), heading)

    def _add_section(self, section: Section, key: int) -> None:
        section.container = self.tree.wrapper(key)  # its entries must be in there
        section.distractor = bool(section.title and labels.NOT_RELATED.match(section.title))
        self.sections.append(section)
        self.section_ids.add(key)
        holding, parents, scope = self.holding, self.tree.parents, self.scope
        while key != scope:  # its ancestors up to the scope
            key = parents[key]
            if not key:
                break
            holding[key] = holding.get(key, 0) + 1

    # --- entries ----------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """One entry per element that holds one article link (or several to the same article), page order."""
        roots: list[int] = []  # of the entries, in their order
        seen: set[int] = set()
        entries = []
        tree = self.tree
        for link in self.links:
            root = self._entry_root(link.key)
            if root in seen:
                continue
            seen.add(root)
            roots.append(root)
            parts = EntryParts(tree, root, self.first_heading.get(root, link.key), link.node, link.site_id)
            # Positional, in the order of Entry's fields (keyword arguments cost a dataclass twice the time).
            entries.append(Entry(link.url, link.site_id, parts.title, parts.kicker, parts.teaser,
                                 parts.locked or self._is_paywalled(link, root), tree.nodes[root], link.position,
                                 root, (), False, False, parts.number))
        for entry, flag in zip(entries, in_sidebars(self.page, self.tree, roots), strict=True):
            entry.in_sidebar = flag
        return entries

    def _entry_root(self, key: int) -> int:
        parents, owner, holding = self.tree.parents, self.owner, self.holding
        while True:
            parent = parents[key]
            if not parent or parent == self.scope or owner.get(parent) == _MIXED:
                return key
            above = holding.get(parent)
            if above and above != holding.get(key, 0):  # a child holds some of its parent's headings (or all)
                return key  # the parent holds a section heading of its own: the entry stops below it
            if self._label_before(key)[0] is not None:
                return key
            key = parent

    def _label_before(self, key: int) -> tuple[LexborNode | None, bool]:
        """A short line just before the element `key` that names the list it is: a known section label, or any
        short line before a <ul>/<ol> (a short line before a title is a kicker, not a label); and whether any
        element precedes it. Read once per element."""
        known = self._labels.get(key)
        if known is None:
            node = self.tree.nodes[key]
            sibling = previous_element(node)
            if sibling is None:
                known = _NO_LABEL_FIRST
            else:
                known = _NO_LABEL if sibling.mem_id in self.owner else (_label(node, sibling), True)
            self._labels[key] = known
        return known

    def lock(self, entries: list[Entry], locks: list[LexborNode]) -> None:
        """Entries with a lock icon or an 'abonnés' label inside their own element are paywalled (a lock outside
        every entry, in a block around several, locks none). `locks` may hold an element twice (once per selector
        it matches)."""
        by_root = {entry.root_key: entry for entry in entries}
        for node in locks:
            if not _is_lock(node):
                continue
            key = self.tree.key(node)
            while key and key != self.scope:
                entry = by_root.get(key)
                if entry is not None:
                    entry.is_paywalled = True
                    break
                if self.owner.get(key) == _MIXED:
                    break
                key = self.tree.parents[key]

    def _is_paywalled(self, link: Link, root: int) -> bool:
        """A paywall class on the link, on the elements up to the entry, or on a block the entry opens (its
        first article is this one and no section heading precedes it there): never on a neighbour's."""
        key = link.key
        in_entry = True
        nodes, parents = self.tree.nodes, self.tree.parents
        while key and key != self.scope:
            if not in_entry:
                first = self.first.get(key)
                if first is None or first.site_id != link.site_id or self.holding.get(key):
                    return False
            classes = nodes[key].attrs.get("class")
            if classes:
                for fragment in _FLAG_FRAGMENTS:  # most classes hold none: split only those that do
                    if fragment in classes:
                        if not selectors.PAYWALL_FLAGS.isdisjoint(classes.split()):
                            return True
                        break
            in_entry = in_entry and key != root
            key = parents[key]
        return False

    # --- labels and places --------------------------------------------------------------------------

    def find_labels(self, entries: list[Entry]) -> None:
        """The label before each list of entries: before the element that holds the list (or a one-item
        list's entry), or before a block that this element opens (a few wrappers up)."""
        seen: set[int] = set()
        for entry in entries:
            root = entry.root_key
            for key in (root, self.tree.parents[root]):
                if not key or key in seen or key == self.scope:
                    continue
                seen.add(key)
                label = self._label_around(key)
                if label is None:
                    continue
                label_key = self.tree.key(label)
                if label_key not in seen and label_key not in self.section_ids:
                    seen.add(label_key)
                    self._add_section(Section(node_text(label), LABEL_RANK, label, entry.position - 0.5), label_key)
        self.sections.sort(key=lambda section: section.position)

    def _label_around(self, key: int) -> LexborNode | None:
        for _ in range(_LABEL_DEPTH):  # up while the element is the first of its parent
            label, preceded = self._label_before(key)
            if label is not None or preceded or not (key := self.tree.parents[key]) or key == self.scope:
                return label
        return None

    def place(self, entries: list[Entry]) -> None:
        """Each entry's open sections (the outline of the page at that point) and whether it is left out."""
        regions = [self._distractor_region(section) for section in self.sections if section.distractor]
        stack: list[Section] = []
        lineages = self.tree.lineages
        pending = iter(self.sections)
        upcoming = next(pending, None)
        for entry in entries:
            while upcoming is not None and upcoming.position < entry.position:
                while stack and stack[-1].rank >= upcoming.rank:
                    stack.pop()
                stack.append(upcoming)
                upcoming = next(pending, None)
            around = lineages.get(entry.root_key) or self.tree.lineage(entry.root_key)  # in_sidebars computed it
            while stack and stack[-1].container not in around:
                stack.pop()
            entry.sections = tuple(stack)
            if regions:  # one per distractor section: without any, no entry is left out
                entry.left_out = _left_out(stack, around, regions, entry.position)

    def _distractor_region(self, section: Section) -> tuple[int, float]:
        """The widest block around a distractor heading that holds no earlier entry and not the page title:
        a sidebar column whose classes are gone starts at its 'Les plus lus'."""
        title = next((other.node.mem_id for other in self.sections if other.title is None), None)
        around_title = self.tree.lineage(title)[1:] if title is not None else ()
        region = section.node.mem_id
        parent = self.tree.parents[region]
        while parent and parent != self.scope:
            first = self.first.get(parent)
            if (first is not None and first.position < section.position) or parent in around_title:
                break
            region = parent
            parent = self.tree.parents[parent]
        return region, section.position


def _label(node: LexborNode, sibling: LexborNode) -> LexborNode | None:
    """`sibling`, the element before `node`, when it is a label of the list `node` is."""
    text = node_text(sibling)
    if not text or len(text) > _MAX_LABEL:
        return None
    if labels.SECTION_LABEL.match(text) or (node.tag in _LIST_TAGS and not is_date(text)):
        return sibling
    return None


def _left_out(sections: list[Section], around: tuple[int, ...], regions: list[tuple[int, float]],
              position: int) -> bool:
    """Whether an entry (`around`: it and its ancestors) is in a distractor section or in the region of one that
    starts before it."""
    for section in sections:
        if section.distractor:
            return True
    for region, start in regions:  # noqa: SIM110 - a loop: any() of a generator costs more, for every entry
        if start < position and region in around:
            return True
    return False


def _is_lock(node: LexborNode) -> bool:
    """Whether an element is a lock as a reader sees it: a class named like one ('icon-lock', 'notYet'), a title,
    alt or aria-label that says 'abonnés', or a short text that is an 'abonnés' label."""
    attributes = node.attributes
    if selectors.LOCK_MARK in attributes:
        return True
    classes = attributes.get("class") or ""
    if classes and any(_LOCK_CLASS.search(name) for name in classes.split()):
        return True
    for name in ("title", "alt", "aria-label"):
        value = attributes.get(name)
        if value and labels.LOCK_ATTRIBUTE.search(value):
            return True
    text = node_text(node)
    return 0 < len(text) <= _MAX_LABEL and bool(labels.LOCK_LABEL.match(text))


def unread(content: list[Entry], read: set[int], self_id: int | None = None) -> list[str]:
    """The URLs of content entries that are not in `read` (site ids), each once, page order."""
    left = [entry for entry in content if entry.site_id not in read and entry.site_id != self_id]
    return [entry.url for entry in first_of_each(left, lambda entry: entry.site_id)]


def unread_warning(urls: list[str]) -> list[str]:
    if not urls:
        return []
    return [f"{len(urls)} article links were not read: {', '.join(urls[:_UNREAD_SHOWN])}…"]
