"""The parser's shortcuts (taken for speed) give what the long way gives: text normalisation, the dossier-box
label, an entry's lines read by short walks out of its title, the next-page label of a link."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.models import Listing
from scraper.parse import labels, parse_page
from scraper.parse.text import normalise

SITE = "https://www.lagazettedescommunes.com"
# Every kind of space str.split knows (and the zero-width space it does not), with letters and punctuation.
_TEXT_PIECES = [" ", "  ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u1680", "\u2009", "\u2028",
                "\u2029", "\u202f", "\u3000", "\u200b", "\u180e", "\ufeff", "\xad", "a", "é", "’", "Z", ".", "«"]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_TEXT_PIECES), max_size=12).map("".join))
def test_normalise_is_splitting_on_every_space(text: str) -> None:
    assert normalise(text) == " ".join(text.replace("\u200b", "").split())


# The letters of 'fait partie du dossier' with every character the case-blind regex takes for each.
_CASES = {"f": "fF", "a": "aA", "i": "iIİı", "t": "tT", "p": "pP", "r": "rR", "e": "eE", "d": "dD", "u": "uU",
          "o": "oO", "s": "sSſ"}


@st.composite
def _dossier_phrases(draw: st.DrawFn) -> str:
    def word(letters: str) -> str:
        return "".join(draw(st.sampled_from(_CASES[letter] + "x")) for letter in letters)

    spaces = [draw(st.sampled_from([" ", "\xa0", "\n", "  ", "", "-"])) for _ in range(3)]
    return (draw(st.sampled_from(["", "Cet article ", "f ", "F"])) + word("fait") + spaces[0] + word("partie")
            + spaces[1] + word("du") + spaces[2] + word("dossier") + draw(st.sampled_from(["", " Eau", "f"])))


@settings(max_examples=400)
@given(_dossier_phrases())
def test_the_dossier_box_label_is_found_as_its_regex_finds_it(text: str) -> None:
    assert labels.names_dossier_box(text) == (labels.DOSSIER_BOX.search(text) is not None)


def _page(body: str) -> str:
    return f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'></head><body>{body}</body></html>"


ENTRIES = _page("""<main><h1>Rubrique</h1><div>
 <article><a href="/610001/a/"><figure><img src="a.jpg"><figcaption>© Photo A</figcaption></figure>
   <span>Kicker A</span> <h3>Titre A</h3> <figure><p>Légende dans la figure</p></figure> <p>Chapeau A.</p></a></article>
 <article><a href="/610002/b/"><p>12/03/2018</p><h3>Titre B</h3><p>Cet article fait partie du dossier Eau</p>
   <p>Chapeau <b>B</b>.</p></a></article>
 <article><figure><a href="/610003/c/"><h3>Titre C</h3></a><figcaption>Légende C</figcaption></figure>
   <p>Chapeau C.</p></article>
 <article><p>Une ligne bien trop longue pour un surtitre, qui dépasse de loin les cent caractères qu'un surtitre
   peut tenir, et de beaucoup</p><p><span>Court</span></p><a href="/610004/d/"><h3>Titre D</h3></a></article>
</div></main>""")


def test_an_entry_reads_its_lines_around_pictures_credits_dates_and_the_dossier_box() -> None:
    record = parse_page(ENTRIES, f"{SITE}/rubriques/club-technicites/")
    assert isinstance(record, Listing)
    assert [(item.title, item.kicker, item.teaser) for item in record.articles] == [
        ("Titre A", "Kicker A", "Chapeau A."),  # neither the credit nor the caption inside a figure
        ("Titre B", None, "Chapeau B."),  # a date is no kicker, the dossier box no teaser
        ("Titre C", None, "Chapeau C."),  # nothing of the figure around the title
        ("Titre D", "Court", None),  # the last short line before the title
    ]


def _listing_with_next_link(label: str) -> Listing:
    record = parse_page(_page(f"""<main><h1>Rubrique</h1><ul><li><a href="/630001/a/">A</a></li>
        <li><a href="/630002/b/">B</a></li></ul><p><a href="/rubriques/x/page/2/">{label}</a></p></main>"""),
                        f"{SITE}/rubriques/x/")
    assert isinstance(record, Listing)
    return record


def test_the_next_page_is_a_link_whose_own_text_says_so() -> None:
    assert _listing_with_next_link("Page suivante").next_page == f"{SITE}/rubriques/x/page/2/"
    # A label broken in two text nodes (by a comment, or by a script the parser strips) is not read
    assert _listing_with_next_link("Page sui<!-- x -->vante").next_page is None
    assert _listing_with_next_link("Page sui<script>1</script>vante").next_page is None
