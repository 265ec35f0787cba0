"""Pages in the markups of other generations of the site and of the usual WordPress themes, written here by hand
(none is a copy of a page): each behaviour of issue 18 in at least two markups, read as a reader sees it.

Lists: a date, byline or 'Lire la suite' line is never a teaser; lock icons and 'abonnés' labels on the entry's
own element; label-only pagination; a dossier's later page. Comments: threads read by structure, counts in words.
Article boundaries: dates, tables, 'Lire aussi' boxes, images, share links, credits, a metered paywall.
"""

from __future__ import annotations

import json
import re

import pytest

from scraper.models import Article, Dossier, Listing
from scraper.parse import parse_page

from .mutations import MUTATIONS, Mutation

SITE = "https://www.lagazettedescommunes.com"
TEASER = "Les communes qui ont changé de délégataire ont vu le prix de l’eau baisser de 12 % en moyenne."


def _page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def _listing(body: str, url: str = f"{SITE}/rubriques/eau/") -> Listing:
    record = parse_page(_page(body), url)
    assert isinstance(record, Listing), record
    return record


def _article(body: str, head: str = "", url: str = f"{SITE}/910001/eau-le-prix-baisse/") -> Article:
    record = parse_page(_page(body, head), url)
    assert isinstance(record, Article), record
    return record


def _href(site_id: int) -> str:
    return f"{SITE}/{site_id}/article-{site_id}/"


# --- lists: the teaser is the first text of substance --------------------------------------------------------

CARDS_2025 = "".join(
    f"<div class='rounded-lg p-4 shadow'><h3 class='text-lg font-bold'><a href='{_href(site_id)}'>Titre {site_id}</a>"
    f"</h3><p class='text-xs text-gray-500'>Publié le 14/01/2025</p><p class='text-sm'>{TEASER}</p></div>"
    for site_id in (900001, 900002, 900003))
BULLETS_2015 = "<ul>" + "".join(
    f"<li><h2><a href='{_href(site_id)}'>Titre {site_id}</a></h2><p>Publié le 16/11/2015 • Par Hélène Girard</p>"
    f"<p>{TEASER}</p><a href='{_href(site_id)}'>Lire la suite</a></li>"
    for site_id in (900011, 900012, 900013)) + "</ul>"
DEFINITIONS = "<dl>" + "".join(
    f"<dt><a href='{_href(site_id)}'>Titre {site_id}</a></dt><dd><span>Le 03/03/2022</span></dd><dd>{TEASER}</dd>"
    for site_id in (900021, 900022, 900023)) + "</dl>"
BYLINE_ONLY = "<ul>" + "".join(
    f"<li><h3><a href='{_href(site_id)}'>Titre {site_id}</a></h3><p>Par Jean-Marc Le Goff et Anne Dupont</p>"
    f"<a href='{_href(site_id)}'>Lire la suite »</a></li>" for site_id in (900031, 900032, 900033)) + "</ul>"


@pytest.mark.parametrize("body", [CARDS_2025, BULLETS_2015, DEFINITIONS], ids=["cards-2025", "bullets-2015", "dl"])
def test_a_date_or_byline_line_is_never_the_teaser(body: str) -> None:
    record = _listing(f"<main><h1>Eau</h1>{body}</main>")
    assert len(record.articles) == 3
    assert [item.teaser for item in record.articles] == [TEASER] * 3


def test_an_entry_with_only_a_byline_and_lire_la_suite_has_no_teaser() -> None:
    record = _listing(f"<main><h1>Eau</h1>{BYLINE_ONLY}</main>")
    assert [(item.title, item.teaser) for item in record.articles] == [
        (f"Titre {site_id}", None) for site_id in (900031, 900032, 900033)]


def test_a_teaser_that_holds_a_date_or_starts_with_par_is_still_the_teaser() -> None:
    long_teaser = "Par arrêté du 12 mars 2024, le ministre fixe les nouveaux seuils des marchés publics des communes."
    body = "<ul>" + "".join(f"<li><h3><a href='{_href(site_id)}'>Titre</a></h3><p>{long_teaser}</p></li>"
                            for site_id in (900041, 900042, 900043)) + "</ul>"
    assert [item.teaser for item in _listing(f"<main><h1>Eau</h1>{body}</main>").articles] == [long_teaser] * 3


