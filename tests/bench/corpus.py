"""A realistic corpus for the archive benchmark: distinct article pages in the frames of the samples.

Each page is one of the two 2018 article samples (`article-free-2018.html`, `article-smart-city-2018.html`)
with everything that belongs to the article replaced: the <head>'s title, canonical and short links,
OpenGraph and Twitter metas and description, the <body>'s post id, the whole <article> element (kicker,
title, dates, authors, share links, image, teaser, dossier box, body, paywall boxes, "Sur le même sujet",
comments), and the "L'actu Technique" news beside it. The frame — scripts, menus, login pop-in, sidebars,
footer — stays byte for byte the sample's, as on the real site, where most of a page is its frame.

The texts are drawn word by word from the vocabulary of the samples' own texts (titles, teasers, bodies,
related news, comments, the dossier and listing entries), each word as often as it occurs there, in
sentences and paragraphs of varied lengths, so no two articles share more than common words do. Body
lengths follow the samples' (about 0.6 to 4 KB of text; a paywalled article shows less), a third of the
articles are paywalled, about 40 % belong to a dossier, half have comments (some of them replies), most
have authors, an image, related links.

`pages(first, count)` yields the fetch results of articles `first` … `first + count - 1` in order, and after
every tenth article a later capture of an earlier one with a change (a comment added, a sentence edited, a
teaser reworded), so the archive also holds versions. Everything is derived from the article's number: the
corpus is the same on every run.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from random import Random
from urllib.parse import quote

from scraper.models import Article, Dossier, FetchResult, Listing
from scraper.parse import parse_page

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
FRAMES = ("article-free-2018.html", "article-smart-city-2018.html")
SITE = "https://www.lagazettedescommunes.com"
FIRST_ID = 600000
START = datetime(2024, 1, 1, 6, 0, tzinfo=UTC)
REVISION_EVERY = 10  # a later capture with a change after every tenth article
REVISION_LAG = 50  # of the article stored this many articles earlier
DOSSIER_SPAN = 25  # consecutive articles that may share one dossier
# A word of no sample, in these articles only: a search that finds as much in a small archive as in a large one.
RARE_WORD = "pluviographe"
RARE_ARTICLES = (5, 1005)
WORD = re.compile(r"[^\W\d_][\w’'-]*", re.UNICODE)

KICKERS = (
    "Eclairage public", "Smart city", "Voirie", "Eau potable", "Assainissement", "Déchets", "Mobilité",
    "Energie", "Bâtiment", "Espaces verts", "Commande publique", "Numérique", "Urbanisme", "Transports",
    "Risques", "Biodiversité", "Patrimoine", "Sécurité", "Ingénierie publique", "Climat", "Ouvrages d'art",
    "Propreté", "Réseaux", "Bruit", "Qualité de l'air", "Logement", "Foncier", "Innovation",
)
FIRST_NAMES = ("Marie", "Jean", "Claire", "Pierre", "Sophie", "Nicolas", "Isabelle", "Laurent", "Hélène",
               "Thomas", "Camille", "Olivier", "Anne", "François", "Julie", "Stéphane", "Emilie", "Xavier",
               "Nathalie", "Gaëlle", "Bruno", "Cécile", "Denis", "Agnès", "Yann")
LAST_NAMES = ("Dupont", "Martin", "Le Goff", "Bernard", "Delpech", "Moreau", "Lefèvre", "Garnier", "Roux",
              "Fournier", "Girard", "Bonnet", "Mercier", "Blanc", "Guérin", "Faure", "Rousseau", "Perrin",
              "Morel", "Gauthier", "Chevalier", "Lambert", "Masson", "Marchand", "Duval")
PSEUDONYMS = ("technicien38", "Marc L.", "Elodie_R", "DST_rural", "agent_voirie", "ingé59", "citoyen",
              "Paul B.", "ville_durable", "Annie", "cadreA", "service_eau", "élu local", "Gégé", "T. M.")


@dataclass(frozen=True)
class Frame:
    """A sample cut into its frame (`@@…@@` placeholders where the article goes) and the blocks it lends."""

    template: str
    share: str  # the share links, with @@QURL@@ for the URL-encoded article URL
    respond: str  # the comment form
    paywall: str  # the paywall boxes (from the paywalled sample)


@dataclass
class Comment:
    author: str
    when: datetime
    text: str
    replies: list[Comment] = field(default_factory=list)


@dataclass
class GenArticle:
    number: int
    site_id: int
    slug: str
    kicker: str
    title: str
    published: datetime
    updated: datetime | None
    authors: list[str]
    image: tuple[str, str, str] | None  # url, alt, credit
    teaser: str
    paragraphs: list[str]  # "## " starts an intertitle
    paywalled: bool
    dossier: tuple[str, str] | None  # url, title
    same_subject: list[tuple[str, str]]  # url, title
    news: list[tuple[str, str, str]]  # url, title, teaser
    comments: list[Comment]
    frame: str

    @property
    def url(self) -> str:
        return f"{SITE}/{self.site_id}/{self.slug}/"


# --- the vocabulary ---------------------------------------------------------------------------------

@cache
def vocabulary() -> tuple[list[str], list[int]]:
    """The words of the samples' texts and how often each occurs there (the weights of the draw)."""
    counts: Counter[str] = Counter()
    for path in sorted(SAMPLES.glob("*.html")):
        record = parse_page(path.read_bytes(), MANIFEST[path.name]["url"],
                            content_type=MANIFEST[path.name]["content_type"])
        counts.update(WORD.findall(" ".join(_texts(record))))
    words = sorted(counts)
    return words, [counts[word] for word in words]


