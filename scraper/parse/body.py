"""An article's own text and image: the body container, its blocks in reading order (paragraphs, lists, quotes,
tables' cells), the boxes inside it that are not its text ('Lire aussi', the dossier box, the paywall), and the
lead image with its caption and credit, which belongs to the article's own header or body, never to a sidebar.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from scraper.models import Image
from scraper.parse import labels, selectors
from scraper.parse.nodes import ancestor_tagged, next_element, precedes, previous_element
from scraper.parse.page import Page, ancestor_among
from scraper.parse.structured import json_ld_image_credit, json_ld_image_url, json_ld_text
from scraper.parse.text import node_text, normalise, or_none
from scraper.site import site_id_from_url

_NOT_BODY = ", ".join(selectors.PAYWALL_BOX + selectors.DOSSIER_BOX + selectors.TEASER)
_NESTING = "p, blockquote, ul, ol, table, figure, figcaption, li, pre"
_IMAGE_TAGS = ("img", "amp-img")
_IMAGES = "img, amp-img"
_FIGURES = ", ".join(selectors.FIGURE)
_CREDIT_DEPTH = 3  # the image and the wrappers around it that hold nothing else
_CREDIT_LINE = re.compile(r"^(?:©|\(c\)\s|crédits?\s*(?:photo)?\s*:)", re.IGNORECASE)
_MAX_CREDIT = 200
_TEXT_ROOTS = frozenset({"body", "html", "main", "article", "section"})
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:[?#]|$)", re.IGNORECASE)
_MAX_READ_ALSO = 300  # characters of a 'Lire aussi' box: its label and a title or two
_CREDIT_PREFIX = re.compile(r"^(?:\s*(?:©|\(c\)|crédit\s*(?:photo)?\s*:?)\s*)+", re.IGNORECASE)


def read_image(page: Page, root: LexborNode, title_node: LexborNode | None,
               body: LexborNode | None = None) -> Image | None:
    """The article's own picture: the theme's figure, else the first image after the title, in the article's
    header or body (a sidebar's or a promotion's picture after the text is not the article's); else the
    structured data's."""
    figure, image = _own_figure(page, root, body)
    if image is None:
        image = _first_image_after(page, root, title_node, body)
        figure = image.parent if image is not None else None
    structured_url = json_ld_image_url(page.data.article) or page.data.first("og:image")
    if image is None:
        if not structured_url:
            return None
        return Image(url=page.absolute(structured_url), credit=clean_credit(json_ld_image_credit(page.data.article)))
    # A page saved whole (SingleFile, Zotero) has the picture inlined as a data: URI: its address is elsewhere.
    src = next((value for value in (image.attributes.get("src"), image.attributes.get("data-src"), structured_url)
                if value and value.lstrip()[:5].lower() != "data:"), None)
    return Image(
        url=page.absolute(src) or "",
        alt=or_none(normalise(image.attributes.get("alt"))),
        credit=clean_credit(_credit_text(page, figure, image)),
    )


def _own_figure(page: Page, root: LexborNode, body: LexborNode | None) -> tuple[LexborNode | None, LexborNode | None]:
    """The first of the theme's figures, in page order, that is the article's own, and its image."""
    first = page.first(selectors.FIGURE, within=root)
    if first is None:
        return None, None
    candidates = [first] if _is_own_image(page, first, body) else root.css(_FIGURES)  # the first is, usually
    for figure in candidates:
        image = figure if figure.tag in _IMAGE_TAGS else figure.css_first(_IMAGES)
        if image is not None and _is_own_image(page, figure, body):
            return figure, image
    return None, None


def _is_own_image(page: Page, node: LexborNode, body: LexborNode | None) -> bool:
    """An image of the article's header or body: not in a sidebar, and before the text or inside it (what
    follows the text is the page's: promotions, related news, a paywall box's cover)."""
    if page.in_sidebar(node):
        return False
    return body is None or precedes(node, body) or ancestor_among(node, frozenset({body.mem_id})) is not None


def _first_image_after(page: Page, root: LexborNode, title_node: LexborNode | None,
                       body: LexborNode | None) -> LexborNode | None:
    """Without the theme's figure: the first image after the title that is not a link's (a thumbnail) and is the
    article's own."""
    if title_node is None:
        return None
    started = False
    for node in root.css(f"{title_node.tag}, {_IMAGES}"):
        if node.mem_id == title_node.mem_id:
            started = True
        elif started and node.tag in _IMAGE_TAGS and not _is_thumbnail(node) and _is_own_image(page, node, body):
            return node
    return None


def _is_thumbnail(image: LexborNode) -> bool:
    """An image inside a link to another page (a card's thumbnail), not to a larger copy of itself."""
    link = ancestor_tagged(image, ("a",))
    return link is not None and not _IMAGE_FILE.search(link.attributes.get("href") or "")


def _credit_text(page: Page, figure: LexborNode | None, image: LexborNode) -> str | None:
    """The caption of the figure, else a '©' line beside the image (a caption-like element without
    figcaption)."""
    caption = page.first(selectors.CREDIT, within=figure) if figure is not None and figure.tag not in _IMAGE_TAGS \
        else None
    if caption is not None:
        return node_text(caption)
    node = image
    for _ in range(_CREDIT_DEPTH):  # the image, then each wrapper that holds nothing else
        for sibling in (next_element(node), previous_element(node)):
            if sibling is not None and _is_credit(node_text(sibling)):
                return node_text(sibling)
        parent = node.parent
        if parent is None or parent.tag in _TEXT_ROOTS:
            return None
        text = node_text(parent)
        if text != node_text(node):
            return text if _is_credit(text) else None  # '<p><img><br>© …</p>'
        node = parent
    return None


def _is_credit(text: str) -> bool:
    """A line that gives a picture's credit: '© …', '(c) …', 'Crédit photo : …'."""
    return 0 < len(text) <= _MAX_CREDIT and bool(_CREDIT_LINE.match(text))


def clean_credit(text: str | None) -> str | None:
    """'© © Flickr CC' -> 'Flickr CC'."""
    return or_none(_CREDIT_PREFIX.sub("", text or "").strip())


def body_container(page: Page, root: LexborNode) -> LexborNode | None:
    """The element of the article's text: the theme's, else the one with the most paragraph text."""
    container = page.first(selectors.BODY, within=root)
    return container if container is not None else _densest_paragraph_container(page.main)


def article_text(page: Page, container: LexborNode | None, teaser: str | None,
              paywall_box: LexborNode | None = None) -> str | None:
    """The text's blocks in order, without the teaser, the paywall's notices, credits, the one-line byline, a
    'Lire aussi' box (a link to another article) or the paywall box."""
    if container is None:
        text = json_ld_text(page.data.article, "articleBody")
        return or_none(text)
    boxes = _read_also_boxes(page, container)
    if paywall_box is not None:
        boxes.add(paywall_box.mem_id)
    blocks = [_block_text(node) for node in _top_level_blocks(container, boxes)]
    blocks = [block for block in blocks if block and block != teaser and not labels.is_paywall_marker(block)
              and not block.startswith("©") and not labels.BULLET_BYLINE.match(block)]
    return "\n\n".join(blocks) or None


def _top_level_blocks(container: LexborNode, boxes: set[int] | None = None) -> list[LexborNode]:
    """The blocks of the text, in order: not nested in another block, a paywall box, a figure, the teaser, a
    dossier box or `boxes` (a table in a figure is a block). Exclusions are collected once (in C) and checked
    by id on the way up to the container."""
    own = container.mem_id
    not_body = {node.mem_id for node in container.css(_NOT_BODY) if node.mem_id != own} | (boxes or set())
    figures = {node.mem_id for node in container.css("figure, figcaption")}
    nesting = not_body | {node.mem_id for node in container.css(_NESTING) if node.mem_id != own}
    blocks = []
    for node in container.css(selectors.BODY_BLOCKS):
        if node.mem_id in not_body:
            continue
        skipped = nesting - figures if node.tag == "table" else nesting
        parent = node.parent
        while parent is not None and parent.mem_id != own and parent.mem_id not in skipped:
            parent = parent.parent
        if parent is None or parent.mem_id == own:
            blocks.append(node)
    return blocks


def _block_text(node: LexborNode) -> str:
    if node.tag in ("ul", "ol"):
        return "\n".join(f"- {node_text(item)}" for item in node.css("li") if node_text(item))
    if node.tag == "table":
        return _table_text(node)
    return node_text(node)


def _table_text(table: LexborNode) -> str:
    """A data table in reading order: its caption, then each row on a line, its cells separated by ' | '."""
    caption = table.css_first("caption")
    lines = [node_text(caption)] if caption is not None else []
    for row in table.css("tr"):
        cells = [node_text(cell) for cell in row.iter() if cell.tag in ("td", "th")]
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(line for line in lines if line)


def _read_also_boxes(page: Page, container: LexborNode) -> set[int]:
    """The 'Lire aussi' boxes inside the text: from the label up to the smallest element holding a link, inside
    the text's container, short and linking to an article (a label alone in its block takes the link-only block
    after it along)."""
    boxes: set[int] = set()
    own = container.mem_id
    for label in page.labelled(*labels.READ_ALSO_FRAGMENTS):
        if not labels.READ_ALSO.match(node_text(label)):
            continue
        node = label
        while node.parent is not None and node.parent.mem_id != own and node.css_first("a[href]") is None:
            node = node.parent
        if node.parent is None or ancestor_among(node, frozenset({own})) is None:
            continue  # not in the text
        box = [node]
        if node.css_first("a[href]") is None:  # a label alone in its block: the link-only block after it
            following = next_element(node)
            if following is None or not _only_links(following):
                continue
            box.append(following)
        links = [link for part in box for link in part.css("a[href]")]
        if sum(len(node_text(part)) for part in box) > _MAX_READ_ALSO or not any(
                site_id_from_url(link.attributes.get("href")) is not None for link in links):
            continue  # a paragraph of the text that says 'lire aussi' (a document, a long sentence): not a box
        boxes.update(part.mem_id for part in box)
    return boxes


def _only_links(node: LexborNode) -> bool:
    links = node.css("a[href]")
    return bool(links) and len(node_text(node)) <= sum(len(node_text(link)) for link in links) + 3


def _densest_paragraph_container(main: LexborNode) -> LexborNode | None:
    """Without known classes: the element whose direct <p> children hold the most text."""
    best, best_length = None, 0
    seen: set[int] = set()  # each parent once: a page of 10,000 paragraphs is not read 10,000 times
    for paragraph in main.css("p"):
        parent = paragraph.parent
        if parent is None or parent.mem_id in seen:
            continue
        seen.add(parent.mem_id)
        length = sum(len(node_text(child)) for child in parent.iter() if child.tag == "p")
        if length > best_length:
            best, best_length = parent, length
    return best if best_length >= 100 else None