# --- lists: a lock as a reader sees it -----------------------------------------------------------------------

LOCKS = {
    "notYet-today": "<li><span class='notYet'></span><a href='{href}'>{title}</a></li>",
    "icon-lock": "<li><h3><i class='icon-lock' aria-hidden='true'></i> <a href='{href}'>{title}</a></h3></li>",
    "titled-span": "<li><a href='{href}'>{title}</a> <span title='Réservé aux abonnés'>🔒</span></li>",
    "img-alt": "<li><img src='/img/cadenas.png' alt='Abonnés'> <a href='{href}'>{title}</a></li>",
    "label": "<li><span class='badge'>Abonnés</span><span class='k'>Finances</span><h3><a href='{href}'>{title}</a>"
             "</h3></li>",
    "svg-symbol": "<li><h3><a href='{href}'>{title}</a> <svg class='icon' aria-hidden='true'><use href='#icon-lock'>"
                  "</use></svg></h3></li>",
    "svg-titled": "<li><svg role='img'><title>Réservé aux abonnés</title><path d='M0 0h8v8H0z'/></svg>"
                  "<a href='{href}'>{title}</a></li>",
}


@pytest.mark.parametrize("locked", list(LOCKS), ids=list(LOCKS))
def test_an_entry_locked_by_an_icon_or_label_is_paywalled_and_its_neighbours_are_not(locked: str) -> None:
    free = "<li><a href='{href}'>{title}</a></li>"
    items = [LOCKS[locked] if index == 1 else free for index in range(3)]
    body = "<ul>" + "".join(item.format(href=_href(900101 + index), title=f"Titre {index}")
                            for index, item in enumerate(items)) + "</ul>"
    record = _listing(f"<main><h1>Eau</h1>{body}</main>")
    assert [item.is_paywalled for item in record.articles] == [False, True, False]
    assert all(item.kicker in (None, "Finances") for item in record.articles)  # a lock's label is no kicker


def test_a_lock_around_several_entries_locks_none_of_them() -> None:
    body = ("<div><span class='icon-lock'></span><ul>" + "".join(
        f"<li><a href='{_href(site_id)}'>Titre {site_id}</a></li>" for site_id in (900201, 900202, 900203))
        + "</ul></div>")
    assert [item.is_paywalled for item in _listing(f"<main><h1>Eau</h1>{body}</main>").articles] == [False] * 3


def test_words_that_contain_lock_are_no_lock() -> None:
    body = "<ul>" + "".join(f"<li class='block is-block'><span class='blockTitle unlocked'>x</span>"
                            f"<a href='{_href(site_id)}'>Titre {site_id}</a></li>"
                            for site_id in (900211, 900212, 900213)) + "</ul>"
    assert [item.is_paywalled for item in _listing(f"<main><h1>Eau</h1>{body}</main>").articles] == [False] * 3


# --- lists: pagination by its labels -------------------------------------------------------------------------

ENTRIES = "<ul>" + "".join(f"<li><a href='{_href(site_id)}'>Titre {site_id}</a></li>"
                           for site_id in (900301, 900302, 900303)) + "</ul>"
PAGINATIONS = {
    "wordpress-posts-pagination": "<nav class='navigation' aria-label='Publications'><h2>Navigation des articles</h2>"
                                  "<div class='nav-links'><span aria-current='page'>1</span>"
                                  "<a href='/rubriques/eau/page/2/'>2</a><a href='/rubriques/eau/page/2/'>"
                                  "Page suivante</a></div></nav>",
    "arrow-in-nav": "<nav aria-label='Pages'><ul><li><b>1</b></li><li><a href='/rubriques/eau/page/2/'>2</a></li>"
                    "<li><a href='/rubriques/eau/page/2/'>»</a></li></ul></nav>",
    "suivant-in-div": "<div class='pager'><a href='/rubriques/eau/'>Précédent</a> <a href='/rubriques/eau/page/2/'>"
                      "Suivant</a></div>",
}


