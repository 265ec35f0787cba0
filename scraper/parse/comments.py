"""An article's comments, read by structure: a thread is a repeated block holding a pseudo, a date-time and text,
nested blocks being replies; and the count of comments the page shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from scraper.models import Comment
from scraper.parse import dates, labels, selectors
from scraper.parse.nodes import ancestor_ids, ancestor_tagged, leaf_blocks, precedes, previous_element, sentence_around
from scraper.parse.page import Page, ancestor_among
from scraper.parse.text import node_text, normalise, or_none

_COMMENT = ", ".join(selectors.COMMENTS)
_LINE_TAGS = frozenset({"p", "div", "li", "header", "footer", "h3", "h4", "h5", "h6"})
_MAX_PSEUDO = 60
_COMMENT_LINES = "p, div, li, blockquote"
_MAX_COUNT_LINE = 40
_MAX_COUNT_HEADING = 300


def read_comments_count(page: Page, entries: frozenset[int] = frozenset()) -> int | None:
    """The number before '| réagir', else a heading that says 'N commentaires', 'Commentaires (N)' or '3
    réflexions sur « … »', else such a short line ('0 commentaire' beside the title): never in a sidebar nor in
    `entries` (the elements of a list's entries, whose counts are other articles')."""
    count = labels.comments_count(page.text)
    if count is not None:
        return count
    lines = page.labelled(*labels.COMMENTS_FRAGMENTS)
    headings = [node for node in lines if node.tag in ("h2", "h3", "h4", "h5")]
    for node in headings + lines:  # a heading may quote the title ('3 réflexions sur « … »'), a line is short
        text = node_text(node)
        if len(text) > (_MAX_COUNT_HEADING if node.tag in ("h2", "h3", "h4", "h5") else _MAX_COUNT_LINE):
            continue
        count = labels.shown_comments_count(text)
        if count is not None and not page.in_sidebar(node) and ancestor_among(node, entries) is None:
            return count
    return None


@dataclass
class Thread:
    """The comments of the page, and the ids of their elements."""

    comments: list[Comment] = field(default_factory=list)
    containers: tuple[int, ...] = ()


def read_thread(page: Page, root: LexborNode, body: LexborNode | None, entries: frozenset[int]) -> Thread:
    """Comments in page order, read by structure: a block holding a pseudo, a date-time and text, nested blocks
    being replies. A comment starts at its date: a 'pseudo - DD/MM/YYYY HHh:MM' line (label layer), else a
    <time datetime> after the start of the text that is in no sidebar nor in `entries` (the elements of the
    entries of lists of other articles). Its block is the theme's comment element, else the nearest list item
    (or <article>) that is not the article's, else the largest element around the date that holds no other
    date."""
    labelled = _labelled_comment_anchors(page)
    anchors = labelled or _time_anchors(page, body, entries)
    if not anchors:
        return Thread()
    anchor_ids = frozenset(anchor.mem_id for anchor, _, _ in anchors)
    barrier = ancestor_ids(body if body is not None else root)
    containers = [_comment_container(page, anchor, anchor_ids, barrier) for anchor, _, _ in anchors]
    known = {container.mem_id: index for index, container in enumerate(containers)}
    comments = []
    for (anchor, author, posted_at), container in zip(anchors, containers, strict=True):
        parent = _enclosing_comment(container, known)
        author = author or _pseudo(page, container, anchor, known)
        comments.append(Comment(
            author=or_none(author),
            posted_at=posted_at,
            text=_comment_text(container, anchor, author, known),
            in_reply_to=known.get(parent.mem_id) if parent is not None else None,
        ))
    if not labelled and not any(comment.author and comment.text for comment in comments):
        return Thread()  # dates after the text, but no pseudo and text beside them: no thread
    return Thread(comments, tuple(known))


def _labelled_comment_anchors(page: Page) -> list[tuple[LexborNode, str | None, str | None]]:
    """The 'pseudo - DD/MM/YYYY HHh:MM' lines: each the element of the line, its pseudo and its date."""
    anchors: list[tuple[LexborNode, str | None, str | None]] = []
    for node in page.labelled(labels.COMMENT_TIME_FRAGMENT):
        header = sentence_around(node, labels.COMMENT_HEADER.match)
        if header is None:
            continue
        while node is not None and node_text(node) != header:
            node = node.parent
        match = labels.COMMENT_HEADER.match(header)
        if node is not None and match and not any(node.mem_id == seen.mem_id for seen, _, _ in anchors):
            anchors.append((node, normalise(match.group("author")), dates.from_french(match.group("date"))))
    return anchors


def _time_anchors(page: Page, body: LexborNode | None,
                  entries: frozenset[int]) -> list[tuple[LexborNode, str | None, str | None]]:
    """The <time datetime> elements of comments: after the article's text (its own dates are before it or in
    it), in no list entry (related news) nor sidebar, on a page that shows a thread's words ('commentaire',
    'Répondre')."""
    text = page.text
    if body is None or not any(fragment in text for fragment in labels.THREAD_FRAGMENTS):
        return []
    inside = frozenset({body.mem_id})
    anchors: list[tuple[LexborNode, str | None, str | None]] = []
    for node in page.root.css("time[datetime]"):
        if ancestor_among(node, inside) is not None or not precedes(body, node) \
                or ancestor_among(node, entries) is not None or page.in_sidebar(node):
            continue
        line = node.parent if node.parent is not None else node
        if labels.DATE_LABEL.search(node_text(line)):
            continue  # 'Mis à jour le …' at the end of the text: the article's own date
        posted_at = dates.from_iso(node.attributes.get("datetime")) or dates.from_french(node_text(node))
        anchors.append((node, None, posted_at))
    return anchors


def _comment_container(page: Page, anchor: LexborNode, anchors: frozenset[int], barrier: set[int]) -> LexborNode:
    """The comment's element (see read_thread); never the article's element nor one around its text
    (`barrier`: the text's container and its ancestors)."""
    shortcut = page.ancestor(anchor, _COMMENT)
    if shortcut is not None and shortcut.mem_id not in barrier:
        return shortcut
    for tags in (("li",), ("article",)):
        item = ancestor_tagged(anchor, tags)
        if item is not None and item.mem_id not in barrier and item.css_first("h1") is None:
            return item
    node = anchor
    while node.parent is not None and node.parent.mem_id not in barrier and node.parent.tag not in ("body", "html") \
            and not _holds_other(node.parent, anchor, anchors):
        node = node.parent
    is_line = all(line.mem_id == node.mem_id for line in node.css(_COMMENT_LINES))
    if is_line and node.parent is not None and node.parent.mem_id not in barrier:
        return node.parent  # the date's line alone: the comment is the block around it (its replies inside)
    return node


def _holds_other(node: LexborNode, anchor: LexborNode, anchors: frozenset[int]) -> bool:
    """Whether `node` holds a comment's date other than `anchor`, or a heading (the thread's own)."""
    if node.css_first("h1, h2, h3, h4, h5, h6") is not None:
        return True
    key = anchor.mem_id
    return any(other.mem_id in anchors and other.mem_id != key for other in node.traverse())


def _pseudo(page: Page, container: LexborNode, anchor: LexborNode, known: dict[int, int]) -> str | None:
    """The commenter's name: the theme's author element, else the text on the date's line besides the date, else
    the short line before that line."""
    node = page.first(selectors.COMMENT_AUTHOR, within=container)
    if node is not None and _comment_of(node, known) in (None, container.mem_id):
        return _without_says(node_text(node))
    line = anchor
    while line.parent is not None and line.tag not in _LINE_TAGS and line.mem_id != container.mem_id:
        line = line.parent
    rest = _without_says(node_text(line).replace(node_text(anchor), "").strip(" -–|,:"))
    if rest and len(rest) <= _MAX_PSEUDO:
        return rest
    previous = previous_element(line)
    text = _without_says(node_text(previous)) if previous is not None else ""
    return text if 0 < len(text) <= _MAX_PSEUDO else None


def _without_says(text: str) -> str:
    """'Marc dit :' -> 'Marc' (a pseudo's line is short: a longer text is the comment's, as it is)."""
    return labels.COMMENT_SAYS.sub("", text).strip() if len(text) <= _MAX_PSEUDO + 20 else text


def _comment_of(node: LexborNode, known: dict[int, int]) -> int | None:
    """The id of the comment element `node` is (or is in), None outside every comment."""
    owner = node if node.mem_id in known else _enclosing_comment(node, known)
    return owner.mem_id if owner is not None else None


def _enclosing_comment(container: LexborNode, known: dict[int, int]) -> LexborNode | None:
    parent = container.parent
    while parent is not None and parent.tag not in ("body", "html"):
        if parent.mem_id in known:
            return parent
        parent = parent.parent
    return None


def _comment_text(container: LexborNode, anchor: LexborNode, author: str | None, known: dict[int, int]) -> str:
    """The comment's own lines: its element's, less its date's line, its pseudo's, its actions ('Répondre') and
    the lines of the replies nested in it."""
    around_anchor = ancestor_ids(anchor)
    parts = []
    for node in leaf_blocks(container, ("p", "div")):
        if node.mem_id in around_anchor or _comment_of(node, known) not in (None, container.mem_id):
            continue  # the date's line, or the text of a reply nested in this comment
        text = node_text(node)
        if text and _without_says(text) != author and not (
                labels.COMMENT_ACTIONS.match(text) or labels.COMMENT_HEADER.match(text)
                or labels.COMMENTS_COUNT.search(text)):
            parts.append(text)
    return "\n\n".join(parts)
