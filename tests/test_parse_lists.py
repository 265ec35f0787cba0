"""Lists read by structure: sections, entries, each entry's own paywall flag, and no article link lost silently.

The pages here are written in markups the samples do not use (no classes, an older theme, a heading outside
its list's container); the real home page of the site is read when ../shared/real/ is there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scraper.models import Dossier, Listing
from scraper.parse import parse_page

SITE = "https://www.lagazettedescommunes.com"
REAL_HOME = Path(__file__).resolve().parents[2] / "shared" / "real" / "gazette-home-2018.html"
ARTICLE_HREF = re.compile(r'href="(?:https?://www\.lagazettedescommunes\.com)?/(\d+)/[^/"?#]+/[^"]*"')


def _page(body: str, title: str = "") -> str:
    return f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>{title}</head><body>{body}</body></html>"


def _rows(record: Listing | Dossier) -> list[tuple]:
    return [(item.site_id, item.title, item.kicker, item.teaser, item.is_paywalled, item.section)
            for item in record.articles]


# --- the real home page ------------------------------------------------------------------------

def _ids_in_areas(html: str) -> list[int]:
    """The article ids linked from the home page's two content areas, page order, each once: cut out by plain
    string search between the areas' own markers, read with a regex (no parser involved)."""
    main = html[html.index("pageWrapper__mainContent"):html.index("pageWrapper__sideBar")]
    large = html[html.index("pageWrapper__largeContent"):html.index('<div class="footer">')]
    ids: list[int] = []
    for site_id in (int(match) for match in ARTICLE_HREF.findall(main + large)):
        if site_id not in ids:
            ids.append(site_id)
    return ids


@pytest.fixture(scope="module")
def real_home() -> tuple[str, Listing]:
    if not REAL_HOME.exists():
        pytest.skip("../shared/real/ (the saved home page of the site) is only beside a developer's checkout")
    raw = REAL_HOME.read_bytes()
    record = parse_page(raw, "http://www.lagazettedescommunes.com/")
    assert isinstance(record, Listing)
    return raw.decode("utf-8"), record


def test_real_home_page_lists_every_article_of_both_content_areas_once_in_page_order(real_home) -> None:
    html, record = real_home
    expected = _ids_in_areas(html)
    assert len(expected) == 46
    assert {int(match) for match in ARTICLE_HREF.findall(html)} == set(expected)  # none outside the two areas
    assert [item.site_id for item in record.articles] == expected
    assert [item.position for item in record.articles] == list(range(1, 47))
    assert record.unread_links == []
    assert record.warnings == []


# Read by eye from the page: the lead block and its "Sur le même sujet" list, the club blocks
# (a lead section.blocType, then ul.listOfferJob > li.bgRollover[.isAbo]), a "Veille juridique" block.
REAL_ENTRIES = {
    554253: ("« Face à la radicalisation, l’Etat ne peut pas agir seul »", True, None),
    551252: ("Prévention de la radicalisation : le Premier ministre appelle les collectivités à se mobiliser",
             False, "Sur le même sujet"),
    551579: ("Lutte contre la radicalisation : « Il y a une attente des élus, mais pas de directives suffisamment "
             "précises »", False, "Sur le même sujet"),
    554799: ("2018, année de questionnements sur l’utilité du dialogue social", True, None),
    553887: ("Non, les quartiers prioritaires ne sont pas homogènes sociologiquement", False, None),
    555019: ("Pas d’obligation de consultation du CNEN pour les autorités administratives indépendantes", True,
             "Veille juridique"),
    555027: ("Le transfert des zones d’activités départementales est-il encore possible ?", False,
             "Veille juridique"),
    554186: ("Contractualisation : faut-il signer ? Comment réussir ?", False, "Club finances"),
    554844: ("L’essentiel de la semaine du 12 au 18 mars", False, "Club finances"),
    551217: ("Exclusif : le détail de la circulaire sur les dépenses de fonctionnement", True, "Club finances"),
    554787: ("Économie circulaire : les collectivités inquiètes avant la publication de la feuille de route", True,
             "Club Techni.Cités"),
    554687: ("Incinération des déchets : première condamnation d’une collectivité", True, "Club Techni.Cités"),
    552801: ("Un conseiller de la ville aide les demandeurs d’emploi", True, "Club RH"),
    554819: ("En 2016, la fonction publique territoriale a bien perdu 7000 emplois", False, "Club RH"),
    550187: ("Réduction des dépenses de fonctionnement : un défi sans cesse renouvelé sous la pression de l’Etat",
             False, "Visualisation de données"),
}


@pytest.mark.parametrize("site_id", REAL_ENTRIES)
def test_real_home_page_entries_have_their_own_title_flag_and_section(real_home, site_id: int) -> None:
    _, record = real_home
    item = next(item for item in record.articles if item.site_id == site_id)
    assert (item.title, item.is_paywalled, item.section) == REAL_ENTRIES[site_id]