@pytest.mark.parametrize("pagination", list(PAGINATIONS.values()), ids=list(PAGINATIONS))
def test_a_next_page_link_labelled_without_rel_is_the_next_page(pagination: str) -> None:
    record = _listing(f"<nav><a href='/'>Accueil</a><a href='/rubriques/'>Rubriques »</a></nav>"
                      f"<main><h1>Eau</h1>{ENTRIES}{pagination}</main>")
    assert record.next_page == f"{SITE}/rubriques/eau/page/2/"


def test_a_menu_named_navigation_is_no_pagination() -> None:
    items = "".join(f"<li><a href='{_href(900351 + index)}'>Article du menu {index}</a></li>" for index in range(25))
    menu = f"<nav class='navigation'><ul>{items}</ul></nav>"
    record = _listing(f"{menu}<main><h1>Eau</h1>{ENTRIES}</main>")
    assert [item.site_id for item in record.articles] == [900301, 900302, 900303]


def test_an_arrow_outside_a_pagination_is_no_next_page() -> None:
    body = f"<main><h1>Eau</h1>{ENTRIES}<p><a href='/rubriques/eau/archives/'>»</a></p></main>"
    assert _listing(body).next_page is None


# --- lists: a dossier's later page ---------------------------------------------------------------------------

DOSSIER = f"{SITE}/dossiers/eau-potable-les-reseaux/"
DESCRIPTION = "<meta name='description' content='Les réseaux d’eau potable vieillissent.'>"
INTRO = ("Les réseaux d’eau potable vieillissent : un litre sur cinq se perd avant d’arriver au robinet, et les "
         "communes cherchent comment financer leur renouvellement.")


def _dossier(body: str, url: str, head: str = DESCRIPTION) -> Dossier:
    record = parse_page(_page(body, head), url)
    assert isinstance(record, Dossier), record
    return record


@pytest.mark.parametrize("entries", [
    "<ol start='7'>" + "".join(f"<li><h3><a href='{_href(site_id)}'>Titre {site_id}</a></h3></li>"
                               for site_id in (900401, 900402, 900403)) + "</ol>",
    "".join(f"<div class='row'><span class='num'>{number}</span><h3><a href='{_href(site_id)}'>Titre {site_id}</a>"
            f"</h3><p>{TEASER}</p></div>" for number, site_id in ((7, 900411), (8, 900412), (9, 900413))),
    "<ul>" + "".join(f"<li><h3><a href='{_href(site_id)}'><span class='n'>{number}.</span> Titre {site_id}</a></h3>"
                     f"</li>" for number, site_id in ((7, 900421), (8, 900422), (9, 900423))) + "</ul>",
], ids=["ol-start", "numbers-shown", "numbers-in-titles"])
def test_a_dossier_page_2_numbers_its_entries_as_shown_and_has_no_intro(entries: str) -> None:
    body = f"<main><h1>Eau potable : les réseaux</h1><h2>Au sommaire du dossier</h2>{entries}</main>"
    record = _dossier(body, DOSSIER + "page/2/")
    assert [item.position for item in record.articles] == [7, 8, 9]
    assert all(item.title == f"Titre {item.site_id}" for item in record.articles)
    assert all(item.kicker is None for item in record.articles)  # the shown number is no kicker
    assert record.intro is None  # the description is the first page's


def test_a_title_that_starts_with_its_own_number_is_kept_whole() -> None:
    body = ("<main><h1>Eau potable</h1><h2>Au sommaire du dossier</h2><ol>" + "".join(
        f"<li><h3><a href='{_href(site_id)}'>{number} questions sur l’eau</a></h3></li>"
        for number, site_id in ((5, 900431), (12, 900432))) + "</ol></main>")
    record = _dossier(body, DOSSIER)
    assert [(item.position, item.title) for item in record.articles] == [(1, "5 questions sur l’eau"),
                                                                          (2, "12 questions sur l’eau")]


