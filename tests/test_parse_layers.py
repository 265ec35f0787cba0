"""Each parsing layer on its own: pages in markups other than the samples' (structured data only, OpenGraph
only, no classes at all, AMP), so a redesign of the site degrades gracefully instead of breaking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scraper.parse import parse_page

SITE = "https://www.lagazettedescommunes.com"


def _page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


# --- layer 1: structured data ---------------------------------------------------------------------

JSON_LD_ONLY = _page(
    head="<script type='application/ld+json'>" + json.dumps({
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "La Gazette"},
            {"@type": "NewsArticle", "headline": "Eau potable : les réseaux fuient toujours",
             "datePublished": "2024-05-02T07:30:00+02:00", "dateModified": "2024-05-03T10:00:00Z",
             "author": [{"@type": "Person", "name": "Claire Martin"}, {"@type": "Organization", "name": "Gazette"}],
             "isAccessibleForFree": "False", "image": {"@type": "ImageObject", "url": "/img/eau.jpg"},
             "url": f"{SITE}/912345/eau-potable-les-reseaux-fuient-toujours/"},
        ],
    }) + "</script>",
    body="<div><span>x</span></div>",
)


def test_json_ld_alone_gives_title_dates_authors_and_paywall() -> None:
    record = parse_page(JSON_LD_ONLY, f"{SITE}/912345/eau-potable-les-reseaux-fuient-toujours/")
    assert record.type == "article"
    assert record.title == "Eau potable : les réseaux fuient toujours"
    assert record.published_at == "2024-05-02T07:30:00+02:00"
    assert record.updated_at == "2024-05-03T10:00:00+00:00"
    assert record.authors == ["Claire Martin"]  # the Organization is the publisher, not an author
    assert record.paywall.is_paywalled is True
    assert record.site_id == 912345
    assert record.image is not None
    assert record.image.url == f"{SITE}/img/eau.jpg"


YOAST_GRAPH = {"@context": "https://schema.org", "@graph": [
    {"@type": "WebPage", "@id": f"{SITE}/654321/voirie/", "url": f"{SITE}/654321/voirie/"},
    {"@type": "NewsArticle", "@id": f"{SITE}/654321/voirie/#article", "headline": "Voirie : le grand chantier",
     "isPartOf": {"@id": f"{SITE}/654321/voirie/"}, "datePublished": "2021-02-03T08:00:00+01:00",
     "author": [{"@id": f"{SITE}/#/schema/person/1"}, {"@id": f"{SITE}/#/schema/person/2"}],
     "image": {"@id": f"{SITE}/654321/voirie/#primaryimage"}, "publisher": {"@id": f"{SITE}/#organization"}},
    {"@type": "ImageObject", "@id": f"{SITE}/654321/voirie/#primaryimage", "url": f"{SITE}/img/voirie.jpg",
     "caption": "© Ville de Lyon"},
    {"@type": "Person", "@id": f"{SITE}/#/schema/person/1", "name": "Marie Curie"},
    {"@type": "Person", "@id": f"{SITE}/#/schema/person/2", "name": "Paul Langevin"},
    {"@type": "Organization", "@id": f"{SITE}/#organization", "name": "La Gazette des communes"},
]}


def test_json_ld_graph_references_are_followed() -> None:
    """Yoast SEO (WordPress) writes one @graph whose article names its authors and image by @id."""
    page = _page(head=f"<script type='application/ld+json'>{json.dumps(YOAST_GRAPH)}</script>",
                 body="<div><p>Le texte.</p></div>")
    record = parse_page(page, f"{SITE}/654321/voirie/")
    assert record.title == "Voirie : le grand chantier"
    assert record.authors == ["Marie Curie", "Paul Langevin"]
    assert record.image is not None
    assert (record.image.url, record.image.credit) == (f"{SITE}/img/voirie.jpg", "Ville de Lyon")


def test_opengraph_and_article_metas_alone() -> None:
    html = _page(head=(
        f"<link rel='canonical' href='{SITE}/700001/voirie-un-plan-pluriannuel/'>"
        "<meta property='og:type' content='article'>"
        "<meta property='og:title' content='Voirie : un plan pluriannuel - La Gazette des communes'>"
        "<meta property='article:published_time' content='2023-01-10T09:00:00+01:00'>"
        "<meta property='article:modified_time' content='2023-01-11T12:00:00+01:00'>"
        "<meta property='og:image' content='https://cdn.example/voirie.jpg'>"
    ), body="<p>Contenu.</p>")
    record = parse_page(html, "http://127.0.0.1/whatever.html")
    assert record.type == "article"
    assert record.url == f"{SITE}/700001/voirie-un-plan-pluriannuel/"
    assert record.site_id == 700001
    assert record.title == "Voirie : un plan pluriannuel"
    assert (record.published_at, record.updated_at) == ("2023-01-10T09:00:00+01:00", "2023-01-11T12:00:00+01:00")


def test_shortlink_gives_the_site_id_when_the_url_has_none() -> None:
    html = _page(head=f"<link rel='shortlink' href='{SITE}/?p=654321'><meta property='og:type' content='article'>",
                 body="<h1>Titre</h1>")
    assert parse_page(html, f"{SITE}/un-article-sans-numero/").site_id == 654321


# --- layer 2 beyond the site's own themes: generic WordPress and schema.org markup ----------------

def test_a_wordpress_theme_gives_its_time_elements_and_author() -> None:
    page = _page(body="""<article class="post"><header><h1 class="entry-title">Le tri à la source</h1>
        <div class="entry-meta"><time class="entry-date published" datetime="2021-02-03T08:00:00+01:00">3 février
        2021</time><time class="updated" datetime="2021-02-05">5 février 2021</time> par
        <span class="author vcard"><a class="url fn n" href="/author/mc/">Marie Curie</a></span></div></header>
        <div class="entry-content"><p>Premier paragraphe.</p><p>Second paragraphe.</p></div></article>""")
    record = parse_page(page, f"{SITE}/700001/le-tri/")
    assert (record.published_at, record.updated_at) == ("2021-02-03T08:00:00+01:00", "2021-02-05")
    assert record.authors == ["Marie Curie"]
    assert record.title == "Le tri à la source"
    assert record.body == "Premier paragraphe.\n\nSecond paragraphe."
    assert record.warnings == []


def test_schema_org_microdata_gives_headline_dates_author_and_body() -> None:
    page = _page(body="""<div itemscope itemtype="https://schema.org/NewsArticle">
        <h1 itemprop="headline">Le vélo en ville</h1>
        <meta itemprop="datePublished" content="2020-01-02T03:04:05Z">
        <time itemprop="dateModified" datetime="2020-01-03">3 janvier</time>
        <span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">Jean
        Moulin</span></span><div itemprop="articleBody"><p>Le texte.</p></div></div>""")
    record = parse_page(page, f"{SITE}/700002/le-velo/")
    assert (record.published_at, record.updated_at) == ("2020-01-02T03:04:05+00:00", "2020-01-03")
    assert record.authors == ["Jean Moulin"]
    assert record.title == "Le vélo en ville"
    assert record.body == "Le texte."


def test_a_wordpress_archive_page_is_a_listing_of_its_posts() -> None:
    posts = "".join(f"""<article id="post-{n}" class="post-{n} post type-post">
        <header class="entry-header"><span class="cat-links"><a href="/category/eau/">Eau</a></span>
        <h2 class="entry-title"><a href="{SITE}/{n}/titre-{n}/" rel="bookmark">Titre {n}</a></h2></header>
        <div class="entry-summary"><p>Résumé {n} […]</p></div></article>""" for n in (700101, 700102))
    page = _page(body=f"""<nav class="main-navigation"><a href="/">Accueil</a></nav><main id="main">
        <header class="page-header"><h1 class="page-title">Catégorie : Eau</h1></header>{posts}
        <nav class="navigation pagination"><a class="next page-numbers" href="/category/eau/page/2/">Suivant</a>
        </nav></main>""")
    record = parse_page(page, f"{SITE}/category/eau/")
    assert record.type == "listing"
    assert record.title == "Catégorie : Eau"
    assert record.warnings == []
    assert [(item.url, item.title, item.kicker, item.teaser) for item in record.articles] == [
        (f"{SITE}/700101/titre-700101/", "Titre 700101", "Eau", "Résumé 700101 […]"),  # the title's link,
        (f"{SITE}/700102/titre-700102/", "Titre 700102", "Eau", "Résumé 700102 […]"),  # not the category's
    ]
    assert record.next_page == f"{SITE}/category/eau/page/2/"  # a <nav> that is a pagination is kept


# --- layer 3: the visible French labels, on a page without a single class name --------------------

NO_CLASSES = _page(
    head=f"<link rel='canonical' href='{SITE}/800002/dechets-la-redevance-incitative/'>",
    body="""