def _texts(record: Article | Dossier | Listing) -> list[str]:
    if isinstance(record, Article):
        return [record.title, record.teaser or "", record.body or "", *(link.title for link in record.related),
                *(link.teaser or "" for link in record.related), *(comment.text for comment in record.comments)]
    return [record.title, *(item.title for item in record.articles), *(item.teaser or "" for item in record.articles)]


def sentence(rng: Random, low: int = 6, high: int = 28) -> str:
    words, weights = vocabulary()
    drawn = rng.choices(words, weights, k=rng.randint(low, high))
    for index in range(2, len(drawn) - 1):
        if rng.random() < 0.09:
            drawn[index] += ","
    text = " ".join(drawn)
    return text[0].upper() + text[1:] + rng.choice(".........?:")


def paragraph(rng: Random, low: int = 2, high: int = 5) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(low, high)))


def title(rng: Random) -> str:
    text = sentence(rng, 4, 11).rstrip(".?:,")
    return text.replace(",", "") if rng.random() < 0.6 else text.replace(",", " :", 1)


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:80] or "article"


# --- the frames ---------------------------------------------------------------------------------------

# (pattern, replacement, expected matches: 0 means at least one)
_HEAD = (
    (r"<title>.*?</title>", "<title>@@TITLE@@ | La Gazette des communes</title>", 1),
    (r'title="Lagazette\.fr &raquo; [^"]*Flux des commentaires" href="[^"]*"',
     'title="Lagazette.fr &raquo; @@TITLE@@ Flux des commentaires" href="@@URL@@feed/"', 1),
    (r"<link rel='canonical' href='[^']*' />", "<link rel='canonical' href='@@URL@@' />", 1),
    (r"<link rel='shortlink' href='[^']*' />", f"<link rel='shortlink' href='{SITE}/?p=@@ID@@' />", 1),
    (r'(<meta property="og:title" content=")[^"]*', r"\1@@TITLE@@", 1),
    (r'(<meta property="og:url" content=")[^"]*', r"\1@@URL@@", 1),
    (r'(<meta property="og:image" content=")[^"]*', r"\1@@IMAGE@@", 1),
    (r'(<meta name="twitter:title" content=")[^"]*', r"\1@@TITLE@@", 1),
    (r'(<meta name="twitter:image" content=")[^"]*', r"\1@@IMAGE@@", 1),
    (r'(<meta name="description" content=")[^"]*', r"\1@@TEASER@@", 1),
    (r"postid-\d+", "postid-@@ID@@", 1),
    (r'(name="redirect" value=")[^"]*', r"\1@@URL@@", 0),
    (r'<article id="post-\d+".*?</article>', "@@ARTICLE@@", 1),
    (r'<ul class="listNews">.*?</ul>', "@@NEWS@@", 1),
)