@pytest.mark.parametrize(("title", "intro"), [
    ("<h1>Eau potable : les réseaux</h1>", f"<p>{INTRO}</p>"),
    ("<h1>Eau potable : les réseaux</h1>", f"<div class='chapeau-dossier'><p>{INTRO}</p></div>"),
    ("<div class='hero'><div><h1>Eau potable : les réseaux</h1></div></div>", f"<p>{INTRO}</p>"),
], ids=["paragraph", "intro-block", "wrapped-title"])
def test_a_dossier_first_page_shows_its_intro_over_a_shorter_description(title: str, intro: str) -> None:
    body = (f"<main>{title}{intro}<h2>Au sommaire du dossier</h2><ol>"
            + "".join(f"<li><a href='{_href(site_id)}'>Titre {site_id}</a></li>" for site_id in (900421, 900422))
            + "</ol></main>")
    record = _dossier(body, DOSSIER)
    assert record.intro == INTRO
    assert [item.position for item in record.articles] == [1, 2]


# --- comments ------------------------------------------------------------------------------------------------

ARTICLE_TOP = ("<article class='post'><h1 class='entry-title'>Eau : le prix baisse</h1>"
               "<p class='meta'>Publié le 12/03/2024 à 08h30</p>"
               "<div class='entry-content'><p>Le prix de l’eau baisse dans les communes qui ont changé de "
               "délégataire, selon une étude publiée mardi.</p><p>Les écarts restent forts d’un territoire à "
               "l’autre, notent les auteurs de l’étude.</p></div>")


def _wordpress_comment(number: int, name: str, moment: str, text: str, children: str = "") -> str:
    replies = f"<ol class='children'>{children}</ol>" if children else ""
    return (f"<li id='comment-{number}' class='comment even depth-1'><article id='div-comment-{number}' "
            f"class='comment-body'><footer class='comment-meta'><div class='comment-author vcard'>"
            f"<img alt='' src='/avatar.png' class='avatar'><b class='fn'>{name}</b> <span class='says'>dit :</span>"
            f"</div><div class='comment-metadata'><a href='#comment-{number}'><time datetime='{moment}'>"
            f"13 mars 2024 à 10 h 05 min</time></a></div></footer><div class='comment-content'><p>{text}</p></div>"
            f"<div class='reply'><a rel='nofollow' class='comment-reply-link' href='?replytocom={number}#respond'>"
            f"Répondre à {name}</a></div></article>{replies}</li>")


WORDPRESS_THREAD = (
    "<div id='comments' class='comments-area'><h2 class='comments-title'>Commentaires (3)</h2><ol class='commentlist'>"
    + _wordpress_comment(1, "Marc", "2024-03-13T10:05:00+01:00", "Enfin une bonne nouvelle pour les usagers.",
                         _wordpress_comment(2, "Claire", "2024-03-13T11:20:00+01:00", "Pas chez nous, hélas."))
    + _wordpress_comment(3, "Paul", "2024-03-14T09:00:00+01:00", "Et l’assainissement ?")
    + "</ol></div>")
DIV_THREAD = (
    "<section><h3>3 commentaires</h3>"
    "<div><div><strong>Marc</strong> <time datetime='2024-03-13T10:05'>13/03/2024 à 10h05</time></div>"
    "<p>Enfin une bonne nouvelle pour les usagers.</p>"
    "<div><div><strong>Claire</strong> <time datetime='2024-03-13T11:20'>13/03/2024 à 11h20</time></div>"
    "<p>Pas chez nous, hélas.</p></div></div>"
    "<div><div><strong>Paul</strong> <time datetime='2024-03-14T09:00'>14/03/2024 à 09h00</time></div>"
    "<p>Et l’assainissement ?</p></div></section>")
EXPECTED_THREAD = [
    ("Marc", "2024-03-13T10:05:00+01:00", "Enfin une bonne nouvelle pour les usagers.", None),
    ("Claire", "2024-03-13T11:20:00+01:00", "Pas chez nous, hélas.", 0),
    ("Paul", "2024-03-14T09:00:00+01:00", "Et l’assainissement ?", None),
]


REFLEXIONS_THREAD = re.sub(r"<div class='reply'>.*?</div>", "", WORDPRESS_THREAD.replace(
    "Commentaires (3)", "3 réflexions sur « Eau : le prix baisse »"))  # replies closed: no 'Répondre' link


@pytest.mark.parametrize("thread", [WORDPRESS_THREAD, WORDPRESS_THREAD.replace("class=", "data-c="), DIV_THREAD,
                                    REFLEXIONS_THREAD],
                         ids=["wordpress", "wordpress-without-classes", "nested-divs", "reflexions-no-reply-link"])
