"""Generated site pages for crawl tests: dossiers, articles, listings and feeds with links on 127.0.0.1.

The markup follows the 2018 theme closely enough for the project's parser (the same blocks, labels and
paywall box as the bundled samples), so a crawl over a `FaultServer` exercises the real parser and
store. `Site` puts a whole generated dossier (or listing) on a server's routes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from hashlib import sha256

from faultserver import FaultServer, Request, Respond

PAYWALL_BOX = """
<div class="encartsAbo"><div class="encartAbo">
  <p class="encartAbo__surTitle">Article réservé aux abonnés</p>
  <p class="encartAbo__title">Contenu réservé aux abonnés</p>
  <p class="encartAbo__text">Pour lire la totalité de cet article, abonnez-vous au Club Techni.Cités</p>
</div></div>"""


@dataclass
class GenArticle:
    site_id: int
    title: str
    published: str = "2018-03-16T10:30:00+01:00"  # ISO 8601
    paywalled: bool = False
    slug: str | None = None

    @property
    def path(self) -> str:
        return f"/{self.site_id}/{self.slug or f'article-{self.site_id}'}/"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _frame(title: str, canonical: str, main: str, head: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="fr-FR"><head><meta charset="utf-8">
<title>{_esc(title)} | La Gazette des communes</title>
<link rel="canonical" href="{_esc(canonical)}" />{head}
</head><body>
<header class="header"><nav><a href="/abonnement/">Abonnez-vous</a></nav></header>
<div id="contentSite" class="pageWrapper">
<section class="pageWrapper__mainContent">
{main}
</section>
<div class="pageWrapper__sideBar"><p>Publicité</p></div>
</div>
<footer class="footer"><p>© La Gazette des communes</p></footer>
</body></html>
"""


def article_html(base: str, article: GenArticle, *, dossier: tuple[str, str] | None = None,
                 full_text: bool = False) -> str:
    """An article page. `dossier` is (url, title); a paywalled article shows the paywall box unless
    `full_text` (what a logged-in subscriber sees)."""
    when = datetime.fromisoformat(article.published)
    box = ""
    if dossier is not None:
        box = f"""<div class="blockTypeA"><p class="blockTypeA--title">Cet article fait partie du dossier :</p>
<a class="blockTypeA--link" href="{_esc(dossier[0])}">{_esc(dossier[1])}</a></div>"""
    locked = article.paywalled and not full_text
    more = "" if locked else "<p>La suite de l'article, lisible en entier.</p>"
    main = f"""<article id="post-{article.site_id}" class="post-{article.site_id} post type-post">
<header class="articleHeader">
<span class="surHeading surHeading--1">Voirie</span>
<h1 class="titleA titleA--1">{_esc(article.title)}</h1>
<p class="articleHeader__date">Publié le {when:%d/%m/%Y} à {when:%Hh%M}</p>
<p class="articleHeader__author">Par Claire Delpech</p>
</header>
<div class="chapo chapo--article">Chapeau de l'article {article.site_id}.</div>
{box}
<div class="articleBody entry-content"><p>Premier paragraphe de l'article {article.site_id}.</p>{more}</div>
{PAYWALL_BOX if locked else ""}
</article>"""
    return _frame(article.title, base + article.path, main)


def _block(base: str, article: GenArticle) -> str:
    abo = " isAbo" if article.paywalled else ""
    query = "?abo=1" if article.paywalled else ""
    return f"""<li class="listDossier__item"><article class="blocType blocType--3{abo}">
<a href="{base}{article.path}{query}" class="blocType__a">
<span class="surHeading surHeading--1">Voirie</span>
<h2 class="titleA titleA--3">{_esc(article.title)}</h2>
<p class="chapo chapo--2">Résumé de l'article {article.site_id} ...</p>
</a></article></li>"""


def _pagination(next_url: str | None) -> tuple[str, str]:
    if next_url is None:
        return "", ""
    head = f'\n<link rel="next" href="{_esc(next_url)}" />'
    body = (f'<div class="pagination"><a class="next page-numbers" href="{_esc(next_url)}">'
            'Page suivante &raquo;</a></div>')
    return head, body


def dossier_html(base: str, path: str, title: str, articles: list[GenArticle], next_url: str | None) -> str:
    """One page of a dossier at `path` (its table of contents: `articles`)."""
    head, pagination = _pagination(next_url)
    blocks = "\n".join(_block(base, article) for article in articles)
    main = f"""<section class="headerDossier"><h1 class="titleA">{_esc(title)}</h1>
<p class="headerDossier__intro">Introduction du dossier {_esc(title)}.</p></section>
<section class="listDossier"><h2 class="subTitleB">Au sommaire du dossier</h2>
<ol class="listDossier__list">
{blocks}
</ol></section>
{pagination}"""
    return _frame(title, base + path, main, head)


