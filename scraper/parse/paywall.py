"""An article's paywall: its notices (the labelled ones, and the sentences of a paywall box found by its place
and role), and whether it is paywalled."""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from scraper.models import Paywall
from scraper.parse import labels, selectors
from scraper.parse.nodes import ancestor_ids, ancestor_tagged, leaf_blocks, next_element, precedes, sentence_around
from scraper.parse.page import Page, ancestor_among
from scraper.parse.structured import json_ld_is_free
from scraper.parse.text import node_text

_SUBSCRIBE_CALLS = 'a:lexbor-contains("abonne" i), button:lexbor-contains("abonne" i)'
_MAX_BETWEEN = 200  # characters between the text's end and its paywall box (a share bar, a credit)
_BOX_DEPTH = 5  # wrappers between a subscription call and its paywall box
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_HEADING_LIST = "h1, h2, h3, h4, h5, h6"
_MAX_BOX = 800  # characters: a paywall box is a few sentences and its buttons
_BOX_LINES = ("p", "div", "h2", "h3", "h4", "h5", "h6", "li")
_MIN_SENTENCE = 4  # words of a paywall box's line that is a sentence, not an offer's name


def read_paywall(page: Page, box_sentences: list[str] | None = None) -> Paywall:
    """Paywalled when its notices are there (the labelled ones, the sentences of a paywall box after the free
    text), when structured data says the article is not free, or when the theme flags reserved content and
    shows its paywall box."""
    markers = _paywall_markers(page)
    for sentence in box_sentences or ():
        if sentence not in markers:
            markers.append(sentence)
    free = json_ld_is_free(page.data.article)
    reserved = page.flag("is_reserved_content")
    is_paywalled = bool(markers) or free is False or (reserved is True and not markers and free is None
                                                      and _paywall_box(page) is not None)
    return Paywall(is_paywalled=is_paywalled, markers=markers)


def _paywall_box(page: Page) -> LexborNode | None:
    return page.first(selectors.PAYWALL_BOX, within=page.main)


def _paywall_markers(page: Page) -> list[str]:
    markers: list[str] = []
    for node in page.labelled(*labels.PAYWALL_FRAGMENTS):
        text = sentence_around(node, labels.is_paywall_marker)
        if text and text not in markers:
            markers.append(text)
    return markers


def metered_paywall_box(page: Page, root: LexborNode,
                        body: LexborNode | None) -> tuple[LexborNode | None, list[str]]:
    """A paywall box found by its place and role, and its sentences: the largest short element around a
    subscription call ('Je m'abonne', 'Abonnez-vous') that comes after the start of the text (inside it or right
    after it), outside sidebars, and says something besides its buttons and links (a newsletter's box is none)."""
    text = page.text
    if body is None or not any(fragment in text for fragment in labels.SUBSCRIBE_FRAGMENTS):
        return None, []
    for call in page.root.css(_SUBSCRIBE_CALLS):
        if not labels.SUBSCRIBE.match(node_text(call)) or not precedes(body, call) or page.in_sidebar(call):
            continue  # the header's 'Abonnez-vous' comes before the text
        box = _box_around(page, call, body)
        if box is None or not _follows_text(box, body, root) or labels.NEWSLETTER.search(page.text_of(box)):
            continue
        sentences = _box_sentences(box)
        if sentences:
            return box, sentences
    return None, []


def _follows_text(box: LexborNode, body: LexborNode, root: LexborNode) -> bool:
    """Whether `box` ends the text or follows it: at the end of the text's container (no more than a few lines of
    it after the box: a box amid the text is a promotion), or after it with only a few lines and no heading (a
    related list, the comments, another column's blocks) between them."""
    around_box = ancestor_ids(box)
    if body.mem_id in around_box:
        return _text_after(box, body) <= _MAX_BETWEEN
    between = 0
    node = body
    while node is not None and node.mem_id != root.mem_id:
        sibling = next_element(node)
        while sibling is not None:
            if sibling.mem_id in around_box:
                return True
            if sibling.tag in _HEADINGS or sibling.css_first(_HEADING_LIST) is not None:
                return False
            between += len(node_text(sibling))
            if between > _MAX_BETWEEN:
                return False
            sibling = next_element(sibling)
        node = node.parent
    return False


def _text_after(box: LexborNode, body: LexborNode) -> int:
    """How many characters of the text's container follow `box` (up to a little more than _MAX_BETWEEN)."""
    after = 0
    node = box
    while node is not None and node.mem_id != body.mem_id and after <= _MAX_BETWEEN:
        sibling = next_element(node)
        while sibling is not None and after <= _MAX_BETWEEN:
            after += len(node_text(sibling))
            sibling = next_element(sibling)
        node = node.parent
    return after


def _box_around(page: Page, call: LexborNode, body: LexborNode) -> LexborNode | None:
    """The largest element around `call` with at most _MAX_BOX characters that holds neither the text's
    container nor the article's title."""
    box = None
    node = call.parent
    for _ in range(_BOX_DEPTH):
        if node is None or node.tag in ("body", "html", "main") or len(page.text_of(node)) > _MAX_BOX \
                or node.css_first("h1") is not None or ancestor_among(body, frozenset({node.mem_id})) is not None \
                or node.mem_id == body.mem_id:
            break
        box = node
        node = node.parent
    return box


def _box_sentences(box: LexborNode) -> list[str]:
    """The sentences of a paywall box: its lines of at least _MIN_SENTENCE words (or ending a sentence), less its
    buttons and links, and less lines that are mostly a link ('Déjà abonné ? Connectez-vous')."""
    sentences: list[str] = []
    for block in leaf_blocks(box, _BOX_LINES):
        if ancestor_tagged(block, ("a", "button")) is not None:
            continue
        text = node_text(block)
        calls = " ".join(node_text(node) for node in block.css("a, button"))
        words = len(text.split()) - len(calls.split())
        is_sentence = words >= _MIN_SENTENCE or (not calls and text.endswith((".", "!", "…")) and words >= 2)
        if is_sentence and text not in sentences:
            sentences.append(text)
    return sentences