def test_a_comment_thread_is_read_by_structure_each_text_bounded_by_its_element(thread: str) -> None:
    record = _article(f"<main>{ARTICLE_TOP}{thread}</article></main>")
    assert [(c.author, c.posted_at, c.text, c.in_reply_to) for c in record.comments] == EXPECTED_THREAD
    assert record.comments_count == 3
    assert record.published_at == "2024-03-12T08:30:00+01:00"  # the article's, not a comment's <time>
    assert "Enfin" not in (record.body or "")


@pytest.mark.parametrize("after", [
    "<p class='updated'>Mis à jour le <time datetime='2024-03-14T18:00'>14/03/2024 à 18h00</time></p>",
    "<footer><span>Par <a href='/auteur/claire/'>Claire</a></span> <time datetime='2024-03-12T08:30'>12 mars</time>"
    "</footer>",
], ids=["update-line", "article-footer"])
def test_a_date_after_the_text_without_a_pseudo_and_text_is_no_comment(after: str) -> None:
    record = _article(f"<main>{ARTICLE_TOP}{after}</article></main>")
    assert record.comments == []


def test_a_self_linked_title_and_absolute_permalinks_leave_the_dates_and_thread_read() -> None:
    url = f"{SITE}/910001/eau-le-prix-baisse/"
    top = ARTICLE_TOP.replace("<h1 class='entry-title'>Eau : le prix baisse</h1><p class='meta'>Publié le 12/03/2024 à "
                              "08h30</p>", f"<header><h1 class='entry-title'><a href='{url}'>Eau : le prix baisse</a>"
                              "</h1><time datetime='2024-03-12T08:30:00+01:00'>12 mars 2024</time></header>")
    thread = WORDPRESS_THREAD.replace("href='#comment-", f"href='{url}#comment-").replace(
        "href='?replytocom=", f"href='{url}?replytocom=")
    record = _article(f"<main>{top}{thread}</article></main>", url=url)
    assert record.published_at == "2024-03-12T08:30:00+01:00"
    assert [(c.author, c.posted_at, c.text, c.in_reply_to) for c in record.comments] == EXPECTED_THREAD
    assert record.comments_count == 3


@pytest.mark.parametrize(("shown", "count"), [
    ("<h2>Commentaires (6)</h2>", 6), ("<p class='count'>0 commentaire</p>", 0),
    ("<div><a href='#comments'>8 commentaires</a></div>", 8), ("<h3>1 réaction</h3>", 1),
    ("<h2 class='comments-title'>3 réflexions sur « Eau : le prix baisse »</h2>", 3),
    ("<h2>Une réflexion sur « Eau : le prix baisse »</h2>", 1)])
def test_a_comment_count_shown_in_words_is_read(shown: str, count: int) -> None:
    record = _article(f"<main>{ARTICLE_TOP}</article>{shown}</main>")
    assert record.comments_count == count


def test_a_comment_count_in_a_sidebar_is_not_the_articles() -> None:
    record = _article(f"<main>{ARTICLE_TOP}</article></main><aside><h3>Les plus commentés</h3>"
                      "<p>12 commentaires</p></aside>")
    assert record.comments_count is None


# --- article boundaries --------------------------------------------------------------------------------------

@pytest.mark.parametrize("elsewhere", [
    "<aside><h3>Agenda</h3><p><time datetime='2024-04-02T09:00'>2 avril</time> Salon de l’eau</p></aside>",
    "<div><h3>Sur le même sujet</h3><ul><li><a href='" + _href(900501) + "'>Eau : un autre article</a> "
    "<time datetime='2023-11-05T07:00'>5 novembre 2023</time></li></ul></div>",
    "<div><h3>1 commentaire</h3><div><b>Marc</b> <time datetime='2024-03-13T10:05'>13/03/2024</time>"
    "<p>Enfin une bonne nouvelle.</p></div></div>",
], ids=["sidebar", "related-list", "comment"])
def test_the_visible_publication_time_beats_a_time_element_of_a_sidebar_list_or_comment(elsewhere: str) -> None:
    record = _article(f"<main>{ARTICLE_TOP}{elsewhere}</article></main>")
    assert record.published_at == "2024-03-12T08:30:00+01:00"