def _substitute(text: str, pattern: str, replacement: str, expected: int, name: str) -> str:
    result, count = re.subn(pattern, replacement, text, flags=re.DOTALL)
    if (expected and count != expected) or count == 0:
        raise ValueError(f"{name}: {pattern!r} matched {count} times (the sample changed?)")
    return result


def _block(text: str, pattern: str, name: str) -> str:
    found = re.search(pattern, text, flags=re.DOTALL)
    if found is None:
        raise ValueError(f"{name}: no {pattern!r} (the sample changed?)")
    return found.group(0)


@cache
def frames() -> dict[str, Frame]:
    paywalled = (SAMPLES / "article-smart-city-2018.html").read_text(encoding="utf-8")
    paywall = _block(paywalled, r'<div class="encartsAbo">.*?\n\t\t\t</div>\n', "paywall")
    result = {}
    for name in FRAMES:
        text = (SAMPLES / name).read_text(encoding="utf-8")
        sample_url = MANIFEST[name]["url"]
        share = _block(text, r'<div class="shareNetwork shareNetwork--article">.*?</div>', name)
        share = share.replace(quote(sample_url, safe=""), "@@QURL@@")
        respond = _block(text, r'<div id="respond" class="comment-respond">.*?</form>.*?</div>', name)
        respond = re.sub(r"value='\d+' id='comment_post_ID'", "value='@@ID@@' id='comment_post_ID'", respond)
        template = text
        for pattern, replacement, expected in _HEAD:
            template = _substitute(template, pattern, replacement, expected, name)
        result[name] = Frame(template, share, respond, paywall)
    return result


# --- one article ----------------------------------------------------------------------------------------

def _dossier(number: int) -> tuple[str, str] | None:
    """The dossier of article `number`: one per DOSSIER_SPAN consecutive articles, 40 % of them in it."""
    if Random(number * 31 + 7).random() >= 0.4:
        return None
    rng = Random(number // DOSSIER_SPAN * 977 + 3)
    name = title(rng)
    return f"{SITE}/dossiers/{slugify(name)}-{number // DOSSIER_SPAN}/", name


def _other(number: int, distance: int) -> int:
    """Another article, `distance` before this one (after it at the start of the corpus)."""
    return number - distance if number >= distance else number + distance


def _site_id(number: int) -> int:
    return FIRST_ID + 3 * number


def headline(number: int) -> tuple[str, str]:
    """The URL and title of article `number` (what other articles' related links show)."""
    rng = Random(number)
    name = title(rng)
    return f"{SITE}/{_site_id(number)}/{slugify(name)}/", name


def _comments(rng: Random, after: datetime) -> list[Comment]:
    if rng.random() < 0.5:
        return []
    comments = []
    when = after
    for _ in range(rng.randint(1, 6)):
        when += timedelta(minutes=rng.randint(20, 3000))
        comment = Comment(rng.choice(PSEUDONYMS), when, paragraph(rng, 1, 3))
        if comments and rng.random() < 0.3:
            comments[-1].replies.append(comment)
        else:
            comments.append(comment)
    return comments


def article(number: int) -> GenArticle:
    rng = Random(f"article {number}")
    url, name = headline(number)
    published = START - timedelta(hours=number * 5 % 80000, minutes=rng.randint(0, 59))
    paywalled = rng.random() < 1 / 3
    paragraphs = [paragraph(rng) for _ in range(rng.randint(1, 4) if paywalled else rng.randint(2, 9))]
    for index in range(2, len(paragraphs), 3):
        paragraphs.insert(index, "## " + title(rng))
    slug = url.rstrip("/").rsplit("/", 1)[1]
    image = None
    if rng.random() < 0.75:
        year = published.year
        image = (f"{SITE}/wp-content/uploads/{year}/{published.month:02}/{slug[:40]}-620x413.jpg",
                 sentence(rng, 3, 8).rstrip(".?:"), f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}")
    authors = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(rng.choice((0, 1, 1, 1, 2)))]
    same = [headline(_other(number, rng.randint(1, 400))) for _ in range(rng.randint(0, 3))]
    news = [(*headline(_other(number, k)), paragraph(Random(f"news {_other(number, k)}"), 1, 2)[:180] + " ...")
            for k in (1, 2, 3)]
    if number in RARE_ARTICLES:
        paragraphs[0] += f" Le {RARE_WORD} du service a été remplacé."
    return GenArticle(
        number=number, site_id=_site_id(number), slug=slug, kicker=rng.choice(KICKERS), title=name,
        published=published, updated=published + timedelta(days=rng.randint(1, 30)) if rng.random() < 0.3 else None,
        authors=authors, image=image, teaser=paragraph(rng, 1, 2), paragraphs=paragraphs, paywalled=paywalled,
        dossier=_dossier(number), same_subject=same, news=news, comments=_comments(rng, published),
        frame=FRAMES[1] if paywalled else FRAMES[number % 2],
    )


