"""Parsing layer 2: the site's own markup, for each known generation of its theme, kept together here.

Each entry is a CSS selector list tried in order: 2018 theme (gazette_v5), the later redesign, the 2016
theme, then generic WordPress / schema.org markup that many other sites share.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """A selector of the simple form `tag, .class, [class*='fragment'], tag:not(.class)`, tested on a node
    already in hand (no CSS call): a node matches by its tag (unless it has one of `tag_unless`'s classes),
    by one of its classes, or by a fragment of its class attribute."""

    tags: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    class_fragments: tuple[str, ...] = ()
    tag_unless: frozenset[str] = frozenset()

    def matches(self, tag: str | None, class_attribute: str, classes: list[str]) -> bool:
        """`classes` is `class_attribute` split (done once per node by the caller, for every part)."""
        if tag in self.tags and (not self.tag_unless or self.tag_unless.isdisjoint(classes)):
            return True
        if not classes:
            return False
        if not self.classes.isdisjoint(classes):
            return True
        return bool(self.class_fragments) and any(part in class_attribute for part in self.class_fragments)


# Frame: what is never content.
NOISE_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "form")  # removed whole
# Menus: every <nav> but a pagination (WordPress wraps its "Page suivante" links in <nav class="pagination">).
MENU_TAG = "nav"
PAGINATION_CLASS = "pagination"  # part of a class name: pagination, nav-pagination, pagination-wrapper…
# The page's header and footer: a <header> or <footer> that is a child of <body> or has the class of its tag
# (an article's own <header> stays). Removed first, then NOISE_TAGS and NOISE (page.py).
FRAME_TAGS = ("header", "footer")
# Each selector is one more pass over the tree: only what would otherwise be read as content.
NOISE = ".popinConnexion, .loginModal, .shareNetwork"
SIDEBAR = ".pageWrapper__sideBar, aside, #sidebar, .sidebar, .sideBar, [role='complementary']"
# What an element SIDEBAR matches holds, in any case: its tag, or a word in its class, id or role (lexbor compares
# classes and ids without case in a page in quirks mode).
SIDEBAR_TAG = "aside"
SIDEBAR_WORDS = ("sidebar", "complementary")
MAIN = [".pageWrapper__mainContent", "main", "[role='main']", "#main", "#article", "#content", ".content",
        "#contentSite", "body"]

# Article fields.
ARTICLE_ROOT = ["article.article", "article.post", ".single-article", "article[itemtype*='Article']",
                "#article", ".article", "article", "main"]
TITLE = ["h1.titleArticle", "h1.article__title", "h1.entry-title", "h1[itemprop='headline']", "h1"]
KICKER = [".surHeading", ".article__kicker", ".kicker", ".surtitre", ".overline", ".entry-kicker",
          "[class*='__kicker']",
          "[class*='Kicker']"]
BYLINE = [".author", ".article__author", ".byline", ".signature", ".auteur", "[rel='author']",
          "[itemprop='author']"]
TEASER = [".chapo", ".article__chapo", ".article__lead", ".lead", ".chapeau", ".entry-summary",
          "[itemprop='description']", "[class*='__chapo']", "[class*='__lead']"]
BODY = [".articleContent", ".article__body", ".article__content", ".entry-content", ".post-content",
        "[itemprop='articleBody']", ".texte", "#texte", ".contenu"]
BODY_BLOCKS = "p, h2, h3, h4, h5, h6, blockquote, ul, ol, pre, table"
FIGURE = ["figure.article__figure", "figure.wp-caption", ".article__image", "figure", ".visuel-article", ".visuel",
          "img.wp-post-image", "img[itemprop='image']"]
# Machine-readable dates in the markup: WordPress themes' <time datetime>, schema.org microdata.
DATE_ELEMENTS = "time[datetime], [itemprop='datePublished'], [itemprop='dateModified']"
PUBLISHED_TIME = ["time.published", "[itemprop='datePublished']", "time.entry-date", "time[pubdate]"]
UPDATED_TIME = ["time.updated", "[itemprop='dateModified']"]
CREDIT = ["figcaption", ".caption", ".credit", ".copyright", ".wp-caption-text"]
DOSSIER_BOX = [".blockTypeA", ".article__dossier", ".dossierBox", ".partOfDossier"]
DOSSIER_LINK = ["a.blockTypeA--link", "a[href*='/dossiers/']"]
PAYWALL_BOX = [".blocPasEncoreAbonne", ".paywall", ".blocAbonne", ".reservedContent", ".notYet",
               "[class*='paywall']", "[class*='Paywall']"]
THEMES_BOX = [".article__themes", ".themes", ".tags", ".entry-tags"]
COMMENTS = ["li.comment", "article.comment", "div.comment", ".commentlist > li", ".comment-item"]
COMMENT_AUTHOR = [".comment-author .fn", ".comment-author", "[itemprop='author']", "cite.fn", ".fn"]

# The paywall flag of a list entry: a class on the entry's own link, list item or block (`verrou`, on a kicker,
# is set on free articles too: not a flag).
PAYWALL_FLAGS = frozenset({"isAbo", "is-locked", "locked"})

# Lock icons and labels beside a list entry's title, where the theme flags no entry by class: an element named like
# a lock, titled or labelled 'abonnés', an image whose alt says so, a short line that says so (sections.py keeps
# those that are: `blockType` holds 'lock' and is none).
LOCK_ICONS = (":is(span, i, em, small, b, strong, abbr, mark, div, p, img, amp-img, li)"
              ":is([class^='lock'], [class*=' lock'], [class*='-lock'], [class*='_lock'], [class*='Lock'],"
              " [class*='notYet'], [class*='adenas'], [title*='bonn' i], [alt*='bonn' i], [aria-label*='bonn' i],"
              " :lexbor-contains(\"bonné\")), [data-lock]")
LOCK_MARK = "data-lock"  # set on the parent of an SVG lock icon before SVGs are stripped (page.py)

# Listing and dossier blocks.
LIST_BLOCK = ".blocType, li.bgRollover, article.teaser, .card, .listItem"
GENERIC_LIST_BLOCK = "article"  # when none of the above is there: a WordPress archive's <article class="post">
# The parts of a block, matched while walking the block once in Python (a block is a handful of nodes: one
# walk costs less than a CSS call per part).
BLOCK_TITLE = Part(tags=frozenset({"h2", "h3", "h4"}), classes=frozenset({"titleA", "title"}))
BLOCK_KICKER = Part(classes=frozenset({"surHeading", "kicker", "surtitre", "listOfferJob__company", "overline",
                                        "cat-links"}))
BLOCK_TEASER = Part(tags=frozenset({"p"}), classes=frozenset({"chapo", "teaser", "excerpt", "entry-summary"}))
# The parts of an entry of a related-news block ("L'actu Technique").
RELATED_TITLE = Part(tags=frozenset({"h2", "h3", "h4"}), class_fragments=("title",))
RELATED_TEASER = Part(tags=frozenset({"p"}), tag_unless=frozenset({"surHeading"}),
                      class_fragments=("chapo", "teaser"))
DOSSIER_INTRO = [".headerDossier__intro", ".dossier__intro", ".dossierIntro", "[class*='intro']"]
# What makes an <a> the theme's next link, as tests of one `a:is(…)` (lexbor tests each selector of a list on every
# element, the tag of `a:is(…)` once): rel=next, the class `next` (WordPress's `a.next.page-numbers`, `.pagination
# a.next`), or a place inside `.nav-previous`.
NEXT_PAGE_MARKS = ("[rel='next']", ".next", ".nav-previous *")
NEXT_PAGE = f"a:is({', '.join(NEXT_PAGE_MARKS)})"