def listing_html(base: str, path: str, title: str, articles: list[GenArticle], next_url: str | None) -> str:
    """One page of a rubrique listing."""
    head, pagination = _pagination(next_url)
    blocks = "\n".join(_block(base, article) for article in articles)
    main = f"""<h1 class="titleA">{_esc(title)}</h1>
<ul class="listArticles">
{blocks}
</ul>
{pagination}"""
    return _frame(title, base + path, main, head)


def feed_xml(base: str, path: str, articles: list[GenArticle]) -> str:
    """An RSS 2.0 feed (WordPress style) of `articles`."""
    items = "\n".join(f"""<item>
<title>{_esc(a.title)}</title>
<link>{base}{a.path}</link>
<pubDate>{format_datetime(datetime.fromisoformat(a.published))}</pubDate>
<guid isPermaLink="false">{base}/?p={a.site_id}</guid>
<description><![CDATA[Résumé de l'article {a.site_id} [&#8230;]]]></description>
</item>""" for a in articles)
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
 xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Lagazette.fr &#187; Club Techni.Cités</title>
<atom:link href="{base}{path}" rel="self" type="application/rss+xml" />
<link>{base}</link>
<description>Toute l'actualité</description>
{items}
</channel></rss>
"""


def cached(body: str | bytes, content_type: str = "text/html; charset=utf-8"):
    """A handler that answers with `body` and an ETag, and 304 to a matching If-None-Match."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = '"' + sha256(data).hexdigest()[:16] + '"'

    def handler(request: Request) -> Respond:
        if request.headers.get("if-none-match") == etag:
            return Respond(304, b"", {"ETag": etag}, content_type=None)
        return Respond(200, data, {"ETag": etag}, content_type=content_type)

    return handler


@dataclass
class Site:
    """A generated dossier (and its articles) on a FaultServer."""

    server: FaultServer
    slug: str = "voirie-durable"
    title: str = "Voirie durable : le dossier"
    articles: list[GenArticle] = field(default_factory=list)
    per_page: int = 20

    @property
    def base(self) -> str:
        return self.server.base_url

    @property
    def dossier_path(self) -> str:
        return f"/dossiers/{self.slug}/"

    @property
    def dossier_url(self) -> str:
        return self.base + self.dossier_path

    def page_path(self, page: int) -> str:
        return self.dossier_path if page == 1 else f"{self.dossier_path}page/{page}/"

    def pages(self) -> list[list[GenArticle]]:
        return [self.articles[i:i + self.per_page] for i in range(0, len(self.articles), self.per_page)] or [[]]

    def serve_dossier(self) -> None:
        """Route every page of the dossier (with ETags, so conditional GETs get 304)."""
        pages = self.pages()
        for number, items in enumerate(pages, start=1):
            next_url = self.base + self.page_path(number + 1) if number < len(pages) else None
            body = dossier_html(self.base, self.page_path(number), self.title, items, next_url)
            self.server.route(self.page_path(number), cached(body))

    def article_body(self, article: GenArticle, *, full_text: bool = False) -> str:
        return article_html(self.base, article, dossier=(self.dossier_url, self.title), full_text=full_text)

    def serve_article(self, article: GenArticle) -> None:
        self.server.route(article.path, cached(self.article_body(article)))

    def serve_all(self) -> None:
        self.serve_dossier()
        for article in self.articles:
            self.serve_article(article)


def make_articles(count: int, first_id: int = 600000, *, paywalled_every: int = 3,
                  start: str = "2018-03-16T10:30:00+01:00") -> list[GenArticle]:
    """`count` articles, newest first, one hour apart; every `paywalled_every`-th is paywalled."""
    newest = datetime.fromisoformat(start)
    return [
        GenArticle(first_id + count - i, f"Article numéro {first_id + count - i}",
                   published=(newest - timedelta(hours=i)).isoformat(),
                   paywalled=bool(paywalled_every) and i % paywalled_every == 1)
        for i in range(count)
    ]


# Fetch-log queries the crawl tests share: robots.txt is asked once per host per run, pages at most once.
PAGE_ROWS = "url not like '%/robots.txt'"
DOWNLOADED_TWICE = f"select url from fetches where status = 200 and {PAGE_ROWS} group by url having count(*) > 1"