def revised(number: int) -> GenArticle:
    """Article `number` as a later capture shows it: a comment added, or a sentence edited, or the teaser."""
    base = article(number)
    rng = Random(number * 7 + 1)
    choice = rng.random()
    if choice < 0.5:
        when = base.published + timedelta(days=rng.randint(1, 60))
        return replace(base, comments=[*base.comments, Comment(rng.choice(PSEUDONYMS), when, paragraph(rng, 1, 2))])
    if choice < 0.8:
        paragraphs = list(base.paragraphs)
        index = rng.randrange(len(paragraphs))
        words = paragraphs[index].split(" ")
        start = rng.randrange(len(words))
        words[start:start + rng.randint(1, 4)] = sentence(rng, 2, 6).rstrip(".?:").lower().split(" ")
        paragraphs[index] = " ".join(words)
        return replace(base, paragraphs=paragraphs, updated=base.published + timedelta(days=rng.randint(1, 60)))
    return replace(base, teaser=paragraph(rng, 1, 2))


# --- its page ---------------------------------------------------------------------------------------

def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _date(moment: datetime) -> str:
    return f"{moment:%d/%m/%Y}"


def _comment_html(comment: Comment, depth: int, number: int, counter: list[int]) -> str:
    counter[0] += 1
    comment_id = number * 10 + counter[0]
    indent = "\t" * (4 + 2 * depth)
    replies = ""
    if comment.replies:
        inner = "\n".join(_comment_html(reply, depth + 1, number, counter) for reply in comment.replies)
        replies = f'\n{indent}\t<ul class="children">\n{inner}\n{indent}\t</ul>'
    parity = "odd alt" if counter[0] % 2 else "even"
    return (f'{indent}<li class="comment {parity} depth-{depth + 1}" id="li-comment-{comment_id}">\n'
            f'{indent}\t<div id="comment-{comment_id}" class="comment__body">\n'
            f'{indent}\t\t<p class="comment__meta"><span class="comment__author">{_e(comment.author)}</span> - '
            f'<span class="comment__date">{comment.when:%d/%m/%Y %Hh:%M}</span></p>\n'
            f'{indent}\t\t<div class="comment__text"><p>{_e(comment.text)}</p></div>\n'
            f'{indent}\t</div>{replies}\n{indent}</li>')


def _count(comments: list[Comment]) -> int:
    return sum(1 + _count(comment.replies) for comment in comments)