# --- markups the samples do not have -----------------------------------------------------------

OLD_RUBRIQUE = _page("""
<div id="global"><div id="contenu"><h1>Club Techni.Cités</h1>
 <ul class="liste-articles">
  <li class="article-liste"><p class="rubrique">Voirie</p>
   <h3><a href="/401001/les-ponts-communaux/">Les ponts communaux</a></h3>
   <p>Un recensement national est lancé.</p></li>
  <li class="article-liste abonne"><p class="rubrique">Eau</p>
   <h3><a href="/401002/les-reseaux-fuient/">Les réseaux fuient</a></h3>
   <p>Un litre sur cinq est perdu.</p></li>
  <li class="article-liste"><h3><a href="/401003/le-bim/">Le BIM</a></h3></li>
 </ul></div>
 <div id="colonne-droite"><h3>Les plus lus</h3>
  <ul><li><a href="/399999/populaire/">Populaire</a></li><li><a href="/399998/autre/">Autre</a></li></ul></div>
</div>""")


def test_an_older_rubrique_of_list_items_with_h3_links_and_kickers() -> None:
    record = parse_page(OLD_RUBRIQUE, f"{SITE}/rubriques/club-technicites/")
    assert isinstance(record, Listing)
    assert _rows(record) == [
        (401001, "Les ponts communaux", "Voirie", "Un recensement national est lancé.", False, None),
        (401002, "Les réseaux fuient", "Eau", "Un litre sur cinq est perdu.", False, None),
        (401003, "Le BIM", None, None, False, None),
    ]  # "Les plus lus" is left out by name, and counts as read
    assert record.unread_links == []
    assert record.warnings == []


DOSSIER_HEADING_OUTSIDE = _page("""
<main><h1>Eau : la compétence en question</h1><p>Le dossier de la semaine.</p>
 <h2>Au sommaire du dossier</h2>
 <div><div><article><a href="/500001/gemapi/"><span>Gemapi</span><h3>Qui paie ?</h3></a>
   <p>Le financement reste flou.</p></article>
  <article class="isAbo"><a href="/500002/transfert/"><h3>Le transfert</h3></a></article></div></div>
 <h2>Sur le même sujet</h2><ul><li><a href="/500009/hors-dossier/">Hors dossier</a></li></ul>
 <h2>Autres dossiers</h2><ul><li><a href="/dossiers/autre/">Autre</a></li><li><a href="/500010/x/">X</a></li></ul>
</main>""")


def test_a_dossier_whose_heading_sits_before_its_entries_container() -> None:
    record = parse_page(DOSSIER_HEADING_OUTSIDE, f"{SITE}/dossiers/eau/")
    assert isinstance(record, Dossier)
    assert _rows(record) == [
        (500001, "Qui paie ?", "Gemapi", "Le financement reste flou.", False, "Au sommaire du dossier"),
        (500002, "Le transfert", None, None, True, "Au sommaire du dossier"),
    ]
    # the "Sur le même sujet" link is neither in the dossier nor in a section left out by name: it is reported
    assert record.unread_links == [f"{SITE}/500009/hors-dossier/"]
    assert record.warnings == [f"1 article links were not read: {SITE}/500009/hors-dossier/…"]


def test_a_lead_with_a_list_of_further_articles_gives_one_entry_each_with_its_own_flag() -> None:
    page = _page("""<div><section><h2>À la une</h2>
      <article class="isAbo"><a href="/600001/lead/"><p>Kicker</p><h3>Le lead</h3><p>Son chapeau.</p></a>
        <div><p>Sur le même sujet</p><ul><li><a href="/600002/un/">Un</a></li>
          <li class="isAbo"><a href="/600003/deux/">Deux</a></li><li><a class="isAbo" href="/600004/trois/">Trois</a>
          </li></ul></div></article>
      <article><a href="/600005/suite/"><h3>La suite</h3></a></article></section></div>""")
    record = parse_page(page, f"{SITE}/rubriques/x/")
    assert _rows(record) == [
        (600001, "Le lead", "Kicker", "Son chapeau.", True, "À la une"),
        (600002, "Un", None, None, False, "Sur le même sujet"),
        (600003, "Deux", None, None, True, "Sur le même sujet"),
        (600004, "Trois", None, None, True, "Sur le même sujet"),
        (600005, "La suite", None, None, False, "À la une"),
    ]


def test_a_related_teaser_that_is_bare_text_after_a_line_break() -> None:
    page = _page("""<article><h1>Titre</h1><p>Publié le 01/02/2020 à 10h00</p>
      <div><h3>Sur le même sujet</h3><ul>
        <li><a href="/700001/un/">Un titre</a><br>Le chapeau, en texte nu.</li>
        <li><a href="/700002/deux/">Deux</a></li></ul></div></article>""")
    record = parse_page(page, f"{SITE}/700000/titre/")
    assert [(link.title, link.teaser) for link in record.related] == [
        ("Un titre", "Le chapeau, en texte nu."), ("Deux", None)]


