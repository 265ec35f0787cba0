"""Mutations of a page that a redesign, another generation of the theme or another publishing path could
make, each a function of (html text, charset) -> (html text, charset), and what each one takes away.

Written with selectolax (attributes, moving nodes) or with regexes over tags the samples write plainly; none
of them uses the parser under test.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"

Html = tuple[str, str]  # (text, charset it is to be sent in)


@dataclass(frozen=True)
class Mutation:
    name: str
    apply: Callable[[str, str], Html]
    removes: frozenset[str] = frozenset()  # record fields (flattened names) it takes away from the page
    why: str = ""


def _serialize(tree: LexborHTMLParser) -> str:
    return tree.html or ""


def strip_classes(html: str, charset: str) -> Html:
    """Every class and id attribute removed."""
    tree = LexborHTMLParser(html)
    for node in tree.root.traverse():
        attributes = node.attributes
        for name in ("class", "id"):
            if name in attributes:
                del node.attrs[name]
    return _serialize(tree), charset


def rename_classes(html: str, charset: str) -> Html:
    """Every class name replaced by a random token (the same name by the same token, as a new theme would)."""
    tokens: dict[str, str] = {}
    chooser = random.Random(8)
    tree = LexborHTMLParser(html)
    for node in tree.root.traverse():
        classes = node.attributes.get("class")
        if classes:
            renamed = [tokens.setdefault(name, f"c{chooser.randrange(16**6):06x}") for name in classes.split()]
            node.attrs["class"] = " ".join(renamed)
    return _serialize(tree), charset


_WRAPPED = "article|section|ul|ol|figure|aside"


def wrap_blocks(html: str, charset: str) -> Html:
    """Each article, section, list, figure and aside wrapped in two extra <div>s."""
    html = re.sub(rf"<({_WRAPPED})\b", r"<div><div><\1", html)
    return re.sub(rf"</({_WRAPPED})>", r"</\1></div></div>", html), charset


def unwrap_containers(html: str, charset: str) -> Html:
    """Every <div> that only wraps one element replaced by that element (wrappers a theme adds or drops)."""
    tree = LexborHTMLParser(html)
    for node in list(tree.root.traverse()):
        if node.tag == "div" and _single_child(node):
            node.unwrap()
    return _serialize(tree), charset


def _single_child(node: LexborNode) -> bool:
    children = [child for child in node.iter(include_text=True)
                if child.is_element_node or (child.is_text_node and (child.text() or "").strip())]
    return len(children) == 1 and children[0].is_element_node


_SECTION_HEADING = re.compile(r"\b(subTitleB|titleC|titleE)\b")


def heading_out(html: str, charset: str) -> Html:
    """Each section heading (of a list: "Au sommaire du dossier", "Sur le même sujet", "Les plus lus", a club's
    name) moved out of its container, to stand just before it."""
    tree = LexborHTMLParser(html)
    for node in list(tree.root.traverse()):
        if _is_section_heading(node) and node.parent is not None and node.parent.tag not in ("body", "html"):
            node.parent.insert_before(node)
            node.decompose()
    return _serialize(tree), charset


def _is_section_heading(node: LexborNode) -> bool:
    """A heading or label of a list: the theme's section-title classes, or an h2-h4 whose next element holds
    links (not a heading of the article's text, which is followed by a paragraph)."""
    if node.tag not in ("h2", "h3", "h4", "p", "div"):
        return False
    if _SECTION_HEADING.search(node.attributes.get("class") or ""):
        return node.css_first("a[href]") is None
    if node.tag == "p" or node.tag == "div":
        return False
    following = node.next
    while following is not None and not following.is_element_node:
        following = following.next
    return following is not None and following.tag in ("ul", "ol", "div") and following.css_first("a[href]") is not None


_RETAG = {"ol": "ul", "ul": "div", "li": "div", "div": "section", "section": "article", "article": "div"}


def retag(html: str, charset: str) -> Html:
    """ol -> ul -> div -> section -> article -> div: each container tag changed for another (list items become
    <div>s with their lists: an <li> left in a <div> would close the <li> around it, as in a browser)."""
    return re.sub(r"<(/?)(ol|ul|li|div|section|article)\b", lambda match: f"<{match[1]}{_RETAG[match[2]]}",
                  html), charset


def move_paywall_flag(html: str, charset: str) -> Html:
    """Each `isAbo` moved off its element: from a block to its list item (when it sits in one) or else to its
    link, from a list item or a link to the block or item around it."""
    tree = LexborHTMLParser(html)
    for node in list(tree.root.css(".isAbo")):
        target = _flag_target(node)
        if target is None:
            continue
        classes = (node.attributes.get("class") or "").split()
        node.attrs["class"] = " ".join(name for name in classes if name != "isAbo")
        target.attrs["class"] = ((target.attributes.get("class") or "") + " isAbo").strip()
    return _serialize(tree), charset


def _flag_target(node: LexborNode) -> LexborNode | None:
    parent = node.parent
    if node.tag == "a" or node.tag == "li":
        if node.tag == "a" and parent is not None and parent.tag in ("li", "article", "section"):
            return parent
        return node.css_first("a[href]") if node.tag == "li" else None
    if parent is not None and parent.tag == "li":
        return parent
    return node.css_first("a[href]")


def drop_structured(html: str, charset: str) -> Html:
    """JSON-LD and every <meta> but the charset's removed."""
    tree = LexborHTMLParser(html)
    for node in tree.css("script[type='application/ld+json'], meta"):
        attributes = node.attributes
        if "charset" in attributes or (attributes.get("http-equiv") or "").lower() == "content-type":
            continue
        node.decompose()
    return _serialize(tree), charset


_CHARSET = re.compile(r"(charset\s*=\s*[\"']?)([A-Za-z0-9_-]+)", re.IGNORECASE)


def reencode_latin(html: str, charset: str) -> Html:
    """Sent in windows-1252 and declared iso-8859-1 (meta and header), as old pages of the site are."""
    return _CHARSET.sub(lambda match: match[1] + "iso-8859-1", html), "iso-8859-1"


def amp_style(html: str, charset: str) -> Html:
    """AMP's markup: <html ⚡>, and <amp-img> elements for images."""
    html = re.sub(r"<html\b", "<html ⚡", html, count=1)
    return re.sub(r"<img\b([^>]*?)\s*/?>", r"<amp-img\1></amp-img>", html), charset


IS_PAYWALLED = "articles[].is_paywalled"
MUTATIONS = [
    Mutation("strip classes", strip_classes, frozenset({IS_PAYWALLED}),
             "a list entry's paywall flag is a class (isAbo): without classes there is none"),
    Mutation("rename classes", rename_classes, frozenset({IS_PAYWALLED}), "isAbo renamed is no flag either"),
    Mutation("wrap blocks", wrap_blocks),
    Mutation("unwrap containers", unwrap_containers),
    Mutation("heading out", heading_out),
    Mutation("retag containers", retag),
    Mutation("move paywall flag", move_paywall_flag),
    Mutation("drop JSON-LD, metas", drop_structured, frozenset({"published_at"}),
             "the redesign shows only its update date: its publication date is in the JSON-LD alone"),
    Mutation("windows-1252", reencode_latin),
    Mutation("AMP", amp_style),
]
BY_NAME = {mutation.name: mutation for mutation in MUTATIONS}
# What two mutations take away together that neither does alone, and why.
_NO_COMMENT_ITEMS = ("without classes and without <li>, nothing marks where a comment ends and its replies begin: "
                     "they are nested <div>s like every other block, so replies lose their `in_reply_to`")
_UNWRAPPED_AFTER_RETAG = ("an <li> or <article> turned <div> that only wraps one element is unwrapped: the element "
                          "that carried a list entry's isAbo, or held one comment, is deleted with its class")
COMBINED_REMOVES = {
    frozenset({"strip classes", "retag containers"}): (frozenset({"comments"}), _NO_COMMENT_ITEMS),
    frozenset({"rename classes", "retag containers"}): (frozenset({"comments"}), _NO_COMMENT_ITEMS),
    frozenset({"unwrap containers", "retag containers"}): (frozenset({"comments", IS_PAYWALLED}),
                                                           _UNWRAPPED_AFTER_RETAG),
}