def _article_html(art: GenArticle, frame: Frame) -> str:
    dates = f'\t\t\t\t\t<span class="articleHeader__published">Publié le {_date(art.published)} à ' \
            f'{art.published:%Hh%M}</span>\n'
    if art.updated:
        dates += f'\t\t\t\t\t<span class="articleHeader__updated">| Mis à jour le {_date(art.updated)}</span>\n'
    authors = " et ".join(f'<a href="/auteur/{slugify(name)}/" class="articleHeader__authorLink">{_e(name)}</a>'
                          for name in art.authors)
    parts = [
        f'<article id="post-{art.site_id}" class="post-{art.site_id} post type-post status-publish format-standard'
        f' has-post-thumbnail hentry rubriques-club-technicites rubriques-{slugify(art.kicker)}">',
        '\t\t\t<header class="articleHeader">',
        f'\t\t\t\t<span class="surHeading surHeading--1">{_e(art.kicker)}</span>',
        f'\t\t\t\t<h1 class="titleA titleA--1">\n\t\t\t\t\t{_e(art.title)}\n\t\t\t\t</h1>',
        f'\t\t\t\t<p class="articleHeader__date">\n{dates}\t\t\t\t</p>',
        f'\t\t\t\t<p class="articleHeader__author">Par {authors}\n\t\t\t\t</p>',
        "\t\t\t" + frame.share.replace("@@QURL@@", quote(art.url, safe="")),
        "\t\t\t</header>\n",
    ]
    if art.image:
        src, alt, credit = art.image
        parts.append(f'\t\t\t<figure class="articleFigure">\n\t\t\t\t<img width="620" height="413" src="{_e(src)}"'
                     f' class="attachment-single_article size-single_article wp-post-image" alt="{_e(alt)}" />\n'
                     f'\t\t\t\t<figcaption class="caption caption--1">&copy; {_e(credit)}</figcaption>\n'
                     '\t\t\t</figure>\n')
    parts.append(f'\t\t\t<div class="chapo chapo--article">\n\t\t\t\t{_e(art.teaser)}\n\t\t\t</div>\n')
    if art.dossier:
        parts.append('\t\t\t<div class="blockTypeA">\n\t\t\t\t<p class="blockTypeA--title">Cet article fait partie du'
                     f' dossier :</p>\n\t\t\t\t<a class="blockTypeA--link" href="{_e(art.dossier[0])}">'
                     f'{_e(art.dossier[1])}</a>\n\t\t\t</div>\n')
    body = "\n".join(f"<h2>{_e(text[3:])}</h2>" if text.startswith("## ") else f"<p>{_e(text)}</p>"
                     for text in art.paragraphs)
    parts.append(f'\t\t\t<div class="articleBody entry-content">\n\t\t\t\t{body}\n\t\t\t</div>\n')
    if art.paywalled:
        parts.append("\t\t\t" + frame.paywall)
    if art.same_subject:
        items = "\n".join(f'\t\t\t\t\t<li class="list__item list__item--1">\n\t\t\t\t\t\t<i class="icon-fleche-lien">'
                          f'</i> <a href="{_e(url)}" class="list__item__a list__item__a--1">{_e(name)}</a>\n'
                          "\t\t\t\t\t</li>" for url, name in art.same_subject)
        parts.append('\t\t\t<div class="sameSubject is-noMobile">\n\t\t\t\t<p class="subTitleB subTitleB--2">Sur le'
                     f' même sujet</p>\n\t\t\t\t<ul class="list list--1">\n{items}\n\t\t\t\t</ul>\n\t\t\t</div>\n')
    counter = [0]
    thread = "\n".join(_comment_html(comment, 0, art.site_id, counter) for comment in art.comments)
    comment_list = f'\t\t\t\t<ol class="commentlist">\n{thread}\n\t\t\t\t</ol>\n' if art.comments else ""
    parts.append('\t\t\t<section id="comments" class="comments">\n\t\t\t\t<div class="comments__header">\n'
                 '\t\t\t\t\t<p class="titleE titleE--comments">Commentaires</p>\n\t\t\t\t\t<p class="comments__count">'
                 f'<span class="comments__nb">{_count(art.comments)}</span> &nbsp;|&nbsp; <a href="#respond">réagir'
                 f'</a></p>\n\t\t\t\t</div>\n{comment_list}\t\t\t\t'
                 + frame.respond.replace("@@ID@@", str(art.site_id)) + "\n\t\t\t</section>\n\t\t</article>")
    return "\n".join(parts)