<div><div>
  <span>Déchets</span>
  <h1>La redevance incitative gagne du terrain</h1>
  <p>Publié le 05/06/2019 à 09h05 | Mis à jour le 06/06/2019</p>
  <p>Par Anne Leroy et Paul Girard</p>
  <div>
    <p>Plus de six millions d’habitants paient désormais leurs déchets selon ce qu’ils jettent, et les
    collectivités qui s’y sont mises ne reviennent pas en arrière, malgré les difficultés de mise en place.</p>
    <p>Les syndicats de collecte observent une baisse des tonnages d’ordures ménagères de 30 % en moyenne
    la première année, selon l’Ademe, qui accompagne financièrement les projets.</p>
    <p>Mais la grille tarifaire reste délicate à construire, et la communication auprès des usagers est décisive.</p>
  </div>
  <div><p>Cet article fait partie du dossier :</p>
       <a href="/dossiers/dechets-payer-moins/">Déchets : payer moins</a></div>
  <div><p>Article réservé aux abonnés</p><p>Pour lire la totalité de cet article, abonnez-vous</p>
       <p>Déjà abonné ? Identifiez-vous</p></div>
  <div><p>Thèmes abordés</p>
       <ul><li><a href="/themes/dechets/">Déchets</a></li><li><a href="/themes/tarifs/">Tarifs</a></li></ul></div>
  <div><h3>Sur le même sujet</h3>
       <ul><li><a href="/800001/collecte-en-porte-a-porte/">Collecte en porte-à-porte</a></li></ul></div>
  <div><p>2 | réagir</p>
    <ul>
      <li><p>Lecteur1 - 06/06/2019 10h:15</p><p>Très utile.</p><p>Répondre au commentaire | Signaler un abus</p>
        <ul><li><p>Lectrice2 - 06/06/2019 11h:00</p><p>D’accord avec vous.</p></li></ul>
      </li>
    </ul>
  </div>