def test_an_article_link_outside_every_list_is_reported_on_an_article() -> None:
    page = _page("""<article><h1>Titre</h1><p>Publié le 01/02/2020 à 10h00</p>
      <div class="articleContent"><p>Voir <a href="/700010/dans-le-texte/">cet article</a>.</p></div>
      <div><p>Pour aller plus loin</p><a href="/700011/egare/"><span>Un lien égaré</span></a></div>
      <a href="/700000/titre/?replytocom=3">Répondre</a></article>""")
    record = parse_page(page, f"{SITE}/700000/titre/")
    assert record.unread_links == [f"{SITE}/700011/egare/"]  # not the body's link, not the page's own
    assert record.warnings == [f"1 article links were not read: {SITE}/700011/egare/…"]
    assert "unread_links" not in record.to_dict()


def test_a_second_page_of_an_ordered_list_keeps_the_numbers_it_shows() -> None:
    page = _page("""<main><h1>Dossier</h1><h2>Au sommaire du dossier</h2><ol start="7">
      <li><a href="/800007/sept/">Sept</a></li><li><a href="/800008/huit/">Huit</a></li></ol></main>""")
    record = parse_page(page, f"{SITE}/dossiers/d/page/2/")
    assert [(item.position, item.site_id) for item in record.articles] == [(7, 800007), (8, 800008)]


def test_job_offers_and_other_hosts_are_never_entries() -> None:
    page = _page("""<main><h1>Rubrique</h1><ul><li><a href="/900001/un/">Un</a></li>
      <li><a href="/900002/deux/">Deux</a></li></ul>
      <ul><li><a href="https://emploi.lagazettedescommunes.com/123456/technicien/">Technicien</a></li>
      <li><a href="https://ailleurs.example/123457/autre/">Autre</a></li></ul></main>""")
    record = parse_page(page, f"{SITE}/rubriques/x/")
    assert [item.site_id for item in record.articles] == [900001, 900002]


@pytest.mark.parametrize("page_url", [SITE, f"{SITE}?page=1", f"{SITE}/", f"{SITE}/rubriques/club-technicites/"])
def test_root_relative_links_are_read_whatever_the_page_urls_path(page_url: str) -> None:
    """A page URL without a path (`https://host`, as httpx keeps it, or `https://host?x`) is the same origin for
    links written `/NNNNNN/slug/` as `https://host/`."""
    record = parse_page(OLD_RUBRIQUE, page_url)
    assert isinstance(record, Listing)
    assert [(item.site_id, item.url) for item in record.articles] == [
        (site_id, f"{SITE}/{site_id}/{slug}/") for site_id, slug in
        ((401001, "les-ponts-communaux"), (401002, "les-reseaux-fuient"), (401003, "le-bim"))]


_SIDEBAR_FORMS = ['<aside>{}</aside>', '<div id="sidebar">{}</div>', '<div class="col sidebar">{}</div>',
                  '<div class="sideBar">{}</div>', '<div class="pageWrapper__sideBar">{}</div>',
                  '<section role="complementary">{}</section>', '<div class="col"><div class="sidebar">{}</div></div>']


@pytest.mark.parametrize("doctype", ["<!DOCTYPE html>", ""], ids=["standards", "quirks"])
@pytest.mark.parametrize("sidebar", _SIDEBAR_FORMS)
def test_entries_in_a_sidebar_are_left_out_of_a_listing_in_each_of_its_forms(sidebar: str, doctype: str) -> None:
    column = sidebar.format('<ul><li><a href="/900013/trois/">Trois</a></li><li><a href="/900014/quatre/">Quatre</a>'
                            '</li></ul>')
    page = (f"{doctype}<html><body><main><h1>Rubrique</h1><ul><li><a href='/900011/un/'>Un</a></li>"
            f"<li><a href='/900012/deux/'>Deux</a></li></ul></main>{column}</body></html>")
    record = parse_page(page, f"{SITE}/rubriques/x/")
    assert [item.site_id for item in record.articles] == [900011, 900012]


@pytest.mark.parametrize(("doctype", "kept"), [("<!DOCTYPE html>", [900011, 900012, 900013]), ("", [900011, 900012])],
                         ids=["standards", "quirks"])
def test_a_sidebar_class_in_capitals_is_one_only_where_the_page_compares_classes_without_case(doctype: str,
                                                                                              kept: list[int]) -> None:
    """As a browser reads CSS classes: without case in a page in quirks mode (no doctype), with case otherwise."""
    page = (f"{doctype}<html><body><main><h1>Rubrique</h1><ul><li><a href='/900011/un/'>Un</a></li>"
            f"<li><a href='/900012/deux/'>Deux</a></li></ul></main>"
            f"<div class='SIDEBAR'><ul><li><a href='/900013/trois/'>Trois</a></li></ul></div></body></html>")
    record = parse_page(page, f"{SITE}/rubriques/x/")
    assert [item.site_id for item in record.articles] == kept
