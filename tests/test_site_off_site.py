"""site.off_site_reason: a page whose canonical (record) URL or final URL is another site's is refused."""

from __future__ import annotations

import pytest

from scraper import site
from scraper.parse import parse_page

SITE = "https://www.lagazettedescommunes.com"


def _saved(canonical: str) -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><link rel='canonical' href='{canonical}'>"
            "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": \"Un titre\", "
            "\"datePublished\": \"2024-05-02T07:30:00+02:00\"}</script></head><body><article><h1>Un titre</h1>"
            "<p>Publié le 02/05/2024</p><div class='entry-content'><p>Texte.</p></div></article></body></html>"
            ).encode()


@pytest.mark.parametrize("canonical", [
    "https://www.lemonde.fr/politique/article/2024/05/02/un-titre_6230000_823448.html",
    "https://blog.example.org/2024/05/02/un-titre/",
])
def test_a_saved_page_of_another_site_is_refused_by_its_canonical_url(canonical: str) -> None:
    record = parse_page(_saved(canonical), None)
    assert site.off_site_reason(record.url) == f"not a page of the site: {canonical}"


@pytest.mark.parametrize("url", [f"{SITE}/912345/un-titre/", "http://lagazettedescommunes.com/912345/un-titre/",
                                 "https://WWW.LAGAZETTEDESCOMMUNES.COM/dossiers/eau/"])
def test_a_page_of_the_site_is_not_refused(url: str) -> None:
    assert site.off_site_reason(parse_page(_saved(url), None).url, url) is None


def test_a_redirect_to_another_site_is_refused_by_the_final_url() -> None:
    reason = site.off_site_reason(f"{SITE}/912345/un-titre/", "https://consent.example.com/?next=x")
    assert reason == "not a page of the site: https://consent.example.com/?next=x"


def test_a_page_without_a_known_url_says_nothing() -> None:
    assert site.off_site_reason("", None) is None
    assert site.off_site_reason("saved/page.html", None) is None


def test_the_callers_policy_decides_which_origins_stand_for_the_site() -> None:
    local = "http://127.0.0.1:8123/912345/un-titre/"
    assert site.off_site_reason(local, local) == f"not a page of the site: {local}"
    assert site.off_site_reason(local, local, allows=lambda url: url.startswith("http://127.0.0.1:8123/")) is None