</div></div>""")


@pytest.fixture(scope="module")
def unlabelled() -> dict:
    return parse_page(NO_CLASSES, "http://127.0.0.1/page").to_dict()


def test_labels_give_dates_and_authors(unlabelled: dict) -> None:
    assert unlabelled["type"] == "article"
    assert unlabelled["title"] == "La redevance incitative gagne du terrain"
    assert unlabelled["published_at"] == "2019-06-05T09:05:00+02:00"
    assert unlabelled["updated_at"] == "2019-06-06"
    assert unlabelled["authors"] == ["Anne Leroy", "Paul Girard"]


@pytest.mark.parametrize(("shown", "published", "updated"), [
    ("Publié le 12 mars 2018 à 10h45", "2018-03-12T10:45:00+01:00", None),
    ("Publié le 1er Avril 2019 | Mis à jour le 3 août 2019 à 8h05", "2019-04-01", "2019-08-03T08:05:00+02:00"),
    ("Publié le 05/06/2019 - Mis à jour le 06/06/2019 à 14h30", "2019-06-05", "2019-06-06T14:30:00+02:00"),
])
def test_labels_give_dates_written_out_in_words_too(shown: str, published: str, updated: str | None) -> None:
    record = parse_page(_page(body=f"<div><h1>Titre</h1><p>{shown}</p><p>Texte.</p></div>"), f"{SITE}/123456/t/")
    assert (record.published_at, record.updated_at) == (published, updated)
    assert record.warnings == []


def test_labels_give_kicker_and_body(unlabelled: dict) -> None:
    assert unlabelled["kicker"] == "Déchets"
    assert unlabelled["body"].startswith("Plus de six millions d’habitants")
    assert unlabelled["body"].count("\n\n") == 2


def test_labels_give_dossier_paywall_themes_related(unlabelled: dict) -> None:
    assert unlabelled["dossier"] == {"title": "Déchets : payer moins", "url": f"{SITE}/dossiers/dechets-payer-moins/"}
    assert unlabelled["paywall"] == {"is_paywalled": True, "markers": [
        "Article réservé aux abonnés", "Pour lire la totalité de cet article, abonnez-vous"]}
    assert unlabelled["themes"] == ["Déchets", "Tarifs"]
    assert unlabelled["related"] == [{"section": "Sur le même sujet", "title": "Collecte en porte-à-porte",
                                      "url": f"{SITE}/800001/collecte-en-porte-a-porte/", "teaser": None}]


def test_labels_give_comments_and_replies(unlabelled: dict) -> None:
    assert unlabelled["comments_count"] == 2
    assert unlabelled["comments"] == [
        {"author": "Lecteur1", "posted_at": "2019-06-06T10:15:00+02:00", "text": "Très utile.", "in_reply_to": None},
        {"author": "Lectrice2", "posted_at": "2019-06-06T11:00:00+02:00", "text": "D’accord avec vous.",
         "in_reply_to": 0},
    ]


@pytest.mark.parametrize(("shown", "count"), [
    ("<p>12 | réagir</p>", 12),
    ("<p><span>3</span>\n\t\t | <a href='#reagir'>RÉAGIR</a></p>", 3),  # split over elements, shouted
    ("<p>" + "x " * 300 + "1234 | Réagir</p>", 1234),  # far into the text, every digit kept
    ("<p>Agir pour le climat | 2030</p><p>Réagir</p>", None),  # 'agir' without a count before it
])
def test_the_comment_count_is_the_number_before_reagir(shown: str, count: int | None) -> None:
    record = parse_page(_page(body=f"<article><h1>Titre</h1>{shown}</article>"), f"{SITE}/123456/titre/")
    assert record.comments_count == count


def test_amp_page_reads_from_structured_data_and_amp_img() -> None:
    html = ("<!doctype html><html amp lang='fr'><head><meta charset='utf-8'>"
            f"<link rel='canonical' href='{SITE}/765432/ponts-un-plan-de-surveillance/'>"
            "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": \"Ponts : un plan de "
            "surveillance\", \"datePublished\": \"2021-09-01\"}</script></head><body><article>"
            "<h1>Ponts : un plan de surveillance</h1><amp-img src='/p.jpg' alt='pont'></amp-img>"
            "<p>Le gouvernement lance un programme national pour recenser les ouvrages d’art des petites communes, "
            "dont l’état reste largement inconnu des services de l’Etat comme des élus locaux eux-mêmes.</p>"
            "</article></body></html>")
    record = parse_page(html, None)
    assert (record.type, record.site_id, record.title) == ("article", 765432, "Ponts : un plan de surveillance")
    assert record.published_at == "2021-09-01"
    assert record.body.startswith("Le gouvernement lance")


# --- never fooled ------------------------------------------------------------------------------

def test_a_header_subscribe_link_and_offers_do_not_make_a_free_article_paywalled() -> None:
    html = _page(body="""<header class="header"><a href="/abonnement/">Abonnez-vous</a></header>
      <h1>Titre libre</h1><p>Publié le 01/02/2020 à 10h00</p>
      <aside><p>Offre découverte 30 jours gratuits !</p><a href="/abo">Je m’abonne</a></aside>
      <p>Texte libre de l’article, assez long pour être le corps de la page, et qui parle de voirie communale.</p>""")
    record = parse_page(html, f"{SITE}/100001/titre-libre/")
    assert record.paywall.is_paywalled is False
    assert record.paywall.markers == []


def test_most_read_is_not_related_and_sidebar_dossier_promo_is_not_the_dossier() -> None:
    html = _page(body="""<h1>Titre</h1><p>Publié le 01/02/2020 à 10h00</p>
      <aside><p>Dossier</p><a href="/dossiers/autre-dossier/">Un autre dossier</a>
        <p>Les plus lus</p><ul><li><a href="/100002/populaire/">Article populaire</a></li></ul></aside>""")
    record = parse_page(html, f"{SITE}/100001/titre/")
    assert record.related == []
    assert record.dossier is None


def test_comment_form_and_legal_notice_are_not_comments() -> None:
    html = _page(body="""<h1>Titre</h1><p>0 | réagir</p><form><p>Ce champ est obligatoire</p></form>
      <p>Conformément à la loi "Informatique et libertés" du 6 janvier 1978, vous pouvez accéder aux informations
      - 06/01/1978 10h:00</p>""")
    record = parse_page(html, f"{SITE}/100001/titre/")
    assert record.comments == []
    assert record.comments_count == 0


# --- decoding ------------------------------------------------------------------------------------

def _latin_page(charset_meta: str) -> bytes:
    return (f"<html><head>{charset_meta}</head><body><h1>L’été – œuvre à 5 €…</h1></body></html>"
            .encode("windows-1252"))


@pytest.mark.parametrize("meta", ["<meta charset='iso-8859-1'>", "<meta http-equiv='Content-Type' "
                                  "content='text/html; charset=windows-1252'>", ""])
def test_cp1252_bytes_decode_whatever_latin_label_they_carry(meta: str) -> None:
    assert parse_page(_latin_page(meta), f"{SITE}/1/x/").title == "L’été – œuvre à 5 €…"


def test_http_charset_wins_over_meta_and_bom_wins_over_meta() -> None:
    utf8 = "<html><head><meta charset='iso-8859-1'></head><body><h1>Été</h1></body></html>".encode()
    assert parse_page(utf8, f"{SITE}/1/x/", content_type="text/html; charset=utf-8").title == "Été"
    assert parse_page(b"\xef\xbb\xbf" + utf8, f"{SITE}/1/x/").title == "Été"


@pytest.mark.parametrize("content_type", ["text/html; charset=ISO-8859-1", "text/html; charset=windows-1252"])
def test_a_utf8_page_served_as_latin_1_is_read_as_utf8(content_type: str) -> None:
    """Servers that add a default 'charset=ISO-8859-1' to every page: the bytes say otherwise."""
    utf8 = "<html><head></head><body><h1>L’été – œuvre à 5 €…</h1></body></html>".encode()
    assert parse_page(utf8, f"{SITE}/1/x/", content_type=content_type).title == "L’été – œuvre à 5 €…"
    latin = _latin_page("")
    assert parse_page(latin, f"{SITE}/1/x/", content_type=content_type).title == "L’été – œuvre à 5 €…"


def test_entities_are_decoded_and_whitespace_normalised() -> None:
    html = _page(body="<h1>\n\t\tL&rsquo;&eacute;t&eacute;&nbsp;&hellip;\t&#8230;  \n</h1>")
    assert parse_page(html, f"{SITE}/1/x/").title == "L’été … …"


# --- the real site, when the shared reference page is there ------------------------------------

REAL_HOME = Path(__file__).resolve().parents[2] / "shared" / "real" / "gazette-home-2018.html"


@pytest.mark.skipif(not REAL_HOME.exists(),
                    reason="../shared/real/ (the saved home page of the site) is only beside a developer's checkout")
def test_real_2018_home_page_is_a_listing_of_its_blocks() -> None:
    record = parse_page(REAL_HOME.read_bytes(), "http://www.lagazettedescommunes.com/")
    assert record.type == "listing"
    assert len(record.articles) >= 10
    assert all(item.site_id and item.url.startswith("http://www.lagazettedescommunes.com/") for item in record.articles)
    assert 0 < sum(item.is_paywalled for item in record.articles) < len(record.articles)
    assert record.articles[0].title == "« Face à la radicalisation, l’Etat ne peut pas agir seul »"


# --- smaller misses on other markups (issue 8 §4) -------------------------------------------------

OLD_BYLINE = _page(body="""<div id="article"><h1>Les communes face au gel</h1>
  <p>Publié le 16/11/2010 • Par Hélène Girard • dans : Dossiers d'actualité</p>
  <div><p>Le gel de l’hiver dernier a coûté cher aux communes, qui ont dû reprendre leurs chaussées en urgence
  et revoir leurs contrats de déneigement.</p><p>Les départements ont suivi.</p></div>
  <h3>4 commentaires</h3></div>""")


def test_the_2010s_byline_gives_date_and_authors_and_stays_out_of_the_body() -> None:
    record = parse_page(OLD_BYLINE, f"{SITE}/120001/les-communes-face-au-gel/")
    assert (record.published_at, record.authors) == ("2010-11-16", ["Hélène Girard"])
    assert "Publié le" not in (record.body or "")
    assert "Dossiers d'actualité" not in (record.body or "")
    assert record.body.startswith("Le gel de l’hiver dernier")


def test_a_comment_count_shown_as_a_heading() -> None:
    assert parse_page(OLD_BYLINE, f"{SITE}/120001/les-communes-face-au-gel/").comments_count == 4


AMP_ARTICLE = ("<!doctype html><html ⚡ lang='fr'><head><meta charset='utf-8'>"
               f"<link rel='canonical' href='{SITE}/765433/eau-les-fuites/'></head><body><article>"
               "<h1>Eau : les fuites coûtent cher</h1><time datetime='2021-09-01T08:30:00+02:00'>1er septembre 2021"
               "</time><p><strong>Un litre sur cinq se perd dans les réseaux, et les petites communes n’ont pas les "
               "moyens de les renouveler.</strong></p><amp-img src='/fuite.jpg' alt='fuite' width='600' height='400'>"
               "</amp-img><p class='legende'>© Agence de l’eau</p><p>Le rapport de l’observatoire le confirme : le "
               "rendement des réseaux stagne depuis dix ans, faute d’investissements suffisants dans les petites "
               "communes rurales.</p></article></body></html>")


def test_an_amp_article_gives_its_teaser_lead_image_credit_and_time_with_offset() -> None:
    record = parse_page(AMP_ARTICLE, None)
    assert record.published_at == "2021-09-01T08:30:00+02:00"
    assert record.teaser == ("Un litre sur cinq se perd dans les réseaux, et les petites communes n’ont pas les moyens "
                             "de les renouveler.")
    assert record.image is not None
    assert (record.image.url, record.image.alt, record.image.credit) == (f"{SITE}/fuite.jpg", "fuite",
                                                                         "Agence de l’eau")
    assert record.body.startswith("Le rapport de l’observatoire")
    assert "Un litre sur cinq" not in record.body


def test_a_teaser_given_only_as_microdata_description() -> None:
    page = _page(body="""<article><h1>Titre</h1><meta itemprop="description" content="Le chapeau, en microdonnée.">
      <p>Publié le 01/02/2020 à 10h00</p><div><p>Un texte assez long pour être le corps de la page, qui parle de
      voirie communale et de ses budgets.</p></div></article>""")
    assert parse_page(page, f"{SITE}/120002/titre/").teaser == "Le chapeau, en microdonnée."


@pytest.mark.parametrize("script", [
    '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Eau : le prix baisse"}</script>',
    "<script>var gm_js_current_page_data = {'is_single': true};</script>",
    "<style>h1 { color: red }</style>"])
def test_the_scripts_and_styles_of_the_head_are_never_an_articles_kicker(script: str) -> None:
    """The walk back from a title that opens the page for its kicker reaches <head>: what it holds is stripped."""
    record = parse_page(_page(head=script, body="<article><h1>Eau : le prix baisse</h1><p>Le prix baisse.</p>"
                                                "</article>"), "https://www.lagazettedescommunes.com/910001/eau/")
    assert record.title == "Eau : le prix baisse"
    assert record.kicker is None