TABLE = ("<table><thead><tr><th>Commune</th><th>Prix 2023</th></tr></thead><tbody><tr><td>Lyon</td><td>3,10 €</td>"
         "</tr><tr><td>Grenoble</td><td>2,80 €</td></tr></tbody></table>")


@pytest.mark.parametrize("table", [f"<figure class='wp-block-table'>{TABLE}</figure>",
                                   f"<div class='table-responsive'>{TABLE}</div>", TABLE],
                         ids=["wp-block-table", "responsive-div", "bare"])
def test_a_data_table_of_the_text_is_kept_in_reading_order(table: str) -> None:
    record = _article("<main><article><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024</p>"
                      f"<div class='entry-content'><p>Le prix de l’eau baisse, commune par commune.</p>{table}"
                      "<p>Les écarts restent forts d’un territoire à l’autre.</p></div></article></main>")
    assert record.body == ("Le prix de l’eau baisse, commune par commune.\n\n"
                           "Commune | Prix 2023\nLyon | 3,10 €\nGrenoble | 2,80 €\n\n"
                           "Les écarts restent forts d’un territoire à l’autre.")


@pytest.mark.parametrize("box", [
    f"<div class='encadre'><p>Lire aussi</p><p><a href='{_href(900601)}'>Assainissement : la facture grimpe</a></p>"
    "</div>",
    f"<p><strong>À lire aussi :</strong> <a href='{_href(900601)}'>Assainissement : la facture grimpe</a></p>",
    f"<aside class='related'><h4>LIRE AUSSI</h4><a href='{_href(900601)}'>Assainissement : la facture grimpe</a>"
    "</aside>",
    f"<p><em>Lire aussi :</em></p><p><a href='{_href(900601)}'>Assainissement : la facture grimpe</a></p>",
], ids=["box", "inline", "aside-heading", "label-then-link"])
def test_a_lire_aussi_box_in_the_text_is_neither_body_nor_related(box: str) -> None:
    record = _article("<main><article><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024</p>"
                      f"<div class='entry-content'><p>Premier paragraphe du texte.</p>{box}"
                      "<p>Dernier paragraphe du texte.</p></div></article></main>")
    assert record.body == "Premier paragraphe du texte.\n\nDernier paragraphe du texte."
    assert record.related == []
    assert record.unread_links == []


def test_a_paragraph_of_the_text_that_says_lire_aussi_stays_in_the_body() -> None:
    paragraph = ("Lire aussi le rapport de la Cour des comptes, qui détaille commune par commune les écarts de prix "
                 "de l’eau et les raisons de ces écarts, du relief à l’âge des réseaux, en passant par la densité "
                 "de population et le mode de gestion du service, en régie ou délégué à une entreprise privée "
                 f"(<a href='{SITE}/rapport-eau.pdf'>le rapport</a>).")
    record = _article("<main><article><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024</p>"
                      f"<div class='entry-content'><p>Premier paragraphe.</p><p>{paragraph}</p></div></article></main>")
    assert "Lire aussi le rapport" in (record.body or "")


@pytest.mark.parametrize("promo", [
    "<aside class='promo'><img src='/img/couverture-gazette.jpg' alt='La Gazette n°2700'>"
    "<a href='/abonnement/'>Je m’abonne</a></aside>",
    "<div class='encart'><img src='/img/couverture-gazette.jpg' alt='La Gazette n°2700'>"
    "<p>Le magazine des collectivités, chaque lundi.</p></div>",
], ids=["aside", "block-after-text"])
def test_a_promotion_picture_is_not_the_articles_image(promo: str) -> None:
    record = _article("<main><article><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024</p>"
                      "<div class='entry-content'><p>Le prix de l’eau baisse dans les communes.</p></div>"
                      f"{promo}</article></main>")
    assert record.image is None


def test_the_image_of_the_text_is_still_the_articles() -> None:
    record = _article("<main><article><h1>Eau : le prix baisse</h1><div class='entry-content'>"
                      "<p>Le prix de l’eau baisse.</p><p><img src='/img/station.jpg' alt='Station'></p></div>"
                      "</article></main>")
    assert record.image is not None
    assert record.image.url == f"{SITE}/img/station.jpg"