def _news_html(art: GenArticle) -> str:
    items = "\n".join(f'\t\t\t\t\t<li class="listNews__item bgRollover">\n\t\t\t\t\t\t<a class="listNews__a"'
                      f' href="{_e(url)}">\n\t\t\t\t\t\t\t<h3 class="titleA titleA--4">{_e(name)}</h3>\n'
                      f'\t\t\t\t\t\t\t<p class="chapo chapo--3">{_e(teaser)}</p>\n\t\t\t\t\t\t</a>\n\t\t\t\t\t</li>'
                      for url, name, teaser in art.news)
    return f'<ul class="listNews">\n{items}\n\t\t\t\t</ul>'


def page_html(art: GenArticle) -> bytes:
    frame = frames()[art.frame]
    image = art.image[0] if art.image else f"{SITE}/wp-content/themes/gazette_v5/images/logo-gazette.png"
    text = frame.template
    for marker, value in (("@@ARTICLE@@", _article_html(art, frame)), ("@@NEWS@@", _news_html(art)),
                          ("@@TITLE@@", _e(art.title)), ("@@URL@@", art.url), ("@@ID@@", str(art.site_id)),
                          ("@@IMAGE@@", _e(image)), ("@@TEASER@@", _e(art.teaser))):
        text = text.replace(marker, value)
    return text.encode("utf-8")


RESPONSE_HEADERS = {
    "server": "Apache", "content-type": "text/html; charset=UTF-8", "vary": "Accept-Encoding,Cookie",
    "cache-control": "max-age=300, must-revalidate", "x-powered-by": "PHP/7.0.33", "content-encoding": "gzip",
    "x-ua-compatible": "IE=edge", "link": "<https://www.lagazettedescommunes.com/wp-json/>; rel=\"https://api.w.org/\"",
}
REQUEST_HEADERS = [
    ("host", "www.lagazettedescommunes.com"), ("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"),
    ("accept-encoding", "gzip, deflate, br"), ("connection", "keep-alive"),
    ("user-agent", "scrape/0.1.0 (+https://github.com/example/scrape; archiving Club Techni.Cites)"),
    ("accept-language", "fr-FR,fr;q=0.9"),
]


def fetch_of(art: GenArticle, fetched_at: datetime) -> FetchResult:
    body = page_html(art)
    stamp = fetched_at.isoformat(timespec="seconds")
    headers = {**RESPONSE_HEADERS, "date": fetched_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
               "etag": f'"{art.site_id:x}-{len(body):x}"',
               "last-modified": (art.updated or art.published).strftime("%a, %d %b %Y %H:%M:%S GMT")}
    return FetchResult(url=art.url, final_url=art.url, status=200, fetched_at=stamp, elapsed=0.12, headers=headers,
                       body=body, etag=headers["etag"], last_modified=headers["last-modified"],
                       content_type=headers["content-type"], request_headers=list(REQUEST_HEADERS))


def pages(first: int, count: int) -> Iterator[FetchResult]:
    """The captures of articles `first` … `first + count - 1`, with the later captures of earlier ones."""
    for number in range(first, first + count):
        yield fetch_of(article(number), START + timedelta(minutes=number))
        if number % REVISION_EVERY == 0 and number >= REVISION_LAG:
            yield fetch_of(revised(number - REVISION_LAG), START + timedelta(minutes=number, seconds=30))