@pytest.mark.parametrize("share", [
    "<div class='share'><a href='https://www.linkedin.com/shareArticle?url=x'>Partager sur LinkedIn</a>"
    "<a href='https://x.com/intent/tweet?url=x'>Partager sur X</a></div>",
    "<ul><li><a href='mailto:?subject=x'>Envoyer par e-mail</a></li><li><a href='javascript:print()'>Imprimer</a>"
    "</li><li><a href='https://www.facebook.com/sharer.php?u=x'>Facebook</a></li></ul>",
], ids=["linkedin-x", "mail-print-facebook"])
def test_share_links_beside_the_themes_are_not_themes(share: str) -> None:
    record = _article("<main><article><h1>Eau : le prix baisse</h1><div class='entry-content'><p>Texte.</p></div>"
                      "<div><p>Thèmes abordés</p><a href='/thematiques/eau/'>Eau</a> "
                      f"<a href='{SITE}/thematiques/services-publics/'>Services publics</a>{share}</div>"
                      "</article></main>")
    assert record.themes == ["Eau", "Services publics"]


@pytest.mark.parametrize("picture", [
    "<p><img src='/img/station.jpg' alt='Station'></p><p>© Fotolia</p>",
    "<div><a href='/img/station-grand.jpg'><img src='/img/station.jpg' alt='Station'></a></div>"
    "<p>Crédit photo : Ville de Lyon</p>",
    "<p><img src='/img/station.jpg' alt='Station'><br>© Fotolia</p>",
], ids=["paragraph-after", "linked-image", "same-paragraph"])
def test_a_credit_line_after_the_image_is_its_credit(picture: str) -> None:
    record = _article("<main><div id='post'><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024</p>"
                      f"{picture}<div class='texte'><p>Le prix de l’eau baisse dans les communes.</p></div></div>"
                      "</main>")
    assert record.image is not None
    assert record.image.url == f"{SITE}/img/station.jpg"
    assert record.image.credit in ("Fotolia", "Ville de Lyon")
    assert "Fotolia" not in (record.body or "")


METERED = {
    "box-after-text": "<div class='entry-content'><p>Le prix de l’eau baisse dans les communes.</p></div>"
                      "<div class='meter'><p>Vous avez lu vos 3 articles gratuits ce mois-ci.</p>"
                      "<p>Abonnez-vous pour lire la suite.</p><a class='btn' href='/abonnement/'>Je m’abonne</a>"
                      "<p>Déjà abonné ? <a href='/connexion/'>Connectez-vous</a></p></div>",
    "box-ending-the-text": "<div class='entry-content'><p>Le prix de l’eau baisse dans les communes.</p>"
                           "<section><h3>Poursuivez votre lecture</h3><p>Vous avez lu vos 3 articles gratuits "
                           "ce mois-ci.</p><p>Abonnez-vous pour lire la suite.</p>"
                           "<button type='button'>S’abonner</button><button>Connectez-vous</button></section></div>",
}


@pytest.mark.parametrize("text", list(METERED.values()), ids=list(METERED))
def test_a_metered_paywall_box_gives_its_sentences_as_markers(text: str) -> None:
    record = _article(f"<main><article><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024</p>{text}</article>"
                      "</main>")
    assert record.paywall.is_paywalled is True
    assert record.paywall.markers == ["Vous avez lu vos 3 articles gratuits ce mois-ci.",
                                      "Abonnez-vous pour lire la suite."]
    assert record.body == "Le prix de l’eau baisse dans les communes."


@pytest.mark.parametrize("box", [
    "<div><p>Le magazine des collectivités, chaque lundi dans votre boîte.</p><a href='/abonnement/'>Je m’abonne</a>"
    "</div><p>Suite du texte : les écarts restent forts d’un territoire à l’autre, notent les auteurs de l’étude, "
    "qui relèvent aussi le poids des investissements sur les réseaux et celui des redevances des agences de l’eau, "
    "dont les montants ont été revus en 2024.</p>",
    "<div><p>Recevez chaque matin l’essentiel de l’actualité des collectivités.</p>"
    "<a href='/newsletter/'>Abonnez-vous à la newsletter</a></div>",
    "<div><h3>Sur le même sujet</h3><ul><li><a href='" + _href(900701) + "'>Eau : un autre article</a></li></ul></div>"
    "<div><p>Le magazine des collectivités, chaque lundi dans votre boîte.</p><a href='/abonnement/'>Je m’abonne</a>"
    "</div>",
], ids=["promotion-amid-the-text", "newsletter", "promotion-after-a-section"])
def test_a_subscription_call_that_is_no_paywall_box_leaves_the_article_free(box: str) -> None:
    inside, after = (box, "") if box.startswith("<div><p>Le magazine") else ("", box)
    record = _article("<main><article><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024</p>"
                      f"<div class='entry-content'><p>Le prix de l’eau baisse.</p>{inside}</div>{after}</article>"
                      "</main>",
                      head="<script type='application/ld+json'>" + json.dumps(
                          {"@type": "NewsArticle", "headline": "Eau : le prix baisse"}) + "</script>")
    assert record.paywall.is_paywalled is False
    assert record.paywall.markers == []


# --- the pages above, mutated as another theme would ---------------------------------------------------------

PAGES = {
    "cards-2025": (_page(f"<main><h1>Eau</h1>{CARDS_2025}</main>"), f"{SITE}/rubriques/eau/"),
    "dl": (_page(f"<main><h1>Eau</h1>{DEFINITIONS}</main>"), f"{SITE}/rubriques/eau/"),
    "locks": (_page("<main><h1>Eau</h1><ul>" + "".join(
        LOCKS[name].format(href=_href(900801 + index), title=f"Titre {index}")
        for index, name in enumerate(["img-alt", "titled-span", "label"])) + "</ul></main>"), f"{SITE}/rubriques/eau/"),
    "dossier-page-2": (_page("<main><h1>Eau potable</h1><section><h2>Au sommaire du dossier</h2><ol start='7'>"
        + "".join(f"<li><h3><a href='{_href(site_id)}'>Titre {site_id}</a></h3></li>" for site_id in (900811, 900812))
        + "</ol></section><nav aria-label='Pages'><a href='/dossiers/eau-potable-les-reseaux/page/3/'>»</a></nav>"
        "</main>",
        DESCRIPTION), DOSSIER + "page/2/"),
    "comments": (_page(f"<main>{ARTICLE_TOP}{WORDPRESS_THREAD}</article></main>"), f"{SITE}/910001/eau/"),
    "metered": (_page(f"<main><article><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024</p>"
                      f"{METERED['box-after-text']}</article></main>"), f"{SITE}/910001/eau/"),
    "boundaries": (_page("<main><article><h1>Eau : le prix baisse</h1><p>Publié le 12/03/2024 à 08h30</p>"
                         "<p><img src='/img/station.jpg' alt='Station'></p><p>© Fotolia</p>"
                         f"<div class='entry-content'><p>Premier paragraphe.</p>{TABLE}"
                         f"<p><strong>Lire aussi :</strong> <a href='{_href(900601)}'>Assainissement</a></p></div>"
                         "<div><p>Thèmes abordés</p><a href='/thematiques/eau/'>Eau</a> "
                         "<a href='https://x.com/intent/tweet?url=x'>Partager sur X</a></div>"
                         "<aside><img src='/img/couverture.jpg' alt='Couverture'></aside></article></main>"),
                   f"{SITE}/910001/eau/"),
}
STRUCTURAL = [mutation for mutation in MUTATIONS if mutation.name in ("wrap blocks", "windows-1252", "AMP",
                                                                      "heading out")]


@pytest.mark.parametrize("mutation", STRUCTURAL, ids=lambda mutation: mutation.name)
@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_gives_the_same_record_mutated(name: str, mutation: Mutation) -> None:
    html, url = PAGES[name]
    mutated, charset = mutation.apply(html, "utf-8")
    codec = "windows-1252" if charset == "iso-8859-1" else charset
    before = parse_page(html, url).to_dict()
    after = parse_page(mutated.encode(codec, errors="xmlcharrefreplace"), url,
                       content_type=f"text/html; charset={charset}").to_dict()
    assert after == before
